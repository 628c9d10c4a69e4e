import os
import sys

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from dibao.management.commands._common import resolve_actor
from imports import services
from imports.kinds import all_kinds
from imports.models import ImportJob


class Command(BaseCommand):
    help = ("Import a file of one kind of spec/formats.md (.xlsx first sheet or .csv). "
            "All or nothing: any invalid row → nothing written, the row report on stderr, exit code 1.")

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(all_kinds()))
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="validate and count only (预检)")
        parser.add_argument("--members", metavar="FILE", default=None,
                            help="with KIND households: a members file imported in the same batch "
                                 "(its members may belong to households of FILE); all or nothing for both")
        parser.add_argument("--as-user", dest="as_user", default=None,
                            help="act as this user (their jurisdiction applies); default: the system actor")

    def handle(self, *args, kind, file, dry_run=False, as_user=None, members=None, **opts):
        actor = resolve_actor(as_user)
        for path in filter(None, [file, members]):
            if not os.path.isfile(path):
                raise CommandError(f"文件不存在 / no such file: {path}")
        try:
            job = services.import_job_create(actor=actor, kind=kind, file_name=file, path=file, dry_run=dry_run)
            batch = [job]
            if members:
                batch.append(services.import_job_create(actor=actor, kind="members", file_name=members, path=members,
                                                        dry_run=dry_run, batch=job))
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)])))
        show = sys.stderr.isatty()

        def progress(rows: int, fraction: float) -> None:
            sys.stderr.write(f"\r  {fraction * 100:5.1f}%  {rows:,} rows")
            sys.stderr.flush()

        try:
            services.import_run(job_id=job.pk, progress=progress if show else None)
        except Exception as exc:  # the job is recorded as failed with the reason
            raise CommandError(f"导入失败 / import failed: {exc} [job {job.pk}]")
        finally:
            if show:
                sys.stderr.write("\n")
        failed = [self._report(ImportJob.objects.get(pk=j.pk)) for j in batch]
        if any(failed):
            total = sum(f for f in failed if f)
            raise CommandError(f"nothing written: {total} errors [job {', '.join(str(j.pk) for j in batch)}]")

    def _report(self, job) -> int:
        """Print one file's outcome; returns its error count (0 = clean)."""
        kind = job.kind
        summary = (f"{kind}: {job.rows_total} rows, new {job.rows_new}, updated {job.rows_updated}, "
                   f"unchanged {job.rows_unchanged}, invalid {job.rows_invalid}")
        if job.state in (job.State.DONE, job.State.CHECKED):
            for w in job.warnings:
                self.stderr.write(f"warning: {w['reason']} / {w['reason_en']}")
            removed = job.report.get("removed")
            tail = f", removed {removed}" if removed else ""
            verb = "dry run OK (nothing written)" if job.dry_run else "imported"
            version = f" as version id {job.ref_version_id}" if job.ref_version_id else ""
            self.stdout.write(f"{verb}{version} — {summary}{tail} [job {job.pk}]")
            return 0
        for w in job.warnings:
            self.stderr.write(f"warning: {w['reason']} / {w['reason_en']}")
        self.stderr.write(f"row\tcolumn\tvalue\treason / 原因")
        for e in job.errors:
            self.stderr.write(f"{e['row']}\t{e['column']}\t{e['value']}\t{e['reason']} / {e['reason_en']}")
        if job.report.get("truncated"):
            self.stderr.write(f"... {job.report['error_total'] - len(job.errors)} more errors not listed")
        if not job.errors:
            self.stderr.write(f"{kind}: {job.outcome}")
        self.stderr.write(f"{kind}: nothing written — {summary} [job {job.pk}]")
        return job.report.get("error_total", 0) or 1
