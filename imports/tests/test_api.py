"""The imports API: history and reports only for the roles that import (they hold file names,
uploaders and the cells of rejected rows); the registry download through the same service."""
import io

import openpyxl
import pytest
from django.urls import reverse

from cases.models import Household
from dibao.models import AuditRecord
from imports.models import ImportJob
from tests.factories import HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(users):
    cw = users["caseworker_a"]
    return ImportJob.objects.create(kind="households", created_by=cw, actor_name=cw.username, region_code="220102001",
                                    file_name="南岭街道低保户.xlsx", sha256="0" * 64, state="done",
                                    report={"errors": [{"row": 3, "value": "张三 220102197001011234"}]})


def test_history_and_status_closed_to_roles_that_do_not_import(job, users, client_for, regions):
    roleless = UserFactory(username="nobody", region=regions["220102001"])
    for user in (users["inspector"], users["supervisor"], roleless):
        client = client_for(user)
        for response in (client.get("/api/v1/imports/"), client.get(f"/api/v1/imports/{job.pk}/"),
                         client.get(reverse("imports:job_status", args=[job.pk]))):
            assert response.status_code == 403
            assert job.file_name not in response.content.decode()
    listed = client_for(users["caseworker_a"]).get("/api/v1/imports/").json()
    assert [row["file_name"] for row in listed] == [job.file_name]


def test_registry_export(users, client_for):
    household = HouseholdFactory(region_id="220102001001")
    HouseholdFactory(region_id="220102002001")
    r = client_for(users["caseworker_a"]).get("/api/v1/registry-exports/households/")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True).active
    cells = {str(c) for row in sheet.iter_rows(values_only=True) for c in row if c}
    assert household.household_no in cells and Household.objects.count() == 2
    assert not any(no in cells for no in Household.objects.exclude(pk=household.pk).values_list("household_no",
                                                                                                 flat=True))
    assert household.head_id_number in cells  # the file meant for re-import carries the numbers it matches on
    assert AuditRecord.objects.filter(object_id="households", action__contains="export").exists()
    assert client_for(users["supervisor"]).get("/api/v1/registry-exports/households/").status_code == 403
    assert client_for(users["caseworker_a"]).get("/api/v1/registry-exports/deaths/").status_code == 404
