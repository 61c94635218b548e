"""Last seen: one UPDATE per interval at most, never a write on every request."""

from django.utils import timezone


def updates(queries):
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]


def test_signing_in_records_last_seen_with_last_login(client, member, password):
    client.post("/accounts/login/", {"username": "alice", "password": password})
    member.refresh_from_db()
    assert member.last_seen is not None
    assert member.last_seen == member.last_login  # one UPDATE (tests/test_query_budgets.py)


def test_first_request_records_last_seen_with_one_update(
    member_client, member, django_assert_max_num_queries
):
    # A member last seen before this was recorded (signing in records it now).
    type(member).objects.filter(pk=member.pk).update(last_seen=None)
    with django_assert_max_num_queries(10) as captured:
        member_client.get("/")
    assert len(updates(captured.captured_queries)) == 1
    member.refresh_from_db()
    assert member.last_seen is not None


def test_requests_within_the_interval_do_not_write(
    member_client, member, django_assert_max_num_queries
):
    member_client.get("/")
    for _ in range(3):
        with django_assert_max_num_queries(10) as captured:
            member_client.get("/")
        assert updates(captured.captured_queries) == []


def test_after_the_interval_it_writes_again(member_client, member, settings):
    member.last_seen = timezone.now() - timezone.timedelta(seconds=61)
    member.save(update_fields=["last_seen"])
    before = member.last_seen
    member_client.get("/")
    member.refresh_from_db()
    assert member.last_seen > before


def test_anonymous_requests_write_nothing(client, db, django_assert_max_num_queries):
    # The landing page reads the roles and the recent posts; nothing is written.
    with django_assert_max_num_queries(2) as captured:
        client.get("/")
    assert not [q for q in captured.captured_queries if not q["sql"].startswith("SELECT")]


def test_a_reset_link_mailed_before_a_sign_in_no_longer_works_after_it(client, member, password):
    from django.contrib.auth.tokens import default_token_generator

    token = default_token_generator.make_token(member)
    client.post("/accounts/login/", {"username": "alice", "password": password})
    member.refresh_from_db()
    assert not default_token_generator.check_token(member, token)


def test_a_sign_in_records_its_time_even_when_its_devices_row_fails(
    client, member, password, monkeypatch
):
    """The sign-in's last login and last seen go with the devices row's INSERT (one
    statement); that row is best effort, the time is not: it voids older reset links."""
    from django.contrib.auth.tokens import default_token_generator
    from django.db import DatabaseError

    from accounts.models import UserSession
    from offbrand import prepared

    insert = prepared.insert

    def failing_for_devices(obj, **kwargs):
        if isinstance(obj, UserSession):
            raise DatabaseError("the devices row could not be written")
        return insert(obj, **kwargs)

    monkeypatch.setattr(prepared, "insert", failing_for_devices)
    token = default_token_generator.make_token(member)
    response = client.post("/accounts/login/", {"username": "alice", "password": password})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.last_login is not None and member.last_seen == member.last_login
    assert not default_token_generator.check_token(member, token)
    assert not UserSession.objects.filter(user=member).exists()
