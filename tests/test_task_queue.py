"""Production mail goes through the durable database queue and its worker."""

from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from accounts.models import User


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
