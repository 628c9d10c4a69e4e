"""Demo registry for one county: benefit standards, households with members, the applications that
decided them (and some still open at every step, some overdue), staff and filings.

Everything goes through the services, so the demo shows the separation of duties and a realistic
audit trail: every household is entered 审核中 and becomes 在保 / 未通过 only by a county
decision on a township proposal, with the amount computed from the standard and the incomes.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum.cn import ric

from cases import applications, services
from cases.models import ApplicationState, BenefitStandard, Household, Status
from dibao.models import Region, Role, User

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "秀英桂兰玉兰凤英淑珍文华建国建华志强海燕丽娟春梅国庆永红德明振华立新晓东红梅金凤淑兰宝山玉珍树林长福德胜"
CAUSES = ["因病", "因残", "缺劳力", "因学", "因灾", "缺技术", "其他"]


def _name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    return rng.choice(SURNAMES) + given


def _id_number(rng: random.Random, county: str, born: dt.date, male: bool, used: set[str]) -> str:
    while True:
        order = rng.randrange(0, 500) * 2 + (1 if male else 0)
        body = f"{county}{born:%Y%m%d}{order:03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number not in used:
            used.add(number)
            return number


def _birth(rng: random.Random, low: int, high: int) -> dt.date:
    return dt.date(rng.randint(low, high), rng.randint(1, 12), rng.randint(1, 28))


def _scan(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 demo scan " + name.encode(), content_type="application/pdf")


def _standards(county: Region, actor: User) -> int:
    """Province rows from 2015 and higher county rows from 2024: the county's win from then on."""
    rows = [(county.code[:2], "rural", "480", dt.date(2015, 1, 1)), (county.code[:2], "urban", "620", dt.date(2015, 1, 1)),
            (county.code, "rural", "560", dt.date(2024, 1, 1)), (county.code, "urban", "700", dt.date(2024, 1, 1))]
    for code, category, amount, since in rows:
        BenefitStandard.objects.get_or_create(region_id=code, category=category, effective_from=since,
                                              defaults={"monthly_standard": Decimal(amount), "created_by": actor})
    return len(rows)


def _township_caseworkers(townships: list[Region]) -> dict[str, list[User]]:
    """Two caseworkers per township (two investigators; the proposer is not the one who accepted).
    The demo logins come first in their township; the others cannot log in."""
    group = Group.objects.get(name=Role.CASEWORKER)
    staff: dict[str, list[User]] = {}
    for user in User.objects.filter(groups=group, region__in=townships).order_by("username"):
        staff.setdefault(user.region_id, []).append(user)
    for township in townships:
        people = staff.setdefault(township.code, [])
        while len(people) < 2:
            # A person's name, the same on every run, drawn apart from the demo's own random stream.
            user = User(username=f"cw{township.code}-{len(people) + 1}", region=township,
                        full_name=_name(random.Random(f"{township.code}-{len(people)}")))
            user.set_unusable_password()
            user.save()
            user.groups.set([group])
            people.append(user)
    return staff


def _members(rng: random.Random, county: Region, head: str, head_id: str, used: set[str]) -> list[dict]:
    """Incomes mostly below the standard per head, so the formula leaves an amount to pay."""
    size = rng.choices([1, 2, 3, 4, 5], [25, 30, 25, 15, 5])[0]
    members = [{"name": head, "id_number": head_id, "relation": "本人",
                "labour_capacity": rng.choice(["有", "部分丧失", "完全丧失"]),
                "monthly_income": Decimal(rng.choice([0, 0, 100, 150, 200, 300]))}]
    for _ in range(size - 1):
        relation = rng.choice(["配偶", "子女", "子女", "父母", "孙子女"])
        years = {"配偶": (1945, 1985), "子女": (1990, 2020), "父母": (1930, 1955), "孙子女": (2008, 2022)}[relation]
        member = {"name": _name(rng),
                  "id_number": _id_number(rng, county.code, _birth(rng, *years), rng.random() < .5, used),
                  "relation": relation, "serious_illness": rng.random() < 0.08,
                  "monthly_income": Decimal(rng.choice([0, 0, 0, 120, 250]))}
        if rng.random() < 0.12:
            member["disability_category"] = rng.choice(["肢体", "视力", "智力", "精神", "听力"])
            member["disability_level"] = rng.randint(1, 4)
        members.append(member)
    return members


