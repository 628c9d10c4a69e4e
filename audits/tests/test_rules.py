"""Each rule of spec/rules.md: a positive case and the decoys the rule implies."""
import datetime as dt
from decimal import Decimal

import pytest

from audits.models import FindingState, RefKind, VerificationTask
from audits.rules import months_before
from audits.tests.helpers import AS_OF, keys, ref, run
from cases.models import Member, Status
from tests.factories import FilingFactory, HouseholdFactory, MemberFactory, StaffFactory, make_id

pytestmark = pytest.mark.django_db


def member(household=None, **kw):
    return MemberFactory(household=household or HouseholdFactory(), **kw)


def test_months_before_clamps_to_month_end():
    assert months_before(dt.date(2026, 10, 31), 6) == dt.date(2026, 4, 30)
    assert months_before(dt.date(2026, 5, 31), 3) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2024, 5, 31), 3) == dt.date(2024, 2, 29)
    assert months_before(dt.date(2026, 1, 15), 12) == dt.date(2025, 1, 15)
    assert months_before(dt.date(2026, 2, 10), 3) == dt.date(2025, 11, 10)


def test_deceased_respects_grace_days(regions):
    at_30 = member()
    at_29 = member()
    exited = member(HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2025, 1, 1)))
    ref(RefKind.DEATHS, [
        {"id_number": at_30.id_number, "name": at_30.name, "death_date": AS_OF - dt.timedelta(days=30)},
        {"id_number": at_29.id_number, "name": at_29.name, "death_date": AS_OF - dt.timedelta(days=29)},
        {"id_number": exited.id_number, "name": exited.name, "death_date": dt.date(2024, 1, 1)},
    ])
    batch = run()
    assert keys(batch, "DECEASED") == {(at_30.household.household_no, at_30.id_number)}
    finding = batch.findings.get(rule="DECEASED")
    assert finding.detail == "死亡人员数据 v1：死亡日期 2026-10-01"
    assert finding.name == at_30.name and finding.region_code == "220102001001"


def test_public_payroll_and_staff_self(regions):
    on_payroll = member()
    civil = member()
    cadre = member()
    caseworker = member()
    ref(RefKind.PAYROLL, [{"id_number": on_payroll.id_number, "name": "x", "employer": "县财政局"}])
    StaffFactory(id_number=civil.id_number, staff_type="civil_affairs", employer="县民政局")
    StaffFactory(id_number=cadre.id_number, staff_type="village_cadre", employer="南岭村委会")
    StaffFactory(id_number=caseworker.id_number, staff_type="caseworker")
    batch = run()
    assert {i for _, i in keys(batch, "PUBLIC_PAYROLL")} == {on_payroll.id_number, civil.id_number}
    assert {i for _, i in keys(batch, "STAFF_SELF")} == {cadre.id_number, caseworker.id_number}
    assert batch.findings.get(rule="PUBLIC_PAYROLL", id_number=on_payroll.id_number).detail == \
        "财政供养人员数据 v1：工作单位 县财政局"
    assert "民政部门干部职工" in batch.findings.get(rule="PUBLIC_PAYROLL", id_number=civil.id_number).detail


def test_relatives_filed_and_unfiled_both_directions(regions):
    staff = StaffFactory(name="王干部")
    filed = member()
    kin_b = member()     # A = staff, B = member
    kin_a = member()     # A = member, B = staff
    kin_filed = member()  # kin and filed: RELATIVE_FILED only
    stranger = member()   # kin of someone who is not staff
    FilingFactory(staff=staff, relative_id_number=filed.id_number)
    FilingFactory(staff=staff, relative_id_number=kin_filed.id_number)
    ref(RefKind.KINSHIP, [
        {"id_number_a": staff.id_number, "id_number_b": kin_b.id_number, "relation": "子女"},
        {"id_number_a": kin_a.id_number, "id_number_b": staff.id_number, "relation": "兄弟姐妹"},
        {"id_number_a": staff.id_number, "id_number_b": kin_filed.id_number, "relation": "配偶"},
        {"id_number_a": make_id(), "id_number_b": stranger.id_number, "relation": "子女"},
    ])
    batch = run()
    assert {i for _, i in keys(batch, "RELATIVE_FILED")} == {filed.id_number, kin_filed.id_number}
    assert {i for _, i in keys(batch, "RELATIVE_UNFILED")} == {kin_b.id_number, kin_a.id_number}
    assert batch.findings.get(rule="RELATIVE_UNFILED", id_number=kin_b.id_number).detail == \
        "户籍亲属关系数据 v1：工作人员 王干部 的子女，无近亲属备案"
    assert batch.findings.get(rule="RELATIVE_UNFILED", id_number=kin_a.id_number).detail == \
        "户籍亲属关系数据 v1：其兄弟姐妹为工作人员 王干部，无近亲属备案"


