"""On PostgreSQL, the app runs as a role that does not own the tables: migrated as the owner,
`audit grant-app-role` as the owner, then the app's flow as the app's role, which may append
to the trail but cannot change it, empty it, or take its guards away."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.audit.verify import verify_chain
from app.extensions import db
from tests.conftest import POSTGRES_URL, require_postgres

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# Every statement that would let the app's role rewrite or unguard history.
PRIVILEGED = [
    "UPDATE audit_events SET canonical = canonical",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
    "DROP TRIGGER audit_events_append_only ON audit_events",
    "DROP TRIGGER audit_events_no_truncate ON audit_events",
    "CREATE TRIGGER sneaky BEFORE INSERT ON audit_events FOR EACH ROW "
    "EXECUTE FUNCTION lagesbild_refuse_change()",
    "ALTER TABLE audit_events ADD COLUMN note text",
    "ALTER TABLE audit_events ALTER COLUMN canonical DROP NOT NULL",
    "ALTER TABLE audit_events OWNER TO CURRENT_USER",
    "DROP TABLE audit_events",
    "DROP TABLE audit_events CASCADE",
    "CREATE OR REPLACE FUNCTION lagesbild_refuse_change() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RETURN NULL; END $$",
    "DROP FUNCTION lagesbild_refuse_change() CASCADE",
    "SET session_replication_role = replica",
    "UPDATE section_revisions SET text = 'x'",
    "DELETE FROM section_revisions",
    "TRUNCATE section_revisions",
    "UPDATE remarks SET text = 'x'",
    "DELETE FROM remarks",
    "TRUNCATE remarks",
    "UPDATE alembic_version SET version_num = 'x'",
]


@pytest.fixture
def cluster():
    """A database and two roles of this test's own (roles are cluster-wide: unique names,
    always dropped); yields (owner url, app url, names)."""
    require_postgres(POSTGRES_URL)
    suffix = secrets.token_hex(4)
    names = {"owner": f"lagesbild_owner_{suffix}", "app": f"lagesbild_app_{suffix}",
             "database": f"lagesbild_roles_{suffix}"}
    server = make_url(POSTGRES_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE ROLE "{names["owner"]}" LOGIN CREATEROLE'))
            connection.execute(text(f'CREATE DATABASE "{names["database"]}" '
                                    f'OWNER "{names["owner"]}"'))
        database = server.set(database=names["database"])
        yield (database.set(username=names["owner"]).render_as_string(hide_password=False),
               database.set(username=names["app"]).render_as_string(hide_password=False),
               names)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{names["database"]}" '
                                    "WITH (FORCE)"))
            for role in ("app", "owner"):
                connection.execute(text(f'DROP ROLE IF EXISTS "{names[role]}"'))
        admin.dispose()


@contextmanager
def application(url: str, tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": url,
                      "AUDIT_WITNESS_PATH": str(tmp_path / "witness.jsonl")})
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _migrate_and_grant(owner_url: str, role: str, tmp_path) -> str:
    from flask_migrate import upgrade

    with application(owner_url, tmp_path) as owner_app:
        upgrade()
        result = owner_app.test_cli_runner().invoke(args=["audit", "grant-app-role", role])
        assert result.exit_code == 0, result.output
        return result.output


def _upgrade_script(owner_url: str, role: str, tmp_path, *options: str) -> str:
    """deploy/upgrade.sh, as the README's production steps run it."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAGESBILD_") and k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(LAGESBILD_OWNER_DATABASE_URL=owner_url, FLASK=str(BIN / "flask"),
               LAGESBILD_WITNESS_PATH=str(tmp_path / "owner-witness.jsonl"))
    done = subprocess.run([str(REPO / "deploy" / "upgrade.sh"), role, *options], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _refused(statement: str) -> DBAPIError:
    db.session.rollback()
    with pytest.raises(DBAPIError) as refusal:
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    return refusal.value


@pytest.mark.postgres
def test_the_apps_role_runs_the_flow_and_cannot_touch_the_trail(cluster, tmp_path):
    from tests.factories import advance, build_world

    owner_url, app_url, names = cluster
    output = _upgrade_script(owner_url, names["app"], tmp_path)
    assert f"The role {names['app']} was created and granted" in output
    with application(app_url, tmp_path) as app:
        assert db.session.scalar(text("SELECT current_user")) == names["app"]
        world = build_world()
        advance(world, "Norr", "returned")  # submitted, returned with a remark: every table
        before = verify_chain()
        assert before.ok and before.count > 20
        runner = app.test_cli_runner()
        witnessed = runner.invoke(args=["audit", "verify"])
        assert witnessed.exit_code == 0 and "Witnessed:" in witnessed.output, witnessed.output
        for statement in PRIVILEGED:
            error = _refused(statement)
            assert error.orig.sqlstate == "42501", (statement, error)  # insufficient privilege
        after = verify_chain()
        assert (after.count, after.head_hash) == (before.count, before.head_hash)
        assert runner.invoke(args=["audit", "verify"]).exit_code == 0


@pytest.mark.postgres
def test_a_rerun_after_an_upgrade_grants_the_new_tables(cluster, tmp_path):
    """Default privileges give a table a later migration creates SELECT and INSERT only; the
    re-run the README asks for after every upgrade grants the rest (and is idempotent)."""
    owner_url, app_url, names = cluster
    _migrate_and_grant(owner_url, names["app"], tmp_path)
    owner = create_engine(owner_url)
    with owner.begin() as connection:
        connection.execute(text("CREATE TABLE later_table (id serial PRIMARY KEY, note text)"))
    with application(app_url, tmp_path):
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO later_table (note) VALUES ('a')"))
        assert _refused("UPDATE later_table SET note = 'b'").orig.sqlstate == "42501"
    assert "was granted" in _migrate_and_grant(owner_url, names["app"], tmp_path)
    with application(app_url, tmp_path):
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE later_table SET note = 'b'"))
        assert _refused("DELETE FROM audit_events").orig.sqlstate == "42501"
    owner.dispose()


@pytest.mark.postgres
def test_the_command_refuses_what_would_defeat_it(cluster, tmp_path):
    owner_url, app_url, names = cluster
    _migrate_and_grant(owner_url, names["app"], tmp_path)
    with application(app_url, tmp_path) as app:  # run as the app's role: not the owner
        result = app.test_cli_runner().invoke(args=["audit", "grant-app-role", names["app"]])
        assert result.exit_code == 1
        assert f"Run this as the tables' owner ({names['owner']})" in result.output
    with application(owner_url, tmp_path) as app:
        runner = app.test_cli_runner()
        result = runner.invoke(args=["audit", "grant-app-role", names["owner"]])
        assert result.exit_code == 1 and "must not be the owner" in result.output
        with db.engine.begin() as connection:
            connection.execute(text(f'GRANT "{names["owner"]}" TO "{names["app"]}"'))
        result = runner.invoke(args=["audit", "grant-app-role", names["app"]])
        assert result.exit_code == 1 and "is a member of the owner" in result.output
        with db.engine.begin() as connection:
            connection.execute(text(f'REVOKE "{names["owner"]}" FROM "{names["app"]}"'))
        printed = runner.invoke(args=["audit", "grant-app-role", names["app"], "--sql"])
        assert printed.exit_code == 0
        assert (f'GRANT SELECT, INSERT ON "public"."audit_events" TO "{names["app"]}";'
                in printed.output)
        assert "CREATE ROLE" not in printed.output  # it exists already


@pytest.mark.postgres
def test_a_password_is_set_from_the_environment(cluster, tmp_path, monkeypatch):
    owner_url, _app_url, names = cluster
    monkeypatch.setenv("APP_DB_PASSWORD", "s3cret-with-%-and-'quote")
    _upgrade_script(owner_url, names["app"], tmp_path, "--password-env", "APP_DB_PASSWORD")
    superuser = create_engine(POSTGRES_URL)
    with superuser.connect() as connection:  # only a superuser may read the stored verifier
        stored = connection.scalar(text("SELECT rolpassword FROM pg_authid WHERE rolname = :r"),
                                   {"r": names["app"]})
    superuser.dispose()
    assert stored is not None and stored.startswith("SCRAM-SHA-256$")


def test_on_sqlite_there_are_no_roles_to_grant(app, runner, dialect):
    if dialect != "sqlite":
        pytest.skip("the main database is PostgreSQL here")
    result = runner.invoke(args=["audit", "grant-app-role", "lagesbild_app"])
    assert result.exit_code == 1 and "Database roles are for PostgreSQL" in result.output
