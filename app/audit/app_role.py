"""The PostgreSQL role the application runs as: it does not own the tables, so it cannot
disable or drop the append-only triggers, alter or drop the audit table, or TRUNCATE it. It may
SELECT and INSERT on the append-only tables (the audit trail, section revisions, remarks),
SELECT, INSERT, UPDATE and DELETE on the others, read the migrations' version, and use the
sequences.

Run as the tables' owner (the role the migrations run as), after every `flask db upgrade`:
the grants are set anew for the tables that exist then, in one transaction. Default privileges
give tables a later migration creates only SELECT and INSERT until then (an UPDATE the app
needs there fails loudly rather than a new append-only table being writable).
"""
from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.audit.guards import APPEND_ONLY_TABLES

# Read by the readiness check; written only by the migrations (as the owner).
READ_ONLY_TABLES = ("alembic_version",)


class RoleRefused(Exception):
    """The grants cannot be set as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Plan:
    statements: list[str]
    created: bool


def _identifier(name: str) -> str:
    return sql.Identifier(name).as_string()


def _literal(value: str) -> str:
    return sql.Literal(value).as_string()


def plan(connection: Connection, app_role: str, password: str | None = None) -> Plan:
    """The statements that make `app_role` the application's role, or RoleRefused."""
    if connection.dialect.name != "postgresql":
        raise RoleRefused("Database roles are for PostgreSQL; SQLite has none.")
    owner, database, schema = connection.execute(text(
        "SELECT current_user, current_database(), current_schema()")).one()
    table_owner = connection.scalar(text(
        "SELECT tableowner FROM pg_tables WHERE schemaname = :schema "
        "AND tablename = 'audit_events'"), {"schema": schema})
    if table_owner is None:
        raise RoleRefused(f"There is no audit_events table in schema {schema}: run "
                          "flask --app app db upgrade first.")
    if table_owner != owner:
        raise RoleRefused(f"Run this as the tables' owner ({table_owner}), not as {owner}.")
    if app_role == owner:
        raise RoleRefused(f"The application's role must not be the owner ({owner}): that is "
                          "the whole point.")
    existing = connection.execute(text(
        "SELECT rolsuper, rolbypassrls, pg_has_role(:role, :owner, 'MEMBER') "
        "FROM pg_roles WHERE rolname = :role"), {"role": app_role, "owner": owner}).first()
    if existing is not None and (existing[0] or existing[1]):
        raise RoleRefused(f"The role {app_role} is a superuser or bypasses row security: it "
                          "could do anything the owner can. Use an ordinary role.")
    if existing is not None and existing[2]:
        raise RoleRefused(f"The role {app_role} is a member of the owner {owner}, so it could "
                          f"act as the owner: REVOKE {owner} FROM {app_role} first.")
    tables = list(connection.scalars(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = :schema ORDER BY tablename"),
        {"schema": schema}))
    role, schema_name = _identifier(app_role), _identifier(schema)
    statements = []
    if existing is None:
        statements.append(f"CREATE ROLE {role} LOGIN")
    if password:
        statements.append(f"ALTER ROLE {role} PASSWORD {_literal(password)}")
    statements += [
        f"GRANT CONNECT ON DATABASE {_identifier(database)} TO {role}",
        f"GRANT USAGE ON SCHEMA {schema_name} TO {role}",
        # Start from nothing, so a re-run also takes back what an earlier grant gave.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema_name} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema_name} FROM {role}",
    ]
    for table in tables:
        if table in APPEND_ONLY_TABLES:
            privileges = "SELECT, INSERT"
        elif table in READ_ONLY_TABLES:
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {privileges} ON {schema_name}.{_identifier(table)} TO {role}")
    statements += [
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema_name} TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {_identifier(owner)} IN SCHEMA {schema_name} "
        f"GRANT SELECT, INSERT ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {_identifier(owner)} IN SCHEMA {schema_name} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    return Plan(statements, existing is None)


def grant(connection: Connection, app_role: str, password: str | None = None) -> Plan:
    """Carry the plan out on `connection` (in its transaction: all or nothing)."""
    found = plan(connection, app_role, password)
    # The driver's own cursor, given no parameters, sends each statement as it is (a password
    # with a % in it stays one); it runs in the connection's transaction.
    cursor = connection.connection.cursor()
    try:
        for statement in found.statements:
            cursor.execute(statement)
    finally:
        cursor.close()
    return found
