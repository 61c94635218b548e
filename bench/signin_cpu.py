"""CPU of one sign-in besides the password hash, measured in this process.

    .venv/bin/python bench/signin_cpu.py [--count 300] [--device known|new|both]
                                         [--tasks database|immediate] [--profile PATH]

Prepares the benchmark's database as `bench/run.py` does (PostgreSQL and
Redis: BENCH_DATABASE_URL, BENCH_REDIS_URL), then POSTs the sign-in form with
good credentials `--count` times through Django's own WSGI handler, in this
process, with production settings (DEBUG off) -- no server, no wrk, so the
figure does not move with the machine's load the way worker CPU under wrk does.

For each sign-in it reads the process's CPU time (`time.process_time`) and
the CPU spent inside the Argon2 hasher (its `verify`/`encode` are wrapped),
and reports per sign-in: CPU besides the hash (while the response is made,
and in the work run after it is sent), SQL queries, Redis round trips (a
pipeline counts once) and the hash's own CPU.

`--device known` sends the device cookie of an earlier sign-in (a member
coming back on their own browser: no new-sign-in notice); `new` sends none,
as `bench/run.py`'s wrk load does (every sign-in is a new device and mails
the notice). `--tasks database` queues mail as production does
(`TASKS_BACKEND=django_tasks_db.DatabaseBackend`, sent by `task_worker`);
`immediate` sends it inside the worker, as the benchmark's servers do.
`--profile PATH` writes cProfile statistics of the measured sign-ins.

`--valgrind` counts instructions instead (callgrind; the hasher's own are
left out by switching collection off around it), which repeat to a fraction
of a per cent whatever else the machine does: the figure to compare trees
by on a busy machine. Needs gcc and valgrind's headers (a small helper
library, built in a temporary directory); use a small `--count` (20).
`--valgrind --functions 60` also lists the Python functions with the most
instructions per sign-in (Python's perf trampolines name them; see
`print_functions`).
Each POST's CSRF cookie, token and body are made before the count starts (a
browser's work, not the server's), and only the main thread is counted (the
database deadline's watchdog wakes ten times a second, and under callgrind a
sign-in lasts seconds, most of them in the uncounted hash).
"""

import argparse
import bisect
import cProfile
import ctypes
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.setup_users import MEMBER, PASSWORD  # noqa: E402
from harness.servers import Deployment  # noqa: E402

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}


HELPER_C = """
#include <valgrind/callgrind.h>
void offbrand_zero(void) { CALLGRIND_ZERO_STATS; }
void offbrand_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void offbrand_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""


class HashClock:
    """CPU seconds spent inside the password hasher, however it is reached
    (under callgrind, collection is switched off inside it)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.mark = None  # the callgrind helper library

    def install(self) -> None:
        from django.contrib.auth.hashers import Argon2PasswordHasher

        for name in ("verify", "encode", "harden_runtime"):
            original = getattr(Argon2PasswordHasher, name)

            def timed(*args, _original=original, **kwargs):
                if self.mark:
                    self.mark.offbrand_toggle()
                start = time.process_time()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds += time.process_time() - start
                    self.calls += 1
                    if self.mark:
                        self.mark.offbrand_toggle()

            setattr(Argon2PasswordHasher, name, timed)


