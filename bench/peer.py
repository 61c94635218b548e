"""Offbrand side by side with a peer: a project generated from cookiecutter-django.

    nice -n -5 .venv/bin/python bench/peer.py --peer-dir /path/to/my_awesome_project
        [--peer-venv DIR] [--duration 5] [--rounds 3] [--connections 8] [--port 8170]

The peer's code lives outside this repository (bench/README.md says how it was
generated). Both sites are served the way bench/run.py serves Offbrand: gunicorn,
2 sync workers each, DEBUG off, PostgreSQL and Redis. Four cases run on both,
Offbrand then the peer inside each round, rounds interleaved, and each is
measured as bench/run.py measures it (both workers' CPU time over the case,
divided by the requests served). The report gives Offbrand / peer per case.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run  # noqa: E402
from bench.run import CASES, MEMBER, PASSWORD, WORKERS, Case, Result, SignInForm  # noqa: E402
from harness.servers import Deployment, Gunicorn  # noqa: E402

# The environment before Django is set up in this process (run.setup_django adds
# Offbrand's variables to os.environ): the peer starts from this one.
CLEAN_ENV = dict(os.environ)

PEER_DATABASE_URL = os.environ.get(
    "BENCH_PEER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/peer_cookiecutter"
)
CASE_NAMES = ("home (anonymous)", "home (signed in)", "profile (signed in)", "sign in")
OFFBRAND, PEER = "Offbrand", "cookiecutter-django"

# django-allauth names the username field `login`; cookiecutter-django's production
# settings prefix both cookies with __Secure-.
PEER_FORM = SignInForm("login", "__Secure-sessionid", "__Secure-csrftoken")

PEER_CASES = [
    Case("home (anonymous)", "/"),
    Case("home (signed in)", "/", who="member"),
    Case("profile (signed in)", f"/users/{MEMBER.username}/", who="member"),
    Case("sign in", "/accounts/login/", reference="hashing", login=True, expect=302),
]

# The production settings of a generated project, with the variables it requires
# (storage and mail keys are read at start-up, never used by these pages).
PEER_SETTINGS = """\
from config.settings.production import *  # noqa: F403

# allauth's default limit of 30 sign-ins a minute per IP would answer the sign-in
# case with 429s; this one keeps the check (and its cache round trip), never trips.
ACCOUNT_RATE_LIMITS = {"login": "1000000/m/ip"}
STATIC_ROOT = %r
"""

PEER_SETUP = f"""
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session

Session.objects.all().delete()
user = get_user_model().objects.filter(username={MEMBER.username!r}).first()
user = user or get_user_model()(username={MEMBER.username!r})
user.email, user.is_active = {MEMBER.email!r}, True
user.set_password({PASSWORD!r})
user.save()
EmailAddress.objects.update_or_create(
    user=user, email=user.email, defaults={{"verified": True, "primary": True}}
)
"""

PEER_HASHING = f"""
import time
from django.contrib.auth.hashers import make_password
make_password("warm-up")
started = time.process_time()
for _ in range(20):
    make_password({PASSWORD!r})
