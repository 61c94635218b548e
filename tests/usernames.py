"""Registering a chosen username over HTTP, for the tests of the username rules."""

from accounts.models import User

REGISTER = "/accounts/register/"


def register(client, username):
    data = {"email": "new@example.com", "username": username, "password1": "a sturdy passphrase 9"}
    return client.post(REGISTER, data)


def members_named():
    return sorted(User.objects.values_list("username", flat=True))