def test_duplicate_one_finding_per_active_household(regions):
    person = member()
    second = MemberFactory(household=HouseholdFactory(region_id="220103001001"), id_number=person.id_number)
    active_and_exited = member()
    MemberFactory(household=HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2020, 5, 1)),
                  id_number=active_and_exited.id_number)
    batch = run()
    assert keys(batch, "DUPLICATE") == {(person.household.household_no, person.id_number),
                                        (second.household.household_no, person.id_number)}
    # In dibao through the active household: not a missed exited person either.
    assert not batch.findings.filter(rule="MISSED_EXITED", id_number=active_and_exited.id_number).exists()
    county = run(region="220103")
    assert keys(county, "DUPLICATE") == {(second.household.household_no, person.id_number)}


def test_vehicles_exempt_types(regions):
    car = member()
    moto = member()
    ref(RefKind.VEHICLES, [
        {"id_number": car.id_number, "plate_no": "吉A12345", "vehicle_type": "小型轿车"},
        {"id_number": car.id_number, "plate_no": "吉A99999", "vehicle_type": "摩托车"},
        {"id_number": moto.id_number, "plate_no": "吉A00001", "vehicle_type": "摩托车"},
        {"id_number": moto.id_number, "plate_no": "吉A00002", "vehicle_type": "三轮汽车"},
        {"id_number": moto.id_number, "plate_no": "吉A00003", "vehicle_type": "低速货车"},
        {"id_number": moto.id_number, "plate_no": "吉A00004", "vehicle_type": "拖拉机"},
        {"id_number": moto.id_number, "plate_no": "吉A00005", "vehicle_type": "残疾人专用车"},
    ])
    batch = run()
    assert keys(batch, "ASSET_VEHICLE") == {(car.household.household_no, car.id_number)}
    assert batch.findings.get(rule="ASSET_VEHICLE").detail == "机动车登记数据 v1：号牌 吉A12345（小型轿车）"


@pytest.mark.parametrize("status,flagged", [("存续", True), ("在业", True), ("注销", False), ("吊销", False)])
def test_business_registration_status(regions, status, flagged):
    owner = member()
    ref(RefKind.BUSINESS, [{"id_number": owner.id_number, "company_name": "某某商贸有限公司", "status": status}])
    assert bool(keys(run(), "ASSET_BUSINESS")) is flagged


def test_property_counts_homes_across_members(regions):
    two = HouseholdFactory()
    spouse = MemberFactory(household=two, relation="配偶")
    one_coowned = HouseholdFactory()
    coowner = MemberFactory(household=one_coowned, relation="配偶")
    mixed = HouseholdFactory()
    ref(RefKind.PROPERTY, [
        {"id_number": two.head_id_number, "unit_no": "U1", "usage": "住宅"},
        {"id_number": spouse.id_number, "unit_no": "U2", "usage": "住宅"},
        {"id_number": one_coowned.head_id_number, "unit_no": "U3", "usage": "住宅"},
        {"id_number": coowner.id_number, "unit_no": "U3", "usage": "住宅"},
        {"id_number": mixed.head_id_number, "unit_no": "U4", "usage": "住宅"},
        {"id_number": mixed.head_id_number, "unit_no": "U5", "usage": "商业"},
    ])
    batch = run()
    assert keys(batch, "ASSET_PROPERTY") == {(two.household_no, two.head_id_number)}
    assert "住宅 2 套" in batch.findings.get(rule="ASSET_PROPERTY").detail


