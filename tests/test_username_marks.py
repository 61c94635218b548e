"""Names written with combining marks: the vowel signs and viramas of Hindi,
Tamil, Bengali, Thai... are part of the letters, not decoration, so such names
register; a mark cannot start a name; and the look-alike rule still reads
a Latin accent, typed apart or precomposed, as the same letter."""

import pytest

from accounts.models import User
from tests.factories import UserFactory

URL = "/accounts/register/"
PASSWORD = "a sturdy passphrase 9"

NAMES = [
    "\u0926\u093f\u0935\u094d\u092f\u093e",  # दिव्या (Hindi): vowel signs and a virama
    "\u0bae\u0bc1\u0bb0\u0bc1\u0b95\u0ba9\u0bcd",  # முருகன் (Tamil)
    "\u09aa\u09cd\u09b0\u09bf\u09af\u09bc\u09be",  # প্রিয়া (Bengali): virama, nukta
    "\u0e2a\u0e21\u0e28\u0e31\u0e01\u0e14\u0e34\u0e4c",  # สมศักดิ์ (Thai): vowels above, a mark
    "\u0c95\u0ca8\u0ccd\u0ca8\u0ca1",  # ಕನ್ನಡ (Kannada)
    "\u0a2a\u0a70\u0a1c\u0a3e\u0a2c\u0a40",  # ਪੰਜਾਬੀ (Punjabi)
    "\u0e2a\u0e21\u0e0a\u0e32\u0e22",  # สมชาย (Thai, no marks: accepted before too)
    "\u1000\u103b\u1031\u102c\u103a",  # ကျော် (Burmese Kyaw): four marks on one letter
    "\u1ecd\u0300la",  # ọ̀la (Yoruba): a precomposed dot below and a grave typed apart
]


def register(client, username, email="new@example.com"):
    return client.post(URL, {"email": email, "username": username, "password1": PASSWORD})


@pytest.mark.parametrize("username", NAMES)
def test_names_written_with_vowel_signs_register_sign_in_and_have_a_profile(
    client, roles, username
):
    response = register(client, username)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(email="new@example.com").username == username
    client.logout()
    response = client.post(
        "/accounts/login/", {"username": username, "password": PASSWORD}, follow=True
    )
    assert response.context["user"].username == username
    assert client.get(f"/users/{username}/").status_code == 200


@pytest.mark.parametrize(
    "username",
    [
        "\u093f\u0926",  # a Devanagari vowel sign before any letter
        "\u0301fiona",  # a combining acute
        "\u0bcd\u0b95",  # a Tamil virama
    ],
)
def test_a_name_may_not_start_with_a_mark(client, roles, username):
    response = register(client, username)
    assert "can&#x27;t start with a vowel sign or accent" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("username", ["fiona_\u0301", "fiona.\u0301x", "9\u0301"])
def test_a_mark_goes_on_a_letter(client, roles, username):
    """A mark after a separator or a digit is no letter's: refused as before."""
    response = register(client, username)
    assert "can only use letters, digits and . + - _" in response.content.decode()
    assert not User.objects.exists()


def test_the_validators_other_limits_still_hold(client, roles):
    for username in ["\u0926\u093f \u0935", "\u0926\u093f/\u0935", "\u0926\u093f" * 76]:
        response = register(client, username)
        assert response.status_code == 200
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ("\u0926\u093f\u0935\u094d\u092f", "\u0926\u093f\u0935\u094d\u092f\u093e"),  # दिव्य, दिव्या
        ("\u0926\u0935", "\u0926\u0941\u0935"),  # दव, दुव: vowel sign u (a nonspacing mark)
        ("\u0926\u0935\u092f", "\u0926\u0935\u094d\u092f"),  # with and without a virama
        ("\u0b95\u0ba9", "\u0b95\u0ba9\u0bcd"),  # Tamil கன, கன்: the pulli
        ("\u0e2a\u0e21", "\u0e2a\u0e34\u0e21"),  # Thai สม, สิม: a vowel above
    ],
)
def test_names_that_differ_by_a_vowel_sign_are_different_names(client, roles, existing, new):
    UserFactory(username=existing)
    response = register(client, new)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.filter(username=new).exists()


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ("fiona", "fio\u0301na"),  # an accent typed apart, composed by NFKC: fióna
        ("fiona", "fi\u0308ona"),  # fïona
        ("fi\u00f3na", "FIO\u0301NA"),  # the same name as a stored precomposed one
        ("zoe", "zoe\u0301\u0301"),  # marks stacked on a letter
    ],
)
def test_a_latin_accent_typed_apart_is_still_the_same_letter(client, roles, existing, new):
    UserFactory(username=existing)
    response = register(client, new)
    text = response.content.decode()
    assert "looks too much like an existing one" in text or "already exists" in text
    assert User.objects.count() == 1


def test_a_nukta_makes_another_name(client, roles):
    """`ऩ` (a precomposed letter with a nukta, accepted before) read as `न`."""
    UserFactory(username="\u0928\u092f\u0928")  # नयन
    response = register(client, "\u0929\u092f\u0928")  # ऩयन
    assert response.status_code == 302, response.content.decode()[:3000]


def test_the_migration_recomputes_stored_skeletons(roles):
    """Rows written under the old rule (the nukta dropped) get the new skeleton."""
    from importlib import import_module

    from django.apps import apps

    from accounts.usernames import username_skeleton

    module = import_module("accounts.migrations.0018_username_marks_of_a_letter")
    old = UserFactory(username="\u0929\u092f\u0928")
    User.objects.filter(pk=old.pk).update(username_skeleton="\u0928\u092f\u0928")
    module.Migration.operations[-1].code(apps, None)
    old.refresh_from_db()
    assert old.username == "\u0929\u092f\u0928"
    assert old.username_skeleton == username_skeleton(old.username) != "\u0928\u092f\u0928"


def test_the_member_editor_and_the_admin_take_a_name_with_vowel_signs(client, administrator, roles):
    member = UserFactory(username="divya", email="divya@example.com")
    client.force_login(administrator)
    response = client.post(
        "/users/divya/edit/",
        {
            "username": NAMES[0],
            "email": member.email,
            "role": roles["User"].pk,
            "confirmed": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    member.refresh_from_db()
    assert member.username == NAMES[0]
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "\u093f\u0926",
            "email": "second@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert "can&#x27;t start with a vowel sign or accent" in response.content.decode()
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": NAMES[1],
            "email": "second@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.filter(username=NAMES[1]).exists()


@pytest.mark.parametrize(
    "username",
    [
        "zo\u0301\u0300\u0302\u0303e",  # four accents (NFKC composes the first)
        "a" + "\u0363\u0364\u0365" * 10,  # a tower of them ("Zalgo" text)
        "\u0926" + "\u0941" * 6,  # six vowel signs on one letter
    ],
)
def test_a_letter_carries_few_marks(client, roles, username):
    response = register(client, username)
    assert "can carry at most 2 accents, or 5 vowel signs and accents" in response.content.decode()
    assert not User.objects.exists()
