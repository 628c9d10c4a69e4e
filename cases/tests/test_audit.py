"""Every registry write leaves a hash-chained audit record; tampering is detected."""
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from cases import services
from cases.models import Relation
from dibao.models import AuditRecord, Region
from tests.factories import make_id


@pytest.fixture
def saved_household(users):
    actor = users["caseworker_a"]
    return services.household_save(actor=actor, data={
        "household_no": "AUD-1", "region": Region.objects.get(code="220102001001"), "head_name": "张三",
        "head_id_number": make_id(), "applied_on": dt.date(2026, 1, 5), "phone": "13800000000",
    }, members=[{"name": "李四", "id_number": make_id(), "relation": Relation.SPOUSE}])


def test_household_and_member_writes_are_audited(users, saved_household):
    actor = users["caseworker_a"]
    household = saved_household
    spouse = household.members.get(relation=Relation.SPOUSE)
    spouse_pk = spouse.pk
    services.household_update(actor=actor, household=household, data={"phone": "13900000000"})
    services.member_update(actor=actor, member=spouse, data={"monthly_income": Decimal("120.50")})
    services.member_remove(actor=actor, member=spouse)

    records = list(AuditRecord.objects.order_by("id"))
    assert [r.action for r in records] == ["household.create", "member.create", "member.create",
                                           "household.update", "member.update", "member.delete"]
    assert all(r.actor_id == actor.pk and r.actor_name == actor.username for r in records)
    assert all(r.region_code == "220102001001" for r in records)
    create = records[0]
    assert create.before is None and create.after["household_no"] == "AUD-1"
    update = records[3]
    assert (update.before, update.after) == ({"phone": "13800000000"}, {"phone": "13900000000"})
    member_update = records[4]
    assert (member_update.before, member_update.after) == ({"monthly_income": None}, {"monthly_income": "120.50"})
    delete = records[5]
    assert delete.before["name"] == "李四" and delete.after is None and delete.object_id == str(spouse_pk)


def test_saving_without_changes_leaves_no_empty_record(users, saved_household):
    actor = users["caseworker_a"]
    count = AuditRecord.objects.count()
    spouse = saved_household.members.get(relation=Relation.SPOUSE)
    services.household_save(actor=actor, household=saved_household, data={"head_name": saved_household.head_name},
                            members=[{"id": spouse.pk, "monthly_income": Decimal("50.00")}])
    assert list(AuditRecord.objects.filter(id__gt=0).order_by("id").values_list("action", flat=True))[count:] == [
        "member.update"]


def test_verify_audit_detects_an_altered_record(users, saved_household):
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "3 records verified" in out.getvalue()

    victim = AuditRecord.objects.order_by("id")[1]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE dibao_auditrecord DISABLE TRIGGER dibao_audit_append_only")
        cursor.execute("UPDATE dibao_auditrecord SET actor_name = %s WHERE id = %s", ["someone-else", victim.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE dibao_auditrecord ENABLE TRIGGER dibao_audit_append_only")
    with pytest.raises(CommandError, match=rf"record #{victim.pk}\b.*altered"):
        call_command("verify_audit", stdout=StringIO())


def test_verify_audit_detects_a_removed_record(users, saved_household):
    victim = AuditRecord.objects.order_by("id")[1]
    following = AuditRecord.objects.order_by("id")[2]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE dibao_auditrecord DISABLE TRIGGER dibao_audit_append_only")
        cursor.execute("DELETE FROM dibao_auditrecord WHERE id = %s", [victim.pk])
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE dibao_auditrecord ENABLE TRIGGER dibao_audit_append_only")
    with pytest.raises(CommandError, match=rf"record #{following.pk}\b"):
        call_command("verify_audit", stdout=StringIO())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only")
def test_postgresql_refuses_update_and_delete_of_audit_records(users, saved_household):
    record = AuditRecord.objects.order_by("id").first()
    for sql in ("UPDATE dibao_auditrecord SET note = 'x' WHERE id = %s", "DELETE FROM dibao_auditrecord WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [record.pk])
    record.refresh_from_db()
    assert record.note != "x"
