"""`manage.py task_worker`: django-tasks-db's `db_worker`, made to run unattended.

Same options as `db_worker`; the differences are in `accounts.queue.Worker`:
it waits out database outages and returns tasks of dead workers to the queue.
"""

from django_tasks_db.management.commands import db_worker

from accounts.queue import Worker


class Command(db_worker.Command):
    help = "Run the background task worker (survives database outages; see README)"

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, **options):
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise db_worker.CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            excluded_queue_names=excluded,
            batch=batch,
            interval=options["interval"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        worker.configure_signals()
        worker.run()
