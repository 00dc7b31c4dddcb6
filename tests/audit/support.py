"""Helpers shared by the audit-trail tests: run a test on both databases, read the chain
straight from the table, and tamper with it behind the application's back."""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Connection, make_url

from app.audit.trail import canonical_json, format_time, hash_of_record
from app.extensions import db
from app.models import AuditEvent
from app.models.audit import DERIVED_COLUMNS

APPEND_ONLY_TABLES = ("audit_events", "section_revisions", "remarks", "remark_replies",
                      "remark_resolutions")
EVENTS = AuditEvent.__table__
# Far above any seq a test writes: a parking place while seqs are renumbered (the primary
# key is checked row by row, so `seq = seq + 1` in place would collide).
PARKING = 1_000_000
# The table's columns that are not derived from the hashed record.
OWN_COLUMNS = ("seq", "canonical", "prev_hash", "hash")

# The same test body on the main database (SQLite unless LAGESBILD_TEST_DATABASE_URL says
# otherwise) and on PostgreSQL. The `app` fixture picks PostgreSQL for `postgres`-marked items.
ON_EACH_DATABASE = pytest.mark.parametrize("database", [
    pytest.param("main", id="main"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])


def rows() -> list[Any]:
    """Every event as a plain row, in seq order, read in a fresh transaction."""
    db.session.rollback()
    return db.session.execute(select(EVENTS).order_by(EVENTS.c.seq)).all()


def row(seq: int) -> Any:
    db.session.rollback()
    return db.session.execute(select(EVENTS).where(EVENTS.c.seq == seq)).one()


def head() -> tuple[int, str | None]:
    """(number of events, hash of the newest one) as stored."""
    db.session.rollback()
    count = db.session.scalar(select(func.count()).select_from(EVENTS))
    newest = db.session.scalar(select(EVENTS.c.hash).order_by(EVENTS.c.seq.desc()).limit(1))
    return count, newest


def random_hash() -> str:
    return secrets.token_hex(32)


def _record(template: Any, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split `changes` into the hashed record (template's canonical JSON with the changed
    fields) and the table's own columns (seq, prev_hash, hash, canonical)."""
    record = json.loads(changes.get("canonical", template.canonical))
    own = {name: changes[name] for name in OWN_COLUMNS if name in changes}
    for name, value in changes.items():
        if name in DERIVED_COLUMNS or name in ("seq", "prev_hash"):
            record[name] = format_time(value) if isinstance(value, datetime) else value
    return record, own


def forged_values(template: Any, **changes: Any) -> dict[str, Any]:
    """An insertable row (seq, canonical, prev_hash, hash): the template's record with
    `changes`, and a hash computed the way the app does, so only what the test means to break
    is broken (pass hash=... to break the hash too)."""
    record, own = _record(template, changes)
    values = {"seq": record["seq"], "prev_hash": record["prev_hash"],
              "canonical": canonical_json(record)}
    values["hash"] = own.get("hash") or hash_of_record(values["prev_hash"], values["canonical"])
    return values


def update_event(connection: Connection, seq: int, /, **changes: Any) -> None:
    """Change event `seq` as someone with direct access could (guards off): a hashed field is
    changed in its stored record (the database then derives the column anew); seq, prev_hash,
    hash and canonical are set as given. The hash is left alone unless given."""
    if set(changes) <= set(OWN_COLUMNS):  # stored exactly as given, even if not valid JSON
        values = changes
    else:
        current = connection.execute(select(EVENTS).where(EVENTS.c.seq == seq)).one()
        record, own = _record(current, changes)
        values = {**own, "canonical": canonical_json(record)}
    connection.execute(EVENTS.update().where(EVENTS.c.seq == seq).values(**values))


def _sqlite_guards(connection: Connection) -> list[tuple[str, str]]:
    tables = ", ".join(f"'{t}'" for t in APPEND_ONLY_TABLES)
    return [tuple(r) for r in connection.execute(text(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({tables})"
    ))]


def _set_postgres_triggers(enabled: bool) -> None:
    verb = "ENABLE" if enabled else "DISABLE"
    with db.engine.begin() as connection:
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f"ALTER TABLE {table} {verb} TRIGGER USER"))


