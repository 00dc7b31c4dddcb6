"""The append-only guards: the triggers the migrations put on the tables whose rows are never
changed or removed, and whether they are still there, enabled and as the migrations wrote
them (readiness asks which are missing; `audit verify` fails naming any that is not right)."""
from __future__ import annotations

import re

from sqlalchemy import text

# The tables whose rows are never changed or removed (the first migrations' triggers).
APPEND_ONLY_TABLES = ("audit_events", "section_revisions", "remarks", "remark_replies",
                      "remark_resolutions")
_SQLITE_VERBS = ("update", "delete")
# What the trigger function does (PostgreSQL; on SQLite the refusal is in the trigger itself).
_REFUSING_BODY = {
    "postgresql": "begin raise exception '% is append-only: % refused', tg_table_name, tg_op "
                  "using errcode = 'insufficient_privilege'; end",
    "sqlite": "",
}


def expected_triggers(dialect: str) -> set[str]:
    if dialect == "postgresql":
        return {f"{table}_{kind}" for table in APPEND_ONLY_TABLES
                for kind in ("append_only", "no_truncate")}
    return {f"{table}_no_{verb}" for table in APPEND_ONLY_TABLES for verb in _SQLITE_VERBS}


def present_triggers(connection) -> set[str]:
    """The append-only triggers present (and enabled, on PostgreSQL)."""
    if connection.dialect.name == "postgresql":
        return set(connection.scalars(text(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
            "AND tgrelid::regclass::text = ANY(:tables)"), {"tables": list(APPEND_ONLY_TABLES)}))
    return set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))


def _expected_definitions(dialect: str) -> dict[str, str]:
    """Each trigger as the migrations created it, normalised (see _normalised)."""
    if dialect == "postgresql":
        found = {}
        for table in APPEND_ONLY_TABLES:
            found[f"{table}_append_only"] = (
                f"create trigger {table}_append_only before delete or update on {table} "
                "for each row execute function lagesbild_refuse_change()")
            found[f"{table}_no_truncate"] = (
                f"create trigger {table}_no_truncate before truncate on {table} "
                "for each statement execute function lagesbild_refuse_change()")
        return found
    return {f"{table}_no_{verb}": _normalised(
        f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} BEGIN SELECT "
        f"RAISE(ABORT, '{table} is append-only: {verb.upper()} refused'); END")
        for table in APPEND_ONLY_TABLES for verb in _SQLITE_VERBS}


def _normalised(sql: str) -> str:
    """Lower case, single spaces, and no schema before a name (PostgreSQL adds one when the
    schema is not on the search path)."""
    sql = re.sub(r"\s+", " ", sql.strip().lower())
    return re.sub(r"\b\w+\.(?=\w)", "", sql)


def guard_problem(connection) -> str | None:
    """Why the database would no longer refuse a change to history, or None: a trigger that
    was dropped, disabled or redefined, or (PostgreSQL) a trigger function that no longer
    raises."""
    dialect = connection.dialect.name
    expected = _expected_definitions(dialect)
    if dialect == "postgresql":
        rows = connection.execute(text(
            "SELECT t.tgname, t.tgenabled <> 'D', pg_get_triggerdef(t.oid), p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND t.tgrelid::regclass::text = ANY(:tables)"),
            {"tables": list(APPEND_ONLY_TABLES)}).all()
        found = {name: (enabled, definition, body) for name, enabled, definition, body in rows}
    else:
        found = {name: (True, definition, "")
                 for name, definition in connection.execute(text(
                     "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()}
    missing = sorted(name for name in expected if name not in found)
    disabled = sorted(name for name in expected if name in found and not found[name][0])
    altered = sorted(name for name in expected if name in found and (
        _normalised(found[name][1]) != expected[name]
        or _normalised(found[name][2]) != _REFUSING_BODY[dialect]))
    parts = []
    if missing:
        parts.append("missing: " + ", ".join(missing))
    if disabled:
        parts.append("disabled: " + ", ".join(disabled))
    if altered:
        parts.append("not as the migrations made them: " + ", ".join(altered))
    if not parts:
        return None
    return ("the append-only triggers are not in place (" + "; ".join(parts) + "), so the "
            "history could have been changed without the database refusing it: the schema "
            "was altered")
