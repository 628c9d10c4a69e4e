from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from dibao.management.commands._common import resolve_actor
from payments import services
from reports.metrics import parse_month


class Command(BaseCommand):
    help = "Create (or, while not approved, recreate) the month's payment roll (payments.md)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--region", default="", help="region code; default everything in the operator's scope")
        parser.add_argument("--as-user", dest="as_user", default=None)

    def handle(self, *args, month, region, as_user, **opts):
        actor = resolve_actor(as_user)
        try:
            roll = services.roll_create(actor=actor, month=parse_month(month), region_code=region)
        except (ValueError, ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        self.stdout.write(f"payroll {roll.month_text} {roll.region_code or 'all regions'}: roll #{roll.pk}, "
                          f"{roll.households} households, total {roll.total:.2f}, {roll.no_account} without account")
