"""The README's production steps, run as written on a throwaway "machine".

The shell blocks of README.md's "Production deployment" section run in bash
with a clean environment, against a throwaway PostgreSQL, Redis and SMTP
server (harness/servers.py). What a test cannot do on a shared machine is
replaced, and only that (SUBSTITUTIONS below): no root (sudo and the OS user
are dropped, folders live in a temporary directory), the clone comes from this
repository's HEAD, the venv is the suite's own (pip install then only checks
it), the servers' addresses are the throwaway ones, and systemd is played by
starting each unit's ExecStart with its EnvironmentFile and WorkingDirectory.
Then a visitor signs up through the "proxy" (X-Forwarded-Proto: https) and the
confirmation mail must arrive over SMTP, once.
"""

import os
import re
import shlex
import subprocess
import sys
from email import message_from_bytes
from pathlib import Path

import pytest

from tests.servers import (
    PG_BIN,
    ROOT,
    Client,
    PostgresCluster,
    RedisServer,
    SmtpServer,
    free_port,
    require_servers,
    stop_process,
    tail,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.servers]

HOST = "offbrand.example.com"
VENV = Path(sys.executable).parent.parent


def readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Production deployment") :]
    section = section[: section.index("\n### ")]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def substitutions(machine: Path, cluster, redis, smtp) -> list[tuple[str, str]]:
    return [
        ("sudo -u postgres psql", f"psql -h 127.0.0.1 -p {cluster.port} -U postgres"),
        ("sudo useradd", "true useradd"),  # no OS user: everything runs as the test's
        ("-o offbrand -g offbrand ", ""),
        ("sudo ", ""),
        ("/etc/offbrand", str(machine / "etc/offbrand")),
        ("/var/lib/offbrand", str(machine / "var/lib/offbrand")),
        ("/srv/offbrand", str(machine / "srv/offbrand")),
        ("https://github.com/offbrand/offbrand.git", str(ROOT)),
        ("python3 -m venv .venv", f"ln -s {VENV} .venv"),
        ("127.0.0.1:5432", f"127.0.0.1:{cluster.port}"),
        ("redis://127.0.0.1:6379/0", redis.url),
        ("smtp://user:password@smtp.example.com:587/?tls=True", smtp.url),
    ]


def apply(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def clean_env(machine: Path) -> dict[str, str]:
    """A login shell's environment: none of the suite's settings leak in."""
    path = os.pathsep.join(filter(None, [str(PG_BIN), "/usr/local/bin", "/usr/bin", "/bin"]))
    return {"PATH": path, "HOME": str(machine), "LANG": "C.UTF-8"}


def read_env_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile: KEY=value lines."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def unit_command(unit_file: Path, instance: str, replacements, port: int):
    """(argv, env file, working directory) of a unit's ExecStart."""
    fields = {}
    for line in unit_file.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            fields[key.strip()] = value.strip()
    command = apply(fields["ExecStart"], replacements)
    command = command.replace("%H", "test").replace("%i", instance)
    command = command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    return (
        shlex.split(command),
        Path(apply(fields["EnvironmentFile"], replacements)),
        Path(apply(fields["WorkingDirectory"], replacements)),
    )


@pytest.fixture
def machine(tmp_path):
    require_servers()
    cluster, redis, smtp = PostgresCluster(), RedisServer(), SmtpServer()
    processes: list[subprocess.Popen] = []
    try:
        cluster.init()
        cluster.start()
        redis.start()
        smtp.start()
        yield tmp_path, cluster, redis, smtp, processes
    finally:
        for process in processes:
            stop_process(process, group=True)
        smtp.stop()
        redis.destroy()
        cluster.destroy()


def test_the_readme_production_steps_work_as_written(machine):
    root, cluster, redis, smtp, processes = machine
    blocks = readme_blocks()
    assert len(blocks) == 4, "steps 1-4 each have one shell block"
    replacements = substitutions(root, cluster, redis, smtp)
    env = clean_env(root)

    # Steps 1 to 3: the database, the environment file, the code and `deploy`.
    script = "set -euo pipefail\n" + apply("\n".join(blocks[:3]), replacements)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    environment = read_env_file(root / "etc/offbrand/env")
    assert environment["EMAIL_URL"] == smtp.url
    assert environment["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert environment["SECURE_SSL_REDIRECT"] == "true"
    assert environment["SECURE_PROXY_SSL_HEADER"] == "true"
    assert len(environment["SECRET_KEY"]) >= 50

    # Step 4: the units named by `systemctl enable --now`, started as systemd would.
    units = re.search(r"systemctl enable --now (.+)", blocks[3]).group(1).split()
    assert units == ["offbrand-web", "offbrand-worker@1", "offbrand-worker@2"]
    srv = root / "srv/offbrand"
    port = free_port()
    logs = []
    for unit in units:
        name, _, instance = unit.partition("@")
        unit_file = srv / "deploy/systemd" / (f"{name}@.service" if instance else f"{name}.service")
        argv, env_file, workdir = unit_command(unit_file, instance, replacements, port)
        log = root / f"{unit}.log"
        logs.append(log)
        with log.open("wb") as out:
            processes.append(
                subprocess.Popen(
                    argv,
                    cwd=workdir,
                    env={**env, **read_env_file(env_file)},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    # Step 5: the proxy terminates TLS and says so.
    proxy = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    visitor = Client(f"http://127.0.0.1:{port}", headers=proxy | {"Origin": f"https://{HOST}"})
    served = wait_until(lambda: visitor.get("/healthz").status == 200, timeout=60)
    assert served, "\n".join(tail(log) for log in logs)
    plain = Client(f"http://127.0.0.1:{port}", headers={"Host": HOST}).get("/accounts/login/")
    assert plain.status == 301
    assert plain.location == f"https://{HOST}/accounts/login/"

    signed_up = visitor.submit(
        "/accounts/register/",
        {
            "username": "reader",
            "email": "reader@example.com",
            "password1": "a sturdy passphrase 9",
            "password2": "a sturdy passphrase 9",
        },
    )
    assert signed_up.status == 302, signed_up.text[:2000]
    arrived = wait_until(lambda: smtp.recipients() == ["reader@example.com"], timeout=30)
    assert arrived, f"{smtp.recipients()}\n" + "\n".join(tail(log) for log in logs)
    message = message_from_bytes(smtp.messages[0].content)
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    assert f"https://{HOST}/accounts/confirm/" in text.get_payload(decode=True).decode()
    wait_until(lambda: False, timeout=2)  # a second copy would arrive by now
    assert smtp.recipients() == ["reader@example.com"]
    assert all(process.poll() is None for process in processes)