class RoundTrips:
    """Redis round trips: each command or pipeline sent on a connection."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        from redis.connection import AbstractConnection

        original = AbstractConnection.send_packed_command

        def counted(connection, *args, **kwargs):
            self.count += 1
            return original(connection, *args, **kwargs)

        AbstractConnection.send_packed_command = counted


HASHING, ROUND_TRIPS = HashClock(), RoundTrips()


class Queries:
    def __init__(self) -> None:
        self.count = 0
        self.log: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        self.log.append(sql)
        return execute(sql, params, many, context)


def csrf_pair() -> tuple[str, str]:
    """A CSRF cookie and the form token that goes with it, as the sign-in page gives."""
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    return secret, _mask_cipher_secret(secret)


def environ(body: bytes, cookie: str) -> dict:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/accounts/login/",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ORIGIN": "http://127.0.0.1",
        "HTTP_USER_AGENT": USER_AGENT,
        "HTTP_COOKIE": cookie,
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


class SignIn:
    """One sign-in POST through the WSGI handler, as a browser sends it."""

    def __init__(self, application, device_cookie: str = "") -> None:
        self.application = application
        self.device_cookie = device_cookie
        self.headers: list[tuple[str, str]] = []

    def start_response(self, status, headers, exc_info=None):
        self.status = status
        self.headers = headers

    def request(self) -> dict:
        """The next POST's environ: a fresh CSRF cookie and token, as the sign-in page gives.
        The browser's work: made before it is measured."""
        secret, token = csrf_pair()
        body = urlencode(
            {"username": MEMBER.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
        ).encode()
        cookie = f"csrftoken={secret}"
        if self.device_cookie:
            cookie += f"; {self.device_cookie}"
        return environ(body, cookie)

    def __call__(self, request: dict | None = None) -> tuple[float, float]:
        """(CPU seconds until the body is read, CPU seconds of `close()`)."""
        request = request or self.request()
        start = time.process_time()
        response = self.application(request, self.start_response)
        b"".join(response)
        answered = time.process_time()
        response.close()  # the server calls it once the body is sent: after-response work
        closed = time.process_time()
        if not self.status.startswith("302"):
            raise RuntimeError(f"sign-in answered {self.status}")
        return answered - start, closed - answered

    def cookie(self, name: str) -> str:
        for header, value in self.headers:
            if header.lower() == "set-cookie" and value.startswith(f"{name}="):
                return value.split(";", 1)[0]
        return ""


def measure(application, device: str, count: int, profile: cProfile.Profile | None) -> dict:
    from django.db import connection

    hashing, redis_trips = HASHING, ROUND_TRIPS
    device_cookie = ""
    if device == "known":
        first = SignIn(application)
        first()
        device_cookie = first.cookie("offbrand_device")
        if not device_cookie:
            raise RuntimeError("the first sign-in set no device cookie")
    sign_in = SignIn(application, device_cookie)
    for _ in range(20):  # warm-up: imports, templates, connections
        sign_in()
    requests = [sign_in.request() for _ in range(count)]
    if hashing.mark:
        hashing.mark.offbrand_zero()
    besides, after, hashes, queries, trips = [], [], [], [], []
    last_queries: list[str] = []
    for request in requests:
        hash_before, trips_before = hashing.seconds, redis_trips.count
        counter = Queries()
        with connection.execute_wrapper(counter):
            if profile is not None:
                profile.enable()
            answered, closed = sign_in(request)
            if profile is not None:
                profile.disable()
        hash_cpu = hashing.seconds - hash_before
        besides.append(answered + closed - hash_cpu)
        after.append(closed)
        hashes.append(hash_cpu)
        queries.append(counter.count)
        trips.append(redis_trips.count - trips_before)
        last_queries = counter.log
    if hashing.mark:
        hashing.mark.offbrand_dump(f"device {device}".encode())
    return {
        "device": device,
        "count": count,
        "cpu_besides_hash_ms_median": 1000 * statistics.median(besides),
        "cpu_besides_hash_ms_mean": 1000 * statistics.fmean(besides),
        "cpu_after_response_ms_median": 1000 * statistics.median(after),
        "hash_cpu_ms_median": 1000 * statistics.median(hashes),
        "queries": statistics.median(queries),
        "redis_round_trips": statistics.median(trips),
        "last_queries": last_queries,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=300, help="sign-ins measured (default 300)")
    parser.add_argument("--device", choices=["known", "new", "both"], default="both")
    parser.add_argument("--tasks", choices=sorted(TASK_BACKENDS), default="database")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics here")
    parser.add_argument("--queries", action="store_true", help="print the last sign-in's SQL")
    parser.add_argument("--valgrind", action="store_true", help="count instructions (callgrind)")
    parser.add_argument(
        "--functions",
        type=int,
        metavar="N",
        help="with --valgrind: the N Python functions with the most instructions (inclusive)",
    )
    parser.add_argument("--helper", help=argparse.SUPPRESS)  # set inside valgrind
    args = parser.parse_args()
    if args.count < 1:
        parser.error("--count must be 1 or more")
    return args


def deployment_for(args, workdir: Path) -> Deployment:
    return Deployment(
        run.POSTGRES_URL,
        run.REDIS_URL,
        settings="bench.settings",
        root=workdir,
        extra={"TASKS_BACKEND": TASK_BACKENDS[args.tasks], "EMAIL_URL": "dummymail://"},
    )


def under_valgrind(args, workdir: Path) -> int:
    """This script again inside callgrind, on the prepared database; instructions
    per sign-in besides the hash, read from its dumps."""
    (workdir / "mark.c").write_text(HELPER_C)
    helper = workdir / "libmark.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", helper, workdir / "mark.c"], check=True)
    out = workdir / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no"]
    # The main thread's instructions only: the database deadline's watchdog thread
    # wakes ten times a second, and under callgrind a sign-in lasts seconds.
    command += ["--separate-threads=yes"]
    command += [sys.executable, __file__, "--helper", str(helper), "--count", str(args.count)]
    command += ["--device", args.device, "--tasks", args.tasks]
    env = os.environ | ({"PYTHONPERFSUPPORT": "1"} if args.functions else {})
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=env)
    print(done.stdout, end="")
    if done.returncode:
        sys.exit(f"callgrind run failed:\n{done.stderr[-3000:]}")
    maps = set()
    for dump in sorted(workdir.glob("callgrind.out.*-01")):  # thread 1: the main thread
        text = dump.read_text(errors="replace")
        label = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.MULTILINE)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        if label and total:
            per = int(total.group(1)) / args.count
            print(f"{label.group(1)}: {per / 1e6:.2f} M instructions per sign-in besides the hash")
            if args.functions:
                maps.add(print_functions(dump, text, args.count, args.functions))
    for perf_map in maps:  # one per process, named in every dump of it
        perf_map.unlink(missing_ok=True)
    return 0