@contextmanager
def guards_off(how: str = "in_transaction") -> Iterator[Connection]:
    """Simulate someone with direct database access: yield a connection, in a transaction
    that commits at the end of the block, on which the append-only guards do not fire.

    how="in_transaction": the guards are off for that transaction only (SQLite: triggers
    dropped and re-created inside it, DDL being transactional; PostgreSQL:
    SET LOCAL session_replication_role = replica). Nobody else ever sees them off.
    how="committed": the guards are switched off in a committed transaction of their own
    (SQLite: DROP TRIGGER; PostgreSQL: ALTER TABLE ... DISABLE TRIGGER USER) and switched
    back on in a `finally`, so later tests (and the PostgreSQL clean-up) find them again.
    """
    db.session.rollback()  # hold no locks: ALTER TABLE would wait for our own reader
    postgres = db.engine.dialect.name == "postgresql"
    if how == "in_transaction":
        with db.engine.begin() as connection:
            if postgres:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                yield connection
            else:
                guards = _sqlite_guards(connection)
                for name, _sql in guards:
                    connection.execute(text(f"DROP TRIGGER {name}"))
                yield connection
                for _name, sql in guards:
                    connection.execute(text(sql))
    elif how == "committed":
        if postgres:
            try:
                _set_postgres_triggers(enabled=False)
                with db.engine.begin() as connection:
                    yield connection
            finally:
                _set_postgres_triggers(enabled=True)
        else:
            with db.engine.begin() as connection:
                guards = _sqlite_guards(connection)
                for name, _sql in guards:
                    connection.execute(text(f"DROP TRIGGER {name}"))
            try:
                with db.engine.begin() as connection:
                    yield connection
            finally:
                with db.engine.begin() as connection:
                    for _name, sql in guards:
                        connection.execute(text(sql))
    else:
        raise ValueError(how)
    db.session.rollback()  # the next read starts a transaction that sees the tampering


def renumber(connection: Connection, *, from_seq: int, by: int) -> None:
    """Shift every event with seq >= from_seq by `by` (through the parking place)."""
    connection.execute(EVENTS.update().where(EVENTS.c.seq >= from_seq)
                       .values(seq=EVENTS.c.seq + PARKING))
    connection.execute(EVENTS.update().where(EVENTS.c.seq >= PARKING)
                       .values(seq=EVENTS.c.seq - PARKING + by))


def update_refused(table: str, column: str) -> bool:
    """Whether the database refuses an UPDATE of every row of `table` (the guards are on)."""
    from sqlalchemy.exc import DBAPIError

    db.session.rollback()
    try:
        with db.engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET {column} = {column}"))
    except DBAPIError as error:
        return "append-only" in str(error)
    return False


def enabled_guards() -> set[str]:
    """Names of the append-only triggers that are present and enabled."""
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        names = db.session.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
            "AND tgrelid::regclass::text = ANY(:tables)"
        ), {"tables": list(APPEND_ONLY_TABLES)})
    else:
        names = db.session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    found = set(names)
    db.session.rollback()
    return found


def expected_guards(dialect: str) -> set[str]:
    if dialect == "postgresql":
        return {f"{t}_{kind}" for t in APPEND_ONLY_TABLES for kind in ("append_only",
                                                                        "no_truncate")}
    return {f"{t}_no_{verb}" for t in APPEND_ONLY_TABLES for verb in ("update", "delete")}


@contextmanager
def application_on_empty_database(request, tmp_path, database):
    """A fresh application on an empty database (PostgreSQL: a schema of its own), and an
    app context; everything is removed afterwards."""
    from app import create_app

    schema, admin = None, None
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.sqlite'}"
    else:
        server = request.getfixturevalue("postgres_database").kind_url
        schema = f"records_{secrets.token_hex(4)}"
        admin = create_engine(server)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(server).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    application = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                              "SQLALCHEMY_DATABASE_URI": url})
    try:
        with application.app_context():
            try:
                yield application
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        if admin is not None:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
