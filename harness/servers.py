"""Throwaway servers: PostgreSQL, Redis, SMTP and gunicorn on free ports of 127.0.0.1.

The one place that starts servers, for the end-to-end tests (tests/) and the
load benchmark (bench/run.py). It does not import pytest: tests turn a missing
binary into a skip (or a failure in CI) through tests/servers.py.

Nothing here touches the machine's own PostgreSQL (5432) or Redis (6379)
unless a caller passes those URLs: each user starts its own instances on free
ports and stops them on the way out. Every wait is bounded in time.

The HTTP client handles cookies by hand: with DEBUG off the session and CSRF
cookies are `Secure`, and a standard cookie jar would not send them over http.
"""

import asyncio
import contextlib
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
PG_OWNER = "postgres"  # the OS user that runs the cluster when we are root

MEMBER_USERNAME = "fiona"
MEMBER_EMAIL = "fiona@example.com"
MEMBER_PASSWORD = "a long and unusual passphrase 42"


# --- small utilities ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if predicate():
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


PG_BINARIES = ("initdb", "pg_ctl", "postgres", "createdb")


def postgres_bin_candidates() -> list[Path]:
    """Where the server binaries may be, best first.

    OFFBRAND_PG_BIN when set; `pg_config --bindir`; then Debian's
    /usr/lib/postgresql/<version>/bin, newest version first (the layout .ci/run
    relies on through /etc/postgresql/<version>).
    """
    if os.environ.get("OFFBRAND_PG_BIN"):
        return [Path(os.environ["OFFBRAND_PG_BIN"])]
    found = []
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            bindir = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
            found.append(Path(bindir))
    versions = Path("/usr/lib/postgresql")
    if versions.is_dir():
        numbered = [p for p in versions.iterdir() if p.name.replace(".", "").isdigit()]
        for version in sorted(numbered, key=lambda p: float(p.name), reverse=True):
            found.append(version / "bin")
    return found


def find_postgres_bin() -> Path | None:
    for folder in postgres_bin_candidates():
        if all((folder / binary).exists() for binary in PG_BINARIES):
            return folder
    return None


PG_BIN = find_postgres_bin()


def postgres_missing_reason() -> str | None:
    """Why a throwaway PostgreSQL cluster cannot be started here, or None."""
    if PG_BIN is None:
        searched = ", ".join(map(str, postgres_bin_candidates())) or "nothing to search"
        return f"PostgreSQL server binaries not found (searched {searched}; set OFFBRAND_PG_BIN)"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser: cannot start PostgreSQL as another user"
        try:
            pwd.getpwnam(PG_OWNER)
        except KeyError:
            return f"running as root and there is no {PG_OWNER!r} OS user to run PostgreSQL"
    return None


def redis_missing_reason() -> str | None:
    return None if shutil.which("redis-server") else "redis-server not found on PATH"


# --- PostgreSQL --------------------------------------------------------------


class PostgresCluster:
    """A cluster in a temporary directory, trust authentication, on 127.0.0.1:<port>."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="offbrand-pg-"))
        self.root.chmod(0o755)  # the cluster's owner must reach its folders
        self.data = self.root / "data"
        self.run = self.root / "run"  # socket and log, writable by the owner
        self.log = self.run / "postgres.log"
        for folder in (self.data, self.run):
            folder.mkdir()
            self._give_to_owner(folder)

    @staticmethod
    def _give_to_owner(path: Path) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam(PG_OWNER)
            os.chown(path, owner.pw_uid, owner.pw_gid)

    @staticmethod
    def _as_owner(*command: str) -> list[str]:
        return ["runuser", "-u", PG_OWNER, "--", *command] if os.geteuid() == 0 else [*command]

    def _run(self, *command: str, timeout: float = 60) -> None:
        result = subprocess.run(
            self._as_owner(*command),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}\n{tail(self.log)}"
            )

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.run} -c fsync=off -c max_connections=60"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", mode, "-w")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def pids(self) -> list[int]:
        """The postmaster and every backend it forked."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        return [postmaster, *children_of(postmaster)]

    def freeze(self) -> None:
        """SIGSTOP every process: alive on the network, silent (the kernel still ACKs)."""
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def createdb(self, name: str) -> None:
        self._run(
            str(PG_BIN / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            name,
        )

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def destroy(self) -> None:
        """Stop (immediately, if still running) and remove every file."""
        try:
            if self.is_running():
                self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --- Redis -------------------------------------------------------------------


class RedisServer:
    """redis-server in the foreground as our child process, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="offbrand-redis-"))
        self.log = self.root / "redis.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(self.root),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        if not wait_until(self.ping, timeout=15):
            self.stop()
            raise RuntimeError(f"redis-server did not answer on {self.port}:\n{tail(self.log)}")

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is None:
            return
        self.thaw()
        stop_process(self.process)
        self.process = None

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def children_of(parent: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            if int(fields["PPid"]) == parent:
                found.append(int(fields["Pid"]))
    return found


class Blackhole:
    """An address where a TCP connect is never answered (as a host gone from the network).

    A listening socket with a full backlog that never accepts: the kernel drops
    further SYNs, so a client waits for its own connect timeout.
    """

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self._fillers = []
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError, OSError):
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)
        time.sleep(0.2)

    def close(self) -> None:
        for filler in self._fillers:
            filler.close()
        self.sock.close()

    def __enter__(self) -> "Blackhole":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stop_process(process: subprocess.Popen, *, group: bool = False, grace: float = 10) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds; `group` signals its process group."""
    if process.poll() is not None:
        return

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)

    send(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=10)