@pytest.mark.parametrize("cls,last,decided,flagged", [
    ("B", dt.date(2026, 4, 29), None, True),
    ("B", dt.date(2026, 4, 30), None, False),   # 2026-10-31 − 6 months = 2026-04-30
    ("A", dt.date(2025, 10, 30), None, True),
    ("A", dt.date(2025, 10, 31), None, False),
    ("C", dt.date(2026, 7, 30), None, True),
    ("C", dt.date(2026, 7, 31), None, False),
    ("B", None, dt.date(2026, 4, 29), True),     # never reviewed: decided_on counts
    ("B", None, dt.date(2026, 5, 1), False),
])
def test_review_overdue_intervals(regions, cls, last, decided, flagged):
    household = HouseholdFactory(management_class=cls, last_reviewed_on=last,
                                 decided_on=decided or dt.date(2020, 2, 10), applied_on=dt.date(2020, 1, 1))
    found = keys(run(), "REVIEW_OVERDUE")
    assert ((household.household_no, household.head_id_number) in found) is flagged


def test_five_groups_candidates_and_people_in_dibao(regions):
    severe = make_id("220102")
    grade3_mental = make_id("220102")
    grade3_physical = make_id("220102")
    grade4 = make_id("220102")
    in_dibao = member()
    ref(RefKind.DISABILITY, [
        {"id_number": severe, "name": "甲", "category": "肢体", "level": 1, "region_code": "220102001001"},
        {"id_number": grade3_mental, "name": "乙", "category": "精神", "level": 3, "region_code": "220102001"},
        {"id_number": grade3_physical, "name": "丙", "category": "肢体", "level": 3, "region_code": "220102001"},
        {"id_number": grade4, "name": "丁", "category": "智力", "level": 4, "region_code": "220102001"},
        {"id_number": in_dibao.id_number, "name": "戊", "category": "智力", "level": 1, "region_code": "220102001"},
    ])
    ill = make_id("220103")
    ref(RefKind.ILLNESS, [
        {"id_number": ill, "name": "己", "disease": "尿毒症", "region_code": "220103001"},
        {"id_number": ill, "name": "己", "disease": "白血病", "region_code": "220103001"},
    ])
    ref(RefKind.POVERTY, [{"id_number": severe, "name": "甲", "poverty_household_no": "P001",
                           "region_code": "220102001001"}])
    batch = run()
    assert keys(batch, "MISSED_DISABLED") == {("", severe), ("", grade3_mental)}
    assert keys(batch, "MISSED_ILLNESS") == {("", ill)}
    assert keys(batch, "MISSED_POOR") == {("", severe)}
    assert batch.findings.get(rule="MISSED_ILLNESS").detail == "重病患者数据 v1：病种 尿毒症 等 2 种"
    assert batch.findings.get(rule="MISSED_DISABLED", id_number=grade3_mental).region_code == "220102001"
    county = run(region="220103")
    assert keys(county, "MISSED_ILLNESS") == {("", ill)} and not keys(county, "MISSED_DISABLED")


def test_five_groups_household_and_region_fallback(regions):
    old = HouseholdFactory(region_id="220103001001", status=Status.EXITED, decided_on=dt.date(2018, 1, 1),
                           exited_on=dt.date(2019, 6, 1))
    newer = HouseholdFactory(region_id="220102002001", status=Status.REJECTED, applied_on=dt.date(2022, 3, 1),
                             decided_on=dt.date(2022, 4, 1))
    person = MemberFactory(household=old)
    MemberFactory(household=newer, id_number=person.id_number)
    ref(RefKind.POVERTY, [{"id_number": person.id_number, "name": person.name, "region_code": ""}])
    batch = run()
    poor = batch.findings.get(rule="MISSED_POOR")
    # No region on the reference row: the most recent non-active household gives household and region.
    assert poor.household_id == newer.pk and poor.region_code == "220102002001"
    mine = {"MISSED_EXITED", "MISSED_REJECTED"}
    assert {(f.rule, f.household_id) for f in batch.findings.filter(id_number=person.id_number, rule__in=mine)} \
        == {("MISSED_EXITED", newer.pk), ("MISSED_REJECTED", newer.pk)}
    assert keys(run(region="220102002"), "MISSED_POOR") == {(newer.household_no, person.id_number)}
    assert not keys(run(region="220103"), "MISSED_POOR")


