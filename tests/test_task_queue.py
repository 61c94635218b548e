"""Production mail goes through the durable database queue and its worker."""

import io
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts import queue
from accounts.models import SentMail, User
from accounts.queue import queue_report, requeue_abandoned
from accounts.tasks import deliver_email


def test_registration_mail_waits_in_the_database_queue_until_the_worker_sends_it(
    client, transactional_db, settings
):
    # transactional_db: the worker closes its database connection when it ends.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client.post(
        "/accounts/register/",
        {
            "email": "erin@example.com",
            "username": "erin",
            "password1": "a sturdy passphrase 9",
            "password2": "a sturdy passphrase 9",
        },
    )
    assert User.objects.filter(username="erin").exists()
    assert mail.outbox == []
    assert DBTaskResult.objects.count() == 1
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert [m.to for m in mail.outbox] == [["erin@example.com"]]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


# --- a worker that runs unattended (accounts/queue.py) ------------------------

DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def register(client, name="erin"):
    client.post(
        "/accounts/register/",
        {
            "email": f"{name}@example.com",
            "username": name,
            "password1": "a sturdy passphrase 9",
            "password2": "a sturdy passphrase 9",
        },
    )


def run_worker():
    call_command("task_worker", "--batch", "--no-startup-delay", verbosity=0)


def test_the_worker_waits_out_a_database_outage_and_then_sends(
    client, transactional_db, settings, monkeypatch
):
    settings.TASKS = DB_QUEUE
    register(client)
    real_ready = DBTaskResult.objects.ready
    outage = iter([True, True, True])
    pauses = []

    def ready():
        if next(outage, False):
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
        return real_ready()

    monkeypatch.setattr(DBTaskResult.objects, "ready", ready)
    monkeypatch.setattr(queue, "pause", pauses.append)
    run_worker()
    assert [m.to for m in mail.outbox] == [["erin@example.com"]]
    assert len(pauses) == 3
    assert pauses[0] < pauses[1] < pauses[2]  # backing off


def test_a_task_whose_worker_died_returns_to_the_queue_and_is_sent_once(
    client, transactional_db, settings
):
    settings.TASKS = DB_QUEUE
    settings.TASKS_CLAIM_TIMEOUT = 60
    register(client)
    task = DBTaskResult.objects.get()
    task.claim("killed-worker")  # claimed, then the worker was killed (-9)
    run_worker()
    assert mail.outbox == []  # not yet: it may still be running somewhere
    DBTaskResult.objects.update(started_at=timezone.now() - timedelta(seconds=61))
    run_worker()
    assert [m.to for m in mail.outbox] == [["erin@example.com"]]
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert len(task.worker_ids) == 2


def test_a_task_that_kills_every_worker_fails_visibly_after_the_last_claim(
    client, transactional_db, settings
):
    settings.TASKS = DB_QUEUE
    settings.TASKS_MAX_CLAIMS = 3
    register(client)
    long_ago = timezone.now() - timedelta(hours=1)
    DBTaskResult.objects.update(status="RUNNING", started_at=long_ago, worker_ids=["a", "b", "c"])
    assert requeue_abandoned() == (0, 1)
    task = DBTaskResult.objects.get()
    assert task.status == "FAILED"
    assert "Claimed 3 times" in task.traceback
    assert queue_report()["failed_last_day"] == 1


def test_a_retried_mail_task_never_mails_twice(client, transactional_db, settings):
    settings.TASKS = DB_QUEUE
    register(client)
    task = DBTaskResult.objects.get()
    kwargs = task.args_kwargs["kwargs"]
    assert kwargs["message_key"]
    deliver_email.call(**kwargs)  # sent; then the worker died before recording success
    run_worker()  # the task runs again
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"].startswith(f"<{kwargs['message_key']}@")
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_database_error_inside_a_task_puts_it_back_instead_of_failing_it(
    client, transactional_db, settings, monkeypatch
):
    settings.TASKS = DB_QUEUE
    register(client)

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SentMail.objects, "create", broken)
    call_command("task_worker", "--batch", "--no-startup-delay", "--max-tasks=1", verbosity=0)
    assert DBTaskResult.objects.get().status == "READY"
    monkeypatch.undo()
    run_worker()
    assert [m.to for m in mail.outbox] == [["erin@example.com"]]


def test_operators_see_the_queue_depth_and_the_oldest_task(client, transactional_db, settings):
    settings.TASKS = DB_QUEUE
    register(Client(), "erin")
    register(Client(), "fred")
    DBTaskResult.objects.filter(args_kwargs__kwargs__to=["erin@example.com"]).update(
        enqueued_at=timezone.now() - timedelta(minutes=5)
    )
    out = io.StringIO()
    call_command("task_queue", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["queued"] == 2
    assert 299 <= report["oldest_queued_seconds"] <= 330
    assert report["running"] == report["abandoned"] == report["failed_last_day"] == 0
    health = client.get("/healthz").json()
    assert health["queued"] == 2
    assert health["oldest_queued_seconds"] >= 299
    text = io.StringIO()
    call_command("task_queue", stdout=text)
    assert "oldest queued seconds" in text.getvalue()


def test_the_queue_command_says_when_there_is_no_queue(db):
    with pytest.raises(CommandError, match="mail is sent inside the request"):
        call_command("task_queue")


def test_old_sent_mail_records_are_pruned_and_recent_ones_kept(transactional_db, settings):
    settings.TASKS = DB_QUEUE
    SentMail.objects.create(key="old", sent_at=timezone.now() - timedelta(days=8))
    SentMail.objects.create(key="recent", sent_at=timezone.now() - timedelta(days=2))
    out = io.StringIO()
    call_command("task_queue", "--prune-sent", "7", stdout=out)
    assert "forgot 1 sent-mail records" in out.getvalue()
    assert list(SentMail.objects.values_list("key", flat=True)) == ["recent"]
    with pytest.raises(CommandError, match="7 days or more"):
        call_command("task_queue", "--prune-sent", "1")
