"""Messages carried to the next page: the "Welcome back" after signing in, cookies
set by Django's own store, and long messages."""

from django.conf import LazySettings, settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage, MessagePartGatherSerializer
from django.core.signing import get_cookie_signer
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from offbrand.messages import COMPRESS_FROM, MessageStorage

URL = "/accounts/login/"


def a_request(cookie: str | None = None):
    request = RequestFactory().get("/")
    request.session = {}  # what the session middleware gives the fallback store
    if cookie is not None:
        request.COOKIES = {"messages": cookie}
    return request


def test_welcome_back_shows_once_on_the_next_page_without_a_query_more(client, member, password):
    client.post(URL, {"username": "alice", "password": password})
    with CaptureQueriesContext(connection) as with_message:
        first = client.get("/").content.decode()
    with CaptureQueriesContext(connection) as without:
        again = client.get("/").content.decode()
    assert first.count("Welcome back, alice.") == 1
    assert "Welcome back" not in again
    assert len(with_message) == len(without)


def stored(messages: list[Message]) -> HttpResponse:
    request, response = a_request(), HttpResponse()
    storage = MessageStorage(request)
    for message in messages:
        storage.add(message.level, message.message)
    storage.update(response)
    return response


def read_back(response: HttpResponse) -> list[str]:
    request = a_request(response.cookies["messages"].value)
    return [m.message for m in MessageStorage(request)]


def test_a_cookie_from_djangos_own_store_is_still_read():
    request, response = a_request(), HttpResponse()
    django_store = CookieStorage(request)
    django_store.add(constants.SUCCESS, "Saved.")
    django_store.update(response)
    assert read_back(response) == ["Saved."]


def test_long_messages_are_compressed_and_read_back():
    text = "Your post was hidden by a moderator. " * (COMPRESS_FROM // 20)
    response = stored([Message(constants.INFO, text)])
    value = response.cookies["messages"].value
    assert len(value) < len(text)  # compressed: the plain text would not fit this
    assert read_back(response) == [text]


def test_a_message_signed_with_an_old_key_is_read_on_every_request(settings):
    old = get_cookie_signer(salt=CookieStorage.key_salt)
    parts = ['["__json_message",0,25,"Saved."]']
    value = old.sign_object(parts, serializer=MessagePartGatherSerializer)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    for _ in range(2):
        request = a_request(value)
        assert [m.message for m in MessageStorage(request)] == ["Saved."]


def test_a_sign_in_looks_up_no_missing_setting(client, member, password, monkeypatch):
    client.post(URL, {"username": "alice", "password": password})
    client.post("/accounts/logout/")
    looked_up = []
    original = LazySettings.__getattr__

    def recording(self, name):
        looked_up.append(name)
        return original(self, name)

    monkeypatch.setattr(LazySettings, "__getattr__", recording)
    client.post(URL, {"username": "alice", "password": password})
    client.get("/")
    missing = [name for name in looked_up if not hasattr(settings._wrapped, name)]
    assert missing == []


def test_changed_settings_are_read_at_once():
    before = settings.SESSION_COOKIE_NAME
    with override_settings(SESSION_COOKIE_NAME="other"):
        assert settings.SESSION_COOKIE_NAME == "other"
    assert before == settings.SESSION_COOKIE_NAME
