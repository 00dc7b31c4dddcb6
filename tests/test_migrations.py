"""Migrations and models agree; the schema goes down to nothing and up again; the append-only
guards exist after an upgrade."""
from __future__ import annotations

import pprint
import secrets
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
APPEND_ONLY_TABLES = ("audit_events", "section_revisions", "remarks")
ON_EACH_DATABASE = pytest.mark.parametrize("database", [
    pytest.param("main", id="main"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def _guards() -> set[str]:
    """The append-only triggers present (and enabled, on PostgreSQL)."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            return set(connection.scalars(text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgrelid::regclass::text = ANY(:tables)"), {"tables": list(APPEND_ONLY_TABLES)}))
        return set(connection.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")))


def _expected_guards(dialect: str) -> set[str]:
    if dialect == "postgresql":
        return {f"{t}_{kind}" for t in APPEND_ONLY_TABLES for kind in ("append_only",
                                                                        "no_truncate")}
    return {f"{t}_no_{verb}" for t in APPEND_ONLY_TABLES for verb in ("update", "delete")}


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


@ON_EACH_DATABASE
def test_models_and_migrations_agree(app, database):
    """What `flask db migrate` would generate now: nothing."""
    differences = _differences()
    assert differences == [], "the models and the migrations differ:\n" + pprint.pformat(
        differences)


@ON_EACH_DATABASE
def test_the_database_is_at_the_single_head(app, database):
    heads = ScriptDirectory(str(MIGRATIONS)).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
    assert _current_revision() == heads[0]


@ON_EACH_DATABASE
def test_the_append_only_guards_exist_after_upgrade(app, dialect, database):
    assert _guards() == _expected_guards(dialect)
    if dialect == "postgresql":
        with db.engine.connect() as connection:
            assert connection.scalar(text(
                "SELECT count(*) FROM pg_proc WHERE proname = 'lagesbild_refuse_change'")) == 1


def _round_trip(url: str, schema: str | None = None) -> None:
    """In a fresh application on `url`: upgrade, use, downgrade to base, upgrade again."""
    from app import create_app
    from app.services.audit import verify_chain
    from tests.factories import advance, build_world

    application = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                              "SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        try:
            dialect = db.engine.dialect.name
            if schema is not None:
                with db.engine.connect() as connection:
                    assert connection.scalar(text("SELECT current_schema()")) == schema
            upgrade()
            assert _current_revision() == _head_revision()
            assert _guards() == _expected_guards(dialect)
            # Data in every table, history included, before going down.
            advance(build_world(), "Norr", "returned")
            db.session.remove()

            downgrade(revision="base")
            assert _current_revision() is None
            assert _tables() <= {"alembic_version"}
            assert _guards() == set()

            upgrade()
            assert _current_revision() == _head_revision()
            assert _tables() >= {t.name for t in db.metadata.sorted_tables}
            assert _guards() == _expected_guards(dialect)
            assert _differences() == []
            # The schema works again, from empty.
            world = build_world()
            advance(world, "Norr", "reviewed")
            assert verify_chain().ok
            with pytest.raises(DBAPIError, match="append-only"):
                with db.engine.begin() as connection:
                    connection.execute(text("DELETE FROM audit_events"))
        finally:
            db.session.remove()
            db.engine.dispose()


def test_downgrade_to_base_and_upgrade_again_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'round_trip.sqlite'}")


@pytest.mark.postgres
def test_downgrade_to_base_and_upgrade_again_on_postgres(postgres_database):
    """In a schema of its own (first on the search path), so the shared test database keeps
    its tables whatever happens here."""
    from sqlalchemy import create_engine

    schema = f"round_trip_{secrets.token_hex(4)}"
    server = postgres_database.kind_url
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
        _round_trip(url.render_as_string(hide_password=False), schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
