"""When two usernames are the same, and when they only look the same.

- `username_key`: NFKC, then `casefold()`, computed here in Python, so SQLite
  (whose `lower()` is ASCII-only: `Émile` and `émile` differ there) and
  PostgreSQL agree. It is stored in `User.username_key`, uniquely indexed:
  the database itself refuses a second `émile`.
- `username_skeleton`: in the spirit of Unicode TR39's skeleton, every
  character replaced by one representative of the characters it can be
  mistaken for (Cyrillic `а` and Latin `a`; `l`, `I` and `1`), from the
  confusables table of the maintained `confusable-homoglyphs` package, then
  folded further by `_fold` (below): separators dropped, and the digits that
  pass for letters read as those letters. Two usernames with one skeleton
  look alike: the second is refused (names already taken are not renamed).
- `unusual_letters`: letters that are not for everyday writing (phonetic
  notation, obsolete tone letters), refused in new names.
- `punctuation_letters`: modifier letters of no alphabet, drawn as
  punctuation (`ˍ` as `_`), and the Arabic tatweel; refused in new names.
- `invisible_characters`: Unicode's Default_Ignorable code points (the Hangul
  fillers, variation selectors), drawn as nothing; refused in new names, and so
  is a name with no letter or digit (`has_letter_or_digit`).
- `mixed_scripts`: the alphabets a name mixes, when TR39's "Highly
  Restrictive" level would refuse the mix (`rooт`: Latin and Cyrillic), or a
  Latin name holds an East Asian letter (`aㅣice`); refused in new names.
- `unrecommended_scripts`: the scripts of a name that Unicode does not
  recommend for identifiers (Coptic, Cherokee), refused in new names.
"""

import json
import re
import unicodedata
from functools import cache
from importlib import resources

from confusable_homoglyphs.categories import alias as script_of


def username_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username).casefold()


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character -> the representative of its class.

    The package's table lists, for a character, what it can be confused with;
    the lists are not symmetric (`l` lists `I`, `I` lists nothing), so the
    classes are joined (union-find) and each gets one representative: ASCII
    first, then letters and digits, then the smallest code point.
    """
    table = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    parent: dict[str, str] = {}

    def find(char: str) -> str:
        parent.setdefault(char, char)
        while parent[char] != char:
            parent[char] = parent[parent[char]]
            char = parent[char]
        return char

    for char, homoglyphs in table.items():
        if len(char) != 1:
            continue
        for homoglyph in homoglyphs:
            if len(homoglyph["c"]) == 1:
                parent[find(homoglyph["c"])] = find(char)
    classes: dict[str, list[str]] = {}
    for char in parent:
        classes.setdefault(find(char), []).append(char)
    prototypes = {}
    for members in classes.values():
        best = min(members, key=lambda c: (not c.isascii(), not c.isalnum(), c))
        prototypes.update((char, best) for char in members if char != best)
    return prototypes


# Lowercase letters of other alphabets whose upright glyph is a Latin small
# capital, read as that letter, as `_plain` reads the small capitals
# themselves (attack report F3: `rooт` beside `root`). TR39's table joins them
# to the small capital or to another script's letter (`в` ʙ, `н` ʜ, `т` τ,
# `к` ĸ, `м` ʍ), never to the Latin letter, so only their capitals (`В`, `Т`)
# met the Latin name. Applied after the marks are dropped (`ќ` is `к`).
_DRAWN_AS_SMALL_CAPITAL = {
    "\u0432": "b",  # Cyrillic в: the glyph of ʙ
    "\u043a": "k",  # Cyrillic к: the glyph of ᴋ
    "\u043c": "m",  # Cyrillic м: the glyph of ᴍ
    "\u043d": "h",  # Cyrillic н: the glyph of ʜ
    "\u0442": "t",  # Cyrillic т: the glyph of ᴛ
    "\u043f": "n",  # Cyrillic п: ᴨ, an `n` with a flat top, alike at username sizes
    "\u03ba": "k",  # Greek κ: drawn as ᴋ
    "\u03c4": "t",  # Greek τ: ᴛ with a curled foot
    # Already read by TR39's table: г as r, ν as v. Left apart: л (ᴫ), и (ᴎ),
    # ь, which are drawn as no Latin letter.
}


def _map(text: str) -> str:
    prototypes = _prototypes()
    return "".join(_DRAWN_AS_SMALL_CAPITAL.get(char) or prototypes.get(char, char) for char in text)


# The scripts whose nonspacing marks spell a name: the vowel signs, viramas and
# nuktas of the abugidas of South and Southeast Asia, Thaana's vowels. `दव` and
# `दुव`, `கன` and `கன்` are different names to the eye; TR39's table (`_map`)
# still reads the marks it finds confusable as one (Devanagari `ं` and Gurmukhi
# `ਂ`, a dot above). Other nonspacing marks are accents on a letter (Inherited,
# as `́`, the kana's `゙` and Arabic's vowel marks), or optional points (Hebrew).
_SPELLING_MARKS = frozenset(
    {
        "BENGALI", "DEVANAGARI", "GUJARATI", "GURMUKHI", "KANNADA", "KHMER", "LAO",
        "MALAYALAM", "MYANMAR", "ORIYA", "SINHALA", "TAMIL", "TELUGU", "THAANA",
        "THAI", "TIBETAN",
    }
)  # fmt: skip


def _without_marks(text: str) -> str:
    """Decomposed, with the accents dropped: `İ`, `i̇` and `í` all read as `i`.
    The marks that spell a vowel of an abugida stay (`_SPELLING_MARKS`)."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(
        char
        for char in decomposed
        if unicodedata.category(char) != "Mn" or script_of(char) in _SPELLING_MARKS
    )


