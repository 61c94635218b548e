"""The durable task queue (django-tasks-db) as operators run it.

django-tasks-db keeps each task as a row in PostgreSQL, enqueued in the same
transaction as the change that caused it. Its worker, `db_worker`, stops at
the first database error and leaves a task it was running in RUNNING for ever
when it is killed. `Worker` below adds what a deployment needs:

- a database outage is waited out with capped exponential backoff (one log
  line per attempt), never an exit;
- a task whose worker died (kill -9, out of memory, a machine restart) goes
  back to the queue once TASKS_CLAIM_TIMEOUT has passed since it was claimed,
  and is failed visibly after TASKS_MAX_CLAIMS claims;
- a task interrupted by a database error goes back to the queue instead of
  being recorded as failed.

Tasks must therefore be idempotent: `accounts.tasks.deliver_email` records
each message it sent and never sends one twice.
"""

import contextlib
import logging
import random
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.db import connection as db_connection
from django.db.models import Count, Min, Q
from django.tasks import TaskResultStatus, task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker as DBWorker
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)

UNAVAILABLE = (OperationalError, InterfaceError)


def uses_database_queue() -> bool:
    return isinstance(task_backends["default"], DatabaseBackend)


def _due() -> Q:
    return Q(run_after=get_date_max()) | Q(run_after__lte=timezone.now())


def queue_depth() -> dict:
    """Tasks waiting to run now, and the age of the oldest, in one indexed query."""
    found = DBTaskResult.objects.filter(Q(status=TaskResultStatus.READY) & _due()).aggregate(
        queued=Count("pk"), oldest=Min("enqueued_at")
    )
    oldest = found["oldest"]
    return {
        "queued": found["queued"],
        "oldest_queued_seconds": round((timezone.now() - oldest).total_seconds(), 1)
        if oldest
        else 0,
    }


def queue_report() -> dict:
    """Everything an operator asks about the queue (`manage.py task_queue`)."""
    now = timezone.now()
    abandoned_before = now - timedelta(seconds=settings.TASKS_CLAIM_TIMEOUT)
    counts = DBTaskResult.objects.aggregate(
        deferred=Count("pk", filter=Q(status=TaskResultStatus.READY) & ~_due()),
        running=Count("pk", filter=Q(status=TaskResultStatus.RUNNING)),
        abandoned=Count(
            "pk",
            filter=Q(status=TaskResultStatus.RUNNING, started_at__lt=abandoned_before),
        ),
        failed_last_day=Count(
            "pk",
            filter=Q(status=TaskResultStatus.FAILED, finished_at__gte=now - timedelta(days=1)),
        ),
    )
    return {**queue_depth(), **counts}


def requeue_abandoned() -> tuple[int, int]:
    """Put back the tasks whose worker died; fail those that were claimed too often.

    Returns (requeued, failed). A conditional UPDATE: a worker that finishes
    the task meanwhile is not overwritten.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.TASKS_CLAIM_TIMEOUT)
    stale = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    requeued = failed = 0
    for task_id, worker_ids in stale.values_list("pk", "worker_ids"):
        row = DBTaskResult.objects.filter(pk=task_id, status=TaskResultStatus.RUNNING)
        if len(worker_ids) >= settings.TASKS_MAX_CLAIMS:
            failed += row.update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                exception_class_path="accounts.queue.Abandoned",
                traceback=f"Claimed {len(worker_ids)} times by workers that did not finish it.",
            )
            logger.error(
                "Task %s failed: claimed %d times, never finished", task_id, len(worker_ids)
            )
        else:
            requeued += row.update(status=TaskResultStatus.READY)
            logger.warning(
                "Task %s returned to the queue: its worker did not finish it within %d s",
                task_id,
                settings.TASKS_CLAIM_TIMEOUT,
            )
    return requeued, failed


class Worker(DBWorker):
    """django-tasks-db's worker, which outlives database outages and dead peers."""

    MAX_BACKOFF = 30.0

    def run(self) -> None:
        self._start_reaper()
        failures = 0
        while self.running:
            started = time.monotonic()
            try:
                if self.batch:
                    requeue_abandoned()
                return super().run()
            except UNAVAILABLE as error:
                if time.monotonic() - started > 60:
                    failures = 0  # it had been working: start the backoff again
                failures += 1
                delay = min(self.MAX_BACKOFF, 0.5 * 2 ** (failures - 1))
                delay *= 0.8 + 0.4 * random.random()  # noqa: S311 - spread, not security
                logger.error(
                    "Task worker: database unavailable (%s); trying again in %.1f s",
                    str(error).strip().splitlines()[0] if str(error).strip() else type(error),
                    delay,
                )
                drop_connection()
                pause(delay)
                self.startup_delay = False

    def run_task(self, db_task_result: DBTaskResult) -> None:
        record_failure = db_task_result.set_failed

        def set_failed(error: BaseException) -> None:
            if isinstance(error, UNAVAILABLE):
                # Not the task's fault: it stays RUNNING until the database
                # answers again, then goes back to the queue.
                DBTaskResult.objects.filter(
                    pk=db_task_result.pk, status=TaskResultStatus.RUNNING
                ).update(status=TaskResultStatus.READY)
                logger.warning("Task %s returned to the queue: %s", db_task_result.pk, error)
                return
            record_failure(error)

        db_task_result.set_failed = set_failed
        super().run_task(db_task_result)

    def _start_reaper(self) -> None:
        if getattr(self, "_reaper", None) is not None or self.batch:
            return
        self._reaper = threading.Thread(target=self._reap_forever, name="requeue", daemon=True)
        self._reaper.start()

    def _reap_forever(self) -> None:
        """Every half claim timeout, in its own thread (with its own connection)."""
        interval = max(1.0, settings.TASKS_CLAIM_TIMEOUT / 2)
        while True:
            try:
                close_old_connections()
                requeue_abandoned()
            except DatabaseError as error:
                logger.error("Task worker: could not look for abandoned tasks: %s", error)
                drop_connection()
            time.sleep(interval)


def pause(seconds: float) -> None:
    time.sleep(seconds)


def drop_connection() -> None:
    """Drop this thread's database connection; it is broken, and closing may fail too."""
    with contextlib.suppress(DatabaseError):
        db_connection.close()
