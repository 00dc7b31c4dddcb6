"""Test set-up: every test gets a freshly migrated database, empty or holding the world.

The database under test is SQLite unless LAGESBILD_TEST_DATABASE_URL names another (CI runs
the suite again with PostgreSQL). Tests marked `postgres` always use PostgreSQL at
LAGESBILD_TEST_POSTGRES_URL (default: the local server); where it cannot be reached they skip
with a message, or fail when LAGESBILD_REQUIRE_POSTGRES=1 (as in CI).
"""
from __future__ import annotations

import contextvars
import copy
import os
import shutil

import psycopg
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

# Signed-in sessions and committed audit events, for every folder's page tests.
from tests.web_support import audit_events, other_web, web  # noqa: F401

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POSTGRES_URL = os.environ.get("LAGESBILD_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
MAIN_DATABASE_URL = os.environ.get("LAGESBILD_TEST_DATABASE_URL", "sqlite")
HOW_TO_RUN_POSTGRES = (
    "PostgreSQL is not reachable at {url} ({error}). Start it (trust auth, database 'test') "
    "or set LAGESBILD_TEST_POSTGRES_URL; CI sets LAGESBILD_REQUIRE_POSTGRES=1 and fails here."
)


def _postgres_error(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # any failure to connect means: not available here
        return str(error).splitlines()[0]


def require_postgres(url: str = POSTGRES_URL) -> None:
    error = _postgres_error(url)
    if error is None:
        return
    message = HOW_TO_RUN_POSTGRES.format(url=url, error=error)
    if os.environ.get("LAGESBILD_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)


class IsolatedClient(FlaskClient):
    """Runs each request in an empty contextvars context, so it gets its own application
    context, `g` and database session, as under a real server. (The `app` fixture keeps an
    application context pushed; Flask would reuse it for every request of the test, sharing
    Flask-Login's cached user and Flask-WTF's CSRF token between clients.)"""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(FlaskClient.open, self, *args, **kwargs)


def _make_app(url: str, witness_path=None, settings: dict | None = None):
    """A test app; with `witness_path`, it files signed checkpoints there after each commit
    (a test app given none has no witness: see app/audit/witness.py); `settings` adds to or
    overrides its configuration (e.g. tests/identity's provider)."""
    from app import create_app

    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": True,
        "AUDIT_WITNESS_PATH": None if witness_path is None else str(witness_path),
        **(settings or {}),
    })
    app.test_client_class = IsolatedClient
    return app


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = _make_app(url)
    with app.app_context():
        upgrade()
        from app.extensions import db
        db.engine.dispose()


def private_postgres_database(server_url: str, prefix: str = "lagesbild_test") -> str:
    """A database of this test run's own on the given server, so that runs in parallel (or a
    developer's data in the named database) never collide. Drop it when done
    (drop_postgres_database)."""
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"{prefix}_{os.getpid()}"
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(private_url: str, server_url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(private_url).database
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class DatabaseKind:
    """Builds the schema once per session, and the world (tests/factories.py) once on top of
    it; hands each test a database that is either empty or holds exactly that world.

    SQLite: each test gets a copy of a template file (the empty one, or the world's).
    PostgreSQL: one private database; before each test every table is emptied and, for a
    test that asks for the world, refilled from a snapshot of it kept in a schema of its own
    (chosen over TRUNCATE, which makes new files per table, and CREATE DATABASE ... TEMPLATE
    per test; a savepoint per test would break the tests that run servers or connect twice).
    Either way the world's witness lines are copied into the test's witness file, so the
    trail a test verifies is the one its database holds."""

    def __init__(self, kind_url: str, tmp_root):
        self.server_url = kind_url
        self.kind_url = kind_url
        self.tmp_root = tmp_root
        self.template = None
        self.is_postgres = kind_url.startswith("postgresql")
        self._world = None  # (World, witness file's bytes), once built
        self._world_template = None  # SQLite: the world's file
        self._harness = None  # PostgreSQL: the harness's own engine
        self._dirty = False  # PostgreSQL: a test may have changed the database
        self._world_tables = None  # PostgreSQL: the snapshot's tables and their columns

    def prepare(self) -> None:
        if self.is_postgres:
            self.kind_url = private_postgres_database(self.server_url)
            _migrate(self.kind_url)
            # pre_ping: some tests end every other connection to the database
            self._harness = create_engine(self.kind_url, pool_pre_ping=True)
        else:
            self.template = self.tmp_root / "template.sqlite"
            _migrate(f"sqlite:///{self.template}")

    def fresh_url(self, tmp_path, with_world: bool = False) -> str:
        """The database for one test (and its witness file filled to match)."""
        if with_world and self._world is None:
            self._build_world()
        if self.is_postgres:
            if self._dirty or with_world:
                try:
                    _reset_postgres(self._harness, self._world_tables if with_world else None)
                except psycopg.errors.UndefinedTable:  # a test took the snapshot away
                    self._build_world()
                    _reset_postgres(self._harness, self._world_tables)
            self._dirty = True
        if with_world:
            (tmp_path / WITNESS_FILE).write_bytes(self._world[1])
        if self.is_postgres:
            return self.kind_url
        target = tmp_path / "test.sqlite"
        shutil.copyfile(self._world_template if with_world else self.template, target)
        return f"sqlite:///{target}"

    def world(self):
        """A copy of the world's ids (a test may change its copy)."""
        return copy.deepcopy(self._world[0])

    def _build_world(self) -> None:
        from app.extensions import db
        from tests.factories import build_world

        folder = self.tmp_root / "world"
        folder.mkdir(exist_ok=True)
        (folder / WITNESS_FILE).unlink(missing_ok=True)
        if self.is_postgres:
            _reset_postgres(self._harness, None)
            url = self.kind_url
        else:
            self._world_template = folder / "world.sqlite"
            shutil.copyfile(self.template, self._world_template)
            url = f"sqlite:///{self._world_template}"
        app = _make_app(url, folder / WITNESS_FILE)
        with app.app_context():
            world = build_world()
            if not self.is_postgres:  # the whole world in the one file that is copied
                db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.remove()
            db.engine.dispose()
        if self.is_postgres:
            self._world_tables = _snapshot_postgres(self._harness)
            self._dirty = True
        self._world = (world, (folder / WITNESS_FILE).read_bytes())

    def finish(self) -> None:
        if self.is_postgres:
            self._harness.dispose()
            drop_postgres_database(self.kind_url, self.server_url)


WITNESS_FILE = "audit-witness.jsonl"
WORLD_SCHEMA = "test_world_snapshot"


def _postgres_tables(connection) -> dict[str, str]:
    """Each app table with the columns an INSERT may name (not the generated ones)."""
    from app.extensions import db

    tables = {}
    for table in db.metadata.sorted_tables:
        columns = connection.execute(text(
            "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
            "AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"),
            {"t": f'public."{table.name}"'}).scalars()
        tables[table.name] = ", ".join(f'"{c}"' for c in columns)
    return tables


def _snapshot_postgres(harness) -> dict[str, str]:
    """Keep the world's rows and sequence positions beside the app's tables."""
    with harness.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{WORLD_SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{WORLD_SCHEMA}"'))
        tables = _postgres_tables(connection)
        for name, columns in tables.items():
            connection.execute(text(f'CREATE TABLE "{WORLD_SCHEMA}"."{name}" AS '
                                    f'SELECT {columns} FROM public."{name}"'))
        connection.execute(text(
            f'CREATE TABLE "{WORLD_SCHEMA}".sequences AS SELECT schemaname, sequencename, '
            "last_value FROM pg_sequences WHERE schemaname = 'public'"))
    return tables


def _reset_postgres(harness, world_tables: dict[str, str] | None) -> None:
    """Empty every table (DELETE: for a few rows far cheaper than TRUNCATE, which makes new
    files) and restart the sequences; with the world, copy its rows and positions back. The
    append-only triggers refuse the DELETE, and foreign keys would order it; the superuser's
    replica mode skips both, which only a test harness may do."""
    from app.extensions import db

    statements = ["SET LOCAL session_replication_role = replica"]
    statements += [f'DELETE FROM public."{t.name}"' for t in db.metadata.sorted_tables]
    statements.append(
        "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) "
        "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL")
    if world_tables is not None:  # the world's: see _snapshot_postgres
        for name, columns in world_tables.items():
            statements.append(f'INSERT INTO public."{name}" ({columns}) OVERRIDING SYSTEM VALUE '
                              f'SELECT {columns} FROM "{WORLD_SCHEMA}"."{name}"')
        statements.append(
            "SELECT setval(format('%I.%I', schemaname, sequencename), last_value) "
            f'FROM "{WORLD_SCHEMA}".sequences WHERE last_value IS NOT NULL')
    connection = harness.raw_connection()
    try:  # one round trip: psycopg sends a script without parameters as one simple query
        with connection.cursor() as cursor:
            cursor.execute(";\n".join(statements))
        connection.commit()
    finally:
        connection.close()


@pytest.fixture(scope="session")
def main_database(tmp_path_factory):
    url = MAIN_DATABASE_URL
    if url.startswith("postgresql"):
        require_postgres(url)
    kind = DatabaseKind(url, tmp_path_factory.mktemp("db"))
    kind.prepare()
    yield kind
    kind.finish()


@pytest.fixture(scope="session")
def postgres_database(tmp_path_factory):
    require_postgres(POSTGRES_URL)
    kind = DatabaseKind(POSTGRES_URL, tmp_path_factory.mktemp("pg"))
    kind.prepare()
    yield kind
    kind.finish()


def _app_for(kind: DatabaseKind, tmp_path, with_world: bool = False,
             settings: dict | None = None):
    app = _make_app(kind.fresh_url(tmp_path, with_world), tmp_path / WITNESS_FILE, settings)
    app.extensions["test_world"] = kind.world() if with_world else None
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        from app.extensions import db
        db.session.remove()
        db.engine.dispose()
        ctx.pop()


@pytest.fixture
def app(request, tmp_path):
    """An application on an empty, migrated database, with an app context pushed.

    Tests marked `postgres` get PostgreSQL whatever the main database is."""
    if request.node.get_closest_marker("postgres") and not MAIN_DATABASE_URL.startswith(
            "postgresql"):
        kind = request.getfixturevalue("postgres_database")
    else:
        kind = request.getfixturevalue("main_database")
    yield from _app_for(kind, tmp_path, with_world="world" in request.fixturenames)


@pytest.fixture
def db_session(app):
    from app.extensions import db
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def world(app):
    """A small organisation: two areas, their offices and police, topics, users for every
    role, and an open period. See tests/factories.py. Built once per database and copied
    into each test's (see DatabaseKind); built here only where the app was set up without
    knowing the test wanted it."""
    from tests.factories import build_world

    return app.extensions.get("test_world") or build_world()


@pytest.fixture
def dialect(app) -> str:
    from app.extensions import db
    return db.engine.dialect.name


def pytest_collection_modifyitems(config, items):
    # Mark tests under tests/browser so `-m "not browser"` works and CI can count them.
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)



@pytest.fixture(scope="session", autouse=True)
def _hash_each_password_once():
    """Werkzeug's default (scrypt) costs ~70 ms a hash, and as much to check one; tests create
    many users with the same password and sign in hundreds of times, so hash each distinct
    password once and check each (hash, password) pair once (still real scrypt: a wrong
    password is refused as it would be)."""
    import functools

    import app.models.user as user_module
    import app.web.auth as auth_module

    patched = [(user_module, "generate_password_hash"), (user_module, "check_password_hash"),
               (auth_module, "check_password_hash")]
    originals = [(module, name, getattr(module, name)) for module, name in patched]
    for module, name, original in originals:
        setattr(module, name, functools.lru_cache(maxsize=None)(original))
    yield
    for module, name, original in originals:
        setattr(module, name, original)
