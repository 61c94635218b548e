"""The feed at scale: the social pages at a small and a large synthetic population.

Run: BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> \
     .venv/bin/python bench/feed_scale.py [--members 100000] [--baseline 1000]

Each population is built by `manage.py members fill N --follows 20 --posts 10
--comments 0.5` (a skewed graph: member 1 is followed by a large share of
everyone). A reader follows 500 members spread over the whole range, the most
followed included. Each page is timed in-process through Django's test client
(middleware, view, template): p50 and p99 over --repeat runs. The EXPLAIN of
every query on the social tables is kept, and any sequential scan is flagged.
Fan-out on write is costed on the same data: the timeline rows one post by the
most-followed member would write, and the rows all posts would need.
Results: bench/results/feed-scale.json and bench/results/feed-scale-explain.md.
"""

import argparse
import io
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

# Building ten million rows and costing fan-out on write take statements of
# minutes: the site's bounded waits (README, "Bounded waits") would cancel them.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "0")
os.environ.setdefault("DATABASE_CLIENT_TIMEOUT", "0")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/offbrand_bench"
        ),
        "DEBUG": "false",
        "SECRET_KEY": "bench-feed-not-secret-" + "x" * 40,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
    }
)
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts import ratelimits  # noqa: E402
from accounts.models import User  # noqa: E402
from social.models import Follow, Post  # noqa: E402

RATIO_TARGET = 1.5
FEED_P99_TARGET_MS = 50
FOLLOWING = 500
# The benchmark posts and follows far faster than a person may.
for name in ("post_create_user", "comment_create_user", "follow_user"):
    ratelimits.LIMITS[name] = ratelimits.Limit(10**9, 60)


def quiet(*args):
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())


