import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from dibao.audit import audit_record
from dibao.management.commands._common import resolve_actor
from dibao.models import Region, natural_code
from reports import exports

FORMS = ("screening", "bulletin")


class Command(BaseCommand):
    help = ("Write a statistics workbook: `screening` (the three annexes 在保/退出/申请未通过, full ID numbers) "
            "or `bulletin` (进度通报 per county).")

    def add_arguments(self, parser):
        parser.add_argument("form", choices=FORMS)
        parser.add_argument("--region", required=True)
        parser.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="YYYY-MM-DD")
        parser.add_argument("--output", required=True, help="FILE.xlsx")
        parser.add_argument("--as-user", dest="as_user", default=None)

    def handle(self, *args, form, region, start, end, output, as_user, **opts):
        actor = resolve_actor(as_user)
        try:
            start, end = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            raise CommandError("--from and --to must be YYYY-MM-DD")
        if start > end:
            raise CommandError("--from must not be after --to")
        if not output.lower().endswith(".xlsx"):
            raise CommandError("--output must end in .xlsx")
        region_obj = Region.objects.filter(code=natural_code(region)).first()
        if region_obj is None:
            raise CommandError(f"no such region: {region}")
        show = self.stdout.isatty()

        def progress(done, expected):
            if show:
                self.stdout.write(f"  {done}/{expected} rows", ending="\r")

        try:
            if form == "screening":
                count = exports.write_screening(region=region_obj, start=start, end=end, target=output,
                                                full_ids=True, progress=progress)
            else:
                count = exports.write_bulletin(region=region_obj, start=start, end=end, target=output)
        except OSError as exc:
            raise CommandError(str(exc))
        audit_record(actor=actor, action=f"export.{form}", object_type="form", object_id=form,
                     region_code=region_obj.code,
                     after={"from": start.isoformat(), "to": end.isoformat(), "output": output, "rows": count,
                            "full_ids": True})
        self.stdout.write(f"wrote {form} form for {region_obj.name} ({region_obj.code}), {count} rows, to {output}")
