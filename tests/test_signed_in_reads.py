"""The session and the member read on every signed-in request (`offbrand/sessions.py`,
`accounts.selectors.user_with_role`):
the same rows and values as the ORM's own queries."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import User
from accounts.selectors import user_with_role
from offbrand.sessions import SessionStore
from tests.factories import UserFactory


def field_values(user: User) -> dict:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


def test_member_and_role_are_read_as_the_orm_reads_them(roles, django_assert_num_queries):
    member = UserFactory(username="dora", role=roles["Moderator"], last_seen=timezone.now())
    expected = User.objects.select_related("role").get(pk=member.pk)
    with django_assert_num_queries(1):
        loaded = user_with_role(member.pk)
        role = loaded.role  # already there: no second query
    assert field_values(loaded) == field_values(expected)
    assert (role.pk, role.name, role.permissions, role.default) == (
        expected.role.pk,
        expected.role.name,
        expected.role.permissions,
        expected.role.default,
    )
    assert isinstance(role.default, bool) and loaded.last_seen.tzinfo is not None
    assert loaded._state.adding is False and loaded._state.db == "default"


def test_a_member_without_a_role_and_unknown_ids(roles, django_assert_num_queries):
    member = UserFactory(username="norole")
    User.objects.filter(pk=member.pk).update(role=None)
    with django_assert_num_queries(1):
        assert user_with_role(str(member.pk)).role is None
    assert user_with_role(member.pk + 1000) is None
    assert user_with_role("not a number") is None


def test_a_session_is_read_until_it_expires(db):
    store = SessionStore()
    store["answer"] = 42
    store.save()
    assert SessionStore(store.session_key).load() == {"answer": 42}
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert expired.load() == {}
    assert expired.session_key is None
    assert SessionStore("no-such-session-key-0123456789ab").load() == {}


def test_the_site_keeps_its_sessions_in_the_database_alone():
    assert settings.SESSION_ENGINE == "offbrand.sessions"
    assert issubclass(SessionStore, db.SessionStore)