# On top of TR39, which keeps digits apart from letters (`1` and `l` are one
# class there, `1` and `i` are not) and punctuation as it is. Deliberately few:
# - the separators a username may hold (`. _ - +`) are dropped: `b_oss`,
#   `boss.` and `b.o-s+s` read as `boss`;
# - a digit that passes for a letter is that letter: 0 o, 1 l (and so `i`, as
#   `f1ona` passes for `fiona` as well as for `flona`), 2 z, 5 s, 8 b. Each digit
#   becomes a different letter and 3, 4, 6, 7 and 9 stay digits, so names that
#   differ only in a number (`user6`, `user8`) remain apart;
# - two letters that pass for one: `rn` for `m`, `vv` for `w`.
# The cost, accepted: `ali` and `all` (i and l) count as one name.
_FOLD = str.maketrans(
    {"0": "o", "1": "l", "i": "l", "2": "z", "5": "s", "8": "b", **dict.fromkeys(".-_+")}
)
_PAIRS = (("rn", "m"), ("vv", "w"))


_SMALL_CAPITAL = re.compile(
    r"(?:LATIN LETTER SMALL CAPITAL|MODIFIER LETTER (?:SMALL|CAPITAL)) ([A-Z])"
)


# A Latin letter with a hook, stroke, bar or tail drawn on it (`ɓ`, `ƈ`, `ł`,
# `ø`, `đ`): Unicode gives it no decomposition, so `_without_marks` cannot drop
# the mark as it does an accent's; it is read as its letter here instead
# (attack report F3: `ɓob`, `aliƈe`). The cost, as with accents: `łukasz` and
# `lukasz` are one name.
_WITH_ATTACHMENT = re.compile(r"LATIN (?:SMALL|CAPITAL) LETTER ([A-Z]) WITH .*")
# A mirrored `e` (`ɘ`, IPA only) is drawn as `e` at username sizes; `ə` (turned,
# a letter of Azerbaijani) and `ɛ` stay letters of their own.
_READ_AS = {"\u0258": "e"}


def _plain(text: str) -> str:
    """Every decimal digit as its ASCII digit (`١`, `᧐`: TR39 keeps them apart
    from `1` and `0`), and small-capital and hooked letters as their letter
    (`ʙ`, `ᴀ`, `ɓ`), before the look-alike mapping and `_fold`."""
    chars = []
    for char in text:
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            chars.append(str(digit))
            continue
        name = unicodedata.name(char, "")
        letter = _SMALL_CAPITAL.fullmatch(name) or _WITH_ATTACHMENT.fullmatch(name)
        chars.append(letter[1].lower() if letter else _READ_AS.get(char, char))
    return "".join(chars)


# Unicode's Default_Ignorable_Code_Point property, version 15.1 (this Python's
# `unicodedata`), from the Unicode Character Database's DerivedCoreProperties.txt
# (https://www.unicode.org/Public/15.1.0/ucd/DerivedCoreProperties.txt, "Derived
# Property: Default_Ignorable_Code_Point", 4174 code points): characters drawn
# as nothing. UTS #39 section 3.1's General Security Profile excludes them from
# identifiers. Neither `unicodedata` nor confusable-homoglyphs names the
# property; tests/test_username_invisible.py checks this table against its
# derivation over `unicodedata`'s categories (Other_Default_Ignorable_Code_Point
# + Cf + Variation_Selector - White_Space - visible format characters).
_DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ, AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE .. RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2060, 0x206F),  # WORD JOINER .. NOMINAL DIGIT SHAPES (2065 reserved)
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # reserved
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP .. UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM .. END PHRASE
    (0xE0000, 0xE0FFF),  # tags, VARIATION SELECTOR-17..256, reserved
)
DEFAULT_IGNORABLE = frozenset(
    chr(code) for first, last in _DEFAULT_IGNORABLE_RANGES for code in range(first, last + 1)
)


