"""Load benchmark of Offbrand in its production configuration.

    .venv/bin/python bench/run.py [--duration 10] [--connections 8] [--members N]
                                  [--mode auto|postgres|sqlite] [--rounds 1]
                                  [--only CASE,CASE] [--profile] [--json PATH]

Prepares a database (PostgreSQL and Redis when they answer on 127.0.0.1, else
SQLite in a temporary directory and the local-memory cache), serves the site
with gunicorn (2 sync workers, DEBUG off), drives each case with wrk, and
compares every page with the ceiling, a bare Django view through the same
server and middleware. See bench/README.md.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
# BENCH_DATABASE_URL / BENCH_REDIS_URL let several people share the services.
POSTGRES_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/offbrand_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
WORKERS = 2
HASH_SAMPLES = 50

sys.path.insert(0, str(ROOT))  # `bench` and the project's apps, for Django below

from bench import hash_clock  # noqa: E402
from bench.setup_users import MEMBER, MODERATOR, PASSWORD  # noqa: E402
from harness.servers import Client, Deployment, Gunicorn, answers  # noqa: E402

# --- cases -----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One URL under load. `target` is the least acceptable share of `reference`."""

    name: str
    path: str
    who: str | None = None  # None (anonymous), "member" or "moderator"
    reference: str | None = "ceiling"  # "ceiling", "hashing" or None (no target)
    target: float | None = None
    may_be_missing: bool = False  # a 404 means "not built yet", not a failure
    login: bool = False  # POST the sign-in form with good credentials
    expect: int = 200


CASES = [
    Case("ceiling", "/bench/ceiling", reference=None),
    Case("home (anonymous)", "/", target=0.60),
    # The signed-in home is the member's feed (bench-member follows a member with posts).
    Case("home (signed in)", "/", who="member", target=0.40),
    Case("profile (anonymous)", f"/users/{MEMBER.username}/", may_be_missing=True),
    Case(
        "profile (signed in)",
        f"/users/{MEMBER.username}/",
        who="member",
        target=0.40,
        may_be_missing=True,
    ),
    Case("moderation list", "/moderate/users/", who="moderator", target=0.40, may_be_missing=True),
    Case("healthz", "/healthz"),
    Case("sign in", "/accounts/login/", reference="hashing", target=0.80, login=True, expect=302),
]


# --- environment -----------------------------------------------------------


def choose_backends(mode: str, workdir: Path) -> tuple[str, str]:
    """(DATABASE_URL, REDIS_URL): PostgreSQL and Redis when asked for or reachable."""
    use_postgres = mode == "postgres" or (mode == "auto" and answers(5432))
    use_redis = mode == "postgres" or (mode == "auto" and answers(6379))
    if use_postgres:
        ensure_postgres_database()
    database = POSTGRES_URL if use_postgres else f"sqlite:///{workdir / 'bench.sqlite3'}"
    # An empty REDIS_URL also keeps a REDIS_URL from .env out: local memory.
    return database, REDIS_URL if use_redis else ""


def ensure_postgres_database(url: str = POSTGRES_URL) -> None:
    """Create the bench database on first use (a separate database: runs never touch real data)."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if not exists.fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def manage(deployment: Deployment, *args: str) -> None:
    """Run a management command as a deployment would, stopping the run if it fails."""
    print(f"$ manage.py {' '.join(args)}", flush=True)
    deployment.manage(*args, timeout=24 * 3600)


def prepare(deployment: Deployment, members: int) -> int:
    """Migrate, seed, collect static files, make the bench users; return the member count."""
    manage(deployment, "migrate", "--noinput", "-v0")
    manage(deployment, "seed_roles")
    manage(deployment, "collectstatic", "--noinput", "-v0")
    setup_django(deployment)
    from django.db import connections

    from bench import setup_users

    setup_users.ensure_bench_users()
    missing = members - setup_users.synthetic_count()
    connections.close_all()
    if missing > 0:
        manage(deployment, "members", "fill", str(missing))
    count = setup_users.synthetic_count()
    vacuum_members(connections["default"])
    connections.close_all()  # the workers open their own
    return count


def vacuum_members(connection) -> None:
    """PostgreSQL: VACUUM ANALYZE the members, as autovacuum would after a bulk fill.

    Without it the planner guesses row counts and COUNT(*) visits every heap page.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) accounts_user")


def setup_django(deployment: Deployment) -> None:
    """Django in this process, with the benchmark's settings (to time hashing)."""
    import django

    sys.path.insert(0, str(deployment.root))  # its settings module
    os.environ.update(deployment.env)
    django.setup()


