"""`manage.py task_queue`: how many tasks wait, how old the oldest is, what failed."""

import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import SentMail
from accounts.queue import queue_report, requeue_abandoned, uses_database_queue


class Command(BaseCommand):
    help = "Show the task queue: depth, oldest queued task, running, abandoned, failed"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="one JSON object")
        parser.add_argument(
            "--requeue-abandoned",
            action="store_true",
            dest="requeue",
            help="return tasks of dead workers to the queue now (the worker does it by itself)",
        )
        parser.add_argument(
            "--prune-sent",
            type=int,
            metavar="DAYS",
            help="forget the records of mail sent more than DAYS days ago (7 or more: a mail "
            "is retried for about a day and a half)",
        )

    def handle(self, *, as_json=False, requeue=False, prune_sent=None, **options):
        if prune_sent is not None:
            if prune_sent < 7:
                raise CommandError("--prune-sent must be 7 days or more.")
            before = timezone.now() - timedelta(days=prune_sent)
            forgotten, _ = SentMail.objects.filter(sent_at__lt=before).delete()
            self.stdout.write(f"forgot {forgotten} sent-mail records")
        if not uses_database_queue():
            if prune_sent is not None:
                return  # mail is sent in the request; its records are pruned all the same
            raise CommandError(
                "TASKS_BACKEND is not django_tasks_db.DatabaseBackend: there is no queue "
                "(mail is sent inside the request)."
            )
        if requeue:
            requeued, failed = requeue_abandoned()
            self.stdout.write(f"requeued {requeued}, failed {failed}")
        report = queue_report()
        if as_json:
            self.stdout.write(json.dumps(report))
            return
        width = max(len(name) for name in report)
        for name, value in report.items():
            self.stdout.write(f"{name.replace('_', ' '):<{width}}  {value}")
