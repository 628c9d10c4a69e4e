"""Fixtures and step helpers for the application tests (test_applications*.py import them)."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases import applications as svc
from cases.models import BenefitStandard, Member, Status
from tests.factories import HouseholdFactory, MemberFactory, UserFactory

TODAY = dt.date(2026, 10, 20)


def scan(name="scan.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4 signed scan " + name.encode(), content_type="application/pdf")


@pytest.fixture
def today(monkeypatch):
    """Pin the services' and pages' today: today(date); starts at TODAY."""
    def pin(day):
        monkeypatch.setattr(svc, "today", lambda: day)
        monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: day)
    pin(TODAY)
    return pin


@pytest.fixture
def people(users, regions, settings, tmp_path):
    """The shared users plus a second caseworker of township 220102001 and a second county reviewer,
    and the rural standard of province 22 (600 yuan)."""
    settings.MEDIA_ROOT = tmp_path
    BenefitStandard.objects.create(region_id="22", category="rural", monthly_standard=Decimal("600"),
                                   effective_from=dt.date(2020, 1, 1))
    return {**users,
            "caseworker_a2": UserFactory(username="cw_a2", region=regions["220102001"], role="caseworker"),
            "reviewer_2": UserFactory(username="rev2", region=regions["220102"], role="county_reviewer")}


@pytest.fixture
def applicant(people):
    """A pending household of township 220102001: head with 100 yuan a month, spouse with 200."""
    household = HouseholdFactory(household_no="H-APP", head_name="王大山", status=Status.PENDING,
                                 decided_on=None, monthly_amount=None, applied_on=dt.date(2026, 9, 1))
    Member.objects.filter(household=household).update(monthly_income=Decimal("100"))
    MemberFactory(household=household, relation="配偶", monthly_income=Decimal("200"))
    return household


def accept(people, household, on=dt.date(2026, 9, 1)):
    return svc.application_accept(actor=people["caseworker_a"], household=household, authorisation=scan(),
                                  declared_assets="无车辆，自住房一处", accepted_on=on)


def visit(people, app, on=dt.date(2026, 9, 3), investigators=("caseworker_a", "caseworker_a2")):
    return svc.application_visit(actor=people["caseworker_a"], application=app,
                                 investigators=[people[k] for k in investigators], visited_on=on,
                                 housing="土坯房两间", income="务农", assets="无", members_present="户主、配偶",
                                 survey=scan("survey.pdf"))


def propose(people, app, on=dt.date(2026, 9, 4), **kw):
    kw.setdefault("proposal", "approve")
    return svc.application_propose(actor=people["caseworker_a2"], application=app, proposed_on=on, **kw)


def notice(people, app, on=dt.date(2026, 9, 7)):
    return svc.application_notice_start(actor=people["caseworker_a2"], application=app, started_on=on)


def to_notice(people, household, notice_on=dt.date(2026, 9, 7)):
    app = accept(people, household)
    visit(people, app)
    propose(people, app)
    return notice(people, app, notice_on)
