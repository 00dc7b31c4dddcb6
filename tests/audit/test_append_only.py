"""The database itself refuses to change or remove history: audit events, section revisions
and remarks (triggers from the initial migration), and the remarks' answers and resolutions
(the threads' migration), on SQLite and on PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.verify import verify_chain
from app.contributions import threads
from app.extensions import db
from app.models import AuditEvent, Section
from tests.audit.support import APPEND_ONLY_TABLES, ON_EACH_DATABASE, guards_off
from tests.factories import advance, run

# A column to overwrite in each table, and a value to overwrite it with.
UPDATES = {
    "audit_events": "canonical = '{}'",
    "section_revisions": "text = 'omskriven historia'",
    "remarks": "text = 'omskriven anmärkning'",
    "remark_replies": "text = 'omskrivet svar'",
    "remark_resolutions": "resolved_by_id = NULL",
}


@pytest.fixture
def history(world):
    """A contribution that was submitted and returned with a remark, answered and resolved:
    every append-only table has rows."""
    contribution = advance(world, "Norr", "returned")
    [remark] = contribution.remarks
    run(world, "drafter", threads.reply, remark.id, "Åtgärdat.", 1)
    run(world, "reviewer", threads.resolve, remark.id, 2)
    db.session.rollback()
    for table in APPEND_ONLY_TABLES:
        assert db.session.scalar(text(f"SELECT count(*) FROM {table}")) > 0, table
    return world


def _snapshot(table: str) -> list[tuple]:
    db.session.rollback()
    return [tuple(r) for r in db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


def _refused(sql: str) -> DBAPIError:
    """Run `sql` in its own transaction; it must fail, and the transaction is rolled back."""
    db.session.rollback()
    with pytest.raises(DBAPIError) as refusal:
        db.session.execute(text(sql))
    db.session.rollback()
    return refusal.value


@ON_EACH_DATABASE
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_update_is_refused_and_the_rows_are_unchanged(history, database, table):
    before = _snapshot(table)
    error = _refused(f"UPDATE {table} SET {UPDATES[table]}")
    assert f"{table} is append-only: UPDATE refused" in str(error)
    assert _snapshot(table) == before


@ON_EACH_DATABASE
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_update_of_one_row_is_refused(history, database, table):
    before = _snapshot(table)
    error = _refused(f"UPDATE {table} SET {UPDATES[table]} WHERE "
                     f"{'seq' if table == 'audit_events' else 'id'} = 1")
    assert "append-only" in str(error)
    assert _snapshot(table) == before


@ON_EACH_DATABASE
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_delete_is_refused_and_the_rows_remain(history, database, table):
    before = _snapshot(table)
    error = _refused(f"DELETE FROM {table}")
    assert f"{table} is append-only: DELETE refused" in str(error)
    assert _snapshot(table) == before


@pytest.mark.postgres
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_truncate_is_refused_on_postgres(history, dialect, table):
    assert dialect == "postgresql"
    before = _snapshot(table)
    # CASCADE: a remark's answers refer to it, and a plain TRUNCATE would be refused for that
    # alone; with it, the guard must still refuse.
    error = _refused(f"TRUNCATE {table} CASCADE")
    assert f"{table} is append-only: TRUNCATE refused" in str(error)
    assert _snapshot(table) == before


@pytest.mark.postgres
def test_postgres_refusal_is_a_privilege_error(history):
    """The guard raises SQLSTATE 42501 (insufficient_privilege), not a generic error."""
    error = _refused("DELETE FROM audit_events WHERE seq = 1")
    assert error.orig.sqlstate == "42501"


@ON_EACH_DATABASE
def test_the_orm_cannot_change_or_delete_an_event(history, database):
    before = _snapshot("audit_events")
    event = db.session.get(AuditEvent, 3)
    event.canonical = event.canonical.replace(event.action, "forged")
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()

    db.session.delete(db.session.get(AuditEvent, 3))
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert _snapshot("audit_events") == before
    assert verify_chain().ok


@ON_EACH_DATABASE
@pytest.mark.parametrize("column, value", [("actor_name", "'Mallory'"), ("area_id", "99"),
                                           ("occurred_at", "occurred_at"), ("data", "'{}'")])
def test_a_derived_column_cannot_be_written_even_with_the_guards_off(history, database,
                                                                      column, value):
    """What an event says is derived by the database from its hashed record: a column cannot
    be made to say something else, even by someone who switched the guards off."""
    before = _snapshot("audit_events")
    with pytest.raises(DBAPIError) as refusal:
        with guards_off() as connection:
            connection.execute(text(f"UPDATE audit_events SET {column} = {value} "
                                    "WHERE seq = 3"))
    assert "generated column" in str(refusal.value) or "can only be updated to DEFAULT" in str(
        refusal.value)
    assert _snapshot("audit_events") == before
    with pytest.raises(DBAPIError):
        with guards_off() as connection:
            connection.execute(text(f"INSERT INTO audit_events (seq, canonical, prev_hash, hash, "
                                    f"{column}) SELECT 999, canonical, '{'1' * 64}', "
                                    f"'{'2' * 64}', {value} FROM audit_events WHERE seq = 3"))
    assert _snapshot("audit_events") == before


@ON_EACH_DATABASE
def test_deleting_a_section_cannot_take_its_revisions_with_it(history, database):
    """sections -> section_revisions is ON DELETE CASCADE: the cascaded delete hits the guard,
    so a section with history cannot be removed."""
    section_id = db.session.scalar(select(Section.id).order_by(Section.id).limit(1))
    before = _snapshot("section_revisions")
    error = _refused(f"DELETE FROM sections WHERE id = {section_id}")
    assert "section_revisions is append-only: DELETE refused" in str(error)
    assert _snapshot("section_revisions") == before
    assert db.session.get(Section, section_id) is not None


@ON_EACH_DATABASE
def test_appending_still_works_after_refusals(history, database):
    from app.audit.trail import record_event
    from app.core.unit_of_work import operation
    from tests.factories import SETUP

    count = len(_snapshot("audit_events"))
    _refused("DELETE FROM audit_events")
    with operation(SETUP):
        record_event("test.append", actor=SETUP, data={"efter": "vägran"})
    assert len(_snapshot("audit_events")) == count + 1
    result = verify_chain()
    assert result.ok and result.count == count + 1
