"""Issue 11's upload cost: do two avatar-upload loops from one member slow other pages?

    .venv/bin/python bench/upload_loop.py [--duration 10] [--rounds 3] [--loops 2]
                                          [--mode auto|postgres|sqlite] [--port 0]
                                          [--renice] [--profile] [--json PATH]
                                          [--baseline-tree PATH] [--uplink MBIT]

Serves the site as `bench/run.py` does (gunicorn, 2 sync workers, DEBUG off,
the same deployment steps), then, each round:

1. **idle**: wrk loads `GET /` anonymous and signed in (as `bench/run.py`'s
   cases "home (anonymous)" and "home (signed in)");
2. **during the loops**: the same, while `--loops` clients, each signed in as
   `bench-member` with its own session, POST the profile form with an avatar
   in a loop, without pause: a photo-like 4000 x 3000 JPEG (~4 MB), a
   2000 x 2000 JPEG (~1.4 MB) and a 2048 x 2048 PNG (the pixel budget,
   ~4 MB), in turn. Profile edits are limited (10 a minute per member), so
   most of them are refused; the rest are decoded and stored.

Then, with nothing else running, the **cost per upload**: the workers' CPU
time (from /proc) for each picture accepted, and for a refused upload.

The clients send as fast as the loopback takes their bytes, unless `--uplink`
paces each one (a browser elsewhere needs its uplink's time to send a picture,
and a refused upload is now read to its end before the client reads the 429).

The deployment allows avatars up to `--max-bytes` (default 5 MiB, above the
site's default of 2 MiB, so that camera-sized JPEGs are decoded rather than
refused by their Content-Length). Results go to bench/results/upload-loop.json
and .md. Everything goes to 127.0.0.1 and stops by itself.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402
from bench.setup_users import MEMBER, PASSWORD  # noqa: E402
from harness.servers import Client, Deployment, Gunicorn  # noqa: E402

PROFILE_PATH = "/accounts/profile/"
HOME_CASES = [case for case in run.CASES if case.path == "/"]
MAX_BYTES = 5 * 1024 * 1024


# --- the pictures ----------------------------------------------------------


def photo_like(width: int, height: int, noise: float) -> "Image.Image":  # noqa: F821
    """Smooth shapes plus sensor-like noise: compresses (and decodes) like a photograph."""
    from PIL import Image

    shapes = Image.effect_mandelbrot((width // 8, height // 8), (-2.2, -1.2, 0.8, 1.2), 60)
    shapes = shapes.resize((width, height), Image.Resampling.BILINEAR)
    gradient = Image.linear_gradient("L").resize((width, height))
    grain = Image.effect_noise((width, height), 24)
    colour = Image.merge("RGB", (shapes, gradient, Image.blend(shapes, grain, 0.5)))
    return Image.blend(colour, Image.merge("RGB", (grain, grain, grain)), noise)


@dataclass
class Picture:
    name: str
    content_type: str
    data: bytes


def pictures() -> list[Picture]:
    made = []
    for name, size, fmt, noise, options in (
        ("jpeg-4000x3000", (4000, 3000), "JPEG", 0.25, {"quality": 92}),
        ("jpeg-2000x2000", (2000, 2000), "JPEG", 0.25, {"quality": 92}),
        ("png-2048x2048", (2048, 2048), "PNG", 0.0, {}),
    ):
        out = BytesIO()
        photo_like(*size, noise).save(out, fmt, **options)
        made.append(Picture(name, f"image/{fmt.lower()}", out.getvalue()))
    return made


def multipart(token: str, picture: Picture) -> tuple[str, bytes]:
    """The profile form as a browser posts it: names kept, the picture attached."""
    boundary = "offbrandbenchboundary"
    fields = {"csrfmiddlewaretoken": token, "first_name": "", "last_name": "", "about_me": ""}
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f"--{boundary}\r\nContent-Disposition: form-data; "
        f'name="avatar_upload"; filename="{picture.name}"\r\n'
        f"Content-Type: {picture.content_type}\r\n\r\n"
    )
    body = head.encode() + picture.data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


# --- one uploading client --------------------------------------------------


class Uploader:
    """A browser signed in as the member, posting avatars until told to stop."""

    def __init__(
        self, url: str, images: list[Picture], *, control: bool = False, uplink: float = 0
    ) -> None:
        self.browser = Client(url, timeout=60)
        self.uplink = uplink * 1e6 / 8  # bytes a second; 0: as fast as the loopback takes them
        reply = self.browser.sign_in(MEMBER.username, PASSWORD)
        if reply.status != 302:
            raise RuntimeError(f"the uploader could not sign in ({reply.status})")
        _, self.token = self.browser.csrf_pair(PROFILE_PATH)
        self.images = images
        # Each picture's body is built once: a browser elsewhere spends its own CPU on
        # it, this one spends the workers' cores (it was 4-5 MB of copies per post).
        self.bodies: dict[str, tuple[str, bytes]] = {}
        self.control = control  # GET the profile page instead: two plain page loops
        self.outcomes: Counter[str] = Counter()
        # CPU seconds of this client's thread (building bodies, sending them through
        # the loopback): on this machine it competes with the workers for the cores.
        self.cpu = 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def post(self, picture: Picture) -> str:
        """One upload; its status, or "closed" when the server hung up mid-body."""
        if picture.name not in self.bodies:
            self.bodies[picture.name] = multipart(self.token, picture)
        content_type, body = self.bodies[picture.name]
        headers = {"Content-Type": content_type}
        try:
            if self.control:
                reply = self.browser.request("GET", PROFILE_PATH)
            elif self.uplink:
                return self.paced_post(headers, body)
            else:
                reply = self.browser.request("POST", PROFILE_PATH, headers=headers, body=body)
        except (ConnectionError, http.client.HTTPException):
            return "closed"
        return str(reply.status)

    def paced_post(self, headers: dict, body: bytes) -> str:
        """The post at `uplink`, as a browser elsewhere sends it: the whole body, then
        the answer read; "closed" when the server hung up before it was all sent."""
        browser = self.browser
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        connection = http.client.HTTPConnection(browser.host, browser.port, timeout=60)
        try:
            connection.putrequest("POST", PROFILE_PATH, skip_accept_encoding=True)
            for name, value in {**headers, "Cookie": cookie, "Content-Length": len(body)}.items():
                connection.putheader(name, str(value))
            connection.endheaders()
            started, sent, step = time.monotonic(), 0, 64 * 1024
            while sent < len(body) and not self.stop.is_set():
                connection.sock.sendall(body[sent : sent + step])
                sent += step
                ahead = started + sent / self.uplink - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
            if sent < len(body):
                return "stopped"
            return str(connection.getresponse().status)
        except (ConnectionError, http.client.HTTPException):
            return "closed"
        finally:
            connection.close()

    def loop(self) -> None:
        n = 0
        while not self.stop.is_set():
            started = time.thread_time()
            self.outcomes[self.post(self.images[n % len(self.images)])] += 1
            self.cpu += time.thread_time() - started
            n += 1

    def __enter__(self) -> "Uploader":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=120)


# --- measuring -------------------------------------------------------------


@dataclass
class Phase:
    tree: str
    round: int
    case: str
    loops: int
    p50_ms: float
    p99_ms: float
    requests_per_second: float
    errors: int
    worker_cpu_ms_per_request: float
    machine_cpu_busy: float
    uploads: dict[str, int] = field(default_factory=dict)
    uploaders_cpu_per_second: float = 0.0  # the looping clients' own CPU, in cores


def measure_home(
    tree: str, case, server, sessions, args, round_number: int, uploaders: list
) -> Phase:
    workers = run.worker_pids(server.process.pid)
    load = run.load_for(case, server.url, sessions)
    before = [Counter(u.outcomes) for u in uploaders]
    clients_cpu, started = sum(u.cpu for u in uploaders), time.monotonic()
    used_before = run.Usage.now(workers)
    profile = args.profile and bool(uploaders) and round_number == 1
    spied = run.Case(f"upload loops {tree} {case.name}", case.path)
    with run.profiling(profile, workers, spied, args.duration):
        output = run.run_wrk(server.url, case, load, args.duration, args.connections)
    used = run.Usage.now(workers) - used_before
    clients_cpu = (sum(u.cpu for u in uploaders) - clients_cpu) / (time.monotonic() - started)
    result = run.Result(case.name, "GET", case.path, case.who or "anonymous")
    run.parse_wrk(output, result)
    uploads: Counter[str] = Counter()
    for uploader, earlier in zip(uploaders, before, strict=True):
        uploads += uploader.outcomes - earlier
    return Phase(
        tree,
        round_number,
        case.name,
        len(uploaders),
        result.p50_ms,
        result.p99_ms,
        result.requests_per_second,
        result.errors,
        1000 * used.worker_cpu / max(result.requests, 1),
        used.busy_ticks / max(used.total_ticks, 1),
        dict(uploads),
        clients_cpu,
    )


def allow_profile_edits() -> None:
    """Empty the member's profile-edit and picture counters (the cost phase needs
    accepted uploads)."""
    from accounts import ratelimits
    from accounts.models import User

    pk = User.objects.get(username=MEMBER.username).pk
    for name in ("profile_edit_user", "avatar_upload_user"):
        if name in ratelimits.LIMITS:  # the baseline tree may not know the second
            ratelimits.clear(name, f"user:{pk}")


def cpu_ms(pids: list[int]) -> float:
    """CPU time of the processes so far, all their threads, in ms, to the nanosecond
    (/proc/<pid>/task/*/schedstat: /proc/<pid>/schedstat is the main thread's alone)."""
    return (
        sum(
            int(task.read_text().split()[0])
            for pid in pids
            for task in Path(f"/proc/{pid}/task").glob("*/schedstat")
        )
        / 1e6
    )