print((time.process_time() - started) / 20)
"""


@dataclass
class PeerDeployment:
    """A generated cookiecutter-django project in its production settings, on http at 127.0.0.1.

    `root` (a temporary folder) holds the settings module that extends the
    project's production settings, its collected static files and the logs.
    """

    project: Path
    venv: Path
    database_url: str
    redis_url: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="offbrand-peer-")))

    def __post_init__(self) -> None:
        (self.root / "peer_bench_settings.py").write_text(PEER_SETTINGS % str(self.root / "static"))

    @property
    def env(self) -> dict[str, str]:
        return {
            **CLEAN_ENV,
            "PYTHONPATH": str(self.root),
            "DJANGO_SETTINGS_MODULE": "peer_bench_settings",
            "DJANGO_SECRET_KEY": "peer-bench-not-a-secret-" + "k" * 40,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_ADMIN_URL": "admin/",
            "DJANGO_SECURE_SSL_REDIRECT": "False",  # no TLS here, as for Offbrand
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "CONN_MAX_AGE": "60",
            "DJANGO_AWS_ACCESS_KEY_ID": "unused",
            "DJANGO_AWS_SECRET_ACCESS_KEY": "unused",
            "DJANGO_AWS_STORAGE_BUCKET_NAME": "unused",
            "MAILGUN_API_KEY": "unused",
            "MAILGUN_DOMAIN": "example.com",
        }

    def manage(self, *args: str, timeout: float = 600) -> str:
        print(f"$ (peer) manage.py {' '.join(args[:1])}", flush=True)
        result = subprocess.run(
            [str(self.venv / "bin" / "python"), "manage.py", *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"peer manage.py {args[0]} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def prepare(self) -> float:
        """Migrate, collect static files, make the verified member; return CPU s per hash."""
        run.ensure_postgres_database(self.database_url)
        self.manage("migrate", "--noinput", "-v0")
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage("shell", "-c", PEER_SETUP)
        return float(self.manage("shell", "-c", PEER_HASHING).split()[-1])

    def versions(self) -> str:
        code = "import django, allauth; print(django.get_version(), allauth.__version__)"
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--peer-dir", type=Path, required=True, help="the generated project")
    parser.add_argument("--peer-venv", type=Path, help="its virtualenv (default <peer-dir>/.venv)")
    parser.add_argument("--peer-redis-url", default=run.REDIS_URL, help="default BENCH_REDIS_URL")
    parser.add_argument("--duration", type=int, default=5, help="seconds per case (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--port", type=int, help="Offbrand on PORT, the peer on PORT+1")
    parser.add_argument(
        "--json",
        type=Path,
        default=run.RESULTS / "peer-cookiecutter.json",
        help="results as JSON (default bench/results/peer-cookiecutter.json), Markdown beside",
    )
    args = parser.parse_args()
    args.peer_venv = args.peer_venv or args.peer_dir / ".venv"
    args.profile = False  # run.measure's py-spy option
    if not (args.peer_dir / "manage.py").exists():
        parser.error(f"{args.peer_dir} has no manage.py")
    if not (args.peer_venv / "bin" / "gunicorn").exists():
        parser.error(f"{args.peer_venv} has no gunicorn: install the peer's requirements")
    if min(args.duration, args.connections, args.rounds) < 1:
        parser.error("--duration, --connections and --rounds must be 1 or more")
    return args


def ratio_rows(results: list[Result], hashes: dict[str, float]) -> list[dict]:
    """Per case: both sides' worker CPU per request, Offbrand / peer, per round too."""
    by = {(r.tree, r.case): r for r in results}
    rows = []
    for name in CASE_NAMES:
        ours, theirs = by[(OFFBRAND, name)], by[(PEER, name)]
        row = {
            "case": name,
            "offbrand_ms": ours.worker_cpu_ms_per_request,
            "peer_ms": theirs.worker_cpu_ms_per_request,
            "ratio": ours.worker_cpu_ms_per_request / theirs.worker_cpu_ms_per_request,
            "rounds_ratio": [
                a / b
                for a, b in zip(
                    ours.rounds_worker_cpu_ms_per_request,
                    theirs.rounds_worker_cpu_ms_per_request,
                    strict=True,
                )
            ],
            "errors": [ours.errors, theirs.errors],
            "requests_per_second": [ours.requests_per_second, theirs.requests_per_second],
        }
        if name == "sign in":
            row["hash_ms"] = [1000 * hashes[OFFBRAND], 1000 * hashes[PEER]]
        rows.append(row)
    return rows


