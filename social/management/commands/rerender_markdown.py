"""Render the stored Markdown of posts and comments again: `manage.py rerender_markdown`.

Bodies are rendered once, on write (`social.markup`). When the parser or the
sanitiser's allow-lists change, the stored HTML is what readers still get:
this command brings it in line. It reads by keyset (`id > last`, in batches),
renders each body, and writes `body_html` alone, only where it differs, so a
second run writes nothing. A row whose body was edited while its batch was
being rendered keeps the HTML its edit wrote.
"""

import argparse

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max

from social import landing, markup
from social.models import Comment, Post

MODELS = {"posts": Post, "comments": Comment}


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1, with a message saying so."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return value


class Command(BaseCommand):
    help = "Render the Markdown of stored posts and comments again, writing only changed HTML."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            choices=sorted(MODELS),
            help="Only posts or only comments (default: both).",
        )
        parser.add_argument(
            "--batch",
            type=positive_int,
            default=1000,
            help="Rows read, rendered and written per step (default 1000).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would change; write nothing.",
        )

    def handle(self, *args, only=None, batch=1000, dry_run=False, **options):
        names = [only] if only else list(MODELS)
        for name in names:
            read, changed = self.rerender(MODELS[name], name, batch=batch, dry_run=dry_run)
            verb = "would change" if dry_run else "re-rendered"
            self.stdout.write(f"{name}: {read:,} read, {changed:,} {verb}.")

    def rerender(self, model, name: str, *, batch: int, dry_run: bool) -> tuple[int, int]:
        last_id = model.objects.aggregate(last=Max("pk"))["last"] or 0
        after, read, changed = 0, 0, 0
        while True:
            rows = list(
                model.objects.filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", "body", "body_html")[:batch]
            )
            if not rows:
                break
            after = rows[-1][0]
            read += len(rows)
            stale = {}
            for pk, body, html in rows:
                fresh = str(markup.render(body))
                if fresh != html:
                    stale[pk] = (body, fresh)
            changed += len(stale) if dry_run else self.write(model, stale)
            self.progress(name, after, last_id, read, changed)
        if read:
            self.stderr.write("")  # end the progress line
        return read, changed

    @staticmethod
    def write(model, stale: dict[int, tuple[str, str]]) -> int:
        """Store the new HTML of the rows whose body is still the one rendered."""
        if not stale:
            return 0
        with transaction.atomic():
            current = model.objects.select_for_update().filter(pk__in=stale).only("pk", "body")
            rows = []
            for row in current:
                body, html = stale[row.pk]
                if row.body == body:  # not edited since it was read
                    row.body_html = html
                    rows.append(row)
            model.objects.bulk_update(rows, ["body_html"])
            if rows:
                landing.landing_changed()  # bulk_update sends no post_save
        return len(rows)

    def progress(self, name: str, at: int, last_id: int, read: int, changed: int) -> None:
        share = min(100, at * 100 // last_id) if last_id else 100
        self.stderr.write(
            f"\r{name}: {share:3d}% (id {at:,} of {last_id:,}), {read:,} read, {changed:,} changed",
            ending="",
        )