class _Steps:
    """Takes one household's application through the steps up to a target state, dated from
    the day it was accepted, by the township's two caseworkers and the county reviewer."""

    def __init__(self, reviewer: User, caseworkers: dict[str, list[User]]):
        self.reviewer = reviewer
        self.caseworkers = caseworkers

    def intake(self, data: dict, members: list[dict], accepted_on: dt.date):
        """`members[0]` is the head: entered from the household's head fields, then given the rest."""
        first = self.caseworkers[data["region"].code[:9]][0]
        app = applications.application_intake(actor=first, household_data=data, members=members[1:],
                                              authorisation=_scan("authorisation.pdf"),
                                              declared_assets="自住房一处，无机动车辆", accepted_on=accepted_on)
        head = app.household.members.get(relation="本人")
        services.member_update(actor=first, member=head, data={k: members[0][k] for k in ("labour_capacity",
                                                                                         "monthly_income")})
        return app

    def run(self, app, target: str, *, reason: str = "") -> None:
        first, second = self.caseworkers[app.household.township_code][:2]
        if target == ApplicationState.ACCEPTED:
            return
        app = applications.application_visit(
            actor=first, application=app, investigators=[first, second],
            visited_on=app.accepted_on + dt.timedelta(days=2), housing="砖瓦房两间，年久失修",
            income="务农及零工，收入不稳定", assets="无机动车辆，无经营性房产", members_present="户主及家人",
            survey=_scan("survey.pdf"))
        if target == ApplicationState.VISITED:
            return
        refuse = target == ApplicationState.REFUSED
        app = applications.application_propose(
            actor=second, application=app, proposal="refuse" if refuse else "approve",
            proposed_on=app.visited_on + dt.timedelta(days=2), refusal_reasons=reason)
        if target == ApplicationState.PROPOSED:
            return
        if refuse:
            applications.application_refuse(actor=self.reviewer, application=app, reasons=reason,
                                            decided_on=app.submitted_on + dt.timedelta(days=3))
            return
        app = applications.application_notice_start(actor=second, application=app, started_on=app.proposed_on)
        if target == ApplicationState.NOTICE:
            return
        applications.application_confirm(actor=self.reviewer, application=app,
                                         decided_on=app.submitted_on + dt.timedelta(days=2))

    def notify(self, app) -> None:
        app.refresh_from_db()
        applications.application_notify(actor=self.caseworkers[app.household.township_code][0], application=app,
                                        notified_on=app.decided_on + dt.timedelta(days=1))


# Applications of the demo caseworker's township still open (or refused and not yet notified):
# (state reached, accepted how many days ago, how many). Each worklist step has rows; the older
# ones are past their deadlines (the whole process, the county's confirmation, the refusal notice).
OPEN_APPLICATIONS = [
    (ApplicationState.ACCEPTED, 3, 2), (ApplicationState.ACCEPTED, 70, 1),
    (ApplicationState.VISITED, 6, 2), (ApplicationState.PROPOSED, 10, 1),
    (ApplicationState.NOTICE, 9, 2), (ApplicationState.NOTICE, 40, 2),
    (ApplicationState.REFUSED, 30, 1),
]


