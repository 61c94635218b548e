"""Work per request, page by page, in one process: a before/after measure that
the machine's other load does not move (issue 16).

    .venv/bin/python bench/instructions.py                    # CPU time per request
    .venv/bin/python bench/instructions.py --valgrind         # instructions per request
    .venv/bin/python bench/instructions.py --valgrind --baseline-tree ../base

Each page of `bench/run.py` (the ceiling, the anonymous home, the signed-in
home = the feed, the signed-in profile, the moderation list, a refused upload)
goes through the WSGI application gunicorn calls (`offbrand.wsgi.application`)
in this process, with the production settings and the benchmark's database
(`BENCH_DATABASE_URL`, `BENCH_REDIS_URL`, as `run.py` prepared it: run `run.py`
once first), with the cookies a browser holds after signing in. After
`--warmup` requests, `--requests` more are counted: CPU time of the process,
or, with `--valgrind`, instructions executed (callgrind, zeroed before and
dumped after each page), which repeat to a fraction of a per cent whatever
else the machine does. `--baseline-tree` runs the same measurement on another
checkout, alternately, page by page. Needs gcc and valgrind's headers for
`--valgrind` (a small helper library, built in a temporary directory).

Where a page's instructions go: `--inside module:Class.method` counts only the
instructions executed inside that function (repeatable; callgrind collects
only there), `--outside ...` leaves out a function called from inside one, e.g.
a middleware's own work without the rest of the chain:

    .venv/bin/python bench/instructions.py --valgrind --page "ceiling (signed in)" \
        --inside accounts.middleware:LastSeenMiddleware.__call__ \
        --outside accounts.middleware:UserSessionMiddleware.__call__
"""