def cost_per_upload(server, images: list[Picture], repeat: int) -> dict[str, dict]:
    """Workers' CPU ms per upload of each picture, alone; and of a refused one."""
    workers = run.worker_pids(server.process.pid)
    uploader = Uploader(server.url, images)
    costs = {}
    for picture in images:
        statuses, cpu = Counter(), []
        for _ in range(repeat):
            allow_profile_edits()
            before = cpu_ms(workers)
            statuses[uploader.post(picture)] += 1
            time.sleep(0.05)  # let the worker finish closing the connection
            cpu.append(cpu_ms(workers) - before)
        costs[picture.name] = {"cpu_ms_median": statistics.median(cpu), "statuses": statuses}
    # Use up the limit, then time refusals.
    allow_profile_edits()
    for _ in range(run_limit()):
        uploader.post(images[1])
    statuses, cpu = Counter(), []
    for _ in range(repeat):
        before = cpu_ms(workers)
        statuses[uploader.post(images[0])] += 1
        time.sleep(0.05)
        cpu.append(cpu_ms(workers) - before)
    costs["refused (limit used up)"] = {
        "cpu_ms_median": statistics.median(cpu),
        "statuses": statuses,
    }
    allow_profile_edits()
    return costs


def run_limit() -> int:
    from accounts.ratelimits import LIMITS

    return LIMITS["profile_edit_user"].count


