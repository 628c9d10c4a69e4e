"""Province-scale synthetic registry and cross-check data for benchmarks (Jilin, province 22).

    .venv/bin/python bench/generate.py --files [--households N] [--seed S] [--out DIR] [--xlsx-sample N]
    .venv/bin/python bench/generate.py --load [--replace]      # loads the CSV files in --out with COPY

`--files` streams every kind of spec/formats.md to `<out>/<kind>.csv` (UTF-8, Chinese headers), in
one pass per kind with constant memory apart from a few compact arrays (about 10 bytes per member)
that let the cross-check kinds point at real members. The same seed and size give byte-identical
files. `--load` COPYs those very files into staging tables and turns them into rows with
INSERT … SELECT (set-based, no ORM per row); the cross-check kinds become RefVersion 1, current.

What the data exercises (rules.md), at 1,000,000 households:
- registry: ~2.5 members per household; status 75% 在保 / 15% 已退出 / 7% 未通过 / 3% 审核中;
  ~3% of active households overdue for review; a few persons in two active households (DUPLICATE);
  a few active households whose head is not among the members or whose amount is 0.00 (data quality).
- cross-check kinds (~10M rows): mostly people not in dibao; 0.3–3% of each kind are members,
  with decoys that must NOT fire: deaths within the 30-day grace, exempt vehicle types,
  deregistered/revoked businesses, a single home or non-residential property, five-group
  candidates who are already in dibao, relatives that were filed.
- staff (~60k) with a few who are members themselves; close-relative filings; kinship links
  between staff and members both filed and unfiled, in both directions.
"""
from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import hashlib
import os
import random
import sys
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

AS_OF = dt.date(2026, 11, 20)  # the "today" the dates are laid out around
GRACE_DAYS = 30

# Rows per 1,000,000 households; the file set is scaled linearly with --households.
REF_ROWS = {
    "deaths": 1_500_000, "disability": 800_000, "illness": 600_000, "poverty": 700_000,
    "payroll": 1_000_000, "vehicles": 2_500_000, "business": 1_000_000, "property": 1_500_000,
    "kinship": 400_000,
}
STAFF_ROWS = 60_000
# Share of each kind's rows that are about dibao members (the rest are other residents).
MEMBER_SHARE = {
    "deaths": 0.010, "disability": 0.030, "illness": 0.030, "poverty": 0.030, "payroll": 0.003,
    "vehicles": 0.005, "business": 0.005, "property": 0.010, "kinship": 0.05,
}

HEADERS = {
    "households": ["户编号", "区划代码", "户主姓名", "户主身份证号", "保障类别", "状态", "申请日期", "审批日期",
                   "退出日期", "退出原因", "未通过原因", "月保障金额", "致贫原因", "分类管理", "最近复核日期",
                   "建档立卡户", "联系电话"],
    "members": ["户编号", "姓名", "身份证号", "与户主关系", "残疾类别", "残疾等级", "重病", "劳动能力", "月收入"],
    "staff": ["姓名", "身份证号", "人员类别", "工作单位", "职务", "区划代码"],
    "relatives": ["备案人身份证号", "亲属姓名", "亲属身份证号", "关系", "户编号", "备案日期"],
    "deaths": ["姓名", "身份证号", "死亡日期"],
    "disability": ["姓名", "身份证号", "残疾类别", "残疾等级", "区划代码"],
    "illness": ["姓名", "身份证号", "病种", "确诊日期", "区划代码"],
    "poverty": ["姓名", "身份证号", "扶贫户编号", "区划代码"],
    "payroll": ["姓名", "身份证号", "工作单位"],
    "vehicles": ["身份证号", "号牌号码", "车辆类型", "登记日期"],
    "business": ["身份证号", "企业名称", "统一社会信用代码", "注册资本（万元）", "登记状态"],
    "property": ["身份证号", "不动产单元号", "用途", "面积（㎡）"],
    "kinship": ["身份证号A", "身份证号B", "关系"],
}
REF_KINDS = list(REF_ROWS)
PAYMENT_MONTHS = 12
HEADERS_PAYMENTS = ["交易流水号", "发放月份", "户编号", "收款人姓名", "收款人身份证号", "银行账号", "发放金额", "发放日期",
                    "发放状态"]

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
            "阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺"
            "赖龚文朴关佟隋")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红梅丹波宁斌鹏辉凤琴云飞建国志海东"
         "春雪松柏林凯晶颖慧淑珍贵福成德胜利庆永生长宝山"
         "文武俊新庆喜荣")
REL_OTHERS = ("子女", "子女", "子女", "子女", "父母", "孙子女", "兄弟姐妹", "祖父母", "其他")
KIN = ("配偶", "父母", "子女", "兄弟姐妹", "祖父母", "外祖父母", "孙子女", "外孙子女")
DISAB_CATS = ("视力", "听力", "言语", "肢体", "智力", "精神", "多重")
CAUSES = ("因病", "因残", "因学", "因灾", "缺劳力", "缺技术", "其他")
STATUS_LABEL = ("在保", "已退出", "未通过", "审核中")
EXIT_REASONS = ("家庭收入超过低保标准", "家庭成员就业", "户主死亡，家庭无其他成员", "迁出本地", "本人申请退出",
                "核查发现家庭财产超标")
REJECT_REASONS = ("家庭收入超过低保标准", "家庭财产超过规定", "有赡养能力的赡养人", "拒不配合入户调查",
                  "申报信息与核对结果不符")
DISEASES = ("恶性肿瘤", "尿毒症", "白血病", "重症精神病", "器官移植术后", "慢性心力衰竭", "再生障碍性贫血",
            "血友病", "耐多药肺结核", "脑卒中后遗症")