# --- Offbrand as deployed --------------------------------------------------------


def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The variables of a production deployment on plain http at 127.0.0.1.

    Mail goes to the console and runs inside the request unless a caller
    overrides EMAIL_URL and TASKS_BACKEND.
    """
    return {
        "DEBUG": "false",
        "SECRET_KEY": "e2e-not-a-secret-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_URL": "",
        "CONN_MAX_AGE": "60",
        "EMAIL_URL": "consolemail://",
        "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        "OFFBRAND_TRUSTED_PROXIES": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Deployment:
    """The environment of a production deployment on plain http at 127.0.0.1.

    With DEBUG off, static files come from collectstatic's manifest. The
    project's STATIC_ROOT sits in the working tree, so a settings module in the
    temporary folder changes only STATIC_ROOT and the tree stays untouched.
    `settings` is the module it extends (bench/ adds its ceiling URL); `extra`
    adds or overrides environment variables.
    """

    database_url: str
    redis_url: str
    settings: str = "offbrand.settings"
    extra: dict[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="offbrand-app-")))

    def __post_init__(self) -> None:
        (self.root / "offbrand_e2e_settings.py").write_text(
            f"from {self.settings} import *  # noqa: F403\n\n"
            f"STATIC_ROOT = {str(self.root / 'static')!r}\n"
        )

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **production_env(self.database_url, self.redis_url),
            **{
                "PYTHONPATH": os.pathsep.join([str(self.root), str(ROOT)]),
                "DJANGO_SETTINGS_MODULE": "offbrand_e2e_settings",
                "MEDIA_ROOT": str(self.root / "media"),
            },
            **self.extra,
        }

    def manage(self, *args: str, timeout: float = 180) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def prepare(self) -> None:
        """Migrate, seed the roles, collect static files, make one confirmed member."""
        self.manage("migrate", "--noinput", "-v0")
        self.manage("seed_roles")
        self.manage("collectstatic", "--noinput", "-v0")
        self.manage(
            "shell",
            "-c",
            "from accounts.models import Role, User\n"
            f"u = User(username={MEMBER_USERNAME!r}, email={MEMBER_EMAIL!r}, confirmed=True,"
            " role=Role.objects.default_role())\n"
            f"u.set_password({MEMBER_PASSWORD!r})\n"
            "u.save()\n",
        )

    def destroy(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class Gunicorn:
    """`gunicorn offbrand.wsgi:application` on a free port, in its own process group.

    `app`, `cwd`, `executable` and `health_path` serve another project the same
    way (bench/peer.py serves a peer project next to Offbrand); `deployment` is
    then anything with `env` and `root`.
    """

    def __init__(
        self,
        deployment: Deployment,
        workers: int = 2,
        *,
        log: Path | None = None,
        timeout: int = 30,
        extra_args: tuple[str, ...] = (),
        app: str = "offbrand.wsgi:application",
        cwd: Path = ROOT,
        executable: str = GUNICORN,
        port: int | None = None,
        health_path: str = "/healthz",
    ) -> None:
        self.deployment = deployment
        self.workers = workers
        self.port = port or free_port()
        self.log = log or deployment.root / f"gunicorn-{self.port}.log"
        self.timeout = timeout
        self.extra_args = extra_args
        self.app, self.cwd, self.executable = app, cwd, executable
        self.health_path = health_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, healthy_within: float | None = 30) -> None:
        """Start; wait until `health_path` answers 200 unless `healthy_within` is None."""
        command = [
            self.executable,
            self.app,
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            str(self.timeout),
            "--graceful-timeout",
            "5",
            *self.extra_args,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.deployment.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode})")
            return Client(self.url).get(self.health_path).status == 200

        if healthy_within is None:
            return
        if not wait_until(healthy, timeout=healthy_within):
            self.stop()
            raise RuntimeError(f"gunicorn did not become healthy:\n{tail(self.log)}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, group=True)
            self.process = None


class TaskWorker:
    """`manage.py task_worker`, as systemd runs it (kill it, start it again)."""

    def __init__(self, deployment: Deployment, name: str = "worker") -> None:
        self.deployment = deployment
        self.log = deployment.root / f"{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "manage.py", "task_worker", "--no-startup-delay", "--interval", "0.2"],
                cwd=ROOT,
                env=self.deployment.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9: no cleanup, no chance to record anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, group=True)
            self.process = None


@contextlib.contextmanager
def offbrand_stack(instances: int = 1) -> Iterator[tuple[PostgresCluster, RedisServer, list]]:
    """PostgreSQL, Redis, a prepared database and `instances` gunicorn servers.

    Everything started is stopped on the way out, also when starting fails.
    """
    cluster = PostgresCluster()
    redis = RedisServer()
    deployment = None
    servers: list[Gunicorn] = []
    try:
        cluster.init()
        cluster.start()
        cluster.createdb("offbrand")
        redis.start()
        deployment = Deployment(cluster.url("offbrand"), redis.url)
        deployment.prepare()
        for _ in range(instances):
            server = Gunicorn(deployment)
            servers.append(server)
            server.start()
        yield cluster, redis, servers
    finally:
        for server in servers:
            with contextlib.suppress(Exception):
                server.stop()
        with contextlib.suppress(Exception):
            redis.destroy()
        with contextlib.suppress(Exception):
            cluster.destroy()
        if deployment is not None:
            deployment.destroy()


# --- HTTP --------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Client:
    """One browser: keeps its own cookies (Secure ones too), never follows redirects."""

    def __init__(self, base_url: str, timeout: float = 15, headers: dict | None = None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.headers = headers or {}  # sent with every request (a proxy's, a browser's)

    def request(
        self,
        method: str,
        path: str,
        data: dict | None = None,
        headers: dict | None = None,
        body: str | None = None,
    ) -> Reply:
        """`data` is form-encoded; `body` is sent as it is, with the caller's headers."""
        headers = {"Host": f"{self.host}:{self.port}", **self.headers, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        self._remember(response.headers.get_all("Set-Cookie") or [])
        return Reply(response.status, response.headers, text, time.monotonic() - started)

    def _remember(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, data: dict) -> Reply:
        return self.request("POST", path, data)

    def submit(self, path: str, data: dict, form_path: str | None = None) -> Reply:
        """GET the form (for the CSRF cookie and hidden token), then POST `data` to it."""
        page = self.get(form_path or path)
        found = CSRF_INPUT.search(page.text)
        if found is None:
            raise AssertionError(f"no CSRF token on {form_path or path} ({page.status})")
        return self.post(path, {"csrfmiddlewaretoken": found.group(1), **data})

    def sign_in(self, username: str, password: str, field: str = "username") -> Reply:
        """`field` names the form's username input (django-allauth calls it `login`)."""
        return self.submit("/accounts/login/", {field: username, "password": password})

    def csrf_pair(
        self, path: str = "/accounts/login/", cookie: str = "csrftoken"
    ) -> tuple[str, str]:
        """The CSRF cookie (named `cookie`) and the form token that goes with it."""
        page = self.get(path)
        found = CSRF_INPUT.search(page.text)
        if page.status != 200 or cookie not in self.cookies or found is None:
            raise RuntimeError(f"GET {path} gave {page.status} without a CSRF cookie and token")
        return self.cookies[cookie], found.group(1)


def shows_signed_in(reply: Reply, username: str) -> bool:
    """The navigation links to the member's own profile only when they are signed in."""
    return f'href="/users/{username}/"' in reply.text


# --- SMTP --------------------------------------------------------------------


class SmtpServer:
    """aiosmtpd on a free port in a thread of this process; `messages` holds what arrived."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller  # a test dependency, not the benchmark's

        self.messages: list = []
        self.stall: set[str] = set()  # recipients the server hangs on, until released
        self.stalled: list[str] = []
        self.released = threading.Event()
        inbox = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in inbox.stall:
                    inbox.stalled.append(address)
                    while not inbox.released.is_set():
                        await asyncio.sleep(0.05)
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                inbox.messages.append(envelope)
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def recipients(self) -> list[str]:
        return [rcpt for envelope in self.messages for rcpt in envelope.rcpt_tos]

    def stop(self) -> None:
        self.released.set()
        with contextlib.suppress(Exception):
            self.controller.stop()