def print_functions(dump: Path, text: str, count: int, top: int) -> Path:
    """The Python functions of a dump by inclusive instructions per sign-in.

    With PYTHONPERFSUPPORT=1 each Python function runs through a trampoline of
    its own, named in /tmp/perf-<pid>.map; callgrind knows it by its address
    only, so the dump is renamed from the map before `callgrind_annotate`.
    The trampolines add their own instructions (about +15 % overall): compare
    functions with each other, and trees with the figure above from a run
    without `--functions`.
    """
    pid = re.search(r"^pid: (\d+)$", text, re.MULTILINE).group(1)
    names, perf_map = {}, Path(f"/tmp/perf-{pid}.map")
    for line in perf_map.read_text().splitlines():
        address, _, name = line.split(" ", 2)
        names[int(address, 16)] = name.removeprefix("py::").replace(" ", "_")
    starts = sorted(names)

    def named(match: re.Match) -> str:
        address = int(match.group(2), 16)
        index = bisect.bisect_right(starts, address) - 1
        if index < 0 or address - starts[index] >= 16:
            return match.group(0)
        return f"{match.group(1)} PY:{names[starts[index]]}"

    renamed = dump.with_suffix(".named")
    renamed.write_text(re.sub(r"^(c?fn=\(\d+\)) 0x([0-9a-f]+)$", named, text, flags=re.M))
    listing = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(renamed)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = re.findall(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*PY:(\S+)", listing, re.M)
    for instructions, name in rows[:top]:
        site = name.replace(str(ROOT) + "/", "").replace(".venv/lib/python3.13/site-packages/", "")
        print(f"  {int(instructions.replace(',', '')) / count / 1e6:7.3f} M  {site}")
    return perf_map


def main() -> int:
    args = parse_args()
    if not run.answers(5432) or not run.answers(6379):
        sys.exit("needs PostgreSQL and Redis on 127.0.0.1 (BENCH_DATABASE_URL, BENCH_REDIS_URL)")
    workdir = Path(tempfile.mkdtemp(prefix="offbrand-signin-"))
    deployment = deployment_for(args, workdir)
    if args.helper:  # inside valgrind: prepared already
        run.setup_django(deployment)
    else:
        run.ensure_postgres_database()
        run.prepare(deployment, 0)
        if args.valgrind:
            return under_valgrind(args, workdir)
    from django.core.cache import cache
    from django.core.wsgi import get_wsgi_application

    cache.clear()  # no rate-limit counts left from another run
    application = get_wsgi_application()
    HASHING.install()
    HASHING.mark = ctypes.CDLL(args.helper) if args.helper else None
    ROUND_TRIPS.install()
    profile = cProfile.Profile(time.process_time) if args.profile else None
    devices = ["known", "new"] if args.device == "both" else [args.device]
    print(f"sign-in POSTs in process; tasks: {args.tasks}; commit {run.commit()}")
    for device in devices:
        result = measure(application, device, args.count, profile)
        print(
            f"device {device:5}: {result['cpu_besides_hash_ms_median']:.2f} ms CPU besides the "
            f"hash (median; mean {result['cpu_besides_hash_ms_mean']:.2f}; "
            f"{result['cpu_after_response_ms_median']:.2f} of it after the response), "
            f"{result['queries']:g} queries, {result['redis_round_trips']:g} Redis round trips; "
            f"hash {result['hash_cpu_ms_median']:.1f} ms"
        )
        if args.queries:
            print("\n".join(f"    {sql[:160]}" for sql in result["last_queries"]))
    if profile is not None:
        profile.dump_stats(args.profile)
        print(f"profile written to {args.profile}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
