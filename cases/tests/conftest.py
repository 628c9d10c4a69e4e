import pytest

from tests.factories import FilingFactory, HouseholdFactory, MemberFactory, StaffFactory

# Which place's records each user of the shared `users` fixture may see.
VISIBLE = {
    "caseworker_a": {"a"},
    "caseworker_b": {"b"},
    "caseworker_c": {"c"},
    "reviewer": {"a", "b"},
    "reviewer_other": {"c"},
    "supervisor": {"a", "b", "c"},
    "admin": {"a", "b", "c"},
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The shared `users` fixture hashes eight passwords per test; PBKDF2 makes that seconds."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


VILLAGES = {"a": "220102001001", "b": "220102002001", "c": "220103001001"}


@pytest.fixture
def registry(users):
    """One household (with a second member), staff person and filing in each of three places:
    a = caseworker_a's township, b = caseworker_b's township (same county), c = another county."""
    data = {}
    for key, village in VILLAGES.items():
        household = HouseholdFactory(household_no=f"H-{key.upper()}", region_id=village)
        member = MemberFactory(household=household, relation="配偶")
        staff = StaffFactory(region_id=village, name=f"干部{key}")
        filing = FilingFactory(staff=staff, household=household)
        data[key] = {"household": household, "member": member, "staff": staff, "filing": filing}
    return data
