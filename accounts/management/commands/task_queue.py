"""`manage.py task_queue`: how many tasks wait, how old the oldest is, what failed."""

import json

from django.core.management.base import BaseCommand, CommandError

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

    def handle(self, *, as_json=False, requeue=False, **options):
        if not uses_database_queue():
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
