"""When two usernames are the same, and when they only look the same.

- `username_key`: NFKC, then `casefold()`, computed here in Python, so SQLite
  (whose `lower()` is ASCII-only: `Émile` and `émile` differ there) and
  PostgreSQL agree. It is stored in `User.username_key`, uniquely indexed:
  the database itself refuses a second `émile`.
- `username_skeleton`: in the spirit of Unicode TR39's skeleton, every
  character replaced by one representative of the characters it can be
  mistaken for (Cyrillic `а` and Latin `a`; `l`, `I` and `1`), from the
  confusables table of the maintained `confusable-homoglyphs` package. Two
  usernames with one skeleton look alike: the second is refused.
"""

import json
import unicodedata
from functools import cache
from importlib import resources


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


def _map(text: str) -> str:
    prototypes = _prototypes()
    return "".join(prototypes.get(char, char) for char in text)


def _without_marks(text: str) -> str:
    """Decomposed, with the combining marks dropped: `İ`, `i̇` and `í` all read as `i`."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if unicodedata.category(char) != "Mn")


def username_skeleton(username: str) -> str:
    """The stored skeleton: of the case-folded name, marks dropped, look-alikes mapped."""
    return _map(_without_marks(username_key(username)))


def username_skeletons(username: str) -> set[str]:
    """The skeletons a new name is checked against the stored ones with: also one
    mapped *before* case folding, so `aIice` (capital i, which looks like l)
    meets `alice`."""
    as_typed = _map(unicodedata.normalize("NFKC", username)).casefold()
    return {username_skeleton(username), _map(_without_marks(as_typed))}
