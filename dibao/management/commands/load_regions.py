import sys
import time

from django.core.management.base import BaseCommand, CommandError

from dibao.audit import audit_record
from dibao.management.commands._common import resolve_actor
from dibao.regions import load_regions


class Command(BaseCommand):
    help = "Load the shipped 2023 statistical division codes (province → village). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--province", action="append", dest="provinces", metavar="CODE",
                            help="2-digit province code; repeat for several; default all")
        parser.add_argument("--as-user", dest="as_user", default=None)

    def handle(self, *args, provinces=None, as_user=None, **opts):
        actor = resolve_actor(as_user)
        if provinces and any(len(p) != 2 or not p.isdigit() for p in provinces):
            raise CommandError("--province takes 2-digit province codes, e.g. --province 22")
        started = time.monotonic()
        show = sys.stdout.isatty()
        counts = load_regions(provinces, progress=(lambda level, n: self.stdout.write(f"  {level}: {n}")) if show else None)
        audit_record(actor=actor, action="region.load", object_type="region", object_id=",".join(provinces or ["all"]),
                     after={str(k): v for k, v in counts.items()})
        total = sum(counts.values())
        self.stdout.write(f"loaded {total} regions ({', '.join(f'{k} {v}' for k, v in counts.items())}) "
                          f"in {time.monotonic() - started:.1f}s")
