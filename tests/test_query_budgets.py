"""Query budgets: what each page may cost the database, whatever the number of members."""

import pytest

from tests.factories import UserFactory

WRITES = ("INSERT", "UPDATE", "DELETE")


def writes(captured):
    return [
        q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]


@pytest.fixture
def warm_member_client(member_client):
    member_client.get("/")  # the first request records last-seen
    return member_client


def test_anonymous_landing_page_makes_no_query(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200


def test_signed_in_page_read_makes_at_most_two_queries(
    warm_member_client, django_assert_max_num_queries
):
    # The session row (sessions live in the database alone, so a logout sticks
    # whatever the cache does), the member with their role in one query, no write.
    with django_assert_max_num_queries(2):
        assert warm_member_client.get("/").status_code == 200


def test_profile_page_makes_at_most_three_queries(
    warm_member_client, roles, django_assert_max_num_queries
):
    UserFactory(username="bob")
    # The session, the member, the profile shown.
    with django_assert_max_num_queries(3):
        assert warm_member_client.get("/users/bob/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/users/alice/", "/accounts/profile/", "/accounts/password/change/"]
)
def test_ordinary_reads_write_nothing(warm_member_client, path, django_assert_max_num_queries):
    with django_assert_max_num_queries(5) as captured:
        assert warm_member_client.get(path).status_code == 200
    assert writes(captured) == []


def test_admin_user_list_costs_the_same_for_10_and_500_members(
    client, administrator, roles, django_assert_max_num_queries
):
    client.force_login(administrator)
    UserFactory.create_batch(10)
    client.get("/admin/accounts/user/")
    with django_assert_max_num_queries(20) as small:
        client.get("/admin/accounts/user/")
    UserFactory.create_batch(490)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/admin/accounts/user/")
