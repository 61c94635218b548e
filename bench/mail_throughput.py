"""How many messages a second one `manage.py task_worker` sends.

    .venv/bin/python bench/mail_throughput.py [--messages 200] [--workers 1]

A throwaway PostgreSQL and a local SMTP server (aiosmtpd, which answers at
once) from harness/servers.py; N confirmation-sized messages are queued, then
the workers start and the run times how long until the last one arrived.
Against a remote mail server add its round trips: see README, "How many mail
workers".
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.servers import (  # noqa: E402
    Deployment,
    PostgresCluster,
    SmtpServer,
    TaskWorker,
    postgres_missing_reason,
    wait_until,
)

QUEUE = """
import uuid
from accounts.tasks import deliver_email
text = "Confirm your address: https://offbrand.example.com/accounts/confirm/token/ " * 20
for n in range({count}):
    deliver_email.enqueue(
        to=[f"reader{{n}}@example.com"],
        message_key=uuid.uuid4().hex,
        subject="[Offbrand] Confirm your email address",
        body=text,
        html=f"<p>{{text}}</p>",
        from_email="noreply@offbrand.example.com",
    )
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if reason := postgres_missing_reason():
        sys.exit(reason)
    cluster, smtp = PostgresCluster(), SmtpServer()
    deployment = None
    workers = []
    try:
        cluster.init()
        cluster.start()
        cluster.createdb("offbrand")
        smtp.start()
        deployment = Deployment(
            cluster.url("offbrand"),
            "",
            extra={"EMAIL_URL": smtp.url, "TASKS_BACKEND": "django_tasks_db.DatabaseBackend"},
        )
        deployment.manage("migrate", "--noinput", "-v0")
        deployment.manage("shell", "-c", QUEUE.format(count=args.messages))
        started = time.monotonic()
        for number in range(args.workers):
            worker = TaskWorker(deployment, name=f"worker-{number}")
            workers.append(worker)
            worker.start()
        done = wait_until(lambda: len(smtp.messages) >= args.messages, timeout=600, interval=0.05)
        seconds = time.monotonic() - started
        if not done:
            sys.exit(f"only {len(smtp.messages)} of {args.messages} arrived in {seconds:.0f} s")
        duplicates = len(smtp.recipients()) - len(set(smtp.recipients()))
        print(
            f"{args.messages} messages, {args.workers} worker(s): {seconds:.1f} s "
            f"(including the workers' start), {args.messages / seconds:.1f} messages/s, "
            f"{duplicates} duplicates"
        )
        return 0
    finally:
        for worker in workers:
            worker.stop()
        smtp.stop()
        cluster.destroy()
        if deployment is not None:
            deployment.destroy()


if __name__ == "__main__":
    sys.exit(main())
