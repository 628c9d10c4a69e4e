"""Factories shared by every app's tests.

`make_id()` builds valid 18-digit resident ID numbers (correct check digit), so tests
never depend on real people's numbers.
"""
import datetime as dt
import itertools
from decimal import Decimal

import factory
from stdnum.cn import ric

from cases.models import Household, Member, RelativeFiling, Staff, Status
from dibao.models import Region, User

_serial = itertools.count(1)


def make_id(region: str = "220102", born: dt.date = dt.date(1970, 1, 1), seq: int | None = None,
            male: bool = True) -> str:
    n = next(_serial) if seq is None else seq
    order = (n % 499) * 2 + (1 if male else 0)
    body = f"{region[:6]}{born:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")  # the last character stands for the digit itself


def region_tree() -> dict[str, Region]:
    """A small real-shaped tree: one province, one city, two counties, three townships."""
    spec = [
        ("22", "吉林省", 1, None), ("2201", "长春市", 2, "22"),
        ("220102", "南关区", 3, "2201"), ("220103", "宽城区", 3, "2201"),
        ("220102001", "南岭街道", 4, "220102"), ("220102002", "自由大路街道", 4, "220102"),
        ("220103001", "新发街道", 4, "220103"),
        ("220102001001", "南岭村", 5, "220102001"), ("220102001002", "大岭村", 5, "220102001"),
        ("220102002001", "自由村", 5, "220102002"), ("220103001001", "新发村", 5, "220103001"),
    ]
    regions = {}
    for code, name, level, parent in spec:
        regions[code], _ = Region.objects.get_or_create(code=code, defaults={"name": name, "level": level,
                                                                              "parent_id": parent})
    return regions


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "Testpass-2026!")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        from django.contrib.auth.models import Group
        if extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        self.save()


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household
        skip_postgeneration_save = True

    household_no = factory.Sequence(lambda n: f"H{n:08d}")
    region_id = "220102001001"
    head_name = factory.Sequence(lambda n: f"户主{n}")
    head_id_number = factory.LazyFunction(make_id)
    status = Status.ACTIVE
    applied_on = dt.date(2020, 1, 10)
    decided_on = dt.date(2020, 2, 10)
    monthly_amount = Decimal("980.00")
    management_class = "B"

    @factory.post_generation
    def with_head(self, create, extracted, **kwargs):
        if extracted is not False and create:
            Member.objects.create(household=self, name=self.head_name, id_number=self.head_id_number,
                                  relation="本人")


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"成员{n}")
    id_number = factory.LazyFunction(make_id)
    relation = "子女"


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Staff

    name = factory.Sequence(lambda n: f"干部{n}")
    id_number = factory.LazyFunction(make_id)
    staff_type = "village_cadre"
    region_id = "220102001001"


class FilingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RelativeFiling

    staff = factory.SubFactory(StaffFactory)
    relative_name = factory.Sequence(lambda n: f"亲属{n}")
    relative_id_number = factory.LazyFunction(make_id)
    relation = "父母"
    filed_on = dt.date(2026, 3, 1)
