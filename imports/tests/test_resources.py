import pytest

from imports.kinds import REGISTRY_KINDS, get_kind
from imports.resources import resource_for
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", REGISTRY_KINDS)
def test_resources_use_the_declared_headers(kind, regions):
    assert resource_for(kind)().get_export_headers() == get_kind(kind).headers


def test_resource_export_round_trips_through_the_library(regions):
    HouseholdFactory(household_no="H1")
    resource = resource_for("households")()
    dataset = resource.export()
    assert dataset.headers == get_kind("households").headers and dataset[0][0] == "H1"
    result = resource.import_data(dataset, dry_run=True)
    assert not result.has_errors() and not result.has_validation_errors()