def build(members: int) -> dict:
    started = time.perf_counter()
    User.objects.filter(username="bench-reader").delete()
    quiet("members", "remove")
    quiet("members", "fill", str(members), "--follows", "20", "--posts", "10", "--comments", "0.5")
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in ("accounts_user", "social_follow", "social_post", "social_comment"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    counts = {
        "members": members,
        "follows": Follow.objects.count(),
        "posts": Post.objects.count(),
        "build_seconds": round(seconds, 1),
    }
    print(f"  built {counts}", flush=True)
    return counts


def reader() -> tuple[User, Client]:
    User.objects.filter(username="bench-reader").delete()
    user = User.objects.create_user(
        username="bench-reader", email="bench-reader@bench.invalid", password=None, confirmed=True
    )
    pks = list(
        User.objects.filter(username__startswith="synth-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    step = max(1, len(pks) // FOLLOWING)
    Follow.objects.bulk_create(
        Follow(follower=user, followed_id=pk) for pk in pks[::step][:FOLLOWING]
    )
    client = Client()
    client.force_login(user)
    client.get("/")
    return user, client


def timed(run, repeat: int) -> dict:
    """Wall-clock p50/p99 of `run`, and the p50 of this process's CPU time (the
    Django side alone: on a shared machine, wall time includes waiting for a core)."""
    run()
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return {
        "p50": round(statistics.median(samples), 2),
        "p99": round(p99, 2),
        "django_cpu_p50": round(statistics.median(cpu), 2),
    }


def sql_ms(sql: str) -> float:
    """The database's own execution time for `sql` (EXPLAIN ANALYZE), median of 5."""
    times = []
    with connection.cursor() as cursor:
        for _ in range(5):
            cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}")
            times.append(cursor.fetchone()[0][0]["Execution Time"])
    return round(statistics.median(times), 2)


def social_sql(run) -> list[str]:
    sqls = []

    def record(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and "social_" in sql:
            sqls.append(context["cursor"].mogrify(sql, params) if params else sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return sqls


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY OFF) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def get(client, path):
    def run():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)

    return run


def page_cases(members: int) -> dict:
    """The timed cases on the current database, whose population has `members` members."""
    user, client = reader()
    anonymous = Client()
    first = client.get("/")
    cursor = re.search(r"\?before=(\d+)", first.content.decode()).group(1)
    star = User.objects.get(username="synth-1")
    busy_post = Post.objects.filter(author=star).order_by("-pk").first()
    target = User.objects.get(username=f"synth-{members // 2}")

    def follow_unfollow():
        assert client.post(f"/users/{target.username}/follow/").status_code == 302
        assert client.post(f"/users/{target.username}/unfollow/").status_code == 302

    def posting():
        assert client.post("/posts/new/", {"body": "A benchmark post."}).status_code == 302

    return {
        f"feed, following {FOLLOWING}": get(client, "/"),
        "feed, older posts": get(client, f"/?before={cursor}"),
        "profile with posts (most followed)": get(anonymous, "/users/synth-1/"),
        "followers list (most followed)": get(anonymous, "/users/synth-1/followers/"),
        "post with comments": get(anonymous, f"/posts/{busy_post.pk}/"),
        "landing page, recent posts": get(anonymous, "/"),
        "follow + unfollow": follow_unfollow,
        "posting": posting,
    }


def measure(members: int, repeat: int) -> dict:
    counts = build(members)
    cases = page_cases(members)
    user = User.objects.get(username="bench-reader")
    star = User.objects.get(username="synth-1")
    results, plans = {}, []
    for name, run in cases.items():
        runs = repeat * 4 if name.startswith("feed") else repeat
        result = timed(run, runs)
        sqls = social_sql(run)
        result["queries_on_social_tables"] = len(sqls)
        result["seq_scan"] = False
        result["sql_ms"] = round(sum(sql_ms(sql) for sql in sqls), 2)
        for sql in sqls:
            plan = explain(sql)
            result["seq_scan"] |= "Seq Scan" in plan
            plans.append(
                f"#### {name} ({members:,} members)\n\n```sql\n{sql}\n```\n\n```\n{plan}\n```\n"
            )
        results[name] = result
        print(
            f"  {members:>9,} {name:<36} p50 {result['p50']:8.2f} ms  p99 {result['p99']:8.2f} ms"
            f"  sql {result['sql_ms']:6.2f} ms  django cpu {result['django_cpu_p50']:6.2f} ms"
            f"{'  SEQ SCAN' if result['seq_scan'] else ''}",
            flush=True,
        )
    Post.objects.filter(author=user).delete()
    return {
        "counts": counts,
        "load_average": os.getloadavg(),
        "pages": results,
        "plans": plans,
        "fan_out": fan_out_cost(star),
    }


def fan_out_cost(star: User) -> dict:
    """What fan-out on write would cost on this graph: one post by the most followed
    member writes a timeline row per follower; every post, a row per follower of its author."""
    followers = Follow.objects.filter(followed=star).count()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE timeline (member_id bigint, post_id bigint, "
            "PRIMARY KEY (member_id, post_id))"
        )
        start = time.perf_counter()
        cursor.execute(
            "INSERT INTO timeline SELECT follower_id, 1 FROM social_follow WHERE followed_id = %s",
            [star.pk],
        )
        one_post_ms = (time.perf_counter() - start) * 1000
        cursor.execute("DROP TABLE timeline")
        cursor.execute(
            "SELECT coalesce(sum(p.n * f.n), 0) FROM "
            "(SELECT author_id, count(*) n FROM social_post GROUP BY author_id) p JOIN "
            "(SELECT followed_id, count(*) n FROM social_follow GROUP BY followed_id) f "
            "ON f.followed_id = p.author_id"
        )
        rows = int(cursor.fetchone()[0])
    result = {
        "most_followed_followers": followers,
        "one_post_fan_out_ms": round(one_post_ms, 1),
        "timeline_rows_for_all_posts": rows,
    }
    print(f"  fan-out on write: {result}", flush=True)
    return result


PRIORITY: int | None = None


def raise_priority(niceness: int) -> None:
    """Run this process (the server side of every request: Django) and, after each
    connection, its PostgreSQL backend at `niceness`: on a machine shared with
    other work, the measured requests then wait for a core far less."""
    global PRIORITY
    PRIORITY = niceness
    os.setpriority(os.PRIO_PROCESS, 0, niceness)
    renice_backend()


def renice_backend() -> None:
    if PRIORITY is None:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        os.setpriority(os.PRIO_PROCESS, pid, PRIORITY)
    except OSError as error:  # another host, or not allowed: say so, measure anyway
        print(f"  could not renice PostgreSQL backend {pid}: {error}", file=sys.stderr)


def use_database(name: str) -> None:
    connection.close()
    connection.settings_dict["NAME"] = name
    renice_backend()


def timed_sql(run) -> tuple[float, float]:
    """Run once, returning (wall ms, ms spent waiting for the database's answers)."""
    spent = [0.0]

    def clock(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - start

    with connection.execute_wrapper(clock):
        start = time.perf_counter()
        run()
        wall = time.perf_counter() - start
    return wall * 1000, spent[0] * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 2)


def interleaved(small: tuple[str, int], large: tuple[str, int], rounds: int, repeat: int) -> dict:
    """Time the pages of two populations kept in two databases, alternating round by
    round, so that a change in the machine's load falls on both sizes alike."""
    setups = {}
    for name, members in (small, large):
        use_database(name)
        setups[name] = page_cases(members)
    samples = {name: {case: [] for case in setups[name]} for name in setups}
    cpu = {name: {case: [] for case in setups[name]} for name in setups}
    waits = {name: {case: [] for case in setups[name]} for name in setups}
    load_before = os.getloadavg()
    for _ in range(rounds):
        for name in setups:
            use_database(name)
            for case, run in setups[name].items():
                run()
                for _ in range(repeat):
                    start_cpu = time.process_time()
                    wall, sql = timed_sql(run)
                    cpu[name][case].append((time.process_time() - start_cpu) * 1000)
                    samples[name][case].append(wall)
                    waits[name][case].append(sql)
    load_after = os.getloadavg()
    report = {}
    for name, members in (small, large):
        use_database(name)
        pages = {}
        for case, values in samples[name].items():
            sqls = social_sql(setups[name][case])
            pages[case] = {
                "p50": round(statistics.median(values), 2),
                "p99": percentile(values, 0.99),
                "django_cpu_p50": round(statistics.median(cpu[name][case]), 2),
                "django_cpu_p99": percentile(cpu[name][case], 0.99),
                # Time waiting for PostgreSQL's answers, seen from Django (round trips included).
                "sql_wait_p50": round(statistics.median(waits[name][case]), 2),
                "sql_wait_p99": percentile(waits[name][case], 0.99),
                "sql_ms": round(sum(sql_ms(sql) for sql in sqls), 2),
                "seq_scan": any("Seq Scan" in explain(sql) for sql in sqls),
                "samples": len(values),
            }
        report[members] = pages
    report["load_average"] = {"before": load_before, "after": load_after}
    report["priority"] = PRIORITY
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--tag", default="", help="Suffix of the result files, e.g. 100k.")
    parser.add_argument("--keep", action="store_true", help="Leave the large population in place.")
    parser.add_argument(
        "--interleave",
        nargs=2,
        metavar=("SMALL_DB", "LARGE_DB"),
        help="Populations already built (--keep) in these two databases: only time them, "
        "alternating between the two, --rounds times.",
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--priority",
        type=int,
        metavar="NICENESS",
        help="Run this process and its PostgreSQL backends at this niceness, e.g. -10 "
        "(needs the right to renice, and PostgreSQL on this host).",
    )
    args = parser.parse_args()
    if args.priority is not None:
        raise_priority(args.priority)
    if args.interleave:
        report = interleaved(
            (args.interleave[0], args.baseline),
            (args.interleave[1], args.members),
            args.rounds,
            args.repeat,
        )
        stem = f"feed-scale-{args.tag}-interleaved" if args.tag else "feed-scale-interleaved"
        (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2))
        small, large = report[args.baseline], report[args.members]
        print(f"load average {report['load_average']}, priority {report['priority']}")
        print(
            f"{'page':<36} {args.baseline:>9,} {args.members:>11,}  ratio   p99 large"
            "   cpu p50   cpu p99  sql p50  sql p99  seq"
        )
        verdicts = []
        for case in large:
            ratio = large[case]["p50"] / small[case]["p50"]
            row = large[case]
            ok = ratio <= RATIO_TARGET and not row["seq_scan"]
            if case.startswith("feed, following"):
                ok = ok and row["p99"] < FEED_P99_TARGET_MS
            verdicts.append(ok)
            print(
                f"{case:<36} {small[case]['p50']:>7.2f}ms {row['p50']:>9.2f}ms "
                f"{ratio:6.2f} {row['p99']:>9.2f}ms {row['django_cpu_p50']:>7.2f}ms "
                f"{row['django_cpu_p99']:>7.2f}ms {row['sql_wait_p50']:>6.2f}ms "
                f"{row['sql_wait_p99']:>6.2f}ms  {'YES' if row['seq_scan'] else 'no'}"
                f"{'' if ok else '  MISS'}"
            )
        return 0 if all(verdicts) else 1
    if connection.vendor != "postgresql":
        print("bench/feed_scale.py needs PostgreSQL", file=sys.stderr)
        return 2
    quiet("migrate", "--noinput")
    quiet("seed_roles")
    quiet("collectstatic", "--noinput")  # DEBUG off: the pages need the manifest
    RESULTS.mkdir(parents=True, exist_ok=True)
    small = measure(args.baseline, args.repeat)
    large = measure(args.members, args.repeat)
    if not args.keep:
        User.objects.filter(username="bench-reader").delete()
        quiet("members", "remove")

    print(f"\n{'page':<36} {args.baseline:>9,} {args.members:>11,}  ratio  verdict")
    verdicts = []
    for name, result in large["pages"].items():
        before, after = small["pages"][name]["p50"], result["p50"]
        ratio = after / before if before else float("inf")
        ok = ratio <= RATIO_TARGET and not result["seq_scan"]
        if name.startswith("feed, following"):
            ok = ok and result["p99"] < FEED_P99_TARGET_MS
        verdicts.append(ok)
        print(
            f"{name:<36} {before:>7.2f}ms {after:>9.2f}ms {ratio:6.2f}  {'pass' if ok else 'MISS'}"
        )
    report = {
        "baseline": {k: v for k, v in small.items() if k != "plans"},
        "large": {k: v for k, v in large.items() if k != "plans"},
    }
    stem = f"feed-scale-{args.tag}" if args.tag else "feed-scale"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (RESULTS / f"{stem}-explain.md").write_text("\n".join(large["plans"]))
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