def test_exited_and_rejected_boundaries(regions):
    def exited(on):
        return MemberFactory(household=HouseholdFactory(status=Status.EXITED, decided_on=dt.date(2014, 1, 1),
                                                        applied_on=dt.date(2013, 12, 1), exited_on=on))

    def rejected(applied):
        return MemberFactory(household=HouseholdFactory(status=Status.REJECTED, applied_on=applied,
                                                        decided_on=applied + dt.timedelta(days=20)))

    e_in, e_out = exited(dt.date(2016, 1, 1)), exited(dt.date(2015, 12, 31))
    r_in, r_out = rejected(dt.date(2017, 1, 1)), rejected(dt.date(2016, 12, 31))
    batch = run()
    assert {i for _, i in keys(batch, "MISSED_EXITED")} >= {e_in.id_number}
    assert e_out.id_number not in {i for _, i in keys(batch, "MISSED_EXITED")}
    assert r_in.id_number in {i for _, i in keys(batch, "MISSED_REJECTED")}
    assert r_out.id_number not in {i for _, i in keys(batch, "MISSED_REJECTED")}
    # Heads are members too: the exited household's head is found as well.
    assert e_in.household.head_id_number in {i for _, i in keys(batch, "MISSED_EXITED")}


def test_person_in_three_groups_gets_three_findings_and_one_task(regions):
    person = make_id("220102")
    exited = HouseholdFactory(status=Status.EXITED, exited_on=dt.date(2020, 1, 1), region_id="220102001002")
    MemberFactory(household=exited, id_number=person, name="张三")
    ref(RefKind.DISABILITY, [{"id_number": person, "name": "张三", "category": "智力", "level": 2,
                              "region_code": "220102001002"}])
    ref(RefKind.POVERTY, [{"id_number": person, "name": "张三", "region_code": "220102001002"}])
    batch = run()
    assert set(batch.findings.filter(id_number=person).values_list("rule", flat=True)) == {
        "MISSED_DISABLED", "MISSED_POOR", "MISSED_EXITED"}
    assert set(batch.findings.filter(id_number=person).values_list("state", flat=True)) == {FindingState.TASKED}
    task = VerificationTask.objects.get(id_number=person)
    assert task.township_code == "220102001"
    assert task.reasons() == ["重度残疾人（含精神、智力三级）", "未纳入低保的建档立卡贫困人口", "2016年以来退保人员"]
    run()
    assert VerificationTask.objects.filter(id_number=person).count() == 1


def test_data_quality_rules(regions):
    no_self = HouseholdFactory(with_head=False)
    MemberFactory(household=no_self, relation="配偶")
    head_elsewhere = HouseholdFactory(with_head=False)
    MemberFactory(household=head_elsewhere, relation="本人")  # a different ID from the head's
    fine = HouseholdFactory()
    zero = HouseholdFactory(monthly_amount=Decimal("0"))
    missing = HouseholdFactory(monthly_amount=None)
    batch = run()
    assert {n for n, _ in keys(batch, "HEAD_NOT_MEMBER")} == {no_self.household_no, head_elsewhere.household_no}
    assert {n for n, _ in keys(batch, "AMOUNT_MISSING")} == {zero.household_no, missing.household_no}
    assert fine.household_no not in {n for n, _ in keys(batch, "HEAD_NOT_MEMBER") | keys(batch, "AMOUNT_MISSING")}
    assert set(batch.findings.filter(rule__in=["HEAD_NOT_MEMBER", "AMOUNT_MISSING"])
               .values_list("state", flat=True)) == {FindingState.REPORTED}


def test_only_current_reference_version_is_used(regions):
    person = member()
    ref(RefKind.DEATHS, [{"id_number": person.id_number, "name": "x", "death_date": dt.date(2025, 1, 1)}])
    ref(RefKind.DEATHS, [])
    assert not keys(run(), "DECEASED")


def test_batch_records_params_and_counts(regions, settings):
    settings.DECEASED_GRACE_DAYS = 10
    person = member()
    ref(RefKind.DEATHS, [{"id_number": person.id_number, "name": "x", "death_date": AS_OF - dt.timedelta(days=15)}])
    batch = run()
    assert batch.params["DECEASED_GRACE_DAYS"] == 10
    assert batch.params["ref_versions"]["deaths"][1] == 1
    assert batch.counts["DECEASED"] == 1 and batch.state == "done" and batch.progress == 100
    assert Member.objects.count() >= 1
