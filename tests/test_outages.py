"""Nothing lost when a process dies or a dependency stalls, with real processes.

gunicorn (2 workers), `manage.py task_worker`, a throwaway PostgreSQL, Redis and
SMTP server, deployed with the database queue as the README says. Each test
breaks one thing (PostgreSQL stopped or frozen with SIGSTOP, Redis frozen, the
worker killed with -9 in the middle of an SMTP conversation, a database
address that never answers) and checks what visitors saw (status, time),
that /healthz answered within a second, and that every mail arrived once.
Figures: RELIABILITY.md.
"""

import json
import time
from collections import Counter

import pytest

from tests.servers import (
    MEMBER_PASSWORD,
    MEMBER_USERNAME,
    Blackhole,
    Client,
    Deployment,
    Gunicorn,
    PostgresCluster,
    RedisServer,
    SmtpServer,
    TaskWorker,
    require_servers,
    shows_signed_in,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.servers]

HEALTHZ_WITHIN = 1.0
CLAIM_TIMEOUT = 3  # seconds before a dead worker's task runs again (120 by default)
PASSWORD = "a sturdy passphrase 9"


class Stack:
    def __init__(self, cluster, redis, smtp, deployment, server, worker):
        self.cluster, self.redis, self.smtp = cluster, redis, smtp
        self.deployment, self.server, self.worker = deployment, server, worker

    def sign_up(self, name: str) -> None:
        reply = Client(self.server.url).submit(
            "/accounts/register/",
            {
                "username": name,
                "email": f"{name}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
        )
        assert reply.status == 302, f"{reply.status}\n{reply.text[:1000]}"

    def mail_to(self, name: str) -> int:
        return Counter(self.smtp.recipients())[f"{name}@example.com"]

    def queue(self) -> dict:
        return json.loads(self.deployment.manage("task_queue", "--json"))


@pytest.fixture(scope="module")
def stack():
    require_servers()
    cluster, redis, smtp = PostgresCluster(), RedisServer(), SmtpServer()
    deployment = server = worker = None
    try:
        cluster.init()
        cluster.start()
        cluster.createdb("offbrand")
        redis.start()
        smtp.start()
        deployment = Deployment(
            cluster.url("offbrand"),
            redis.url,
            extra={
                "EMAIL_URL": smtp.url,
                "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
                "TASKS_CLAIM_TIMEOUT": str(CLAIM_TIMEOUT),
            },
        )
        deployment.prepare()
        server = Gunicorn(deployment)
        server.start()
        worker = TaskWorker(deployment)
        worker.start()
        yield Stack(cluster, redis, smtp, deployment, server, worker)
    finally:
        for process in (worker, server):
            if process is not None:
                process.stop()
        smtp.stop()
        redis.destroy()
        cluster.destroy()
        if deployment is not None:
            assert_no_traceback_flood(deployment)
            deployment.destroy()


def assert_no_traceback_flood(deployment):
    logs = "".join(path.read_text(errors="replace") for path in deployment.root.glob("*.log"))
    assert "Traceback" not in logs, logs[-5000:]


@pytest.fixture
def healthy(stack):
    """Every test starts, and leaves, with everything up and the worker running."""
    yield stack
    stack.redis.thaw()
    stack.cluster.thaw()
    if not stack.cluster.is_running():
        stack.cluster.start()
    if not stack.worker.alive():
        stack.worker.start()
    stack.smtp.released.set()
    assert wait_until(lambda: Client(stack.server.url).get("/healthz").status == 200, 30)


def figure(what: str, seconds: float) -> None:
    """Shown with `pytest -s`: the figures of RELIABILITY.md."""
    print(f"\nFIGURE {what}: {seconds:.2f} s")


def healthz(url: str) -> tuple[int, dict, float]:
    reply = Client(url, timeout=10).get("/healthz")
    assert reply.seconds < HEALTHZ_WITHIN, f"/healthz took {reply.seconds:.2f} s"
    figure(f"/healthz ({reply.status})", reply.seconds)
    return reply.status, json.loads(reply.text), reply.seconds


def signed_in(stack) -> Client:
    browser = Client(stack.server.url, timeout=30)
    assert browser.sign_in(MEMBER_USERNAME, MEMBER_PASSWORD).status == 302
    return browser


def test_queued_mail_is_sent_once_after_the_database_stops_and_returns(healthy):
    stack = healthy
    stack.worker.stop()  # mail piles up in the queue while no worker runs
    for name in ("ada", "bea", "cid"):
        stack.sign_up(name)
    assert stack.queue()["queued"] == 3

    stack.cluster.stop(mode="fast")
    stack.worker.start()  # a worker starting during the outage
    status, body, _ = healthz(stack.server.url)
    assert (status, body["database"]) == (503, "down")
    page = Client(stack.server.url).get(f"/users/{MEMBER_USERNAME}/")
    assert page.status == 503 and page.seconds < 4
    figure("database stopped: a profile page (503)", page.seconds)
    time.sleep(4)
    assert stack.worker.alive(), "the worker exited during the database outage"
    stack.cluster.start()
    restarted = time.monotonic()
    assert wait_until(lambda: all(stack.mail_to(n) for n in ("ada", "bea", "cid")), 40)
    figure("database back: until the 3 queued mails arrived", time.monotonic() - restarted)
    time.sleep(1)
    assert [stack.mail_to(n) for n in ("ada", "bea", "cid")] == [1, 1, 1]
    assert stack.worker.alive()
    report = stack.queue()
    assert (report["queued"], report["running"], report["failed_last_day"]) == (0, 0, 0)


def test_mail_of_a_worker_killed_mid_send_is_sent_once_by_the_next(healthy):
    stack = healthy
    stack.smtp.stall = {"dee@example.com"}
    stack.smtp.released.clear()
    stack.sign_up("dee")
    assert wait_until(lambda: stack.smtp.stalled, 20), "the worker never reached the server"
    claimed = time.monotonic()  # the claim is at least this old when the next worker looks
    stack.worker.kill()  # kill -9 while it waits for the server's answer to RCPT
    stack.smtp.stall = set()
    stack.smtp.released.set()
    report = stack.queue()
    assert (report["running"], report["queued"]) == (1, 0)  # claimed by a dead worker

    stack.worker.start()  # as systemd's Restart=always does
    assert wait_until(lambda: stack.mail_to("dee") >= 1, CLAIM_TIMEOUT + 20)
    # Measured from the claim, not from the restart: under load the restart
    # itself can come seconds after the claim, and the timeout runs from it.
    resent_after = time.monotonic() - claimed
    figure(
        f"worker killed: mail sent by the next worker (claim timeout {CLAIM_TIMEOUT} s)",
        resent_after,
    )
    time.sleep(1)
    assert stack.mail_to("dee") == 1
    assert resent_after >= CLAIM_TIMEOUT - 1
    report = stack.queue()
    assert (report["running"], report["abandoned"], report["failed_last_day"]) == (0, 0, 0)


def test_a_frozen_postgresql_costs_seconds_not_the_site(healthy):
    stack = healthy
    browser = signed_in(stack)
    stack.cluster.freeze()
    try:
        anonymous = Client(stack.server.url, timeout=30).get("/accounts/login/")  # no query
        assert anonymous.status == 200 and anonymous.seconds < 1
        figure("PostgreSQL frozen: sign-in page (200)", anonymous.seconds)
        status, body, _ = healthz(stack.server.url)
        assert (status, body["database"]) == (503, "timeout")
        page = browser.get("/")
        assert page.status == 503, page.text[:500]
        assert page.seconds < 8, f"a signed-in page took {page.seconds:.1f} s"
        figure("PostgreSQL frozen: a signed-in page (503)", page.seconds)
        status, _, _ = healthz(stack.server.url)
        assert status == 503
    finally:
        stack.cluster.thaw()
    thawed = time.monotonic()
    assert wait_until(lambda: shows_signed_in(browser.get("/"), MEMBER_USERNAME), 30)
    figure("PostgreSQL thawed: until a signed-in page serves", time.monotonic() - thawed)
    stack.sign_up("eve")
    assert wait_until(lambda: stack.mail_to("eve") == 1, 30)


def test_a_frozen_redis_leaves_pages_up_and_logout_sticks(healthy):
    stack = healthy
    browser = signed_in(stack)
    stolen = dict(browser.cookies)
    stack.redis.freeze()
    try:
        page = browser.get("/")
        assert page.status == 200 and shows_signed_in(page, MEMBER_USERNAME)
        assert page.seconds < 3, f"a signed-in page took {page.seconds:.1f} s"
        figure("Redis frozen: a signed-in page (200)", page.seconds)
        status, body, _ = healthz(stack.server.url)
        assert (status, body["database"]) == (503, "ok")
        assert body["cache"] in ("down", "timeout")  # a 0.5 s socket timeout, or the 0.8 s wait
        attempt = Client(stack.server.url, timeout=30).sign_in(MEMBER_USERNAME, MEMBER_PASSWORD)
        assert attempt.status in (302, 429) and attempt.seconds < 5
        figure(f"Redis frozen: a sign-in ({attempt.status})", attempt.seconds)
        logout = browser.submit("/accounts/logout/", {}, form_path="/accounts/profile/")
        assert logout.status == 302 and logout.seconds < 5
        figure("Redis frozen: logout (302)", logout.seconds)
        assert "sessionid" not in browser.cookies  # the cookie was cleared
    finally:
        stack.redis.thaw()
    replay = Client(stack.server.url)
    replay.cookies = stolen
    assert not shows_signed_in(replay.get("/"), MEMBER_USERNAME)


def test_an_unreachable_database_address_is_tried_once_per_request(healthy):
    stack = healthy
    hole = Blackhole()
    deployment = Deployment(
        f"postgres://postgres@127.0.0.1:{hole.port}/offbrand",
        stack.redis.url,
        extra={"TASKS_BACKEND": "django_tasks_db.DatabaseBackend"},
    )
    # The static files of the running deployment: nothing here may reach a database.
    deployment.root.joinpath("static").symlink_to(stack.deployment.root / "static")
    server = Gunicorn(deployment)
    server.start(healthy_within=None)  # it never becomes healthy: that is the point
    try:
        assert wait_until(lambda: Client(server.url).get("/accounts/login/").status == 200, 30)
        status, body, _ = healthz(server.url)
        assert (status, body["database"]) == (503, "timeout")
        visitor = Client(server.url, timeout=30)
        visitor.cookies["sessionid"] = "a" * 32  # a returning member's session
        page = visitor.get("/accounts/profile/")
        assert page.status == 503
        assert 2.5 < page.seconds < 5, f"{page.seconds:.1f} s: one 3 s connect attempt"
        figure("database unreachable: a signed-in page (503)", page.seconds)
    finally:
        server.stop()
        hole.close()
        deployment.destroy()