CARS = ("小型轿车", "小型普通客车", "小型越野客车", "轻型普通货车", "中型普通客车", "重型半挂牵引车", "轻型厢式货车")
EXEMPT = ("摩托车", "三轮汽车", "低速货车", "拖拉机", "残疾人专用车")
EMPLOYERS = ("人民医院", "第一中学", "财政局", "人力资源和社会保障局", "公安局", "实验小学",
             "自然资源局", "教育局", "卫生健康局", "市场监督管理局", "中医院", "住房和城乡建设局")
STAFF_TYPE_LABEL = {"village_cadre": "村(居)委会干部", "caseworker": "低保经办人员",
                    "civil_affairs": "民政部门干部职工", "public_payroll": "其他财政供养人员"}
POSITIONS = {"village_cadre": ("村党支部书记", "村委会主任", "村委会委员", "村会计"),
             "caseworker": ("低保专干", "社会救助经办员"),
             "civil_affairs": ("科员", "社会救助科科长", "副局长"),
             "public_payroll": ("教师", "医生", "科员", "护士")}
BIZ_A = ("鑫", "宏", "隆", "兴", "盛", "源", "泰", "丰", "华", "顺", "达", "瑞", "恒", "通", "金", "富", "吉", "长",
         "祥", "福")
BIZ_B = ("达", "发", "昌", "远", "旺", "利", "安", "和", "润", "广", "鹏", "诚", "信", "德", "正", "博", "嘉", "汇",
         "邦", "宇")
BIZ_C = ("商贸", "农业科技", "建筑工程", "运输", "餐饮管理", "农机服务", "粮食购销", "养殖", "建材", "汽车修理",
         "物流", "装饰工程", "种植专业合作社", "家政服务", "食品")
PLATE_LETTERS = "ABCDEFGHJ"  # the cities of Jilin
PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def _digit_sum(digits: str, offset: int) -> int:
    return sum(int(c) * WEIGHTS[offset + i] for i, c in enumerate(digits))


class People:
    """Deterministic, unique resident ID numbers and names from (county, serial).

    A serial c of a county maps to birth day (c * 7919) mod NDAYS and order code
    c // NDAYS (+500 for residents outside the registry), a bijection, so IDs never
    collide and any person can be recomputed from two small integers. The check digit
    comes from precomputed partial weighted sums (same result as stdnum.cn.ric).
    """

    FIRST_BORN = dt.date(1930, 1, 1)

    def __init__(self, counties: list[str]):
        self.counties = counties
        self.county_sum = [_digit_sum(c, 0) for c in counties]
        n = (dt.date(2024, 12, 31) - self.FIRST_BORN).days + 1
        self.ndays = n
        days = [(self.FIRST_BORN + dt.timedelta(d)).strftime("%Y%m%d") for d in range(n)]
        self.days = days
        self.day_sum = [_digit_sum(d, 6) for d in days]
        self.seqs = [f"{s:03d}" for s in range(1000)]
        self.seq_sum = [_digit_sum(s, 14) for s in self.seqs]
        self.next_member = [0] * len(counties)
        self.next_other = [0] * len(counties)
        self._ns, self._ng = len(SURNAMES), len(GIVEN)

    def id(self, cidx: int, c: int, other: bool) -> str:
        day = (c * 7919) % self.ndays
        seq = c // self.ndays + (500 if other else 0)
        total = self.county_sum[cidx] + self.day_sum[day] + self.seq_sum[seq]
        return self.counties[cidx] + self.days[day] + self.seqs[seq] + CHECK[total % 11]

    def name(self, cidx: int, c: int, other: bool) -> str:
        h = (c * 2654435761 + cidx * 40503 + (977 if other else 0)) & 0xFFFFFFFF
        g = GIVEN[(h >> 7) % self._ng]
        if h & 3:
            g += GIVEN[(h >> 17) % self._ng]
        return SURNAMES[h % self._ns] + g

    def new_member(self, cidx: int) -> int:
        c = self.next_member[cidx]
        self.next_member[cidx] = c + 1
        return c

    def new_other(self, cidx: int) -> int:
        c = self.next_other[cidx]
        self.next_other[cidx] = c + 1
        return c


def _dates(start: dt.date, end: dt.date) -> list[str]:
    return [(start + dt.timedelta(d)).isoformat() for d in range((end - start).days + 1)]


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _minus_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def payment_months() -> list[str]:
    """'YYYY-MM' of the PAYMENT_MONTHS months ending with AS_OF's, oldest first."""
    return [f"{_minus_months(AS_OF.replace(day=1), k):%Y-%m}" for k in range(PAYMENT_MONTHS - 1, -1, -1)]


def _months_apart(earlier: str, later: str) -> int:
    """Whole months from 'YYYY-MM' `earlier` to `later`."""
    return (int(later[:4]) - int(earlier[:4])) * 12 + int(later[5:7]) - int(earlier[5:7])


