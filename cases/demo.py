"""Demo registry for one county: households with members, staff and filings.

Everything goes through the services, so the demo also shows a realistic audit trail.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from stdnum.cn import ric

from cases import services
from cases.models import Household, Staff, Status
from dibao.models import Region, User

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


def seed(*, county: Region, users: dict[str, User], rng: random.Random, households: int = 500) -> str:
    """About a third of the households sit in the demo caseworker's township so its lists are full."""
    actor = users["admin"]
    if Household.objects.filter(household_no__startswith=f"{county.code}-").exists():
        return "registry: already seeded"
    villages = list(Region.objects.filter(code__startswith=county.code, level=Region.Level.VILLAGE)
                    .order_by("code"))
    focus = [v for v in villages if v.code.startswith(users["caseworker"].region_id)]
    used: set[str] = set()
    today = dt.date.today()
    made = members_made = 0
    for n in range(1, households + 1):
        village = rng.choice(focus if focus and rng.random() < 0.35 else villages)
        status = rng.choices([Status.ACTIVE, Status.EXITED, Status.REJECTED, Status.PENDING], [75, 14, 7, 4])[0]
        applied = dt.date(rng.randint(2016, 2026), rng.randint(1, 12), rng.randint(1, 28))
        if applied > today:
            applied = today - dt.timedelta(days=rng.randint(30, 400))
        decided = applied + dt.timedelta(days=rng.randint(10, 40)) if status != Status.PENDING else None
        if decided and decided > today:
            decided = today
        head_male = rng.random() < 0.6
        head_id = _id_number(rng, county.code, _birth(rng, 1940, 1985), head_male, used)
        head = _name(rng)
        size = rng.choices([1, 2, 3, 4, 5], [25, 30, 25, 15, 5])[0]
        amount = (Decimal(rng.randint(300, 1500)) * size / 2).quantize(Decimal("1")) if status in (
            Status.ACTIVE, Status.EXITED) else None
        data = {
            "household_no": f"{county.code}-{n:05d}",
            "region": village,
            "head_name": head,
            "head_id_number": head_id,
            "category": "rural",
            "status": status,
            "applied_on": applied,
            "decided_on": decided,
            "monthly_amount": amount,
            "poverty_cause": rng.choice(CAUSES),
            "management_class": rng.choices(["A", "B", "C"], [30, 50, 20])[0],
            "last_reviewed_on": (decided + dt.timedelta(days=rng.randint(100, 900))) if decided and rng.random() < .6 else None,
            "registered_poor": rng.random() < 0.3,
            "phone": f"13{rng.randint(100000000, 999999999)}",
        }
        if data["last_reviewed_on"] and data["last_reviewed_on"] > today:
            data["last_reviewed_on"] = None
        if status == Status.EXITED:
            data["exited_on"] = min(today, decided + dt.timedelta(days=rng.randint(60, 1500)))
            data["exit_reason"] = rng.choice(["家庭收入超过保障标准", "外出务工收入增加", "死亡", "主动申请退出"])
        if status == Status.REJECTED:
            data["rejection_reason"] = rng.choice(["家庭收入超过保障标准", "名下有机动车辆", "拒不配合入户调查"])
        members = [{"name": head, "id_number": head_id, "relation": "本人",
                    "labour_capacity": rng.choice(["有", "部分丧失", "完全丧失"])}]
        for i in range(size - 1):
            relation = rng.choice(["配偶", "子女", "子女", "父母", "孙子女"])
            years = {"配偶": (1945, 1985), "子女": (1990, 2020), "父母": (1930, 1955), "孙子女": (2008, 2022)}[relation]
            member = {"name": _name(rng), "id_number": _id_number(rng, county.code, _birth(rng, *years),
                                                                   rng.random() < .5, used),
                      "relation": relation, "serious_illness": rng.random() < 0.08}
            if rng.random() < 0.12:
                member["disability_category"] = rng.choice(["肢体", "视力", "智力", "精神", "听力"])
                member["disability_level"] = rng.randint(1, 4)
            members.append(member)
        services.household_create(actor=actor, data=data, members=members)
        made += 1
        members_made += len(members)

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
    return (f"registry: {made} households, {members_made} members, {staff_made} staff, "
            f"{filings_made} relative filings")
