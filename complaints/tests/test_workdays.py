import datetime as dt

import pytest

from complaints import services
from dibao.workdays import add_working_days

pytestmark = pytest.mark.django_db


def test_deadline_skips_the_national_day_holiday():
    # 2026-10-01..07 are holidays, 2026-10-10 (Saturday) is a make-up working day
    assert add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)
    assert add_working_days(dt.date(2026, 9, 30), 3) == dt.date(2026, 10, 10)
    assert add_working_days(dt.date(2026, 9, 30), 15) == dt.date(2026, 10, 27)


def test_deadline_skips_weekends():
    assert add_working_days(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)  # Friday -> Monday


def test_assigned_complaint_gets_a_working_day_deadline(users, regions, fixed_today, settings):
    fixed_today(dt.date(2026, 9, 30))
    complaint = services.complaint_create(actor=users["reviewer"], data={
        "channel": "phone", "anonymous": True, "subject_type": "household", "subject_region": regions["220102001001"],
        "content": "反映某户不符合条件"})
    services.complaint_assign(actor=users["reviewer"], complaint=complaint, region=regions["220102001"])
    assert complaint.deadline == dt.date(2026, 10, 27)
    settings.COMPLAINT_DEADLINE_WORKING_DAYS = 5
    other = services.complaint_create(actor=users["reviewer"], data={
        "channel": "letter", "anonymous": True, "subject_type": "household", "subject_region": regions["220102001001"],
        "content": "另一件"})
    services.complaint_assign(actor=users["reviewer"], complaint=other, region=regions["220102001"])
    assert other.deadline == dt.date(2026, 10, 13)


def test_overdue_list(client_for, users, regions, fixed_today):
    from django.urls import reverse
    fixed_today(dt.date(2026, 1, 5))
    complaint = services.complaint_create(actor=users["reviewer"], data={
        "channel": "phone", "anonymous": True, "subject_type": "household", "subject_region": regions["220102001001"],
        "content": "逾期未办的投诉"})
    services.complaint_assign(actor=users["reviewer"], complaint=complaint, region=regions["220102001"], working_days=3)
    page = client_for(users["reviewer"]).get(reverse("complaints:complaint_list"), {"overdue": "1"}).content.decode()
    assert f"#{complaint.pk}" in page and "超期" in page
