"""The session and the member read on every signed-in request (`offbrand/sessions.py`,
`accounts/sessions.py`, `accounts.selectors.user_with_role`): the same rows and
values as the ORM's own queries, and every change to the member, their role or
their session counted on the very next request."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from accounts.models import Role, User, UserSession
from accounts.selectors import reading_members_with, user_with_role
from accounts.sessions import SessionStore
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
    assert settings.SESSION_ENGINE == "accounts.sessions"
    assert issubclass(SessionStore, db.SessionStore)


# --- The session and the member in one query (`accounts.sessions`) ---------------
# A browser that signed in with its password has a signed-in devices row, through
# which the session's own query reads the member and their role. Each story below
# changes the member, their role or their session between two requests, and the
# very next request must see it.


def signed_in(username: str, password: str) -> Client:
    browser = Client()
    reply = browser.post("/accounts/login/", {"username": username, "password": password})
    assert reply.status_code == 302
    assert browser.get("/accounts/profile/").status_code == 200  # the devices row is there
    return browser


def test_a_signed_in_page_reads_the_session_and_the_member_in_one_query(
    member, password, django_assert_num_queries
):
    browser = signed_in("alice", password)
    with django_assert_num_queries(1):
        reply = browser.get("/accounts/profile/")
    assert reply.status_code == 200 and reply.wsgi_request.user == member
    assert reply.wsgi_request.user.role.name == member.role.name


def test_a_demoted_moderator_cannot_moderate_on_the_very_next_request(moderator, roles, password):
    browser = signed_in("mod", password)
    assert browser.get("/moderate/users/").status_code == 200
    User.objects.filter(pk=moderator.pk).update(role=roles["User"])
    assert browser.get("/moderate/users/").status_code == 403


def test_a_role_whose_bits_an_administrator_edits_counts_on_the_very_next_request(
    moderator, roles, password
):
    browser = signed_in("mod", password)
    assert browser.get("/moderate/users/").status_code == 200
    Role.objects.filter(pk=roles["Moderator"].pk).update(permissions=roles["User"].permissions)
    assert browser.get("/moderate/users/").status_code == 403


def test_a_suspended_member_is_signed_out_on_the_very_next_request(member, password):
    browser = signed_in("alice", password)
    # Only the flag: even a session the suspension did not end signs nobody in.
    User.objects.filter(pk=member.pk).update(is_active=False)
    reply = browser.get("/accounts/profile/")
    assert reply.status_code == 302 and not reply.wsgi_request.user.is_authenticated


def test_a_password_changed_on_another_browser_signs_this_one_out(member, password):
    browser = signed_in("alice", password)
    member.set_password("another long passphrase 93")
    User.objects.filter(pk=member.pk).update(password=member.password)  # sessions not ended
    reply = browser.get("/accounts/profile/")
    assert reply.status_code == 302 and not reply.wsgi_request.user.is_authenticated


def test_a_session_ended_elsewhere_signs_nobody_in(member, password):
    browser = signed_in("alice", password)
    Session.objects.filter(session_key=browser.cookies["sessionid"].value).delete()
    reply = browser.get("/accounts/profile/")
    assert reply.status_code == 302 and not reply.wsgi_request.user.is_authenticated


def test_a_devices_row_naming_someone_else_does_not_sign_them_in(
    member, moderator, password, django_assert_num_queries
):
    browser = signed_in("alice", password)
    UserSession.objects.filter(user=member).update(user=moderator)
    with django_assert_num_queries(2):  # the session's member read on its own
        reply = browser.get("/accounts/profile/")
    assert reply.wsgi_request.user == member


def test_the_member_read_with_the_session_is_used_once(member, password):
    browser = signed_in("alice", password)
    store = SessionStore(browser.cookies["sessionid"].value)
    store.load()
    with reading_members_with(store):
        first = user_with_role(member.pk)
        again = user_with_role(member.pk)
    assert first == again == member and first is not again
    assert store.member is None


def test_the_member_made_from_a_row_is_the_one_djangos_from_db_makes(roles):
    from django.db.models.signals import post_init

    from accounts.selectors import full_row

    member = UserFactory(username="erin", role=roles["Moderator"], avatar="avatars/erin.png")
    names = [field.attname for field in User._meta.concrete_fields]
    values = [getattr(member, name) for name in names]
    values[names.index("avatar")] = "avatars/erin.png"
    made, django_made = (
        full_row(User, "default", names, values),
        User.from_db("default", names, values),
    )
    assert field_values(made) == field_values(django_made)
    assert made.avatar.name == "avatars/erin.png" and made.role_id == roles["Moderator"].pk
    assert (made._state.adding, made._state.db) == (False, "default")
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(listener, sender=User)
    try:
        assert full_row(User, "default", names, values) in seen  # Django's way while listened to
    finally:
        post_init.disconnect(listener, sender=User)
