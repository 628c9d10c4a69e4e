"""Discipline routing of seed 004: township bodies and 派驻纪检组, township hotlines, and the
typical cases published by month with the disciplined masked."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from complaints import services
from complaints.models import BodyKind, Clue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def clue_about_a_village_cadre(users, regions, people="王大明（村主任）"):
    return services.clue_create(actor=users["reviewer"], data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保",
        "summary": "王大明为其弟违规办理低保。", "people_involved": people})


def test_clue_referred_to_the_township_discipline_body_reaches_its_inspector(users, regions, client_for):
    clue = clue_about_a_village_cadre(users, regions)
    referral = services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102001"], body_name="")
    assert (referral.body_name, referral.body_kind) == ("南岭街道纪委", BodyKind.COMMISSION)
    township_inspector = UserFactory(username="insp_town", region=regions["220102001"], role="inspector")
    assert list(Clue.objects.for_user(township_inspector)) == [clue]
    assert not Clue.objects.for_user(users["inspector"]).exists()  # the county commission did not get it
    assert client_for(township_inspector).get(f"/complaints/clues/{clue.pk}/").status_code == 200
    services.referral_record(actor=township_inspector, referral=referral, investigation="查实", outcome="属实",
                             funds_recovered=Decimal("1200"), disciplines=[{"kind": "党纪处分", "count": 1}])


def test_stationed_group_and_what_cannot_be_a_body(users, regions):
    clue = clue_about_a_village_cadre(users, regions)
    with pytest.raises(ValidationError, match="村（居）没有纪检监察机关"):
        services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102001001"], body_name="")
    with pytest.raises(ValidationError, match="派驻纪检组设在县级或以上"):
        services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102001"], body_name="",
                            body_kind=BodyKind.STATIONED)
    with pytest.raises(ValidationError, match="所在地或其上级"):
        services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102002"], body_name="")
    referral = services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="",
                                   body_kind=BodyKind.STATIONED)
    assert referral.body_name == "南关区纪委监委驻南关区民政局纪检监察组"


def test_hotline_registrable_at_township_level(users, regions, client):
    data = {"region": regions["220102001"], "unit": "南岭街道社会事务办", "numbers": "0431-85550001",
            "hours": "工作日", "online_channel": "", "postal_address": ""}
    hotline = services.hotline_save(actor=users["reviewer"], data=data)
    assert hotline.region_id == "220102001"
    assert "0431-85550001" in client.get("/public/hotlines/").content.decode()
    with pytest.raises(ValidationError, match="乡镇（街道）及以上"):
        services.hotline_save(actor=users["reviewer"], data={**data, "region": regions["220102001001"]})


def test_public_typical_cases_by_month_with_the_disciplined_masked(users, regions, client):
    clue = clue_about_a_village_cadre(users, regions, people="王大明（村主任）、李小红")
    referral = services.clue_refer(actor=users["reviewer"], clue=clue, body_region=regions["220102"], body_name="")
    services.referral_record(actor=users["inspector"], referral=referral, investigation="查实", outcome="属实",
                             funds_recovered=Decimal("3600"), disciplines=[{"kind": "党纪处分", "count": 2}])
    services.referral_conclude(actor=users["inspector"], referral=referral)
    services.typical_case_mark(actor=users["inspector"], clue=Clue.objects.get(pk=clue.pk),
                               title="王大明违规为亲属办理低保", summary="王大明、李小红优亲厚友，已追回 3600 元。",
                               month=dt.date(2026, 5, 1))
    html = client.get("/public/typical-cases/?month=2026-05").content.decode()
    assert "王**违规为亲属办理低保" in html and "王**、李**优亲厚友" in html
    assert "王大明" not in html and "李小红" not in html
    assert "党纪处分 2" in html
    assert "王**" not in client.get("/public/typical-cases/?month=2026-04").content.decode()
    assert 'href="/public/typical-cases/"' in client.get("/public/hotlines/").content.decode()
