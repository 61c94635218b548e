"""Where the workers' time went, from `bench/run.py --profile` samples.

    .venv/bin/python bench/profile_summary.py [bench/results]

Sorts each case's py-spy samples (collapsed stacks, both workers) into a few
buckets, checked in order from the first: a stack that verifies a password
counts as hashing even though the view is also on it.
"""

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

BUCKETS = [
    ("password hashing (argon2)", r"verify_secret|hash_secret"),
    ("avatar: decode, resize, encode (Pillow)", r"\(accounts/avatars\.py|\(PIL/"),
    ("request body: read, parse multipart", r"multipartparser|uploadhandler|gunicorn/http/body"),
    ("Redis round trips (session, rate limits)", r"\(redis/"),
    ("DB health check (CONN_HEALTH_CHECKS)", r"is_usable|close_if_health_check_failed"),
    ("DB round trips (driver)", r"\(psycopg/|SQLiteCursorWrapper\.execute"),
    ("ORM: build and compile queries, make models", r"\(django/db/models/"),
    ("template rendering", r"\(django/template/|\(django/templatetags/"),
    ("gunicorn: parse, send, close", r"Response\.write|send_headers|close_graceful|gunicorn/http/"),
]
IN_REQUEST = re.compile(r"SyncWorker\.handle ")


def bucket(stack: str) -> str:
    if not IN_REQUEST.search(stack):
        return "waiting for a connection"
    return next((name for name, pattern in BUCKETS if re.search(pattern, stack)), "other Python")


def summarise(folder: Path) -> dict[str, Counter]:
    """Samples per bucket, per case (files are profile-<case>-<pid>.txt)."""
    cases: dict[str, Counter] = defaultdict(Counter)
    for path in sorted(folder.glob("profile-*.txt")):
        case = path.stem.removeprefix("profile-").rsplit("-", 1)[0]
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if stack:
                cases[case][bucket(stack)] += int(count)
    return cases


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "results"
    cases = summarise(folder)
    if not cases:
        sys.exit(f"no profile-*.txt in {folder}: run bench/run.py --profile first")
    for case, counts in cases.items():
        total = sum(counts.values())
        print(f"{case} ({total} samples)")
        for name, count in counts.most_common():
            print(f"  {count / total:6.1%}  {name}")


if __name__ == "__main__":
    main()
