"""Large member lists are counted from statistics, not by reading every row."""

import pytest
from django.db import connection

from accounts import pagination
from accounts.models import User
from tests.factories import UserFactory


def test_small_or_filtered_lists_are_counted_exactly(roles):
    UserFactory.create_batch(3)
    assert pagination.EstimatedCountPaginator(User.objects.order_by("pk"), 25).count == 3
    filtered = User.objects.filter(username__startswith="member").order_by("pk")
    assert pagination.EstimatedCountPaginator(filtered, 25).count == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL statistics")
def test_unfiltered_lists_on_postgresql_use_the_planner_estimate(
    roles, monkeypatch, django_assert_num_queries
):
    UserFactory.create_batch(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
    monkeypatch.setattr(pagination, "EXACT_COUNT_UP_TO", 10)
    paginator = pagination.EstimatedCountPaginator(User.objects.order_by("username"), 25)
    with django_assert_num_queries(1) as captured:
        count = paginator.count
    assert "pg_class" in captured.captured_queries[0]["sql"]
    assert "COUNT(" not in captured.captured_queries[0]["sql"].upper()
    assert count == 30


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL statistics")
def test_large_filtered_lists_on_postgresql_stop_counting_and_use_the_estimate(
    roles, monkeypatch, django_assert_num_queries
):
    UserFactory.create_batch(30)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_user")
    monkeypatch.setattr(pagination, "EXACT_COUNT_UP_TO", 10)
    filtered = User.objects.filter(is_active=True).order_by("username")
    paginator = pagination.EstimatedCountPaginator(filtered, 25)
    with django_assert_num_queries(2) as captured:
        count = paginator.count
    bounded, estimate = (query["sql"] for query in captured.captured_queries)
    assert "LIMIT 11" in bounded  # the exact count stops past the threshold
    assert estimate.startswith("EXPLAIN")
    assert 11 <= count <= 60  # the planner's figure for about 30 rows