import argparse
import cProfile
import ctypes
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPLOAD_REFUSED = "upload refused"
PAGES = [
    ("ceiling", "/bench/ceiling", None),
    ("ceiling (signed in)", "/bench/ceiling", "member"),
    ("home (anonymous)", "/", None),
    ("home (signed in)", "/", "member"),
    ("profile (signed in)", "/users/bench-member/", "member"),
    ("moderation list", "/moderate/users/", "moderator"),
    # A looping member's upload, refused before its body is read (issue 11).
    (UPLOAD_REFUSED, "/accounts/profile/", "member"),
]
# What the refused upload declares (a 2000 x 2000 JPEG, under the default 2 MiB
# avatar limit), never sent.
UPLOAD_HEADERS = {
    "REQUEST_METHOD": "POST",
    "CONTENT_TYPE": "multipart/form-data; boundary=offbrandbenchboundary",
    "CONTENT_LENGTH": "1400000",
}
HELPER_C = """
#include <valgrind/callgrind.h>
void offbrand_zero(void) { CALLGRIND_ZERO_STATS; }
void offbrand_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
void offbrand_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""


def helper_library(workdir: Path) -> ctypes.CDLL:
    source, library = workdir / "mark.c", workdir / "libmark.so"
    source.write_text(HELPER_C)
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", library, source], check=True)
    return ctypes.CDLL(str(library))


def environ(path: str, cookie: str, extra: dict | None = None) -> dict:
    """What wrk sends: Host, the cookies, nothing else (`extra`: a POST's headers)."""
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8150",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8150",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if cookie:
        env["HTTP_COOKIE"] = cookie
    return env | (extra or {})


def use_up_profile_edits(username: str, windows: int = 10) -> None:
    """The member's profile edits used up for this window and the next ones, so every
    measured upload is refused (as in a loop that has spent its allowance)."""
    from django.core.cache import cache

    from accounts import ratelimits
    from accounts.models import User

    key = f"user:{User.objects.get(username=username).pk}"
    limit = ratelimits.LIMITS["profile_edit_user"]
    now = limit.window()[0]
    for window in range(now, now + windows):
        counter = ratelimits._cache_key("profile_edit_user", key, window)
        cache.set(counter, limit.count, windows * limit.period)


def collect_only_in(mark, inside: list[str], outside: list[str]) -> None:
    """Callgrind collects (it starts off) only while the innermost wrapped function
    being run is one of `inside`: each wrapper pushes whether to collect."""
    import importlib
    import inspect

    stack = [False]

    def wrap(function, collect: bool):
        def wrapper(*args, **kwargs):
            if stack[-1] != collect:
                mark.offbrand_toggle()
            stack.append(collect)
            try:
                return function(*args, **kwargs)
            finally:
                stack.pop()
                if stack[-1] != collect:
                    mark.offbrand_toggle()

        return wrapper

    for specs, collect in ((inside, True), (outside, False)):
        for spec in specs:
            module_name, _, path = spec.partition(":")
            *owners, name = path.split(".")
            owner = importlib.import_module(module_name)
            for part in owners:
                owner = getattr(owner, part)
            raw = inspect.getattr_static(owner, name)
            if isinstance(raw, (staticmethod, classmethod)):
                setattr(owner, name, type(raw)(wrap(raw.__func__, collect)))
            else:
                setattr(owner, name, wrap(raw, collect))


def worker(args) -> None:
    """Runs inside the measured tree (its directory first on sys.path)."""
    if sys.path[0] == str(Path(__file__).resolve().parent):
        del sys.path[0]  # this script's folder would shadow the tree's modules
    import django

    django.setup()
    from django.test import Client

    from bench.setup_users import MEMBER, MODERATOR, PASSWORD

    mark = ctypes.CDLL(args.helper) if args.helper else None
    if args.inside:  # before the handler binds its middleware's methods
        collect_only_in(mark, args.inside, args.outside or [])
    from offbrand.wsgi import application as app  # what gunicorn calls

    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def one(path: str, cookie: str, extra: dict | None = None) -> str:
        statuses.clear()
        body = app(environ(path, cookie, extra), start_response)
        for _ in body:
            pass
        if hasattr(body, "close"):  # as gunicorn does
            body.close()
        return statuses[0]

    cookies = {None: ""}
    for who, user in (("member", MEMBER), ("moderator", MODERATOR)):
        browser = Client(HTTP_HOST="127.0.0.1:8150")
        reply = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        if reply.status_code != 302:
            sys.exit(f"signing in as {user.username} answered {reply.status_code}")
        browser.get("/")
        cookies[who] = "; ".join(f"{k}={m.value}" for k, m in browser.cookies.items())

    results = {}
    for name, path, who in PAGES:
        if args.page and name not in args.page:
            continue
        extra, expected = None, "200"
        if name == UPLOAD_REFUSED:
            use_up_profile_edits(MEMBER.username)
            extra, expected = UPLOAD_HEADERS, "429"
        for _ in range(args.warmup):
            status = one(path, cookies[who], extra)
        if not status.startswith(expected):
            sys.exit(f"{name}: {path} answered {status}")
        if mark:
            mark.offbrand_zero()
        profiler = cProfile.Profile(time.thread_time) if args.cprofile else None
        cpu = time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.requests):
            one(path, cookies[who], extra)
        if profiler:
            profiler.disable()
        cpu = time.process_time() - cpu
        if profiler:
            print(f"=== {name}", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(args.cprofile).print_stats(45)
        if mark:
            mark.offbrand_dump(name.encode())
        results[name] = {"cpu_ms_per_request": 1000 * cpu / args.requests}
    print("RESULT " + json.dumps(results), flush=True)


def run_tree(tree: Path, args, workdir: Path, helper: str | None) -> dict:
    """One measuring process for `tree`: its own code, this script, the bench database."""
    from harness.servers import Deployment

    database = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/offbrand_bench"
    )
    redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    deployment = Deployment(database, redis, settings="bench.settings", root=workdir / tree.name)
    env = deployment.env | {
        "PYTHONPATH": os.pathsep.join([str(deployment.root), str(tree)]),
        "PYTHONHASHSEED": "0",
    }
    static = deployment.root / "static"
    if not static.exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=tree,
            env=env,
            check=True,
        )
    command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    command += ["--requests", str(args.requests), "--warmup", str(args.warmup)]
    if args.cprofile:
        command += ["--cprofile", args.cprofile]
    for page in args.page or ():
        command += ["--page", page]
    for option in ("inside", "outside"):
        for spec in getattr(args, option) or ():
            command += [f"--{option}", spec]
    out = None
    if helper:
        out = workdir / f"callgrind-{tree.name}.out"
        for old in workdir.glob(f"callgrind-{tree.name}.out*"):
            old.unlink()
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--dump-instr=no",
            *(["--collect-atstart=no"] if args.inside else []),
            *command,
            "--helper",
            helper,
        ]
    if args.py_spy:
        spy = str(Path(sys.executable).parent / "py-spy")
        output = f"{args.py_spy}-{tree.name}.txt"
        command = [
            spy,
            "record",
            "--format=raw",
            "--rate=1000",
            f"--output={output}",
            "--",
        ] + command
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if args.cprofile:
        print(done.stderr)
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        sys.exit(f"measuring {tree} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    results = json.loads(line.removeprefix("RESULT "))
    if out:
        for dump in workdir.glob(f"callgrind-{tree.name}.out.*"):
            text = dump.read_text(errors="replace")
            label = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.MULTILINE)
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
            if label and total and label.group(1) in results:
                results[label.group(1)]["instructions_per_request"] = (
                    int(total.group(1)) / args.requests
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, help="counted requests per page")
    parser.add_argument("--warmup", type=int, default=20, help="uncounted requests first")
    parser.add_argument("--valgrind", action="store_true", help="count instructions")
    parser.add_argument("--baseline-tree", type=Path, help="another checkout, measured too")
    parser.add_argument("--page", action="append", help="only this page (repeatable)")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the trees this often")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--cprofile",
        metavar="SORT",
        help="profile the counted requests with cProfile, print sorted by SORT (e.g. tottime)",
    )
    parser.add_argument(
        "--py-spy", metavar="PREFIX", help="sample with py-spy into PREFIX-<tree>.txt (raw)"
    )
    parser.add_argument(
        "--inside",
        action="append",
        metavar="MODULE:NAME",
        help="with --valgrind: count only inside this function (repeatable)",
    )
    parser.add_argument(
        "--outside",
        action="append",
        metavar="MODULE:NAME",
        help="with --inside: leave out this function when called inside (repeatable)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--helper", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.requests is None:
        args.requests = 50 if args.valgrind else 500
    if args.inside and not (args.valgrind or args.helper):
        parser.error("--inside counts instructions: it needs --valgrind")
    if args.worker:
        worker(args)
        return
    sys.path.insert(0, str(ROOT))
    trees = {"this tree": ROOT}
    if args.baseline_tree:
        trees["baseline"] = args.baseline_tree.resolve()
    with tempfile.TemporaryDirectory(prefix="offbrand-instr-") as tmp:
        workdir = Path(tmp)
        helper = None
        if args.valgrind:
            helper_library(workdir)
            helper = str(workdir / "libmark.so")
        rounds = {tree: [] for tree in trees}
        for _ in range(args.rounds):
            for label, tree in reversed(trees.items()):
                (workdir / tree.name).mkdir(exist_ok=True)
                rounds[label].append(run_tree(tree, args, workdir, helper))
    summary = {}
    for label, runs in rounds.items():
        summary[label] = {}
        for page in runs[0]:
            for key in runs[0][page]:
                values = sorted(run[page][key] for run in runs)
                summary[label].setdefault(page, {})[key] = values[len(values) // 2]
    ceiling = {label: pages.get("ceiling", {}) for label, pages in summary.items()}
    print(f"{'page':24} {'tree':10} {'CPU ms/req':>11} {'instr/req':>12} {'ratio':>7}")
    for label, pages in summary.items():
        for page, values in pages.items():
            instructions = values.get("instructions_per_request")
            ratio = ""
            if instructions and ceiling[label].get("instructions_per_request"):
                ratio = f"{ceiling[label]['instructions_per_request'] / instructions:.1%}"
            print(
                f"{page:24} {label:10} {values['cpu_ms_per_request']:11.2f} "
                f"{instructions or 0:12,.0f} {ratio:>7}"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "options": vars(args)
                    | {"json": str(args.json), "baseline_tree": str(args.baseline_tree)},
                    "results": summary,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
