"""The throwaway servers of `harness.servers`, and how a test module asks for them.

`require_servers()` skips a test module whose servers cannot start here, but
fails it in CI (CI=true): a missing PostgreSQL binary must not pass CI silently.
"""

import os

import pytest

from harness.servers import *  # noqa: F403
from harness.servers import postgres_missing_reason, redis_missing_reason


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_servers(*, postgres: bool = True, redis: bool = True) -> None:
    """Skip (fail in CI) when a throwaway PostgreSQL or Redis cannot start on this machine."""
    reason = (postgres and postgres_missing_reason()) or (redis and redis_missing_reason())
    if not reason:
        return
    if in_ci():
        pytest.fail(f"CI=true and the end-to-end servers cannot start: {reason}", pytrace=False)
    pytest.skip(reason)
