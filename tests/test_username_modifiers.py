"""Modifier letters drawn as punctuation, and the Arabic tatweel (attack report
2026-12-06, R1): `carolˍ` (U+02CD, drawn as `carol_`, which is refused as a
look-alike of `carol`), `caˍrol`, `carolـ` and `ـcarol` registered beside `carol`."""

import pytest

from accounts.models import User
from tests.factories import UserFactory
from tests.usernames import editor_rename, kept_name_survives_an_edit, members_named, register

REFUSED = "drawn like punctuation"


@pytest.mark.parametrize(
    "lookalike",
    [
        "carol\u02cd",  # MODIFIER LETTER LOW MACRON: carol_
        "ca\u02cdrol",
        "carol\u0640",  # ARABIC TATWEEL
        "\u0640carol",
        "ca\u0640rol",
        "carol\u02cc",  # MODIFIER LETTER LOW VERTICAL LINE
        "carol\u02d0",  # MODIFIER LETTER TRIANGULAR COLON
        "carol\u02d1",  # MODIFIER LETTER HALF TRIANGULAR COLON
        "carol\ua788",  # MODIFIER LETTER LOW CIRCUMFLEX ACCENT
        "carol\u02bc",  # MODIFIER LETTER APOSTROPHE
        "carol\u02bb",  # MODIFIER LETTER TURNED COMMA (the okina)
        "carol\ua71b",  # MODIFIER LETTER RAISED UP ARROW
    ],
)
def test_a_modifier_letter_or_the_tatweel_beside_a_name_is_refused(client, roles, lookalike):
    UserFactory(username="carol")
    response = register(client, lookalike)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    assert members_named() == ["carol"]


@pytest.mark.parametrize(
    "name",
    [
        "\u0645\u062d\u0645\u062f",  # محمد: Arabic without the tatweel
        "\u30eb\u30fc\u30b7\u30fc",  # ルーシー: the prolonged sound mark is Katakana's
        "\u4f50\u3005\u6728",  # 佐々木: the iteration mark is Han's
        "\u0e46\u0e01",  # Thai maiyamok is Thai's
        "carol_2",
    ],
)
def test_names_with_their_scripts_own_modifier_letters_stay_registrable(client, roles, name):
    response = register(client, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert members_named() == [name]


def test_the_member_editor_refuses_the_tatweel(client, administrator, roles):
    UserFactory(username="carol")
    target = UserFactory(username="dave")
    response = editor_rename(client, administrator, target, "carol\u06402", role=roles["User"])
    assert response.status_code == 200
    assert REFUSED in response.content.decode()
    target.refresh_from_db()
    assert target.username == "dave"


def test_a_member_who_has_a_modifier_letter_keeps_their_name(client, administrator, roles):
    """Names taken before the rule are kept: an edit that keeps it saves."""
    kept_name_survives_an_edit(client, administrator, "kai\u02bbi", role=roles["Moderator"])


def test_a_database_check_names_kept_modifier_letters(roles):
    from io import StringIO

    from django.core.management import call_command

    User.objects.bulk_create([User(username="carol\u0640", email="c@example.com")])
    out = StringIO()
    call_command("check", databases=["default"], stderr=out, stdout=out)
    assert "'carol\u0640' (U+0640 ARABIC TATWEEL)" in out.getvalue()
