"""The one harness that starts throwaway servers for the tests and the benchmark."""

import subprocess
import sys
from urllib.parse import parse_qsl

import pytest

from harness import servers
from tests.servers import require_servers


def test_postgres_binaries_are_found_where_the_machine_installed_them(monkeypatch):
    monkeypatch.delenv("OFFBRAND_PG_BIN", raising=False)
    candidates = servers.postgres_bin_candidates()
    assert all(folder.name == "bin" for folder in candidates)
    found = servers.find_postgres_bin()
    if found is not None:
        assert (found / "initdb").exists()


def test_a_missing_postgres_skips_locally_but_fails_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(servers, "PG_BIN", None)
    monkeypatch.setenv("OFFBRAND_PG_BIN", str(tmp_path))
    assert "not found" in servers.postgres_missing_reason()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        require_servers()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require_servers()


def test_the_benchmark_uses_the_harness_without_pytest():
    script = (
        "import sys; sys.modules['pytest'] = None\n"
        "sys.argv = ['run.py', '--help']\n"
        "import runpy; runpy.run_path('bench/run.py', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=servers.ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_the_benchmark_counts_its_synthetic_members(db):
    from bench import setup_users

    assert setup_users.synthetic_count() == 0


def test_the_peer_benchmark_uses_the_harness_without_pytest():
    script = (
        "import sys; sys.modules['pytest'] = None\n"
        "sys.argv = ['peer.py', '--help']\n"
        "import runpy; runpy.run_path('bench/peer.py', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=servers.ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "--peer-dir" in result.stdout


def test_the_benchmark_posts_each_sites_own_sign_in_field():
    from bench import peer, run

    offbrand = dict(parse_qsl(run.login_form("bench-member", "t0ken")))
    allauth = dict(parse_qsl(run.login_form("bench-member", "t0ken", peer.PEER_FORM)))
    assert offbrand == {
        "username": "bench-member",
        "password": run.PASSWORD,
        "csrfmiddlewaretoken": "t0ken",
    }
    assert allauth["login"] == "bench-member" and "username" not in allauth


def test_a_server_can_serve_another_project_on_a_chosen_port(tmp_path):
    class Elsewhere:
        env = {"PATH": "/usr/bin"}
        root = tmp_path

    server = servers.Gunicorn(
        Elsewhere(), app="config.wsgi:application", cwd=tmp_path, port=8179, health_path="/"
    )
    assert (server.app, server.cwd, server.health_path) == (
        "config.wsgi:application",
        tmp_path,
        "/",
    )
    assert server.url == "http://127.0.0.1:8179"


def test_a_case_that_completes_no_request_is_an_error_not_a_figure(monkeypatch):
    """The peer's sign-in can take longer than a short case: its CPU divided by
    no request used to be reported as if one request had used it all."""
    from types import SimpleNamespace

    from bench import run

    class Probe:
        def __init__(self, *args, **kwargs):
            pass

        def request(self, *args, **kwargs):
            return SimpleNamespace(status=200)

    monkeypatch.setattr(run, "Client", Probe)
    monkeypatch.setattr(run, "worker_pids", lambda master: [])
    monkeypatch.setattr(run, "hash_clock_of", lambda server: None)
    monkeypatch.setattr(run, "run_wrk", lambda *args: "  0 requests in 3.00s, 0 B read\n")
    server = SimpleNamespace(url="http://127.0.0.1:9", process=SimpleNamespace(pid=0))
    args = SimpleNamespace(duration=3, connections=8, profile=False)
    case = run.Case("home (anonymous)", "/")
    with pytest.raises(RuntimeError, match="no request completed in 3 s"):
        run.measure(case, server, {}, args)