# --- password hashing ------------------------------------------------------


@dataclass
class Hashing:
    samples: int
    seconds_per_hash: float  # wall clock
    cpu_seconds_per_hash: float  # what the limit uses
    cores: int
    limit_per_second: float  # cores / CPU seconds per hash: sign-ins per second at best


def time_hashing(samples: int = HASH_SAMPLES) -> Hashing:
    """One sign-in checks one password: this is its floor on cost.

    The limit divides by CPU time rather than wall time: on an idle machine they
    are equal, but other load stretches wall time and would flatter the ratio.
    """
    from django.contrib.auth.hashers import make_password

    make_password("warm-up")
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(samples):
        make_password(PASSWORD)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    cores = os.cpu_count() or 1
    return Hashing(samples, wall / samples, cpu / samples, cores, cores * samples / cpu)


# --- the server ------------------------------------------------------------


def children(parent: int) -> dict[int, dict[str, str]]:
    """/proc/<pid>/status fields of each child of `parent`."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
        except OSError:  # the process ended meanwhile
            continue
        if int(fields["PPid"]) == parent:
            found[int(fields["Pid"])] = fields
    return found


def worker_pids(master: int) -> list[int]:
    return sorted(children(master))


def worker_peak_rss(master: int) -> dict[int, float]:
    """VmHWM (peak resident memory, MiB) of each worker, a child of the gunicorn master."""
    return {
        pid: int(fields["VmHWM"].split()[0]) / 1024
        for pid, fields in children(master).items()
        if "VmHWM" in fields
    }


# --- wrk -------------------------------------------------------------------


@dataclass
class Result:
    case: str
    method: str
    path: str
    who: str
    status: str = "measured"  # or "not available (404)"
    requests: int = 0
    requests_per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    unexpected_status: int = 0  # responses other than the case's expected status
    socket_errors: int = 0
    worker_cpu_ms_per_request: float = 0.0  # both workers' CPU time / requests served
    machine_cpu_busy: float = 0.0  # share of all cores busy (wrk, database, others too)
    # Counted in the workers (bench/hash_clock.py): CPU inside the password hasher, per request.
    hash_cpu_ms_per_request: float | None = None
    hashes_per_request: float | None = None
    worker_cpu_besides_hash_ms_per_request: float | None = None  # the two above's difference
    ratio: float | None = None
    # The ceiling's worker CPU per request / this case's: the ratio that outside load moves least.
    cpu_ratio: float | None = None
    reference: str | None = None
    target: float | None = None
    passed: bool | None = None
    notes: list[str] = field(default_factory=list)
    rounds_requests_per_second: list[float] = field(default_factory=list)
    rounds_worker_cpu_ms_per_request: list[float] = field(default_factory=list)
    rounds_worker_cpu_besides_hash_ms_per_request: list[float] = field(default_factory=list)
    tree: str = "this tree"  # or "baseline" (--baseline-tree)

    @property
    def errors(self) -> int:
        return self.unexpected_status + self.socket_errors


@dataclass
class Load:
    """What a case sends: extra headers, and the script arguments of bench/case.lua."""

    headers: dict[str, str]
    body: str | None = None


@dataclass(frozen=True)
class SignInForm:
    """What a site calls its sign-in form's username field and its two cookies.

    Offbrand's defaults; bench/peer.py passes django-allauth's (`login`) and
    cookiecutter-django's production cookie names (`__Secure-…`).
    """

    field: str = "username"
    session_cookie: str = "sessionid"
    csrf_cookie: str = "csrftoken"


OFFBRAND_FORM = SignInForm()


def login_form(username: str, token: str, form: SignInForm = OFFBRAND_FORM) -> str:
    return urlencode({form.field: username, "password": PASSWORD, "csrfmiddlewaretoken": token})


def sign_in(url: str, username: str, form: SignInForm = OFFBRAND_FORM) -> str:
    """The cookies of a fresh sign-in, as a browser sends them afterwards.

    A browser returns the CSRF cookie it was given with every request, so a
    signed-in page with a form (the sign-out button) reuses that secret
    instead of minting and setting a new one each time.
    """
    browser = Client(url, timeout=30)
    reply = browser.sign_in(username, PASSWORD, field=form.field)
    if reply.status != 302 or form.session_cookie not in browser.cookies:
        raise RuntimeError(f"signing in as {username} gave {reply.status}, no session")
    browser.get("/")  # the page after sign-in sets the CSRF cookie if the form did not
    if form.csrf_cookie not in browser.cookies:
        raise RuntimeError(f"signed in as {username} but was never given a CSRF cookie")
    return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())


def load_for(
    case: Case, url: str, sessions: dict[str, str], form: SignInForm = OFFBRAND_FORM
) -> Load:
    if case.login:
        cookie, token = Client(url, timeout=30).csrf_pair(cookie=form.csrf_cookie)
        body = login_form(MEMBER.username, token, form)
        return Load({"Cookie": f"{form.csrf_cookie}={cookie}"}, body)
    if case.who:
        return Load({"Cookie": sessions[case.who]})
    return Load({})


def run_wrk(url: str, case: Case, load: Load, duration: int, connections: int) -> str:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout=10s"]
    command += ["-s", str(ROOT / "bench" / "case.lua")]
    for name, value in load.headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [f"{url}{case.path}", "--", str(case.expect)]
    if load.body:
        command.append(load.body)
    return subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str, result: Result) -> None:
    def number(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output, re.MULTILINE)
        return match.group(1) if match else default

    def percentile(pct: int) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        return float(match.group(1)) * UNITS_MS[match.group(2)] if match else 0.0

    result.requests = int(number(r"(\d+) requests in"))
    result.requests_per_second = float(number(r"Requests/sec:\s+([\d.]+)"))
    result.p50_ms, result.p99_ms = percentile(50), percentile(99)
    result.unexpected_status = int(number(r"Unexpected status: (\d+)"))
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        output,
    )
    result.socket_errors = sum(map(int, sockets.groups())) if sockets else 0


def measure(
    case: Case, server: Gunicorn, sessions: dict, args, form: SignInForm = OFFBRAND_FORM
) -> Result:
    """Probe the URL once (a 404 may mean the page is not built yet), then load it."""
    load = load_for(case, server.url, sessions, form)
    method = "POST" if case.login else "GET"
    print(f"   {case.name}: {method} {case.path}", flush=True)
    result = Result(
        case.name,
        method,
        case.path,
        case.who or "anonymous",
        reference=case.reference or "ceiling",
        target=case.target,
    )
    probe = Client(server.url, timeout=30).request(
        method, case.path, headers=load.headers | form_type(load), body=load.body
    )
    if probe.status == 404 and case.may_be_missing:
        result.status = "not available (404)"
        return result
    if probe.status != case.expect:
        result.notes.append(f"probe answered {probe.status}, expected {case.expect}")
    workers = worker_pids(server.process.pid)
    clock = hash_clock_of(server)
    hashed_before = hash_clock.read(clock, workers) if clock else None
    before = Usage.now(workers)
    with profiling(args.profile, workers, case, args.duration):
        output = run_wrk(server.url, case, load, args.duration, args.connections)
    used = Usage.now(workers) - before
    parse_wrk(output, result)
    if not result.requests:
        # CPU divided by no request is no figure: the case is too short for the page.
        raise RuntimeError(
            f"{case.name}: no request completed in {args.duration} s; run with a longer --duration"
        )
    result.worker_cpu_ms_per_request = 1000 * used.worker_cpu / result.requests
    if hashed_before is not None:
        seconds, calls = hash_clock.read(clock, workers)
        if calls > hashed_before[1]:
            # The probe's sign-in ran before `before`: only wrk's requests are counted.
            result.hash_cpu_ms_per_request = 1000 * (seconds - hashed_before[0]) / result.requests
            result.hashes_per_request = (calls - hashed_before[1]) / result.requests
            result.worker_cpu_besides_hash_ms_per_request = (
                result.worker_cpu_ms_per_request - result.hash_cpu_ms_per_request
            )
    result.machine_cpu_busy = used.busy_ticks / max(used.total_ticks, 1)
    return result


def combine(runs: list[Result]) -> Result:
    """The round with the median throughput, carrying every round's errors and notes.

    Rounds interleave the cases, so a burst of outside load hits one round of
    each case rather than every round of one case.
    """
    ranked = sorted(runs, key=lambda run: run.requests_per_second)
    median = ranked[len(ranked) // 2]
    median.rounds_requests_per_second = [run.requests_per_second for run in runs]
    # Worker CPU per request: the median of the rounds, on its own.
    cpus = sorted(run.worker_cpu_ms_per_request for run in runs)
    median.worker_cpu_ms_per_request = cpus[len(cpus) // 2]
    median.rounds_worker_cpu_ms_per_request = [run.worker_cpu_ms_per_request for run in runs]
    hashed = [run for run in runs if run.hash_cpu_ms_per_request is not None]
    if hashed:  # each the median of the rounds, on its own, the difference too
        for name in ("hash_cpu_ms_per_request", "hashes_per_request"):
            values = sorted(getattr(run, name) for run in hashed)
            setattr(median, name, values[len(values) // 2])
        besides = [run.worker_cpu_besides_hash_ms_per_request for run in hashed]
        median.worker_cpu_besides_hash_ms_per_request = sorted(besides)[len(besides) // 2]
        median.rounds_worker_cpu_besides_hash_ms_per_request = besides
    median.unexpected_status = sum(run.unexpected_status for run in runs)
    median.socket_errors = sum(run.socket_errors for run in runs)
    median.notes = sorted({note for run in runs for note in run.notes})
    return median


@dataclass
class Usage:
    """CPU counters, to tell a server short of CPU from one waiting on something."""

    worker_cpu: float  # seconds, user + system, of the workers
    busy_ticks: int  # whole machine, from /proc/stat
    total_ticks: int

    @classmethod
    def now(cls, workers: list[int]) -> "Usage":
        cpu = 0
        for pid in workers:
            # Fields after the command name: utime and stime are the 12th and 13th.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += int(fields[11]) + int(fields[12])
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = ticks[3] + ticks[4]  # idle + iowait
        return cls(cpu / os.sysconf("SC_CLK_TCK"), sum(ticks[:8]) - idle, sum(ticks[:8]))

    def __sub__(self, other: "Usage") -> "Usage":
        return Usage(
            self.worker_cpu - other.worker_cpu,
            self.busy_ticks - other.busy_ticks,
            self.total_ticks - other.total_ticks,
        )


@contextmanager
def profiling(enabled: bool, workers: list[int], case: Case, seconds: int):
    """With --profile, py-spy samples every worker while wrk runs (collapsed stacks).

    Each file is bench/results/profile-<case>-<pid>.txt, one stack per line with
    its sample count: feed it to flamegraph.pl or speedscope, or sort it.
    """
    if not enabled:
        yield
        return
    slug = re.sub(r"[^a-z0-9]+", "-", case.name.lower()).strip("-")
    spies = [
        subprocess.Popen(
            [str(BIN / "py-spy"), "record", "--format=raw", "--rate=100"]
            + [f"--pid={pid}", f"--duration={seconds}"]
            + [f"--output={RESULTS / f'profile-{slug}-{pid}.txt'}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in workers
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.wait(timeout=seconds + 30)


def hash_clock_of(server) -> Path | None:
    """The directory where this server's workers count the hasher's CPU, if they do."""
    extra = getattr(server.deployment, "extra", {})
    return Path(extra[hash_clock.VARIABLE]) if hash_clock.VARIABLE in extra else None


def form_type(load: Load) -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded"} if load.body else {}


# --- verdicts and report ---------------------------------------------------


def judge(results: list[Result], hashing: Hashing) -> None:
    """Ratio to the reference, and pass only with zero errors and the target met."""
    for tree in dict.fromkeys(r.tree for r in results):
        judge_tree([r for r in results if r.tree == tree], hashing)


def judge_tree(results: list[Result], hashing: Hashing) -> None:
    ceiling_result = next(r for r in results if r.case == "ceiling")
    ceiling = ceiling_result.requests_per_second
    ceiling_cpu = ceiling_result.worker_cpu_ms_per_request
    references = {"ceiling": ceiling, "hashing": hashing.limit_per_second}
    for result in results:
        if result.status != "measured":
            continue
        base = references[result.reference]
        result.ratio = result.requests_per_second / base if base else None
        if result.reference == "ceiling" and result.worker_cpu_ms_per_request:
            result.cpu_ratio = ceiling_cpu / result.worker_cpu_ms_per_request
        met = result.target is None or (result.ratio or 0) >= result.target
        result.passed = met and result.errors == 0 and not result.notes


COLUMNS = ("case", "tree", "req/s", "p50 ms", "p99 ms", "errors", "ratio", "target", "result")
COLUMNS += ("worker cpu ms/req", "cpu ratio to ceiling", "machine busy")


def row(r: Result) -> tuple[str, ...]:
    if r.status != "measured":
        return (r.case, r.tree, *"-" * 6, r.status, "-", "-", "-")
    ratio = f"{r.ratio:.1%} {r.reference}" if r.ratio is not None else "-"
    target = f">= {r.target:.0%}" if r.target else "errors = 0"
    verdict = "pass" if r.passed else "FAIL" + (f" ({'; '.join(r.notes)})" if r.notes else "")
    return (
        r.case,
        r.tree,
        f"{r.requests_per_second:.1f}",
        f"{r.p50_ms:.1f}",
        f"{r.p99_ms:.1f}",
        str(r.errors),
        ratio,
        target,
        verdict,
        f"{r.worker_cpu_ms_per_request:.2f}",
        f"{r.cpu_ratio:.1%}" if r.cpu_ratio is not None else "-",
        f"{r.machine_cpu_busy:.0%}",
    )


def table(results: list[Result]) -> str:
    rows = [COLUMNS, *map(row, results)]
    widths = [max(len(cells[i]) for cells in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(results: list[Result]) -> str:
    rows = [COLUMNS, *map(row, results)]
    lines = ["| " + " | ".join(cells) + " |" for cells in rows]
    lines.insert(1, "|" + "|".join(" --- " for _ in COLUMNS) + "|")
    return "\n".join(lines)


def hash_lines(results: list[Result]) -> list[str]:
    """For cases that hashed passwords: worker CPU per request besides the hash."""
    return [
        f"{r.case} ({r.tree}): {r.worker_cpu_ms_per_request:.2f} ms worker CPU per request, "
        f"{r.hash_cpu_ms_per_request:.2f} ms of it inside the password hasher "
        f"({r.hashes_per_request:.2f} hashes per request, counted in the workers): "
        f"{r.worker_cpu_besides_hash_ms_per_request:.2f} ms besides the hash (rounds: "
        + ", ".join(f"{ms:.2f}" for ms in r.rounds_worker_cpu_besides_hash_ms_per_request)
        + ")"
        for r in results
        if r.worker_cpu_besides_hash_ms_per_request is not None
    ]


def commit(tree: Path = ROOT) -> str:
    """The tree measured: its commit, and whether it had uncommitted changes."""

    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=tree, capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"{head} (with uncommitted changes)" if git("status", "--porcelain") else head


def markdown_report(results: list[Result], data: dict, hashing) -> str:
    """The figures as the benchmark measured them, for bench/results/ (not copied by hand)."""
    return (
        f"# Load benchmark: {data['database']} + {data['cache']}\n\n"
        f"Written by `bench/run.py` on {data['finished']}, tree {data['commit']}; "
        f"{data['workers']} gunicorn workers, {data['connections']} wrk connections, "
        f"{data['duration_s']} s per case, {data['rounds']} round(s), "
        f"{data['synthetic_members']:,} synthetic members; "
        f"load average {data['load_average_at_start']:.1f} at the start, "
        f"{data['load_average_at_end']:.1f} at the end ({os.cpu_count()} cores)"
        + (f"; baseline: {data['baseline_tree']}" if data.get("baseline_tree") else "")
        + ".\n\n"
        f"{markdown_table(results)}\n\n"
        + "".join(f"{line}.\n\n" for line in hash_lines(results))
        + f"Password hashing: {hashing.cpu_seconds_per_hash * 1000:.1f} ms CPU per hash, "
        f"limit {hashing.limit_per_second:.1f}/s on {hashing.cores} cores. Worker peak RSS: "
        f"{', '.join(f'{mib:.0f} MiB' for mib in data['worker_peak_rss_mib'].values())}.\n"
    )


def report(results, hashing, rss, meta: dict, args) -> dict:
    return {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "duration_s": args.duration,
        "connections": args.connections,
        "rounds": args.rounds,
        "commit": commit(),
        "workers": WORKERS,
        "hashing": asdict(hashing),
        "worker_peak_rss_mib": rss,
        "cases": [asdict(r) | {"errors": r.errors} for r in results],
        "all_passed": all(r.passed is not False for r in results),
    }


# --- main ------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per case (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run every case this many times; keep the median"
    )
    parser.add_argument("--members", type=int, default=0, help="ensure this many synthetic members")
    parser.add_argument(
        "--mode",
        choices=["auto", "postgres", "sqlite"],
        default="auto",
        help="auto: PostgreSQL and Redis where they answer, else SQLite and local memory",
    )
    parser.add_argument(
        "--json",
        type=Path,
        help="where to write the results as JSON (default bench/results/<database>-<cache>.json); "
        "the same figures go beside it as Markdown (.md)",
    )
    parser.add_argument(
        "--only", help="comma-separated case names to run (the ceiling always runs)"
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="another checkout (e.g. a worktree of main): served by a second gunicorn on the "
        "same database, every case measured on both, interleaved, to compare before/after",
    )
    parser.add_argument(
        "--port",
        type=int,
        help="serve on this port of 127.0.0.1 (the baseline on the next one); default: any free",
    )
    parser.add_argument(
        "--profile", action="store_true", help="sample the workers with py-spy during each case"
    )
    args = parser.parse_args()
    if min(args.duration, args.connections, args.rounds) < 1 or args.members < 0:
        parser.error("--duration, --connections, --rounds must be 1 or more, --members 0 or more")
    if args.profile and not (BIN / "py-spy").exists():
        parser.error("--profile needs py-spy in the venv: .venv/bin/pip install py-spy")
    return args


def selected_cases(only: str | None) -> list[Case]:
    if not only:
        return CASES
    names = {name.strip() for name in only.split(",")}
    unknown = names - {case.name for case in CASES}
    if unknown:
        sys.exit(f"unknown case(s): {', '.join(sorted(unknown))}")
    return [case for case in CASES if case.name in names or case.name == "ceiling"]


def main() -> int:
    args = parse_args()
    # `kill` as well as Ctrl-C unwinds through the finally blocks that stop gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    cases = selected_cases(args.only)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk).")
    RESULTS.mkdir(exist_ok=True)
    meta = {"load_average_at_start": os.getloadavg()[0]}
    if args.baseline_tree:
        meta["baseline_tree"] = f"{args.baseline_tree} at {commit(args.baseline_tree.resolve())}"
    if meta["load_average_at_start"] > 1:
        print(f"warning: load average {meta['load_average_at_start']:.1f}: figures will be low")
    workdir = Path(tempfile.mkdtemp(prefix="offbrand-bench-"))
    try:
        database, redis = choose_backends(args.mode, workdir)
        meta["database"], meta["cache"] = database.split(":")[0], "redis" if redis else "locmem"
        print(f"== {meta['database']} + {meta['cache']}", flush=True)
        deployment = Deployment(database, redis, settings="bench.settings", root=workdir)
        meta["synthetic_members"] = prepare(deployment, args.members)
        hashing = time_hashing()
        log = RESULTS / "gunicorn.log"
        log.unlink(missing_ok=True)
        # The workers count the hasher's CPU themselves (bench/hash_clock.py).
        (workdir / "hash-clock").mkdir()
        served = replace(deployment, extra={hash_clock.VARIABLE: str(workdir / "hash-clock")})
        servers = {"this tree": Gunicorn(served, workers=WORKERS, log=log, port=args.port)}
        if args.baseline_tree:
            servers["baseline"] = Gunicorn(
                served,
                workers=WORKERS,
                log=RESULTS / "gunicorn-baseline.log",
                extra_args=("--chdir", str(args.baseline_tree.resolve())),
                port=args.port + 1 if args.port else None,
            )
        try:
            for server in servers.values():
                server.start()
            sessions = {
                tree: {
                    "member": sign_in(server.url, MEMBER.username),
                    "moderator": sign_in(server.url, MODERATOR.username),
                }
                for tree, server in servers.items()
            }
            rounds = []
            for number in range(1, args.rounds + 1):
                print(f"-- round {number} of {args.rounds}", flush=True)
                measured = []
                for case in cases:
                    for tree, server in servers.items():
                        result = measure(case, server, sessions[tree], args)
                        result.tree = tree
                        measured.append(result)
                rounds.append(measured)
            results = [combine(list(runs)) for runs in zip(*rounds, strict=True)]
            rss = worker_peak_rss(servers["this tree"].process.pid)
        finally:
            for server in servers.values():
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta["load_average_at_end"] = os.getloadavg()[0]
    judge(results, hashing)
    data = report(results, hashing, rss, meta, args)
    print()
    print(table(results))
    print("\n".join(["", *hash_lines(results)]))
    print(
        f"\nhashing: {hashing.cpu_seconds_per_hash * 1000:.1f} ms CPU per password hash "
        f"({hashing.seconds_per_hash * 1000:.1f} ms wall), "
        f"limit {hashing.limit_per_second:.1f}/s on {hashing.cores} cores; "
        f"worker peak RSS: {', '.join(f'{mib:.0f} MiB' for mib in rss.values())}"
    )
    suffix = "-members" if args.members else ""
    path = args.json or RESULTS / f"{meta['database']}-{meta['cache']}{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    path.with_suffix(".md").write_text(markdown_report(results, data, hashing))
    print(f"written to {path} and {path.with_suffix('.md')}")
    return 0 if data["all_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
