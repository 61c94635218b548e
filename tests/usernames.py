"""Registering or renaming to a chosen username over HTTP, for the tests of the username
rules."""

from accounts.models import User

REGISTER = "/accounts/register/"


def register(client, username):
    data = {"email": "new@example.com", "username": username, "password1": "a sturdy passphrase 9"}
    return client.post(REGISTER, data)


def members_named():
    return sorted(User.objects.values_list("username", flat=True))


def editor_rename(client, administrator, target, username, *, role):
    """The member editor, as an administrator, renaming `target` to `username`."""
    client.force_login(administrator)
    edit = {"email": target.email, "role": role.pk, "confirmed": "on", "is_active": "on"}
    return client.post(f"/users/{target.username}/edit/", {**edit, "username": username})


def kept_name_survives_an_edit(client, administrator, username, *, role) -> None:
    """A name stored before a rule (written past every check) is kept by an editor's
    save that leaves it as it is, and the rest of the edit is saved."""
    User.objects.bulk_create([User(username=username, email="kept@example.com")])
    member = User.objects.get(email="kept@example.com")
    client.force_login(administrator)
    edit = {"email": member.email, "role": role.pk, "is_active": "on"}
    response = client.post(f"/users/{member.username}/edit/", {**edit, "username": member.username})
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert (member.username, member.role) == (username, role)
