import datetime as dt

import pytest
from django.core.cache import cache

from complaints import services


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Uploads go to a temporary directory; the rate-limit counters start from zero;
    a fast hasher for the users the shared fixtures create (autouse runs first)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fixed_today(monkeypatch):
    """Pin 'today' for deadline arithmetic: fixed_today(date)."""
    def pin(day: dt.date):
        monkeypatch.setattr(services, "today", lambda: day)
    return pin


PUBLIC_DATA = {
    "complainant_name": "张三", "complainant_phone": "13912345678", "subject_type": "household",
    "subject_name": "李四家", "subject_region": "220102001001",
    "content": "李四家有两套房和一辆轿车，仍在领取低保金。",
}


def staff_complaint_data(region, **extra):
    data = {"channel": "phone", "anonymous": False, "complainant_name": "王五", "complainant_phone": "13800001111",
            "subject_type": "staff", "subject_name": "南岭街道低保专干", "subject_region": region,
            "accuses_staff": True, "content": "低保专干为亲属违规办理低保。"}
    data.update(extra)
    return data


@pytest.fixture
def hotline(users, regions):
    return services.hotline_save(actor=users["reviewer"], data={
        "region": regions["220102"], "unit": "南关区民政局", "numbers": "0431-88612347,0431-88712347",
        "hours": "工作日 8:30-17:00", "online_channel": "", "postal_address": "南关区民政局"})


@pytest.fixture
def clue(users, regions):
    return services.clue_create(actor=users["reviewer"], data={
        "source": "complaint", "region": regions["220102001001"], "category": "关系保",
        "summary": "村主任为其弟违规办理低保。", "people_involved": "赵某"})