def invisible_characters(username: str) -> list[str]:
    """The Default_Ignorable code points of `username`, as typed or once
    NFKC-normalised, as `U+3164 HANGUL FILLER` (attack report F6: `alice` and a
    Hangul filler, drawn as `alice`, registered beside `alice`, and three fillers
    as a blank name). Most are already refused as no letter (ZWJ, soft hyphen);
    the fillers are letters (Lo) and the variation selectors, the grapheme
    joiner and Khmer's inherent vowels marks (Mn), which `_without_marks` drops
    only for some."""
    found = dict.fromkeys(
        char
        for char in username + unicodedata.normalize("NFKC", username)
        if char in DEFAULT_IGNORABLE
    )
    return [f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}" for char in found]


def has_letter_or_digit(username: str) -> bool:
    """Whether `username` has a letter or a digit, invisible ones aside: a name
    of separators (`_`, `._-`) is no name, and its skeleton is empty."""
    return any(char.isalnum() and char not in DEFAULT_IGNORABLE for char in username)


def unusual_letters(username: str) -> list[str]:
    """The characters of `username` that no everyday alphabet uses: the
    Phonetic Extensions (U+1D00-1DBF, `ᴀ`) and the obsolete tone letters
    (`ƅ`, U+0185). Few people type them, and the skeleton cannot map them all
    to the letter they pass for. IPA Extensions stay allowed: `ə`, `ɛ` and `ɔ`
    are letters of living alphabets."""
    return [
        char
        for char in unicodedata.normalize("NFKC", username)
        if "\u1d00" <= char <= "\u1dbf" or " LETTER TONE " in unicodedata.name(char, "")
    ]


def punctuation_letters(username: str) -> list[str]:
    """The modifier letters and symbols (categories Lm, Sk) of the Common
    script in `username`, as `U+02CD MODIFIER LETTER LOW MACRON` (attack report
    R1: `carolˍ`, drawn as `carol_`, and `carolـ` registered beside `carol`).
    They are letters to the character rule (`\\w`) and belong with any script
    to `mixed_scripts`, but are drawn as punctuation (`ˍ` `ː` `ʼ` `ꞈ`, the
    tone letters `꜖`), and TR39's table does not read them as the separators
    `_fold` drops. The tatweel (U+0640) is Common too: a pure elongation
    stroke, never part of an Arabic name's spelling. A script's own modifier
    letters stay: Katakana's `ー` (`_script`), Han's `々`, Thai's `ๆ`, and
    Latin's `ʰ` (NFKC: `h`).
    The cost, accepted: the Hawaiian ʻokina (U+02BB) and the apostrophe letter
    (U+02BC, Navajo, Ukrainian) are refused too. They are letters of real
    names, but drawn as the `'` a name may not hold, and their skeleton keeps
    them apart from the name without them (`kaʻi` is not `kai`), so each would
    make a look-alike of every name; such names are written without them."""
    found = dict.fromkeys(
        char
        for char in unicodedata.normalize("NFKC", username)
        if unicodedata.category(char) in ("Lm", "Sk") and _script(char) == "COMMON"
    )
    return [f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}" for char in found]


