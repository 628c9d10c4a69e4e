from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from dibao.management.commands._common import resolve_actor
from reports import metrics, services


class Command(BaseCommand):
    help = "Compute (or recompute) the monthly rollup snapshot (reports.md) for every region or one subtree."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--region", default="", help="province/city/county/township code; default all")
        parser.add_argument("--as-user", dest="as_user", default=None)

    def handle(self, *args, month, region, as_user, **opts):
        actor = resolve_actor(as_user)
        try:
            run = services.rollup_compute(actor=actor, month=metrics.parse_month(month), scope=region)
        except (ValueError, ValidationError, PermissionDenied) as exc:
            raise CommandError(_message(exc))
        note = f", replaced {run.replaced_rows} rows" if run.replaced_rows else ""
        self.stdout.write(f"rollup {run.month:%Y-%m} {run.scope_code or 'all regions'}: run #{run.pk}, "
                          f"{run.row_count} rows in {run.duration_ms / 1000:.1f}s{note}")


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)
