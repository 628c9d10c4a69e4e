from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from dibao.management.commands._common import resolve_actor
from payments import services
from payments.models import PaymentRoll
from reports.metrics import parse_month


class Command(BaseCommand):
    help = "Write the bank file of a month's payment roll: .csv machine form or formatted .xlsx (payments.md)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--region", default="", help="the roll's region code; default the operator's scope")
        parser.add_argument("--output", required=True, help="F.csv or F.xlsx")
        parser.add_argument("--as-user", dest="as_user", default=None)

    def handle(self, *args, month, region, output, as_user, **opts):
        actor = resolve_actor(as_user)
        suffix = Path(output).suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise CommandError("--output must end in .csv or .xlsx")
        try:
            month_date = parse_month(month)
        except ValueError as exc:
            raise CommandError(str(exc))
        scope = region or getattr(actor, "scope_prefix", None) or ""
        roll = PaymentRoll.objects.filter(month=month_date, region_code=scope).first()
        if roll is None:
            raise CommandError(f"no payment roll for {month} {scope or 'all regions'}: run payroll first")
        try:
            if suffix == ".csv":
                with open(output, "w", encoding="utf-8", newline="") as stream:
                    n = services.roll_export(actor=actor, roll=roll, fmt="csv", target=stream, full_ids=True)
            else:
                n = services.roll_export(actor=actor, roll=roll, fmt="xlsx", target=output, full_ids=True)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        state = "approved" if roll.is_approved else "NOT APPROVED"
        self.stdout.write(f"export_payroll {roll.month_text} {roll.region_code or 'all regions'} ({state}): "
                          f"{n} lines → {output}")