def markdown(rows: list[dict], data: dict) -> str:
    lines = [
        "| case | Offbrand ms/req | cookiecutter-django ms/req | Offbrand / peer | per round "
        "| errors (O, p) | req/s (O, p) |",
        "| --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for row in rows:
        offbrand, peer = f"{row['offbrand_ms']:.2f}", f"{row['peer_ms']:.2f}"
        if "hash_ms" in row:
            offbrand += f" (hash {row['hash_ms'][0]:.1f})"
            peer += f" (hash {row['hash_ms'][1]:.1f})"
        lines.append(
            f"| {row['case']} | {offbrand} | {peer} | {row['ratio']:.2f} "
            f"| {', '.join(f'{r:.2f}' for r in row['rounds_ratio'])} "
            f"| {row['errors'][0]}, {row['errors'][1]} "
            f"| {row['requests_per_second'][0]:.1f}, {row['requests_per_second'][1]:.1f} |"
        )
    return "\n".join(lines)


def report_markdown(rows: list[dict], data: dict) -> str:
    return (
        "# Offbrand and a cookiecutter-django peer: worker CPU per request\n\n"
        f"Written by `bench/peer.py` on {data['finished']}; Offbrand {data['commit']}, "
        f"Django {data['offbrand_django']}; peer {data['peer']} "
        f"(Django {data['peer_versions'].split()[0]}, allauth {data['peer_versions'].split()[1]}); "
        f"{WORKERS} gunicorn sync workers each, {data['connections']} wrk connections, "
        f"{data['duration_s']} s per case, {data['rounds']} interleaved rounds "
        f"(median round per case); load average {data['load_average_at_start']:.1f} "
        f"at the start, {data['load_average_at_end']:.1f} at the end "
        f"({os.cpu_count()} cores); niceness {data['niceness']}.\n\n"
        f"{markdown(rows, data)}\n\n"
        "Worker CPU per request: both workers' utime + stime over the case divided by "
        "the requests served (`/proc/<pid>/stat`); hash: CPU per `make_password` in each "
        "project's own settings.\n"
    )


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk).")
    run.RESULTS.mkdir(exist_ok=True)
    meta = {"load_average_at_start": os.getloadavg()[0], "niceness": os.nice(0)}
    workdir = Path(tempfile.mkdtemp(prefix="offbrand-bench-"))
    peer = PeerDeployment(
        args.peer_dir.resolve(), args.peer_venv.resolve(), PEER_DATABASE_URL, args.peer_redis_url
    )
    servers: dict[str, Gunicorn] = {}
    try:
        hashes = {PEER: peer.prepare()}
        database, redis = run.choose_backends("postgres", workdir)
        deployment = Deployment(database, redis, settings="bench.settings", root=workdir)
        run.prepare(deployment, 0)
        hashes[OFFBRAND] = run.time_hashing().cpu_seconds_per_hash
        port = args.port
        servers[OFFBRAND] = Gunicorn(
            deployment, workers=WORKERS, log=run.RESULTS / "gunicorn.log", port=port
        )
        servers[PEER] = Gunicorn(
            peer,
            workers=WORKERS,
            log=run.RESULTS / "gunicorn-peer.log",
            app="config.wsgi:application",
            cwd=peer.project,
            executable=str(peer.venv / "bin" / "gunicorn"),
            port=port + 1 if port else None,
            health_path="/",
        )
        for server in servers.values():
            server.start()
        forms = {OFFBRAND: run.OFFBRAND_FORM, PEER: PEER_FORM}
        cases = {OFFBRAND: [c for c in CASES if c.name in CASE_NAMES], PEER: PEER_CASES}
        sessions = {
            side: {"member": run.sign_in(server.url, MEMBER.username, forms[side])}
            for side, server in servers.items()
        }
        rounds = []
        for number in range(1, args.rounds + 1):
            print(f"-- round {number} of {args.rounds}", flush=True)
            measured = []
            for index in range(len(CASE_NAMES)):
                for side, server in servers.items():
                    result = run.measure(
                        cases[side][index], server, sessions[side], args, forms[side]
                    )
                    result.tree = side
                    measured.append(result)
            rounds.append(measured)
        results = [run.combine(list(runs)) for runs in zip(*rounds, strict=True)]
        for result in results:
            result.target, result.passed = None, result.errors == 0 and not result.notes
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(peer.root, ignore_errors=True)
    meta["load_average_at_end"] = os.getloadavg()[0]
    rows = ratio_rows(results, hashes)
    data = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "commit": run.commit(),
        "peer": str(args.peer_dir),
        "peer_versions": peer.versions(),
        "offbrand_django": django.get_version(),
        "duration_s": args.duration,
        "connections": args.connections,
        "rounds": args.rounds,
        "workers": WORKERS,
        "hash_cpu_ms": {side: 1000 * seconds for side, seconds in hashes.items()},
        "ratios": rows,
        "cases": [asdict(r) | {"errors": r.errors} for r in results],
    }
    print()
    print(run.table(results))
    print()
    print(markdown(rows, data))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(data, indent=2) + "\n")
    args.json.with_suffix(".md").write_text(report_markdown(rows, data))
    print(f"written to {args.json} and {args.json.with_suffix('.md')}")
    return 0 if all(r.errors == 0 and not r.notes for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
