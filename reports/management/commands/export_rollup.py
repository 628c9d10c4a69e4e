from django.core.management.base import BaseCommand, CommandError

from dibao.audit import audit_record
from dibao.management.commands._common import resolve_actor
from dibao.models import Region, natural_code
from reports import exports, metrics, services
from reports.models import LEVEL_LENGTHS, RollupRow


class Command(BaseCommand):
    help = "Write a month's rollup at one level: .xlsx is the formatted form, .csv the machine form."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--level", required=True, choices=list(LEVEL_LENGTHS))
        parser.add_argument("--region", default="", help="limit to this region's subtree")
        parser.add_argument("--output", required=True, help="FILE.xlsx or FILE.csv")
        parser.add_argument("--as-user", dest="as_user", default=None)

    def handle(self, *args, month, level, region, output, as_user, **opts):
        actor = resolve_actor(as_user)
        try:
            month = metrics.parse_month(month)
        except ValueError as exc:
            raise CommandError(str(exc))
        if not output.lower().endswith((".xlsx", ".csv")):
            raise CommandError("--output must end in .xlsx or .csv")
        code = natural_code(region)
        region_obj = None
        if code:
            region_obj = Region.objects.filter(code=code).first()
            if region_obj is None:
                raise CommandError(f"no such region: {region}")
        if not RollupRow.objects.filter(month=month, region_code__startswith=code).exists():
            # Nothing stored yet for that month: compute it first, as `rollup` would.
            scope = code if len(code) in services.ROLLUP_LENGTHS else ""
            services.rollup_compute(actor=actor, month=month, scope=scope)
            self.stderr.write(f"no snapshot for {month:%Y-%m} yet: computed it first")
        try:
            count = exports.export_rollup(month=month, level=level, region=region_obj, output=output)
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc))
        audit_record(actor=actor, action="export.rollup", object_type="rollup", object_id=f"{month:%Y-%m}",
                     region_code=code, after={"level": level, "output": output, "rows": count})
        self.stdout.write(f"wrote {count} {level} rows for {month:%Y-%m} to {output}")
