import datetime as dt
import sys
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from audits import engine, services
from audits.models import RescreenBatch
from dibao.jobs import JobState
from audits.rules import RULE_LIST
from dibao.management.commands._common import resolve_actor


class Command(BaseCommand):
    help = "Run a rescreening batch (rules.md) over a region as of a date and wait for it."

    def add_arguments(self, parser):
        parser.add_argument("--region", default="", help="region code (default: everything)")
        parser.add_argument("--as-of", default="", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--as-user", default=None)

    def handle(self, *args, **opts):
        as_of = None
        if opts["as_of"]:
            try:
                as_of = dt.date.fromisoformat(opts["as_of"])
            except ValueError:
                raise CommandError(f"--as-of must be YYYY-MM-DD, got {opts['as_of']!r}")
        actor = resolve_actor(opts["as_user"])
        eager = settings.CELERY_TASK_ALWAYS_EAGER
        try:
            batch = services.batch_create(actor=actor, region_code=opts["region"], as_of=as_of, enqueue=not eager)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)])))
        tty = sys.stdout.isatty()
        show = self._progress if tty else None
        try:
            if eager:
                batch = engine.execute_batch(batch.pk, on_progress=show)
            else:
                batch = self._wait(batch.pk, show)
        except Exception as exc:
            raise CommandError(f"batch #{batch.pk} failed: {exc}")
        if tty:
            self.stdout.write("")
        if batch.state != JobState.DONE:
            raise CommandError(f"batch #{batch.pk} failed: {batch.error}")
        for rule in RULE_LIST:
            self.stdout.write(f"{rule.code}\t{batch.counts.get(rule.code, 0)}")
        self.stdout.write(f"batch {batch.pk}: {batch.total} findings "
                          f"(new {batch.new_count}, still open {batch.open_count}, resolved {batch.resolved_count})")

    def _progress(self, batch):
        bar = "#" * (batch.progress // 5)
        self.stdout.write(f"\r[{bar:<20}] {batch.progress:3d}%", ending="")
        self.stdout.flush()

    def _wait(self, batch_id, show):
        while True:
            batch = RescreenBatch.objects.get(pk=batch_id)
            if show:
                show(batch)
            if batch.state in (JobState.DONE, JobState.FAILED):
                return batch
            time.sleep(2)
