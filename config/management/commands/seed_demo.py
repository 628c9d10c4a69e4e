import random

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from audits import demo as audits_demo
from campaigns import demo as campaigns_demo
from cases import demo as cases_demo
from complaints import demo as complaints_demo
from payments import demo as payments_demo
from dibao.audit import audit_record
from dibao.models import Region, Role, User
from reports import demo as reports_demo

DEMO_COUNTY = "220122"  # 吉林省长春市农安县
DEMO_PASSWORD = "Dibao-Demo-2026"


def demo_townships(county: Region) -> list[Region]:
    """The two townships the demo caseworkers work in: rural towns (镇/乡) first."""
    townships = list(Region.objects.filter(parent=county).order_by("code"))
    townships.sort(key=lambda r: (not r.name.endswith(("镇", "乡")), r.code))
    return townships[:2]


def demo_users(county: Region) -> dict[str, User]:
    township, other_township = demo_townships(county)
    spec = [
        ("caseworker", "caseworker", "张敏", township),
        ("caseworker2", "caseworker", "李娜", other_township),
        ("reviewer", "county_reviewer", "王强", county),
        ("supervisor", "supervisor", "刘洋", county.parent),
        ("inspector", "inspector", "陈刚", county),
        ("admin", "admin", "系统管理员", None),
    ]
    users = {}
    for username, role, full_name, region in spec:
        user, _ = User.objects.get_or_create(username=username)
        user.full_name = full_name
        user.region = region
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        users[username] = user
    users["county_reviewer"] = users["reviewer"]
    return users


class Command(BaseCommand):
    help = "A demo county (吉林省农安县) with households, staff, filings, campaign data and one user per role."

    def add_arguments(self, parser):
        parser.add_argument("--county", default=DEMO_COUNTY)
        parser.add_argument("--households", type=int, default=500)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, county, households, seed, **opts):
        try:
            county_region = Region.objects.get(code=county, level=Region.Level.COUNTY)
        except Region.DoesNotExist:
            raise CommandError(f"county {county} is not loaded; run `manage.py load_regions --province {county[:2]}` first")
        rng = random.Random(seed)
        with transaction.atomic():
            users = demo_users(county_region)
            summaries = [cases_demo.seed(county=county_region, users=users, rng=rng, households=households)]
            # Findings need the registry; rollups need findings, complaints and clues.
            # Payments after the cross-check data (a planted payment to a dead member), before the rollups;
            # the campaign after the findings, whose confirmed ones its records must not contradict.
            for app_demo in (audits_demo, payments_demo, complaints_demo, campaigns_demo, reports_demo):
                summaries.append(app_demo.seed(county=county_region, users=users, rng=rng))
            audit_record(actor=users["admin"], action="demo.seed", object_type="region", object_id=county,
                         region_code=county, note=f"演示数据：{county_region.full_name}，{households} 户")
        for line in summaries:
            self.stdout.write(line)
        self.stdout.write(f"demo county: {county_region.full_name}（{county}）")
        self.stdout.write(f"logins (password {DEMO_PASSWORD}):")
        for username in ("caseworker", "caseworker2", "reviewer", "supervisor", "inspector", "admin"):
            u = users[username]
            self.stdout.write(f"  {username:<12} {u.role_label}  {u.region.name if u.region else '全国'}")
