"""A million members: the same pages at 1,000 and at 1,000,000 members, side by side.

Run: .venv/bin/python bench/scale.py [--members 1000000] [--repeat 15]

It uses the bench PostgreSQL database (never your own), times each case
in-process through Django's test client (whole request: middleware, view,
template), prints the EXPLAIN of the member queries each case makes, then
times `seed_roles` backfilling the same number of role-less members. The
synthetic members are removed at the end. Results: bench/results/scale.json
and bench/results/scale-explain.md.
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
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/offbrand_bench"

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # installs the `members` command
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", DATABASE_URL),
        "DEBUG": "false",
        "SECRET_KEY": "bench-scale-not-secret-" + "x" * 40,
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

from accounts import selectors  # noqa: E402
from accounts.models import Role, User  # noqa: E402

# Targets of the issue: pages within 1.5x of their time at 1,000 members;
# the admin list and search under 300 ms.
RATIO_TARGET = 1.5
ADMIN_TARGET_MS = 300


def quiet_command(*args):
    call_command(*args, stdout=io.StringIO(), stderr=io.StringIO())


def set_members(count: int) -> None:
    """Exactly `count` synthetic members (numbered from 1), analysed."""
    quiet_command("members", "remove")
    if count:
        quiet_command("members", "fill", str(count))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) accounts_user")


def clients() -> dict[str, Client]:
    admin, _ = User.objects.get_or_create(
        username="bench-admin",
        defaults={"email": "bench-admin@bench.invalid", "confirmed": True},
    )
    admin.role = Role.objects.administrator()
    admin.confirmed = True
    admin.save()
    moderator = User.objects.filter(username="bench-moderator").first() or User.objects.create(
        username="bench-moderator",
        email="bench-moderator@bench.invalid",
        confirmed=True,
        role=Role.objects.get(name="Moderator"),
    )
    by_role = {"admin": Client(), "moderator": Client(), "anonymous": Client()}
    by_role["admin"].force_login(admin)
    by_role["moderator"].force_login(moderator)
    return by_role


def cases(members: int):
    """(name, who, request or callable, target) for a population of `members`."""
    probe = min(777, members)
    return [
        (
            "sign-in lookup by email, any case",
            None,
            lambda: selectors.member_signing_in(f"SYNTH-{probe}@bench.INVALID"),
            "ratio",
        ),
        ("profile page", "anonymous", f"/users/synth-{probe}/", "ratio"),
        ("moderation list", "moderator", "/moderate/users/", "ratio"),
        # The same one match at both sizes: "synth-777" alone would match 1 member
        # among 1,000 but 1,111 among 1,000,000 (synth-7770..., synth-777000...).
        # By address, so as an administrator: moderators search by username only.
        ("moderation list, search", "admin", f"/moderate/users/?q=synth-{probe}@", "ratio"),
        ("admin user list, first page", "admin", "/admin/accounts/user/", "admin"),
        (
            "admin search, email prefix",
            "admin",
            f"/admin/accounts/user/?q=synth-{probe}@",
            "admin",
        ),
    ]


def time_case(action, client, repeat: int) -> tuple[float, list[str]]:
    """Median milliseconds over `repeat` runs, and the SQL of one run."""

    def run():
        if callable(action):
            action()
        else:
            response = client.get(action)
            assert response.status_code == 200, (action, response.status_code)

    run()  # warm caches and connections
    sqls = []

    def record(execute, sql, params, many, context):
        # The SQL with its parameters, as the database ran it (for EXPLAIN).
        sqls.append(context["cursor"].mogrify(sql, params) if params else sql)
        return execute(sql, params, many, context)

    # execute_wrapper, not CaptureQueriesContext: each request resets the query log.
    with connection.execute_wrapper(record):
        run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), sqls


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF, SUMMARY OFF) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def member_queries(sqls: list[str]) -> list[str]:
    return [
        sql
        for sql in sqls
        if '"accounts_user"' in sql
        and sql.lstrip().upper().startswith("SELECT")
        and "django_session" not in sql
    ]


def measure(members: int, repeat: int) -> dict:
    set_members(members)
    by_role = clients()
    results = {}
    for name, who, action, target in cases(members):
        ms, sqls = time_case(action, by_role.get(who), repeat)
        results[name] = {"ms": round(ms, 2), "target": target, "sql": member_queries(sqls)}
        print(f"  {members:>9,} members  {name:<36} {ms:8.2f} ms", flush=True)
    return results


def backfill(members: int) -> dict:
    quiet_command("members", "remove")
    quiet_command("members", "fill", str(members), "--without-role")
    start = time.perf_counter()
    quiet_command("seed_roles")
    seconds = time.perf_counter() - start
    left = User.objects.filter(role__isnull=True).count()
    print(f"  seed_roles backfill of {members:,} role-less members: {seconds:.1f} s", flush=True)
    return {"members": members, "seconds": round(seconds, 2), "left_without_role": left}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench/scale.py needs PostgreSQL", file=sys.stderr)
        return 2
    quiet_command("migrate", "--noinput")
    quiet_command("seed_roles")
    RESULTS.mkdir(parents=True, exist_ok=True)

    small = measure(args.baseline, args.repeat)
    large = measure(args.members, args.repeat)
    plans = []
    for name, result in large.items():
        for sql in result["sql"]:
            shown = re.sub(r'SELECT "accounts_user"\."id", .*? FROM', "SELECT … FROM", sql)
            plans.append(f"#### {name}\n\n```sql\n{shown}\n```\n\n```\n{explain(sql)}\n```\n")
    seed = backfill(args.members)
    quiet_command("members", "remove")

    print(f"\n{'case':<36} {args.baseline:>9,} {args.members:>11,}  ratio  target  verdict")
    markdown = [
        "# A million members, page by page\n",
        f"Written by `bench/scale.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"median of {args.repeat} requests each, load average {os.getloadavg()[0]:.1f} "
        f"at the end. Query plans: `scale-explain.md`.\n",
        f"| case | {args.baseline:,} members | {args.members:,} members "
        "| ratio | target | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    verdicts = []
    for name, result in large.items():
        before, after = small[name]["ms"], result["ms"]
        ratio = after / before if before else float("inf")
        if result["target"] == "admin":
            ok, target = after < ADMIN_TARGET_MS, f"<{ADMIN_TARGET_MS} ms"
        else:
            ok, target = ratio <= RATIO_TARGET, f"<={RATIO_TARGET}x"
        verdicts.append(ok)
        print(
            f"{name:<36} {before:>7.2f}ms {after:>9.2f}ms {ratio:6.2f} {target:>8}  "
            f"{'pass' if ok else 'MISS'}"
        )
        markdown.append(
            f"| {name} | {before:.2f} ms | {after:.2f} ms | {ratio:.2f} | {target} | "
            f"{'pass' if ok else '**miss**'} |"
        )
    print(f"seed_roles backfill: {seed['seconds']} s, {seed['left_without_role']} left")
    markdown.append(
        f"\n`seed_roles` backfill of {args.members:,} role-less members: {seed['seconds']} s, "
        f"{seed['left_without_role']} left without a role.\n"
    )

    report = {"baseline": small, "large": large, "seed_roles_backfill": seed}
    (RESULTS / "scale.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "scale-explain.md").write_text("\n".join(plans))
    (RESULTS / "scale.md").write_text("\n".join(markdown))
    return 0 if all(verdicts) and seed["left_without_role"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
