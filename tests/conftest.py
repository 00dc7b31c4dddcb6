"""Test set-up: every test gets a freshly migrated, empty database.

The database under test is SQLite unless LAGESBILD_TEST_DATABASE_URL names another (CI runs
the suite again with PostgreSQL). Tests marked `postgres` always use PostgreSQL at
LAGESBILD_TEST_POSTGRES_URL (default: the local server); where it cannot be reached they skip
with a message, or fail when LAGESBILD_REQUIRE_POSTGRES=1 (as in CI).
"""
from __future__ import annotations

import contextvars
import os
import shutil

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


def _make_app(url: str, witness_path=None):
    """A test app; with `witness_path`, it files signed checkpoints there after each commit
    (a test app given none has no witness: see app/audit/witness.py)."""
    from app import create_app

    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": True,
        "AUDIT_WITNESS_PATH": None if witness_path is None else str(witness_path),
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


def _truncate_postgres(url: str) -> None:
    """Empty every table between tests. The append-only triggers refuse TRUNCATE; the
    superuser's replica mode skips them, which only a test harness may do."""
    from app.extensions import db

    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


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
    """Builds the schema once per session and hands each test an empty database."""

    def __init__(self, kind_url: str, tmp_root):
        self.server_url = kind_url
        self.kind_url = kind_url
        self.tmp_root = tmp_root
        self.template = None
        self.is_postgres = kind_url.startswith("postgresql")

    def prepare(self) -> None:
        if self.is_postgres:
            self.kind_url = private_postgres_database(self.server_url)
            _migrate(self.kind_url)
        else:
            self.template = self.tmp_root / "template.sqlite"
            _migrate(f"sqlite:///{self.template}")

    def fresh_url(self, tmp_path) -> str:
        if self.is_postgres:
            return self.kind_url
        target = tmp_path / "test.sqlite"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def clean(self) -> None:
        if self.is_postgres:
            _truncate_postgres(self.kind_url)

    def finish(self) -> None:
        if self.is_postgres:
            drop_postgres_database(self.kind_url, self.server_url)


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


def _app_for(kind: DatabaseKind, tmp_path):
    app = _make_app(kind.fresh_url(tmp_path), tmp_path / "audit-witness.jsonl")
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        from app.extensions import db
        db.session.remove()
        db.engine.dispose()
        ctx.pop()
        kind.clean()


@pytest.fixture
def app(request, tmp_path):
    """An application on an empty, migrated database, with an app context pushed.

    Tests marked `postgres` get PostgreSQL whatever the main database is."""
    if request.node.get_closest_marker("postgres") and not MAIN_DATABASE_URL.startswith(
            "postgresql"):
        kind = request.getfixturevalue("postgres_database")
    else:
        kind = request.getfixturevalue("main_database")
    yield from _app_for(kind, tmp_path)


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
    role, and an open period. See tests/factories.py."""
    from tests.factories import build_world

    return build_world()


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
    """Werkzeug's default (scrypt) costs ~70 ms a hash; tests create many users with the same
    password, so hash each distinct password once (still a real scrypt hash)."""
    import functools

    import app.models.user as user_module

    original = user_module.generate_password_hash
    user_module.generate_password_hash = functools.lru_cache(maxsize=None)(original)
    yield
    user_module.generate_password_hash = original
