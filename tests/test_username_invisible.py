"""Invisible characters and East Asian letters inside Latin names (attack report
2026-12-06, F6): `alice` + HANGUL FILLER registered beside `alice`, a name of
three fillers registered as a blank name, and one Hangul or Katakana letter
drawn like a Latin one (`aㅣice`, `carロl`) made a new name."""

import unicodedata

import pytest

from accounts.models import User
from accounts.usernames import DEFAULT_IGNORABLE
from tests.factories import UserFactory
from tests.usernames import kept_name_survives_an_edit, members_named, register

INVISIBLE = "invisible character"
MIXED = "Use letters of one alphabet"


@pytest.mark.parametrize(
    ("existing", "invisible", "shown"),
    [
        # The form reads a name NFKC-normalised: HANGUL FILLER (U+3164) and its
        # halfwidth form are the jamo filler U+1160 there.
        ("alice", "alice\u3164", "U+1160 HANGUL JUNGSEONG FILLER"),
        ("alice", "alice\uffa0", "U+1160 HANGUL JUNGSEONG FILLER"),
        ("alice", "alice\u115f", "U+115F HANGUL CHOSEONG FILLER"),
        ("alice", "alice\u1160", "U+1160 HANGUL JUNGSEONG FILLER"),
        ("bob", "\u3164bob", "U+1160 HANGUL JUNGSEONG FILLER"),
        ("bob", "b\u3164ob", "U+1160 HANGUL JUNGSEONG FILLER"),
        ("bob", "\u3164\u3164\u3164", "U+1160 HANGUL JUNGSEONG FILLER"),  # a blank name
        ("bob", "\uffa0", "U+1160 HANGUL JUNGSEONG FILLER"),
    ],
)
def test_hangul_fillers_are_refused_beside_a_name_or_alone(
    client, roles, existing, invisible, shown
):
    UserFactory(username=existing)
    response = register(client, invisible)
    assert response.status_code == 200
    html = response.content.decode()
    assert INVISIBLE in html and shown in html
    assert members_named() == [existing]


@pytest.mark.parametrize(
    "invisible",
    [
        "zq\u034fx",  # COMBINING GRAPHEME JOINER: a mark after a letter, it passed
        "zqx\ufe0f",  # VARIATION SELECTOR-16
        "zqx\U000e0101",  # VARIATION SELECTOR-18
        "zqx\u180b",  # MONGOLIAN FREE VARIATION SELECTOR ONE
        "\u1780\u17b4",  # KHMER VOWEL INHERENT AQ, on a Khmer letter
    ],
)
def test_every_default_ignorable_code_point_is_refused_with_no_name_beside_it(
    client, roles, invisible
):
    """Not only the fillers: the whole Default_Ignorable_Code_Point property,
    whatever the name beside it (there is none here)."""
    response = register(client, invisible)
    assert INVISIBLE in response.content.decode()
    assert not User.objects.exists()


def test_the_table_is_unicodes_derivation_over_this_pythons_character_data():
    """DerivedCoreProperties.txt: Other_Default_Ignorable_Code_Point + Cf +
    Variation_Selector - White_Space - FFF9..FFFB - 13430..1343F -
    Prepended_Concatenation_Mark; 4174 code points in Unicode 15.1."""
    assert len(DEFAULT_IGNORABLE) == 4174
    format_characters = {
        code
        for code in range(0x110000)
        if unicodedata.category(chr(code)) == "Cf" and chr(code) not in DEFAULT_IGNORABLE
    }
    prepended_concatenation_marks = {*range(0x600, 0x606), 0x6DD, 0x70F, 0x890, 0x891, 0x8E2}
    prepended_concatenation_marks |= {0x110BD, 0x110CD}
    visible = {*range(0xFFF9, 0xFFFC), *range(0x13430, 0x13440)}
    assert format_characters == prepended_concatenation_marks | visible
    variation_selectors = {*range(0x180B, 0x180E), 0x180F, *range(0xFE00, 0xFE10)}
    variation_selectors |= {*range(0xE0100, 0xE01F0)}
    assert {chr(code) for code in variation_selectors} <= DEFAULT_IGNORABLE


@pytest.mark.parametrize("blank", ["_", "._-", "+_+"])
def test_a_name_needs_a_letter_or_a_digit(client, roles, blank):
    response = register(client, blank)
    assert "needs at least one letter or digit" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("existing", "lookalike", "scripts"),
    [
        ("alice", "a\u3163ice", "Latin and Hangul"),  # ㅣ for l
        ("bob", "b\u3147b", "Latin and Hangul"),  # ㅇ for o
        ("carol", "car\u30edl", "Latin and Katakana"),  # ロ for o
        ("bob", "bob\u30fc", "Latin and Katakana"),  # ー, the prolonged sound mark
        ("bob", "bob\uff70", "Latin and Katakana"),  # its halfwidth form
        ("alice", "a\u30cbce", "Latin and Katakana"),  # ニ
        ("alice", "a\u4e28ice", "Latin and Han"),  # 丨 for l: the skeleton reads it as ㅣ
        ("carol", "car\u53e3l", "Latin and Han"),  # 口 for o
        ("ivy", "\u5de5vy", "Han and Latin"),  # 工 for I
        ("bob", "bob\u4e00", "Latin and Han"),  # 一 for a dash
        ("lin", "lin\u3105", "Latin and Bopomofo"),
    ],
)
def test_an_east_asian_letter_inside_a_latin_name_is_refused(
    client, roles, existing, lookalike, scripts
):
    """TR39's "Highly Restrictive" level lets Latin go with Han, the kana,
    Bopomofo or Hangul; the skeleton cannot read their simple glyphs as Latin
    letters, so one of them made a new name beside a member."""
    UserFactory(username=existing)
    html = register(client, lookalike).content.decode()
    assert MIXED in html and scripts in html
    assert members_named() == [existing]


