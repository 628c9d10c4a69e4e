from django.core.management.base import BaseCommand, CommandError

from audits.models import RescreenBatch
from dibao.jobs import JobState
from audits.services import findings_export
from dibao.management.commands._common import resolve_actor


class Command(BaseCommand):
    help = "Export the findings of a batch (default: the latest finished) to .csv or .xlsx, full ID numbers."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=None)
        parser.add_argument("--output", required=True)
        parser.add_argument("--as-user", default=None)

    def handle(self, *args, **opts):
        output = opts["output"]
        if opts["batch"]:
            batch = RescreenBatch.objects.filter(pk=opts["batch"]).first()
            if batch is None:
                raise CommandError(f"no such batch: {opts['batch']}")
        else:
            batch = RescreenBatch.objects.filter(state=JobState.DONE).order_by("-id").first()
            if batch is None:
                raise CommandError("no finished rescreening batch yet; run `manage.py rescreen` first")
        if batch.state != JobState.DONE:
            raise CommandError(f"batch #{batch.pk} is not finished (state: {batch.state})")
        actor = resolve_actor(opts["as_user"])
        findings = batch.findings.all()
        if output.lower().endswith(".csv"):
            with open(output, "w", encoding="utf-8", newline="") as fh:
                n = findings_export(actor=actor, batch=batch, findings=findings, fmt="csv", target=fh, full_ids=True)
        elif output.lower().endswith(".xlsx"):
            n = findings_export(actor=actor, batch=batch, findings=findings, fmt="xlsx", target=output,
                                full_ids=True)
        else:
            raise CommandError("--output must end in .csv or .xlsx")
        self.stdout.write(f"batch {batch.pk}: {n} findings written to {output}")