class Generator:
    def __init__(self, *, households: int, seed: int, out: Path, villages: list[str], region_names: dict):
        self.n_households = households
        self.scale = households / 1_000_000
        self.seed = seed
        self.out = out
        self.villages = villages
        counties = sorted({v[:6] for v in villages})
        self.counties = counties
        self.county_index = county_index = {c: i for i, c in enumerate(counties)}
        self.village_county = array("H", (county_index[v[:6]] for v in villages))
        self.county_villages = {i: [] for i in range(len(counties))}
        for vi, v in enumerate(villages):
            self.county_villages[county_index[v[:6]]].append(vi)
        self.townships = sorted({v[:9] for v in villages})
        self.region_names = region_names
        self.people = People(counties)
        # Compact per-member facts so cross-check rows can point at real members.
        self.m_county = array("H")
        self.m_serial = array("I")
        self.m_house = array("I")
        self.h_first = array("I")
        self.h_status = bytearray()
        self.h_village = array("H")
        self.counts: dict[str, int] = {}
        self.staff: list[tuple[int, int, bool, str]] = []  # (county, serial, is_member, type)
        self.filings: set[tuple[int, int]] = set()  # (staff index, member index)
        self.severe_others = array("I")  # packed county<<24 | serial of severely disabled non-members

    def rng(self, kind: str) -> random.Random:
        return random.Random(f"{self.seed}:{kind}")

    def rows(self, kind: str) -> int:
        base = STAFF_ROWS if kind == "staff" else REF_ROWS[kind]
        return max(10, round(base * self.scale))

    def _open(self, kind: str):
        return self._open_file(f"{kind}.csv", HEADERS[kind])

    # -- helpers that name real members ---------------------------------------------------
    def member_id(self, m: int) -> str:
        return self.people.id(self.m_county[m], self.m_serial[m], False)

    def member_name(self, m: int) -> str:
        return self.people.name(self.m_county[m], self.m_serial[m], False)

    def household_no(self, h: int) -> str:
        return f"{self.villages[self.h_village[h]][:6]}{h + 1:08d}"

    def pick_member(self, rng: random.Random, used: set | None, active_bias: float = 0.0) -> int:
        n = len(self.m_serial)
        while True:
            m = rng.randrange(n)
            if active_bias and self.h_status[self.m_house[m]] != 0 and rng.random() < active_bias:
                continue
            if used is not None:
                if m in used:
                    continue
                used.add(m)
            return m

    def new_other(self, rng: random.Random) -> tuple[int, int, int]:
        """A resident outside the registry: (village index, county index, serial)."""
        vi = rng.randrange(len(self.villages))
        ci = self.village_county[vi]
        return vi, ci, self.people.new_other(ci)

    # -- registry ------------------------------------------------------------------------
    def registry(self) -> None:
        rng = self.rng("registry")
        people = self.people
        hfh, hw = self._open("households")
        mfh, mw = self._open("members")
        apply_days = _dates(dt.date(2015, 1, 1), AS_OF - dt.timedelta(days=5))
        n_apply = len(apply_days)
        start_ord = dt.date(2015, 1, 1).toordinal()
        as_of_ord = AS_OF.toordinal()
        iso = {}

        def day(ordinal: int) -> str:
            s = iso.get(ordinal)
            if s is None:
                s = iso[ordinal] = dt.date.fromordinal(ordinal).isoformat()
            return s

        intervals = {"A": (AS_OF - _minus_months(AS_OF, 12)).days, "B": (AS_OF - _minus_months(AS_OF, 6)).days,
                     "C": (AS_OF - _minus_months(AS_OF, 3)).days}
        nv = len(self.villages)
        rnd = rng.random
        randrange = rng.randrange
        n_members = 0
        for h in range(self.n_households):
            vi = randrange(nv)
            village = self.villages[vi]
            ci = self.village_county[vi]
            hno = f"{village[:6]}{h + 1:08d}"
            r = rnd()
            status = 0 if r < 0.75 else 1 if r < 0.90 else 2 if r < 0.97 else 3
            self.h_first.append(n_members)
            self.h_status.append(status)
            self.h_village.append(vi)
            # household size 1..5, mean ~2.5
            r = rnd()
            size = 1 if r < 0.22 else 2 if r < 0.52 else 3 if r < 0.78 else 4 if r < 0.93 else 5
            applied = start_ord + randrange(n_apply)
            decided = exited = reviewed = ""
            amount = exit_reason = reject_reason = ""
            cls = "B"
            if status != 3:
                d = min(applied + 10 + randrange(35), as_of_ord - 1)
                decided = day(d)
            if status == 0:
                r = rnd()
                cls = "A" if r < 0.2 else "B" if r < 0.7 else "C"
                r = rnd()
                if r < 0.03:  # overdue for review (REVIEW_OVERDUE)
                    rv = as_of_ord - intervals[cls] - 1 - randrange(300)
                    reviewed = day(max(rv, d)) if rv > d else ""
                elif r < 0.05:
                    reviewed = ""  # never reviewed since approval
                else:
                    rv = as_of_ord - randrange(int(intervals[cls] * 0.95))
                    reviewed = day(max(rv, d))
                amount = _money(size * (15000 + randrange(35000))) if rnd() > 0.0001 else "0.00"
            elif status == 1:
                e = d + 60 + randrange(max(1, as_of_ord - d - 60))
                exited = day(min(e, as_of_ord - 1))
                exit_reason = EXIT_REASONS[randrange(len(EXIT_REASONS))] if rnd() < 0.9 else ""
            elif status == 2:
                reject_reason = REJECT_REASONS[randrange(len(REJECT_REASONS))]
            head_c = people.new_member(ci)
            head_id = people.id(ci, head_c, False)
            head_name = people.name(ci, head_c, False)
            head_in_file = head_id
            if status == 0 and rnd() < 0.0001:  # HEAD_NOT_MEMBER: head changed, members not updated
                head_in_file = people.id(ci, people.new_other(ci), True)
            hw.writerow((hno, village, head_name, head_in_file, "农村低保" if rnd() < 0.93 else "城市低保",
                         STATUS_LABEL[status], day(applied), decided, exited, exit_reason, reject_reason, amount,
                         CAUSES[randrange(7)] if rnd() < 0.9 else "", cls, reviewed,
                         "是" if rnd() < 0.18 else "否",
                         f"13{randrange(10**9):09d}" if rnd() < 0.7 else ""))
            for k in range(size):
                if k == 0:
                    c, cci, rel, name, pid = head_c, ci, "本人", head_name, head_id
                else:
                    rel = "配偶" if k == 1 and rnd() < 0.8 else REL_OTHERS[randrange(len(REL_OTHERS))]
                    if n_members and rnd() < 0.0004:  # the same person in another household (DUPLICATE)
                        other = randrange(n_members)
                        cci, c = self.m_county[other], self.m_serial[other]
                    else:
                        cci, c = ci, people.new_member(ci)
                    name = people.name(cci, c, False)
                    pid = people.id(cci, c, False)
                self.m_county.append(cci)
                self.m_serial.append(c)
                self.m_house.append(h)
                n_members += 1
                r = rnd()
                if r < 0.09:
                    dcat = DISAB_CATS[randrange(7)]
                    dlev = str(1 + randrange(4))
                else:
                    dcat = dlev = ""
                r = rnd()
                labour = "有" if r < 0.5 else "部分丧失" if r < 0.75 else "完全丧失" if r < 0.9 else ""
                mw.writerow((hno, name, pid, rel, dcat, dlev, "是" if rnd() < 0.06 else "否", labour,
                             _money(randrange(80000)) if rnd() < 0.4 else ""))
        self.h_first.append(n_members)
        hfh.close()
        mfh.close()
        self.counts["households"] = self.n_households
        self.counts["members"] = n_members

    def staff_and_relatives(self) -> None:
        rng = self.rng("staff")
        people = self.people
        fh, w = self._open("staff")
        n = self.rows("staff")
        for i in range(n):
            r = rng.random()
            stype = ("village_cadre" if r < 0.55 else "caseworker" if r < 0.60 else
                     "civil_affairs" if r < 0.65 else "public_payroll")
            if rng.random() < 0.005:  # staff who are themselves in a dibao household
                m = self.pick_member(rng, None, active_bias=0.8)
                ci, c, is_member = self.m_county[m], self.m_serial[m], True
                vi = self.h_village[self.m_house[m]]
            else:
                vi, ci, c = self.new_other(rng)
                is_member = False
            village = self.villages[vi]
            region = {"village_cadre": village, "caseworker": village[:9]}.get(stype, village[:6])
            cname = self.region_names.get(village[:6], "")
            employer = {"village_cadre": self.region_names.get(village, "") + "村民委员会",
                        "caseworker": self.region_names.get(village[:9], "") + "人民政府",
                        "civil_affairs": cname + "民政局"}.get(stype) or cname + EMPLOYERS[rng.randrange(len(EMPLOYERS))]
            w.writerow((people.name(ci, c, not is_member), people.id(ci, c, not is_member), STAFF_TYPE_LABEL[stype],
                        employer,
                        POSITIONS[stype][rng.randrange(len(POSITIONS[stype]))], region))
            self.staff.append((ci, c, is_member, stype))
        fh.close()
        self.counts["staff"] = n

        fh, w = self._open("relatives")
        filed_days = _dates(dt.date(2018, 6, 1), AS_OF)
        nf = 0
        for s in range(n):
            if rng.random() >= 0.10:
                continue
            m = self.pick_member(rng, None, active_bias=0.7)
            if (s, m) in self.filings or self.staff[s][2] and self.staff_id(s) == self.member_id(m):
                continue
            self.filings.add((s, m))
            h = self.m_house[m]
            w.writerow((self.staff_id(s), self.member_name(m), self.member_id(m), KIN[rng.randrange(len(KIN))],
                        self.household_no(h) if rng.random() < 0.8 else "",
                        filed_days[rng.randrange(len(filed_days))]))
            nf += 1
        fh.close()
        self.counts["relatives"] = nf

    def staff_id(self, s: int) -> str:
        ci, c, is_member, _ = self.staff[s]
        return self.people.id(ci, c, not is_member)

    # -- cross-check kinds ----------------------------------------------------------------
    def reference(self, kind: str) -> None:
        rng = self.rng(kind)
        fh, w = self._open(kind)
        n = self.rows(kind)
        written = getattr(self, f"_ref_{kind}")(rng, w, n, MEMBER_SHARE[kind])
        fh.close()
        self.counts[kind] = written

    def _person(self, rng, share, used, active_bias=0.0):
        """(id, name, region code, member index or -1): a member with probability `share`, else a new resident."""
        if rng.random() < share:
            m = self.pick_member(rng, used, active_bias)
            return self.member_id(m), self.member_name(m), self.villages[self.h_village[self.m_house[m]]], m
        vi, ci, c = self.new_other(rng)
        return self.people.id(ci, c, True), self.people.name(ci, c, True), self.villages[vi], -1

    def _ref_deaths(self, rng, w, n, share):
        days = _dates(dt.date(2015, 1, 1), AS_OF - dt.timedelta(days=GRACE_DAYS + 1))
        recent = _dates(AS_OF - dt.timedelta(days=GRACE_DAYS - 1), AS_OF - dt.timedelta(days=1))
        used: set = set()
        for _ in range(n):
            pid, name, _, m = self._person(rng, share, used, active_bias=0.8)
            # members: 15% died within the grace period (must not be raised yet)
            when = recent[rng.randrange(len(recent))] if m >= 0 and rng.random() < 0.15 else days[rng.randrange(len(days))]
            w.writerow((name, pid, when))
        return n

    def _ref_disability(self, rng, w, n, share):
        used: set = set()
        for _ in range(n):
            pid, name, region, m = self._person(rng, share, used)
            cat = DISAB_CATS[rng.randrange(7)]
            level = 1 + rng.randrange(4)
            if m < 0 and (level <= 2 or level == 3 and cat in ("智力", "精神")) and len(self.severe_others) < 50_000:
                self.severe_others.append(self._pack_other(pid))
            w.writerow((name, pid, cat, level, region if rng.random() < 0.9 else ""))
        return n

    def _pack_other(self, pid: str) -> int:
        # Only called for residents just created by new_other(): their serial is the last one of the county.
        ci = self.county_index[pid[:6]]
        return ci << 24 | (self.people.next_other[ci] - 1)

    def _reuse_severe(self, rng, used: set):
        """A severely disabled resident from the disability set (to be in several five groups)."""
        for _ in range(5):
            packed = self.severe_others[rng.randrange(len(self.severe_others))]
            if packed in used:
                continue
            used.add(packed)
            ci, c = packed >> 24, packed & 0xFFFFFF
            vi = self.county_villages[ci][c % len(self.county_villages[ci])]
            return self.people.id(ci, c, True), self.people.name(ci, c, True), self.villages[vi]
        return None

    def _ref_illness(self, rng, w, n, share):
        days = _dates(dt.date(2012, 1, 1), AS_OF)
        used: set = set()
        reused: set = set()
        written = 0
        while written < n:
            person = None
            if self.severe_others and rng.random() < 0.03:
                person = self._reuse_severe(rng, reused)
            if person:
                pid, name, region = person
            else:
                pid, name, region, _ = self._person(rng, share, used)
            first = rng.randrange(len(DISEASES))
            diseases = [DISEASES[first]]
            if rng.random() < 0.02:  # two diseases, still one MISSED_ILLNESS finding
                diseases.append(DISEASES[(first + 1 + rng.randrange(len(DISEASES) - 1)) % len(DISEASES)])
            for d in diseases:
                w.writerow((name, pid, d, days[rng.randrange(len(days))] if rng.random() < 0.8 else "",
                            region if rng.random() < 0.9 else ""))
                written += 1
        return written

    def _ref_poverty(self, rng, w, n, share):
        used: set = set()
        reused: set = set()
        written = 0
        fam = 0
        while written < n:
            fam += 1
            size = 1 + rng.randrange(4)
            pno = ""
            for _ in range(size):
                person = None
                if self.severe_others and rng.random() < 0.03:
                    person = self._reuse_severe(rng, reused)
                if person:
                    pid, name, region = person
                else:
                    pid, name, region, _ = self._person(rng, share, used)
                if not pno:
                    pno = f"FP{region[:6]}{fam:07d}"
                w.writerow((name, pid, pno, region if rng.random() < 0.95 else ""))
                written += 1
        return written

    def _ref_payroll(self, rng, w, n, share):
        used: set = set()
        written = 0
        for s, (ci, c, is_member, stype) in enumerate(self.staff):
            if stype in ("civil_affairs", "public_payroll") and not is_member and rng.random() < 0.8:
                unit = self.region_names.get(self.counties[ci], "") + (
                    "民政局" if stype == "civil_affairs" else EMPLOYERS[rng.randrange(len(EMPLOYERS))])
                w.writerow((self.people.name(ci, c, True), self.people.id(ci, c, True), unit))
                written += 1
        while written < n:
            pid, name, region, m = self._person(rng, share, used, active_bias=0.8)
            w.writerow((name, pid, self.region_names.get(region[:6], "") + EMPLOYERS[rng.randrange(len(EMPLOYERS))]))
            written += 1
        return written

    def _ref_vehicles(self, rng, w, n, share):
        days = _dates(dt.date(2005, 1, 1), AS_OF)
        space = len(PLATE_CHARS) ** 5
        for i in range(n):
            pid, _, _, m = self._person(rng, share, None, active_bias=0.8)
            if m >= 0:
                vtype = EXEMPT[rng.randrange(5)] if rng.random() < 0.5 else CARS[rng.randrange(len(CARS))]
            else:
                vtype = CARS[rng.randrange(len(CARS))] if rng.random() < 0.85 else EXEMPT[rng.randrange(5)]
            k = (i // 9 * 7777777) % space
            tail = ""
            for _ in range(5):
                k, d = divmod(k, len(PLATE_CHARS))
                tail += PLATE_CHARS[d]
            w.writerow((pid, f"吉{PLATE_LETTERS[i % 9]}{tail}", vtype,
                        days[rng.randrange(len(days))] if rng.random() < 0.95 else ""))
        return n

    def _ref_business(self, rng, w, n, share):
        na, nb, nc = len(BIZ_A), len(BIZ_B), len(BIZ_C)
        for i in range(n):
            pid, _, region, m = self._person(rng, share, None, active_bias=0.8)
            a, rest = i % na, i // na
            b, rest = rest % nb, rest // nb
            c, rest = rest % nc, rest // nc
            suffix = f"{rest + 1}号" if rest else ""
            name = f"{self.region_names.get(region[:6], '吉林')}{BIZ_A[a]}{BIZ_B[b]}{BIZ_C[c]}{suffix}有限公司"
            r = rng.random()
            if m >= 0:
                status = "存续" if r < 0.35 else "在业" if r < 0.6 else "注销" if r < 0.85 else "吊销"
            else:
                status = "存续" if r < 0.55 else "在业" if r < 0.8 else "注销" if r < 0.95 else "吊销"
            credit = f"92{region[:6]}{rng.randrange(36 ** 10):010X}"[:18] if rng.random() < 0.9 else ""
            cap = _money(100 * (1 + rng.randrange(500)) * (1 if rng.random() < 0.8 else 10)) if rng.random() < 0.9 else ""
            w.writerow((pid, name, credit, cap, status))
        return n

    def _ref_property(self, rng, w, n, share):
        written = 0
        unit = 0
        used: set = set()

        def unit_no(region: str) -> str:
            nonlocal unit
            unit += 1
            return f"{region[:6]}{(unit * 37) % 1000000:06d}GB{unit % 100000:05d}F{unit:08d}"

        while written < n:
            if rng.random() < share:
                m = self.pick_member(rng, used, active_bias=0.8)
                h = self.m_house[m]
                region = self.villages[self.h_village[h]]
                r = rng.random()
                if r < 0.60:  # one home: allowed
                    plan = [(m, "住宅")]
                elif r < 0.85:  # two homes in the household (ASSET_PROPERTY), one member or two
                    first, last = self.h_first[h], self.h_first[h + 1]
                    other = first + rng.randrange(last - first)
                    plan = [(m, "住宅"), (other, "住宅")]
                else:  # a shop or a shed: not a home
                    plan = [(m, "商业" if rng.random() < 0.6 else "其他")]
                for mm, usage in plan:
                    w.writerow((self.member_id(mm), unit_no(region), usage, _money(3000 + rng.randrange(15000))))
                    written += 1
                continue
            vi, ci, c = self.new_other(rng)
            region = self.villages[vi]
            r = rng.random()
            usage = "住宅" if r < 0.85 else "商业" if r < 0.93 else "工业" if r < 0.96 else "其他"
            u = unit_no(region)
            area = _money(3000 + rng.randrange(20000))
            w.writerow((self.people.id(ci, c, True), u, usage, area))
            written += 1
            if usage == "住宅" and rng.random() < 0.3:  # co-owned by the spouse
                w.writerow((self.people.id(ci, self.people.new_other(ci), True), u, usage, area))
                written += 1
        return written

    def _ref_kinship(self, rng, w, n, share):
        written = 0
        pairs: set = set()
        filings = sorted(self.filings)
        # filed relatives also show up in the household register (decoys for RELATIVE_UNFILED)
        for s, m in filings:
            if rng.random() < 0.5:
                a, b = self.staff_id(s), self.member_id(m)
                if rng.random() < 0.5:
                    a, b = b, a
                if a != b and (a, b) not in pairs:
                    pairs.add((a, b))
                    w.writerow((a, b, KIN[rng.randrange(len(KIN))]))
                    written += 1
        unfiled = max(3, round(3000 * self.scale))
        for _ in range(unfiled):  # RELATIVE_UNFILED, both directions
            s = rng.randrange(len(self.staff))
            m = self.pick_member(rng, None, active_bias=0.8)
            if (s, m) in self.filings:
                continue
            a, b = self.staff_id(s), self.member_id(m)
            if rng.random() < 0.5:
                a, b = b, a
            if a != b and (a, b) not in pairs:
                pairs.add((a, b))
                w.writerow((a, b, KIN[rng.randrange(len(KIN))]))
                written += 1
        while written < n:
            if rng.random() < share:  # spouses/children inside a dibao household
                h = rng.randrange(self.n_households)
                first, last = self.h_first[h], self.h_first[h + 1]
                if last - first < 2:
                    continue
                a, b = self.member_id(first), self.member_id(first + 1 + rng.randrange(last - first - 1))
                if a == b or (a, b) in pairs:
                    continue
                pairs.add((a, b))
                rel = "配偶" if rng.random() < 0.5 else "子女"
            else:
                vi, ci, c = self.new_other(rng)
                a = self.people.id(ci, c, True)
                b = self.people.id(ci, self.people.new_other(ci), True)
                rel = KIN[rng.randrange(len(KIN))]
            w.writerow((a, b, rel))
            written += 1
        return written

    def payments(self) -> None:
        """The bank's return of each of the PAYMENT_MONTHS months ending with AS_OF's, one file a month
        as a bank sends them (`payments-YYYY-MM.csv`): every household 在保 by the month (decided before
        it ended) paid its registered amount, the head as payee, its own account; 交易流水号 run in
        sequence. Planted for the funds rules, per month: a failed transfer retried (not PAID_TWICE),
        paid twice, another amount, an account shared with the household before, a 户编号 the
        registry does not know, an exited household paid after its exit. Read back from households.csv."""
        rng = self.rng("payments")
        rnd = rng.random
        households = []
        with open(self.out / "households.csv", encoding="utf-8", newline="") as fh:
            rows = csv.reader(fh)
            next(rows)
            for row in rows:
                status = row[5]
                if status in ("在保", "已退出") and row[7]:
                    # (户编号, name, ID, decided month, exit month or "", amount of one 在保)
                    households.append((row[0], row[2], row[3], row[7][:7], row[8][:7], row[11] if status == "在保" else ""))
        total = 0
        for month in payment_months():
            fh, w = self._open_file(f"payments-{month}.csv", HEADERS_PAYMENTS)
            stamp = month.replace("-", "")
            serial = 0
            paid_on = f"{month}-10"
            previous_account = None

            def pay(no, name, pid, account, amount, status="成功"):
                nonlocal serial
                serial += 1
                w.writerow((f"{stamp}{serial:010d}", month, no, name, pid, account, amount, paid_on, status))

            for no, name, pid, decided, exited, amount in households:
                account = "62170" + no
                if amount:
                    if decided > month or amount == "0.00":
                        continue
                    r = rnd()
                    if r < 0.0005:
                        pay(no, name, pid, account, amount, "失败")
                    elif r < 0.0008:
                        pay(no, name, pid, account, amount)
                    elif r < 0.0010:
                        amount = f"{float(amount) + 100:.2f}"
                    elif r < 0.0011 and previous_account:
                        account = previous_account
                    pay(no, name, pid, account, amount)
                    previous_account = account
                elif exited and exited < month and _months_apart(exited, month) == 1 and rnd() < 0.002:
                    pay(no, name, pid, account, "500.00")  # the month after the exit
            for k in range(max(1, round(20 * self.scale))):
                pay(f"X{stamp}{k:06d}", "某人", households[k % len(households)][2], f"62179{stamp}{k:08d}", "600.00")
            fh.close()
            total += serial
        self.counts["payments"] = total

    def _open_file(self, name: str, header: list[str]):
        fh = open(self.out / name, "w", encoding="utf-8", newline="", buffering=1 << 20)
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        return fh, w

    def run(self) -> None:
        started = time.monotonic()
        steps = [("registry", self.registry), ("staff", self.staff_and_relatives)]
        steps += [(k, (lambda k=k: self.reference(k))) for k in REF_KINDS]
        steps.append(("payments", self.payments))
        for label, step in steps:
            t = time.monotonic()
            before = dict(self.counts)
            step()
            for k, v in self.counts.items():
                if k not in before:
                    print(f"  {k:<11} {v:>10,} rows   ({time.monotonic() - t:6.1f}s)", flush=True)
        total = sum(self.counts.values())
        print(f"wrote {total:,} rows for {self.n_households:,} households to {self.out} "
              f"in {time.monotonic() - started:.1f}s", flush=True)


# -- xlsx sample ----------------------------------------------------------------------------
def write_xlsx_sample(out: Path, n: int) -> None:
    from openpyxl import Workbook

    t = time.monotonic()
    wanted: set[str] = set()
    for kind in ("households", "members"):
        wb = Workbook(write_only=True)
        ws = wb.create_sheet(kind)
        rows = 0
        with open(out / f"{kind}.csv", encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            ws.append(next(reader))
            for row in reader:
                if kind == "households":
                    if rows >= n:
                        break
                    wanted.add(row[0])
                elif row[0] not in wanted:
                    if rows:
                        break
                    continue
                ws.append(row)  # strings: ID numbers stay text, as the template asks
                rows += 1
        wb.save(out / f"{kind}_sample.xlsx")
        print(f"  {kind}_sample.xlsx {rows:,} rows", flush=True)
    print(f"xlsx sample in {time.monotonic() - t:.1f}s")


# -- loading --------------------------------------------------------------------------------
def _b(col: str) -> str:
    return f"(CASE WHEN {col} IN ('是','Y','y','true','1') THEN true ELSE false END)"


def _t(col: str) -> str:
    return f"COALESCE({col}, '')"


def _d(col: str) -> str:
    return f"NULLIF({col}, '')::date"


def _n(col: str) -> str:
    return f"NULLIF({col}, '')::numeric"


# kind → (target table, target columns, SELECT expressions over staging columns c0..cN)
REF_LOAD = {
    "deaths": ("audits_deathrecord", ["id_number", "name", "death_date"], ["c1", "c0", _d("c2")]),
    "disability": ("audits_disabilityrecord", ["id_number", "name", "category", "level", "region_code"],
                   ["c1", "c0", "c2", "c3::smallint", _t("c4")]),
    "illness": ("audits_illnessrecord", ["id_number", "name", "disease", "diagnosed_on", "region_code"],
                ["c1", "c0", "c2", _d("c3"), _t("c4")]),
    "poverty": ("audits_povertyrecord", ["id_number", "name", "poverty_household_no", "region_code"],
                ["c1", "c0", _t("c2"), _t("c3")]),
    "payroll": ("audits_payrollrecord", ["id_number", "name", "employer"], ["c1", "c0", "c2"]),
    "vehicles": ("audits_vehiclerecord", ["id_number", "plate_no", "vehicle_type", "registered_on"],
                 ["c0", "c1", "c2", _d("c3")]),
    "business": ("audits_businessrecord", ["id_number", "company_name", "credit_code", "registered_capital", "status"],
                 ["c0", "c1", _t("c2"), _n("c3"), "c4"]),
    "property": ("audits_propertyrecord", ["id_number", "unit_no", "usage", "area"], ["c0", "c1", "c2", _n("c3")]),
    "kinship": ("audits_kinshiprecord", ["id_number_a", "id_number_b", "relation"], ["c0", "c1", "c2"]),
}
REGISTRY_TABLES = ["cases_relativefiling", "cases_member", "cases_staff", "cases_household"]


def _stage(cursor, kind: str, path: Path) -> int:
    cols = [f"c{i}" for i in range(len(HEADERS[kind]))]
    cursor.execute(f"DROP TABLE IF EXISTS stage_{kind}")
    cursor.execute(f"CREATE TEMP TABLE stage_{kind} ({', '.join(c + ' text' for c in cols)})")
    with open(path, encoding="utf-8") as fh:
        cursor.copy_expert(f"COPY stage_{kind} FROM STDIN WITH (FORMAT csv, HEADER true)", fh)
    return cursor.rowcount


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load(out: Path, replace: bool) -> None:
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        sys.exit("--load needs PostgreSQL (set DATABASE_URL)")
    missing = [k for k in HEADERS if not (out / f"{k}.csv").exists()]
    if missing:
        sys.exit(f"missing files in {out}: {', '.join(missing)} — run with --files first")
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM cases_household) OR EXISTS (SELECT 1 FROM audits_refversion)")
        if cursor.fetchone()[0] and not replace:
            sys.exit("the database already holds households or reference data; pass --replace to wipe and reload")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        ref_tables = ", ".join(t for t, _, _ in REF_LOAD.values())
        cursor.execute(f"TRUNCATE {', '.join(REGISTRY_TABLES)}, {ref_tables}, audits_refversion RESTART IDENTITY CASCADE")

        def step(label, sql, params=None):
            t = time.monotonic()
            cursor.execute(sql, params)
            print(f"  {label:<11} {cursor.rowcount:>10,} rows   ({time.monotonic() - t:6.1f}s)", flush=True)

        for kind in ("households", "members", "staff", "relatives"):
            t = time.monotonic()
            n = _stage(cursor, kind, out / f"{kind}.csv")
            print(f"  COPY {kind:<6} {n:>10,} rows   ({time.monotonic() - t:6.1f}s)", flush=True)
        step("households", f"""
            INSERT INTO cases_household (household_no, region_code, head_name, head_id_number, category, status,
                applied_on, decided_on, exited_on, exit_reason, rejection_reason, monthly_amount, poverty_cause,
                management_class, last_reviewed_on, registered_poor, phone, payment_stopped, created_at, updated_at)
            SELECT c0, c1, c2, c3, CASE c4 WHEN '城市低保' THEN 'urban' ELSE 'rural' END,
                CASE c5 WHEN '在保' THEN 'active' WHEN '已退出' THEN 'exited' WHEN '未通过' THEN 'rejected'
                        ELSE 'pending' END,
                c6::date, {_d('c7')}, {_d('c8')}, {_t('c9')}, {_t('c10')}, {_n('c11')}, {_t('c12')},
                COALESCE(NULLIF(c13, ''), 'B'), {_d('c14')}, {_b('c15')}, {_t('c16')}, false, now(), now()
            FROM stage_households""")
        step("members", f"""
            INSERT INTO cases_member (household_id, name, id_number, relation, disability_category, disability_level,
                serious_illness, labour_capacity, monthly_income)
            SELECT h.id, s.c1, s.c2, s.c3, {_t('s.c4')}, NULLIF(s.c5, '')::smallint, {_b('s.c6')}, {_t('s.c7')},
                {_n('s.c8')}
            FROM stage_members s JOIN cases_household h ON h.household_no = s.c0""")
        step("staff", """
            INSERT INTO cases_staff (name, id_number, staff_type, employer, position, region_code)
            SELECT c0, c1, CASE c2 WHEN '村(居)委会干部' THEN 'village_cadre' WHEN '低保经办人员' THEN 'caseworker'
                                   WHEN '民政部门干部职工' THEN 'civil_affairs' WHEN '其他财政供养人员' THEN 'public_payroll'
                                   ELSE c2 END,
                   COALESCE(c3, ''), COALESCE(c4, ''), c5 FROM stage_staff""")
        step("relatives", f"""
            INSERT INTO cases_relativefiling (staff_id, relative_name, relative_id_number, relation, household_id,
                filed_on, created_at)
            SELECT st.id, s.c1, s.c2, s.c3, h.id, s.c5::date, now()
            FROM stage_relatives s JOIN cases_staff st ON st.id_number = s.c0
            LEFT JOIN cases_household h ON h.household_no = s.c4""")
        for kind, (table, columns, exprs) in REF_LOAD.items():
            path = out / f"{kind}.csv"
            t = time.monotonic()
            n = _stage(cursor, kind, path)
            cursor.execute("""INSERT INTO audits_refversion (kind, version_no, is_current, loaded_at, file_name,
                                  sha256, row_count) VALUES (%s, 1, true, now(), %s, %s, %s) RETURNING id""",
                           [kind, path.name, _sha256(path), n])
            version = cursor.fetchone()[0]
            cursor.execute(f"INSERT INTO {table} (version_id, {', '.join(columns)}) "
                           f"SELECT {version}, {', '.join(exprs)} FROM stage_{kind}")
            cursor.execute(f"DROP TABLE stage_{kind}")
            print(f"  {kind:<11} {n:>10,} rows   ({time.monotonic() - t:6.1f}s)", flush=True)
    t = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"  ANALYZE                      ({time.monotonic() - t:6.1f}s)")
    print(f"loaded {out} in {time.monotonic() - started:.1f}s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261120)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--files", action="store_true", help="write the CSV files of every kind")
    parser.add_argument("--load", action="store_true", help="load the CSV files in --out into DATABASE_URL")
    parser.add_argument("--replace", action="store_true", help="with --load: wipe registry and reference data first")
    parser.add_argument("--xlsx-sample", type=int, default=0, metavar="N",
                        help="write households/members_sample.xlsx with the first N households")
    args = parser.parse_args(argv)
    if not (args.files or args.load or args.xlsx_sample):
        parser.error("nothing to do: give --files, --load and/or --xlsx-sample")

    import django
    django.setup()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.files:
        from dibao.models import Region
        villages = list(Region.objects.filter(level=Region.Level.VILLAGE, code__startswith="22")
                        .order_by("code").values_list("code", flat=True))
        if not villages:
            sys.exit("no villages of province 22: run `manage.py load_regions --province 22` first")
        names = dict(Region.objects.filter(code__startswith="22", level__lte=Region.Level.VILLAGE)
                     .values_list("code", "name"))
        print(f"generating {args.households:,} households over {len(villages):,} villages (seed {args.seed})",
              flush=True)
        Generator(households=args.households, seed=args.seed, out=args.out, villages=villages,
                  region_names=names).run()
    if args.xlsx_sample:
        write_xlsx_sample(args.out, args.xlsx_sample)
    if args.load:
        load(args.out, args.replace)


if __name__ == "__main__":
    main()