@pytest.mark.parametrize(
    "name",
    [
        "\uae40\ubbfc\uc900",  # 김민준
        "\uae40\ubbfc\uc900_90",  # with digits and a separator
        "\u305f\u306a\u304b",  # たなか
        "\u305f\u306a\u304b3",
        "\u7530\u4e2d\u305f\u308d\u3046",  # 田中たろう: Han and Hiragana
        "\u30bf\u30ed\u30fc",  # ターロー: Katakana with the prolonged sound mark
        "\u674e\ubbfc\uc900",  # Han and Hangul
        "\u6797\u3105",  # Han and Bopomofo
        "alice42",
        "j\u00fcrgen_2",
    ],
)
def test_korean_japanese_and_latin_names_stay_registrable(client, roles, name):
    response = register(client, name)
    assert response.status_code == 302, response.content.decode()[:500]
    assert members_named() == [name]


def test_the_admins_add_member_page_refuses_a_filler_and_a_hangul_letter(admin_client, roles):
    UserFactory(username="alice")
    for username, message in [("alice\u3164", INVISIBLE), ("a\u3163ice", MIXED)]:
        data = {"username": username, "email": "new@example.com"}
        data |= {"password1": "a sturdy passphrase 9", "password2": "a sturdy passphrase 9"}
        response = admin_client.post("/admin/accounts/user/add/", data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_the_member_editor_refuses_a_filler_and_a_kana_letter(client, administrator, roles):
    UserFactory(username="carol")
    target = UserFactory(username="zed")
    client.force_login(administrator)
    edit = {"email": target.email, "role": roles["User"].pk, "confirmed": "on", "is_active": "on"}
    for username, message in [("zed\u3164", INVISIBLE), ("car\u30edl", MIXED)]:
        response = client.post("/users/zed/edit/", {**edit, "username": username})
        assert response.status_code == 200
        assert message in response.content.decode()
    target.refresh_from_db()
    assert target.username == "zed"


def test_a_member_who_has_a_filler_keeps_their_name(client, administrator, roles):
    """Names taken before the rule are kept: an edit that keeps it saves. (The
    site stored names NFKC-normalised: HANGUL FILLER as the jamo filler U+1160.)"""
    kept_name_survives_an_edit(client, administrator, "kim\u1160", role=roles["Moderator"])


@pytest.mark.parametrize(
    ("existing", "lookalike"),
    [
        ("alice", "\u0430lice"),  # Cyrillic а
        ("bob", "b\u03bfb"),  # Greek ο
        ("bob", "b\u2c9fb"),  # Coptic ⲟ
        ("alice", "\uff41\uff4c\uff49\uff43\uff45"),  # fullwidth
        ("\u00c9mile", "E\u0301mile"),  # decomposed É
        ("\u00c9mile", "\u00e9mile"),
        ("\u00c9mile", "\u00c9MILE"),
        ("alice", "a\u0301\u0302\u0303lice"),  # a tower of combining marks
        ("alice", "ali\u200dce"),  # ZERO WIDTH JOINER
        ("alice", "ali\u00adce"),  # SOFT HYPHEN
        ("bob", "\u13f4\u13be\u13f4"),  # Cherokee ᏴᎾᏴ
        ("alice", "\U0001d41a\U0001d425\U0001d422\U0001d41c\U0001d41e"),  # mathematical bold
        ("paypal", "paypaI"),
        ("alice", "a1ice"),
        ("\ufb01sh", "fish"),  # the ﬁ ligature
        ("stra\u00dfe", "strasse"),
        ("alice", "alice\u034f"),  # COMBINING GRAPHEME JOINER
        ("alice", "alice\ufe0f"),  # VARIATION SELECTOR-16
        ("alice", "alice\u17b4"),  # KHMER VOWEL INHERENT AQ
        ("bob", "b\u3007b"),  # Han 〇
        ("alice", "alice\u2800"),  # BRAILLE PATTERN BLANK
        ("alice", "alice\u3000"),  # IDEOGRAPHIC SPACE
    ],
)
def test_the_refusals_the_attack_found_holding_still_hold(client, roles, existing, lookalike):
    UserFactory(username=existing)
    response = register(client, lookalike)
    assert response.status_code == 200
    assert members_named() == [existing]


def test_a_database_check_names_kept_invisible_and_mixed_names(roles):
    """Names registered before the rules (F6's) are kept; `manage.py check
    --database default` names them for an administrator to look at."""
    from io import StringIO

    from django.core.management import call_command

    User.objects.bulk_create(
        [
            User(username="alice\u1160", email="a1@example.com"),
            User(username="a\u3163ice", email="a2@example.com"),
            User(username="\u305f\u306a\u304b", email="t@example.com"),  # たなか: fine
            User(username="alice", email="alice@example.com"),
        ]
    )
    out = StringIO()
    call_command("check", databases=["default"], stderr=out, stdout=out)
    text = out.getvalue()
    assert "offbrand.W004" in text
    assert "2 member(s) have a username that new names may not have" in text
    assert "'a\u3163ice' (Latin and Hangul)" in text
    assert "'alice\u1160' (U+1160 HANGUL JUNGSEONG FILLER)" in text
    assert "\u305f\u306a\u304b" not in text