def seed(*, county: Region, users: dict[str, User], rng: random.Random, households: int = 500) -> str:
    """About a third of the households sit in the demo caseworker's township so its lists are full."""
    actor = users["admin"]
    if Household.objects.filter(household_no__startswith=f"{county.code}-").exists():
        return "registry: already seeded"
    standards = _standards(county, actor)
    villages = list(Region.objects.filter(code__startswith=county.code, level=Region.Level.VILLAGE)
                    .select_related("parent").order_by("code"))
    home = users["caseworker"].region_id
    focus = [v for v in villages if v.code.startswith(home)] or villages
    steps = _Steps(users["county_reviewer"], _township_caseworkers(sorted({v.parent for v in villages},
                                                                             key=lambda r: r.code)))
    used: set[str] = set()
    today = dt.date.today()
    made = members_made = open_made = 0

    def new_application(village: Region, accepted_on: dt.date):
        nonlocal made, members_made
        made += 1
        head_id = _id_number(rng, county.code, _birth(rng, 1940, 1985), rng.random() < 0.6, used)
        head = _name(rng)
        members = _members(rng, county, head, head_id, used)
        members_made += len(members)
        data = {"household_no": f"{county.code}-{made:05d}", "region": village, "head_name": head,
                "head_id_number": head_id, "category": "rural", "poverty_cause": rng.choice(CAUSES),
                "management_class": rng.choices(["A", "B", "C"], [30, 50, 20])[0],
                "registered_poor": rng.random() < 0.3, "phone": f"13{rng.randint(100000000, 999999999)}",
                # paid to the head's card at the county's rural bank, as most rolls are
                "payee_id_number": head_id, "account_no": f"62170{county.code}{made:08d}",
                "bank_name": f"{county.name}农村商业银行"}
        return steps.intake(data, members, accepted_on)

    for _ in range(households):
        village = rng.choice(focus if rng.random() < 0.35 else villages)
        status = rng.choices([Status.ACTIVE, Status.EXITED, Status.REJECTED], [80, 13, 7])[0]
        accepted_on = min(dt.date(rng.randint(2016, 2025), rng.randint(1, 12), rng.randint(1, 28)),
                          today - dt.timedelta(days=60))
        app = new_application(village, accepted_on)
        if status == Status.REJECTED:
            steps.run(app, ApplicationState.REFUSED,
                      reason=rng.choice(["家庭人均收入高于保障标准", "名下有机动车辆", "拒不配合入户调查"]))
        else:
            steps.run(app, ApplicationState.APPROVED)
        steps.notify(app)
        household = Household.objects.get(pk=app.household_id)
        reviewed = household.decided_on + dt.timedelta(days=rng.randint(100, 900))
        if status == Status.ACTIVE and reviewed < today and rng.random() < .6:
            services.household_update(actor=steps.caseworkers[household.township_code][0], household=household,
                                      data={"last_reviewed_on": reviewed}, note="定期核查")
        if status == Status.EXITED:
            services.household_exit(
                actor=users["county_reviewer"], household=household,
                exited_on=min(today, household.decided_on + dt.timedelta(days=rng.randint(60, 1500))),
                reason=rng.choice(["家庭收入超过保障标准", "外出务工收入增加", "死亡", "主动申请退出"]))

    for state, days_ago, count in OPEN_APPLICATIONS:
        for _ in range(count):
            open_made += 1
            app = new_application(rng.choice(focus), today - dt.timedelta(days=days_ago))
            steps.run(app, state, reason="家庭人均收入高于保障标准")
    made += 1
    clerk = steps.caseworkers[home][0]
    window = services.household_create(actor=clerk, data={
        "household_no": f"{county.code}-{made:05d}", "region": rng.choice(focus), "head_name": _name(rng),
        "head_id_number": _id_number(rng, county.code, _birth(rng, 1950, 1980), True, used),
        "applied_on": today - dt.timedelta(days=5)})
    applications.application_not_accept(actor=clerk, household=window, reason="申请人户籍不在本乡镇，请到户籍所在地申请",
                                        decided_on=today - dt.timedelta(days=5))

    townships = list(Region.objects.filter(parent=county).order_by("code"))
    staff_made = filings_made = 0
    active = list(Household.objects.filter(region__code__startswith=county.code, status=Status.ACTIVE)
                  .prefetch_related("members")[:40])
    for i, township in enumerate(townships[:12]):
        for staff_type in ("village_cadre", "caseworker"):
            staff = services.staff_save(actor=actor, data={
                "name": _name(rng), "id_number": _id_number(rng, county.code, _birth(rng, 1965, 1995), True, used),
                "staff_type": staff_type, "employer": township.name + ("村委会" if staff_type == "village_cadre" else "民政办"),
                "position": "村委会主任" if staff_type == "village_cadre" else "低保专干", "region": township})
            staff_made += 1
            if active and rng.random() < 0.5:
                household = active.pop()
                relative = household.members.all()[0]
                services.filing_save(actor=actor, data={
                    "staff": staff, "relative_name": relative.name, "relative_id_number": relative.id_number,
                    "relation": rng.choice(["兄弟姐妹", "父母", "子女"]), "household": household,
                    "filed_on": today - dt.timedelta(days=rng.randint(1, 200))})
                filings_made += 1
    civil = services.staff_save(actor=actor, data={
        "name": _name(rng), "id_number": _id_number(rng, county.code, _birth(rng, 1970, 1990), False, used),
        "staff_type": "civil_affairs", "employer": county.name + "民政局", "position": "社会救助股股长",
        "region": county})
    civil.user = users["county_reviewer"]
    civil.save(update_fields=["user"])
    staff_made += 1
    return (f"registry: {standards} benefit standards, {made} households ({open_made + 1} applications open or "
            f"just decided), {members_made} members, {staff_made} staff, {filings_made} relative filings")
