"""Demo data for one county: hotlines and dial tests, complaints in every state, clues
(one referred and concluded as a typical case), rectification items and a spot check.

Everything goes through the services, so the demo also leaves a realistic audit trail.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from cases.models import Household, Status
from dibao.models import Region, Role, User
from complaints import services
from complaints.models import Clue, Complaint, Hotline


def _by_role(users: dict[str, User], role: str, region_prefix: str = "") -> User | None:
    for user in users.values():
        if user.role == role and (user.region_id or "").startswith(region_prefix):
            return user
    return None


def seed(*, county: Region, users: dict[str, User], rng: random.Random) -> str:
    if Hotline.objects.filter(region=county).exists():
        return "complaints: already seeded"
    reviewer = _by_role(users, Role.COUNTY_REVIEWER, county.code) or users.get("admin")
    supervisor = _by_role(users, Role.SUPERVISOR) or users.get("admin")
    inspector = _by_role(users, Role.INSPECTOR)
    city = Region.objects.get(code=county.code[:4])
    townships = list(Region.objects.filter(code__startswith=county.code, level=Region.Level.TOWNSHIP).order_by("code"))
    villages = list(Region.objects.filter(code__startswith=county.code, level=Region.Level.VILLAGE).order_by("code"))
    if not townships or not villages:
        return "complaints: county has no townships/villages"

    hotline = services.hotline_save(actor=reviewer, data={
        "region": county, "unit": f"{county.name}民政局", "numbers": f"0431-8{rng.randint(1000000, 9999999)}",
        "hours": "工作日 8:30-17:00", "online_channel": "民政局门户网站“投诉举报”栏目",
        "postal_address": f"{county.name}民政局社会救助股"})
    services.hotline_save(actor=supervisor, data={
        "region": city, "unit": f"{city.name}民政局", "numbers": "0431-88612347,0431-88712347",
        "hours": "工作日 8:30-17:00", "online_channel": "", "postal_address": f"{city.name}民政局"})
    now = timezone.now()
    for days in (170, 140, 110, 80, 50, 20, 9, 3):
        answered = rng.random() < 0.8
        services.dial_test_record(actor=supervisor, hotline=hotline, called_at=now - dt.timedelta(days=days),
                                  number="", answered=answered, handled_properly=answered,
                                  notes="接听人态度良好，登记规范" if answered else "连续拨打三次无人接听")

    def complaint(content, *, staff=False, channel="phone"):
        return services.complaint_create(actor=reviewer, data={
            "channel": channel, "anonymous": rng.random() < 0.3, "complainant_name": "王秀英",
            "complainant_phone": f"139{rng.randint(10000000, 99999999)}",
            "subject_type": "staff" if staff else "household", "subject_name": "",
            "subject_region": rng.choice(villages), "accuses_staff": staff, "content": content})

    def backdate(item, days):
        # Services stamp today; a believable county received its complaints over the last six months.
        shift = dt.timedelta(days=days)
        fields = {f: getattr(item, f) - shift for f in ("received_on", "deadline", "replied_on", "closed_on")
                  if getattr(item, f, None)}
        type(item).objects.filter(pk=item.pk).update(**fields)

    questions = ["询问低保边缘家庭认定标准。", "询问渐退期如何计算。", "询问残疾人单人保如何申请。",
                 "询问低保金发放日期。", "询问外出务工收入如何计算。", "询问申请材料和办理流程。"]
    for n, question in enumerate(questions):
        asked = complaint(question, channel=rng.choice(["phone", "visit", "12345"]))
        services.complaint_answer_on_spot(actor=reviewer, complaint=asked, reply="已当场答复政策规定和办理途径。")
        backdate(asked, 170 - n * 28)

    received = complaint("反映本村有家庭有两辆车仍享受低保，请核实。")
    on_spot = complaint("询问低保申请需要哪些材料。")
    services.complaint_answer_on_spot(actor=reviewer, complaint=on_spot, reply="已当场告知申请材料和办理流程。")
    assigned = complaint("反映邻居家人已去世仍在领取低保金。", channel="12345")
    services.complaint_assign(actor=reviewer, complaint=assigned, region=townships[0])
    done = complaint("反映村干部亲属不符合条件却享受低保。", staff=True)
    services.complaint_assign(actor=reviewer, complaint=done, region=county)
    services.complaint_verify(actor=reviewer, complaint=done, verification="经入户核查，反映情况基本属实。")
    services.complaint_reply(actor=reviewer, complaint=done, reply="经核实，该户已停发低保金，相关人员已移交纪检监察机关处理。")
    services.complaint_close(actor=reviewer, complaint=done)
    for item, days in ((received, 3), (on_spot, 60), (assigned, 30), (done, 75)):
        backdate(Complaint.objects.get(pk=item.pk), days)

    clue = services.clue_create_from_complaint(actor=reviewer, complaint=done, category="关系保",
                                               summary="村干部为其近亲属违规办理低保。")
    media = services.clue_create(actor=reviewer, data={"source": "media", "region": rng.choice(townships),
                                                       "category": "吃拿卡要", "summary": "媒体报道有经办人员收取好处费。",
                                                       "received_on": timezone.localdate() - dt.timedelta(days=40)})
    typical = ""
    if inspector is not None:
        referral = services.clue_refer(actor=reviewer, clue=clue, body_region=Region.objects.get(code=inspector.region_id)
                                       if inspector.region_id and clue.region_id.startswith(inspector.region_id)
                                       else county, body_name="")
        if referral.body_region_id == inspector.region_id:
            services.referral_record(actor=inspector, referral=referral, investigation="经调查，反映问题属实。",
                                     outcome="属实", funds_recovered=Decimal("11760.00"),
                                     disciplines=[{"kind": "党纪处分", "count": 1}, {"kind": "诫勉谈话", "count": 1}])
            services.referral_conclude(actor=inspector, referral=referral)
            services.typical_case_mark(actor=inspector, clue=Clue.objects.get(pk=clue.pk),
                                       title=f"{county.name}某村党支部书记为亲属违规办理低保问题",
                                       summary="某村党支部书记利用职务便利为其弟违规办理农村低保，"
                                               "受到党内严重警告处分，违规资金已全部追回。")
            typical = ", 1 typical case"
        # The inspector's day: a clue referred to the county commission, still waiting for its outcome.
        services.clue_refer(actor=reviewer, clue=media, body_region=county, body_name="",
                            note="涉及乡镇经办人员，请依纪依法调查处理")

    services.rectification_create(actor=reviewer, data={
        "region": townships[0], "source": "clue", "clue": clue, "problem": "村干部近亲属违规享受低保",
        "measures": "停发低保金，追回违规资金，开展近亲属备案全面排查", "responsible_unit": townships[0].name,
        "responsible_person": "李建国", "deadline": timezone.localdate() + dt.timedelta(days=30)})
    services.rectification_create(actor=supervisor, data={
        "region": county, "source": "inspection", "problem": "村级长期公示栏未公布监督电话",
        "measures": "全县村级公示栏统一补充投诉举报电话", "responsible_unit": f"{county.name}民政局",
        "responsible_person": "张志强", "deadline": timezone.localdate() - dt.timedelta(days=5)})

    inspection = services.inspection_create(actor=supervisor, data={
        "region": county, "checklist": services.default_checklist(), "inspected_on": timezone.localdate(),
        "team": "市民政局督查组"})
    items = list(inspection.checklist.items.all()[:5])
    services.inspection_record_results(actor=supervisor, inspection=inspection,
                                       results={i.pk: ("ok", "") for i in items}, summary="总体规范，个别村公示不全。")
    township = next((t for t in townships if Household.objects.filter(region__code__startswith=t.code,
                                                                       status=Status.ACTIVE).exists()), None)
    if township is not None:
        services.sample_draw(actor=supervisor, inspection=inspection, township=township, count=5,
                             seed=f"{timezone.localdate():%Y%m%d}")
    return (f"complaints: 2 hotlines, 8 dial tests, {4 + len(questions)} complaints, 2 clues{typical}, "
            f"2 rectification items, "
            f"1 inspection")
