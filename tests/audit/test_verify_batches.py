"""The verifier checks the table batch by batch from the stored hashed records, on a reader
of its own; a batch that does not pass is checked again event by event, which names the
failure. Before that, it checks that every column is still derived from the hashed record."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import verify as audit
from app.audit.verify import _check, _digests, iter_events, verify_chain
from app.extensions import db
from tests.audit.support import (
    ON_EACH_DATABASE,
    application_on_empty_database,
    guards_off,
    row,
    update_event,
)
from tests.factories import advance, build_world

ALTERED = "its hash does not match its contents: the event was altered"


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(audit, "VERIFY_BATCH", 4)


def _reference():
    """The event-by-event check over every row: what the batches must agree with."""
    db.session.rollback()
    return _check(_digests(iter_events()), None)


@ON_EACH_DATABASE
def test_batches_and_the_event_by_event_check_agree(world, database, small_batches):
    seen = []
    result = verify_chain(progress=seen.append)
    assert result.ok and result == _reference()
    assert result.count > 20 and result.count % 4  # several batches, the last one short
    assert seen == [*range(4, result.count, 4), result.count]


@ON_EACH_DATABASE
def test_a_sound_chain_passes_batch_by_batch_alone(world, database, small_batches):
    """The batches alone pass a sound chain (Swedish text included): were the fast check to
    fail on a sound batch, the event-by-event check would hide it by passing it again."""
    fast = audit._verify_fast(None)
    assert isinstance(fast, audit.VerifyResult) and fast == _reference()


@ON_EACH_DATABASE
@pytest.mark.parametrize("seq", [1, 4, 5, 7, 8])
def test_an_altered_event_is_named_whatever_batch_it_is_in(world, database, small_batches,
                                                           seq):
    with guards_off() as connection:
        update_event(connection, seq, actor_name="Mallory")
    result = verify_chain()
    assert not result.ok and result.failed_seq == seq and result.reason == ALTERED
    assert result.count == seq - 1
    assert result == _reference()


@ON_EACH_DATABASE
def test_a_record_cannot_smuggle_a_separator(world, database):
    """The records of a batch are joined with a record separator, which canonical JSON always
    escapes. A stored record holding a raw one is not JSON, and the database refuses it
    (deriving the columns fails), so a separator can only ever fall between records."""
    original = row(6).canonical
    forged = original.replace('"action":"', '"action":"\x1e', 1)
    with pytest.raises(DBAPIError, match="(?i)json|control"):
        with guards_off() as connection:
            update_event(connection, 6, canonical=forged)
    assert row(6).canonical == original
    assert verify_chain().ok


@ON_EACH_DATABASE
def test_an_error_while_reading_reaches_the_caller(world, database, monkeypatch):
    monkeypatch.setitem(audit._BATCH_SQL, db.engine.dialect.name,
                        "SELECT no_such_column FROM audit_events")
    with pytest.raises(DBAPIError, match="no_such_column"):
        verify_chain()


# --- the columns must still be derived from the hashed record --------------------------------

def _schema_altered(result, column: str | None = None):
    assert not result.ok and result.failed_seq is None and result.count == 0
    assert "the schema was altered" in result.reason
    if column is not None:
        assert f"column {column} " in result.reason


@pytest.mark.parametrize("database", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def test_a_column_no_longer_derived_from_the_record_is_found(request, tmp_path, database):
    """Someone able to change the table definition makes `action` a plain column (or derives
    it from something else), so that it could say what the hashed record does not."""
    with application_on_empty_database(request, tmp_path, database) as application:
        upgrade()
        advance(build_world(), "Norr", "returned")
        assert verify_chain().ok
        db.session.remove()
        with db.engine.begin() as connection:
            if database == "postgres":
                connection.execute(text(
                    "ALTER TABLE audit_events ALTER COLUMN action DROP EXPRESSION"))
            else:
                connection.execute(text("PRAGMA writable_schema = ON"))
                connection.execute(text(
                    "UPDATE sqlite_master SET sql = replace(sql, "
                    "'json_extract(canonical, ''$.action'')', '''forged''') "
                    "WHERE type = 'table' AND name = 'audit_events'"))
        db.engine.dispose()  # new connections read the altered definition
        _schema_altered(verify_chain(), "action" if database == "postgres" else None)
        result = application.test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 1
        assert result.stderr.startswith("FAILED: the audit table's")
        assert "events before it verified" not in result.stderr
