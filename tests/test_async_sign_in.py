"""Async sign-in answers exactly as the sync paths do."""

import pytest
from asgiref.sync import async_to_sync
from django.contrib import auth
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from accounts.middleware import auser, get_user
from accounts.models import AnonymousVisitor, ModerationAction, Permission

IDENTIFIERS = ["alice", "ALICE", "alice@example.com", "Alice@Example.COM"]


def request_with_session(session=None):
    request = RequestFactory().get("/")
    request.session = session or SessionStore()
    request._messages = FallbackStorage(request)
    return request


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_aauthenticate_signs_in_as_authenticate_does(member, password, identifier):
    sync = auth.authenticate(username=identifier, password=password)
    asynchronous = async_to_sync(auth.aauthenticate)(username=identifier, password=password)
    assert sync == asynchronous == member


def test_aauthenticate_refuses_a_wrong_password_and_an_unknown_name(member, password):
    assert async_to_sync(auth.aauthenticate)(username="alice", password="wrong") is None
    assert async_to_sync(auth.aauthenticate)(username="nobody", password=password) is None


def test_alogin_then_auser_is_the_member_with_their_role(member):
    request = request_with_session()
    async_to_sync(auth.alogin)(request, member, backend="accounts.backends.UsernameOrEmailBackend")
    async_to_sync(request.session.asave)()
    fresh = request_with_session(SessionStore(request.session.session_key))
    user = async_to_sync(auser)(fresh)
    assert user == member
    # The role came with the user: no lazy query is needed in async code.
    assert async_to_sync(user.ahas_perm)("accounts.write")
    assert not async_to_sync(user.ahas_perm)("accounts.moderate")


def signed_in_session(member):
    request = request_with_session()
    auth.login(request, member, backend="accounts.backends.UsernameOrEmailBackend")
    request.session.save()
    return request.session.session_key


@pytest.mark.parametrize("read", ["sync", "async"])
def test_a_suspended_members_session_ends_with_the_reason_either_way(member, moderator, read):
    key = signed_in_session(member)
    member.is_active = False
    member.save(update_fields=["is_active"])
    ModerationAction.objects.create(
        actor=moderator, member=member, kind=ModerationAction.Kind.SUSPEND, reason="spam"
    )
    request = request_with_session(SessionStore(key))
    user = get_user(request) if read == "sync" else async_to_sync(auser)(request)
    assert isinstance(user, AnonymousVisitor)
    assert not SessionStore().exists(key)
    assert any("Reason: spam" in str(message) for message in get_messages(request))


@pytest.mark.parametrize("name", ["follow", "comment", "write", "moderate", "admin"])
def test_ahas_perm_agrees_with_has_perm(moderator, name):
    user = auth.get_user(request_with_session(SessionStore(signed_in_session(moderator))))
    assert async_to_sync(user.ahas_perm)(f"accounts.{name}") is user.has_perm(f"accounts.{name}")
    assert user.has_perm(f"accounts.{name}") is user.can(Permission[name.upper()])


def test_ahas_module_perms_agrees(moderator):
    user = auth.get_user(request_with_session(SessionStore(signed_in_session(moderator))))
    assert async_to_sync(user.ahas_module_perms)("accounts") is user.has_module_perms("accounts")


def test_async_session_methods_behave_like_the_sync_ones(db):
    store = SessionStore()
    async_to_sync(store.aset)("k", "v")
    async_to_sync(store.asave)()
    key = store.session_key
    assert async_to_sync(store.aexists)(key)
    loaded = SessionStore(key)
    assert async_to_sync(loaded.aget)("k") == "v" == SessionStore(key).get("k")
    async_to_sync(loaded.acycle_key)()
    assert loaded.session_key != key and not SessionStore().exists(key)
    assert SessionStore(loaded.session_key).get("k") == "v"
    new_key = loaded.session_key
    async_to_sync(loaded.aflush)()
    assert not SessionStore().exists(new_key)
    assert async_to_sync(SessionStore(new_key).aload)() == {}
