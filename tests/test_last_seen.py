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