# Unicode TR39 5.2, "Highly Restrictive", without Latin: one script, or the
# scripts written together in Japan, Taiwan and Korea. TR39 also lets Latin go
# with each of these mixes, for whole words (`yukiゆき`); here a name with Latin
# letters may hold no Han, Kana, Bopomofo or Hangul (attack report F6). Their
# simple glyphs pass for Latin letters or a dash (`ㅣ` and `丨` for l, `ㅇ`,
# `口` and `ロ` for o, `工` for I, `一` and `ー` for -), which TR39's table
# does not read as Latin (NFKC turns `ㅣ` into the jamo `ᅵ`, which the table
# joins to `丨`, not to `l`): so `aㅣice` and `car口l` registered beside `alice`
# and `carol`. Real Korean, Japanese and Chinese names are written in these
# scripts alone (김민준, たなか, 田中たろう): they register; a Latin handle is
# written in Latin, with digits. The cost: `yukiゆき` or `tanaka山田` must choose.
_SCRIPT_MIXES = (
    frozenset({"HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"HAN", "BOPOMOFO"}),
    frozenset({"HAN", "HANGUL"}),
)


def _script(char: str) -> str:
    """The script `mixed_scripts` counts `char` in: its own, but the Common
    and Inherited characters used only beside kana or Han (Unicode's
    ScriptExtensions.txt: the prolonged sound mark `ー`, the voiced sound
    marks, `〆`, the kana repeat marks, the kanbun marks) count as Katakana or
    Han, so `bobー` mixes Latin and Katakana."""
    script = script_of(char)
    if script in ("COMMON", "INHERITED"):
        name = unicodedata.name(char, "")
        if "KATAKANA" in name or "KANA REPEAT" in name:
            return "KATAKANA"
        if "\u3000" <= char <= "\u303f" or "\u3190" <= char <= "\u319f":
            return "HAN"
    return script


def mixed_scripts(username: str) -> list[str]:
    """The scripts of `username`'s letters when they are not one alphabet (nor
    an East Asian mix, `_SCRIPT_MIXES`): `alicᥱ` is Latin and Tai Le, `aㅣice`
    Latin and Hangul. Common and Inherited characters (separators, marks)
    belong with any script, and so do all decimal digits: the skeleton reads
    them as ASCII digits (`user٣`)."""
    scripts = []
    for char in unicodedata.normalize("NFKC", username):
        if unicodedata.decimal(char, None) is not None:
            continue
        script = _script(char)
        if script not in ("COMMON", "INHERITED") and script not in scripts:
            scripts.append(script)
    if len(scripts) < 2 or any(mix.issuperset(scripts) for mix in _SCRIPT_MIXES):
        return []
    return [script.replace("_", " ").title() for script in scripts]


# Unicode UAX #31 (Unicode Identifiers and Syntax), revision 39, for Unicode
# 15.1.0 (this Python's `unicodedata`), Table 5 "Recommended Scripts", with
# Common (Zyyy) and Inherited (Zinh), in the spelling of confusable-homoglyphs'
# script table. UTS #39 section 3.1's General Security Profile allows only
# these in identifiers: Table 4's Excluded scripts (Coptic, Gothic, Runic, Old
# Italic, Deseret, Glagolitic, Ogham...) and Table 7's Limited Use scripts
# (Cherokee, Tifinagh, Vai, Osage, Adlam...) are left out, and so is any script
# newer than the table (confusable-homoglyphs answers "Unknown"): refused.
RECOMMENDED_SCRIPTS = frozenset(
    {
        "COMMON", "INHERITED",
        "ARABIC", "ARMENIAN", "BENGALI", "BOPOMOFO", "CYRILLIC", "DEVANAGARI",
        "ETHIOPIC", "GEORGIAN", "GREEK", "GUJARATI", "GURMUKHI", "HAN", "HANGUL",
        "HEBREW", "HIRAGANA", "KANNADA", "KATAKANA", "KHMER", "LAO", "LATIN",
        "MALAYALAM", "MYANMAR", "ORIYA", "SINHALA", "TAMIL", "TELUGU", "THAANA",
        "THAI", "TIBETAN",
    }
)  # fmt: skip


def unrecommended_scripts(username: str) -> list[str]:
    """The scripts of `username`'s characters that are not Recommended for
    identifiers (`RECOMMENDED_SCRIPTS`): `ⲧⲟⲙ` is Coptic, drawn like `tom`,
    which TR39's table does not map (attack report A4). Unlike
    `mixed_scripts`, digits count: a script's digits are its characters."""
    scripts = []
    for char in unicodedata.normalize("NFKC", username):
        script = script_of(char)
        if script not in RECOMMENDED_SCRIPTS and script not in scripts:
            scripts.append(script)
    return [script.replace("_", " ").title() for script in scripts]


def _fold(skeleton: str) -> str:
    folded = skeleton.translate(_FOLD)
    for pair, letter in _PAIRS:
        folded = folded.replace(pair, letter)
    return folded


def username_skeleton(username: str) -> str:
    """The stored skeleton: of the case-folded name, digits and small capitals
    made plain (`_plain`), marks dropped, look-alikes mapped (TR39), then
    folded (`_fold`)."""
    return _fold(_map(_without_marks(_plain(username_key(username)))))


def username_skeletons(username: str) -> set[str]:
    """The skeletons a new name is checked against the stored ones with: also one
    mapped *before* case folding, so `aIice` (capital i, which looks like l)
    meets `alice`."""
    # Accents dropped before any mapping, as in `username_skeleton`: TR39 reads
    # some vowel signs as accents (the Tamil pulli `்` as a dot above), which
    # must not be dropped then.
    as_typed = _map(_without_marks(_plain(unicodedata.normalize("NFKC", username)))).casefold()
    return {username_skeleton(username), _fold(_map(as_typed))}


def recompute_stored_skeletons(apps, schema_editor) -> None:
    """A data migration's step after the skeleton rules change: every member's
    stored skeleton recomputed in batches (no name changes)."""
    User = apps.get_model("accounts", "User")
    batch = []
    for user in User.objects.only("pk", "username").iterator(chunk_size=2000):
        user.username_skeleton = username_skeleton(user.username)
        batch.append(user)
        if len(batch) >= 2000:
            User.objects.bulk_update(batch, ["username_skeleton"])
            batch = []
    User.objects.bulk_update(batch, ["username_skeleton"])