@dataclass
class Summary:
    tree: str
    case: str
    idle_p50_ms: float
    loops_p50_ms: float
    ratio: float
    idle_p99_ms: float
    loops_p99_ms: float
    rounds_idle_p50_ms: list[float]
    rounds_loops_p50_ms: list[float]


def summarise(phases: list[Phase]) -> list[Summary]:
    summaries = []
    for tree, case in dict.fromkeys((p.tree, p.case) for p in phases):
        idle = [p for p in phases if (p.tree, p.case) == (tree, case) and p.loops == 0]
        busy = [p for p in phases if (p.tree, p.case) == (tree, case) and p.loops > 0]
        idle_p50 = statistics.median(p.p50_ms for p in idle)
        busy_p50 = statistics.median(p.p50_ms for p in busy)
        summaries.append(
            Summary(
                tree,
                case,
                idle_p50,
                busy_p50,
                busy_p50 / idle_p50 if idle_p50 else 0.0,
                statistics.median(p.p99_ms for p in idle),
                statistics.median(p.p99_ms for p in busy),
                [p.p50_ms for p in idle],
                [p.p50_ms for p in busy],
            )
        )
    return summaries


def markdown(data: dict) -> str:
    lines = [
        "# Upload loops: p50 of `/` idle and during the loops",
        "",
        f"Written by `bench/upload_loop.py` on {data['finished']}, tree {data['commit']}; "
        f"{data['database']} + {data['cache']}, 2 gunicorn workers, {data['connections']} wrk "
        f"connections, {data['duration_s']} s per phase, {data['rounds']} round(s), "
        f"{data['loops']} {'page (control)' if data.get('control') else 'upload'} loops, "
        f"avatars up to {data['max_bytes']:,} bytes; "
        f"reniced: {data['reniced']}; load average {data['load_average_at_start']:.1f} at the "
        f"start, {data['load_average_at_end']:.1f} at the end ({os.cpu_count()} cores)"
        + (f"; baseline: {data['baseline_tree']}" if data.get("baseline_tree") else "")
        + (
            f"; each client's uplink {data['uplink_mbit']:g} Mbit/s"
            if data.get("uplink_mbit")
            else ""
        )
        + ".",
        "",
        "| tree | case | p50 idle | p50 during loops | ratio | p99 idle | p99 during loops "
        "| rounds p50 idle | rounds p50 loops |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for s in data["summary"]:
        lines.append(
            f"| {s['tree']} | {s['case']} | {s['idle_p50_ms']:.1f} ms | {s['loops_p50_ms']:.1f} ms "
            f"| {s['ratio']:.2f}x | {s['idle_p99_ms']:.1f} ms | {s['loops_p99_ms']:.1f} ms "
            f"| {' '.join(f'{v:.1f}' for v in s['rounds_idle_p50_ms'])} "
            f"| {' '.join(f'{v:.1f}' for v in s['rounds_loops_p50_ms'])} |"
        )
    lines.append("")
    for tree in dict.fromkeys(p["tree"] for p in data["phases"]):
        outcomes = Counter()
        for phase in data["phases"]:
            if phase["tree"] == tree:
                outcomes.update(phase["uploads"])
        clients = [
            p.get("uploaders_cpu_per_second", 0.0)
            for p in data["phases"]
            if p["tree"] == tree and p["loops"]
        ]
        lines.append(
            f"Uploads answered during the loops ({tree}, all rounds): "
            + ", ".join(f"{status}: {count}" for status, count in sorted(outcomes.items()))
            + f"; the looping clients' own CPU: {statistics.median(clients or [0]):.2f} "
            "of a core (median of the phases)."
        )
    lines += [
        "(302: stored; 429: refused, the limit used up or the member's previous upload "
        "still running; closed: refused before the body was read while the client was "
        "still sending it; stopped: cut short by the end of the phase.)",
        "",
        "Workers' CPU per upload, alone (median of each):",
        "",
        "| tree | upload | bytes | CPU ms | statuses |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    for tree, costs in data["cost_per_upload"].items():
        for name, cost in costs.items():
            size = data["pictures"].get(name)
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(cost["statuses"].items()))
            lines.append(
                f"| {tree} | {name} | {f'{size:,}' if size else ''} "
                f"| {cost['cpu_ms_median']:.1f} | {statuses} |"
            )
    return "\n".join(lines) + "\n"


def measure_round(tree, server, sessions, args, number: int, images) -> list[Phase]:
    """`/` idle, then during the upload loops (the member's limit emptied first)."""
    phases = []
    for case in HOME_CASES:
        phases.append(measure_home(tree, case, server, sessions, args, number, []))
        print(f"   {tree}, idle   {case.name}: p50 {phases[-1].p50_ms:.1f} ms", flush=True)
    allow_profile_edits()
    uploaders = [
        Uploader(server.url, images, control=args.control, uplink=args.uplink)
        for _ in range(args.loops)
    ]
    for uploader in uploaders:
        uploader.__enter__()
    try:
        time.sleep(1)  # the loops under way before measuring
        for case in HOME_CASES:
            phases.append(measure_home(tree, case, server, sessions, args, number, uploaders))
            print(
                f"   {tree}, loops  {case.name}: p50 {phases[-1].p50_ms:.1f} ms, "
                f"uploads {phases[-1].uploads}",
                flush=True,
            )
    finally:
        for uploader in uploaders:
            uploader.__exit__()
    return phases


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3, help="idle/loops pairs; medians kept")
    parser.add_argument("--loops", type=int, default=2, help="uploading clients")
    parser.add_argument(
        "--control",
        action="store_true",
        help="the same clients GET the profile page in a loop instead of uploading: "
        "what any two looping clients cost",
    )
    parser.add_argument(
        "--uplink",
        type=float,
        default=0,
        help="each looping client sends its uploads at this many Mbit/s, as a browser "
        "elsewhere would (default 0: as fast as the loopback takes them)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="uploads per picture, cost phase")
    parser.add_argument("--max-bytes", type=int, default=MAX_BYTES, help="largest avatar taken")
    parser.add_argument("--mode", choices=["auto", "postgres", "sqlite"], default="auto")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: any free)")
    parser.add_argument(
        "--renice",
        action="store_true",
        help="run at nice -5, and so gunicorn, wrk and the uploading clients (needs root)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy the workers during the first round's loops "
        "(bench/results/profile-upload-loops-*.txt; bench/profile_summary.py sorts them)",
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="another checkout (e.g. a worktree of main), served by a second gunicorn "
        "(on --port + 1) on the same database and measured in the same rounds",
    )
    parser.add_argument("--json", type=Path, default=run.RESULTS / "upload-loop.json")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk).")
    if args.renice:
        # Before any thread or child starts, so gunicorn, wrk and the uploading
        # clients all inherit it (PostgreSQL and Redis are shared: left alone).
        os.setpriority(os.PRIO_PROCESS, 0, -5)
    run.RESULTS.mkdir(exist_ok=True)
    meta = {"load_average_at_start": os.getloadavg()[0], "reniced": args.renice}
    images = pictures()
    workdir = Path(tempfile.mkdtemp(prefix="offbrand-upload-bench-"))
    try:
        database, redis = run.choose_backends(args.mode, workdir)
        meta["database"], meta["cache"] = database.split(":")[0], "redis" if redis else "locmem"
        print(f"== {meta['database']} + {meta['cache']}", flush=True)
        deployment = Deployment(
            database,
            redis,
            settings="bench.settings",
            root=workdir,
            extra={"OFFBRAND_AVATAR_MAX_BYTES": str(args.max_bytes)},
        )
        run.prepare(deployment, 0)
        servers = {"this tree": Gunicorn(deployment, log=run.RESULTS / "gunicorn.log")}
        if args.baseline_tree:
            meta["baseline_tree"] = f"{args.baseline_tree} at {run.commit(args.baseline_tree)}"
            servers["baseline"] = Gunicorn(
                deployment,
                log=run.RESULTS / "gunicorn-baseline.log",
                extra_args=("--chdir", str(args.baseline_tree.resolve())),
            )
        phases: list[Phase] = []
        costs = {}
        try:
            for n, server in enumerate(servers.values()):
                if args.port:
                    server.port = args.port + n
                server.start()
            sessions = {
                tree: {"member": run.sign_in(server.url, MEMBER.username)}
                for tree, server in servers.items()
            }
            for number in range(1, args.rounds + 1):
                print(f"-- round {number} of {args.rounds}", flush=True)
                for tree, server in servers.items():
                    phases += measure_round(tree, server, sessions[tree], args, number, images)
            for tree, server in servers.items():
                print(f"-- cost per upload ({tree})", flush=True)
                costs[tree] = cost_per_upload(server, images, args.repeat)
        finally:
            for server in servers.values():
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    meta["load_average_at_end"] = os.getloadavg()[0]
    data = {
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "commit": run.commit(),
        "duration_s": args.duration,
        "connections": args.connections,
        "rounds": args.rounds,
        "loops": args.loops,
        "control": args.control,
        "uplink_mbit": args.uplink,
        "max_bytes": args.max_bytes,
        "pictures": {p.name: len(p.data) for p in images},
        "summary": [asdict(s) for s in summarise(phases)],
        "phases": [asdict(p) for p in phases],
        "cost_per_upload": costs,
    }
    args.json.write_text(json.dumps(data, indent=2) + "\n")
    args.json.with_suffix(".md").write_text(markdown(data))
    print()
    print(markdown(data))
    print(f"written to {args.json} and {args.json.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
