"""Migrations and models agree; the schema goes down to nothing and up again; the append-only
guards exist after an upgrade."""
from __future__ import annotations

import pprint
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.search import schema as search_schema
from tests.audit.support import application_on_empty_database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
APPEND_ONLY_TABLES = ("audit_events", "section_revisions", "remarks", "remark_replies",
                      "remark_resolutions")
ON_EACH_DATABASE = pytest.mark.parametrize("database", [
    pytest.param("main", id="main"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_name": search_schema.include_name})
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
                "AND tgrelid::regclass::text = ANY(:tables)"),
                {"tables": list(APPEND_ONLY_TABLES)}))
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


ON_SQLITE_AND_POSTGRES = pytest.mark.parametrize("database", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])


@ON_SQLITE_AND_POSTGRES
def test_downgrade_to_base_and_upgrade_again(request, tmp_path, database):
    """In a fresh application (on PostgreSQL in a schema of its own, first on the search path,
    so the shared test database keeps its tables whatever happens here): upgrade, use,
    downgrade to base, upgrade again."""
    from app.audit.verify import verify_chain
    from tests.factories import advance, build_world

    with application_on_empty_database(request, tmp_path, database):
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            with db.engine.connect() as connection:
                assert connection.scalar(text("SELECT current_schema()")).startswith("records_")
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


# --- c7a1e5d2f903: events keep their hashed record ------------------------------------------

BEFORE_RECORDS = "b324039fdae9"
OLD_EVENT_COLUMNS = ("seq", "occurred_at", "actor_id", "actor_name", "actor_organisation",
                     "action", "object_type", "object_id", "period_id", "area_id",
                     "contribution_id", "from_state", "to_state", "data", "request_id",
                     "client_address", "prev_hash", "hash")


def _old_style_events(count: int, altered: int | None = None) -> list[dict]:
    """Events as the first schema stored them (hashed fields as plain columns), hashed with
    the recipe; event `altered` is changed after it was hashed."""
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from app.audit.trail import compute_hash, event_payload

    events, prev_hash = [], "0" * 64
    for seq in range(1, count + 1):
        event = {"seq": seq, "occurred_at": datetime(2026, 3, 1, 8, tzinfo=UTC)
                 + timedelta(minutes=seq, microseconds=seq * 7),
                 "actor_id": None, "actor_name": f"Handläggare {seq}",
                 "actor_organisation": "Järva stadsdelsförvaltning",
                 "action": "section.edit", "object_type": "section", "object_id": str(seq),
                 "period_id": 1, "area_id": seq % 3 or None, "contribution_id": 40 + seq,
                 "from_state": None, "to_state": "draft",
                 "data": '{"text":"Otrygghet vid \\"torget\\"\\nkvällstid"}',
                 "request_id": f"r{seq}", "client_address": "10.0.0.1", "prev_hash": prev_hash}
        event["hash"] = compute_hash(event_payload(SimpleNamespace(**event)))
        prev_hash = event["hash"]
        events.append(event)
    if altered is not None:
        events[altered - 1]["action"] = "contribution.approve"
    return events


def _old_events_table():
    import sqlalchemy as sa

    from app.database import UTCDateTime

    return sa.table("audit_events", *(
        sa.column(name, UTCDateTime() if name == "occurred_at" else None)
        for name in OLD_EVENT_COLUMNS))




@ON_SQLITE_AND_POSTGRES
def test_events_are_carried_into_their_hashed_records_and_back(request, tmp_path, database):
    from app.audit.verify import verify_chain

    with application_on_empty_database(request, tmp_path, database):
        upgrade(revision=BEFORE_RECORDS)
        events = _old_style_events(12)
        with db.engine.begin() as connection:
            connection.execute(_old_events_table().insert(), events)
        upgrade()
        result = verify_chain()
        assert result.ok and result.count == 12
        assert result.head_hash == events[-1]["hash"]
        stored = [dict(r._mapping) for r in db.session.execute(select_all(OLD_EVENT_COLUMNS))]
        assert stored == events  # every column derived back to what it was
        db.session.remove()

        downgrade(revision=BEFORE_RECORDS)
        with db.engine.connect() as connection:
            back = [dict(r._mapping) for r in connection.execute(select_all(OLD_EVENT_COLUMNS))]
        assert back == events


@ON_SQLITE_AND_POSTGRES
def test_an_event_altered_before_the_migration_still_fails_after_it(request, tmp_path,
                                                                   database):
    from app.audit.verify import verify_chain

    with application_on_empty_database(request, tmp_path, database):
        upgrade(revision=BEFORE_RECORDS)
        with db.engine.begin() as connection:
            connection.execute(_old_events_table().insert(), _old_style_events(9, altered=4))
        upgrade()
        result = verify_chain()
        assert not result.ok and result.failed_seq == 4
        assert result.reason.startswith("its hash does not match its contents")


def select_all(columns):
    import sqlalchemy as sa

    from app.database import UTCDateTime

    table = sa.table("audit_events", *(
        sa.column(name, UTCDateTime() if name == "occurred_at" else None) for name in columns))
    return sa.select(*table.c).order_by(table.c.seq)


# --- e7b3c9d1f4a6: the imported mark --------------------------------------------------------

BEFORE_IMPORTED_MARK = "d4e8b1c2a7f5"


def _legacy_rows(connection, period_id: int, cause: str) -> None:
    """A period, its consolidation approved at once, one approved contribution whose text
    came by `cause` ("import": what an import stored before the mark)."""
    moment = "2029-12-31 12:00:00.000000"
    connection.execute(text(
        "INSERT INTO periods (id, name, drafting_deadline, review_deadline, "
        "consolidation_deadline, approval_deadline, created_at) VALUES (:id, :name, "
        "'2029-12-31', '2029-12-31', '2029-12-31', '2029-12-31', :at)"),
        {"id": period_id, "name": f"period {period_id}", "at": moment})
    connection.execute(text(
        "INSERT INTO consolidations (id, period_id, state, version, submitted_at, approved_at, "
        "created_at) VALUES (:id, :id, 'approved', 1, :at, :at, :at)"),
        {"id": period_id, "at": moment})
    connection.execute(text(
        "INSERT INTO contributions (id, area_id, period_id, state, version, round, created_at, "
        "updated_at) VALUES (:id, 1, :id, 'approved', 1, 1, :at, :at)"),
        {"id": period_id, "at": moment})
    connection.execute(text(
        "INSERT INTO sections (id, contribution_id, topic_id, text, version) "
        "VALUES (:id, :id, 1, 'Text.', 1)"), {"id": period_id})
    connection.execute(text(
        "INSERT INTO section_revisions (id, section_id, number, text, cause, round, created_at) "
        "VALUES (:id, :id, 1, 'Text.', :cause, 1, :at)"),
        {"id": period_id, "cause": cause, "at": moment})


@ON_SQLITE_AND_POSTGRES
def test_imports_made_before_the_mark_are_marked_imported(request, tmp_path, database):
    with application_on_empty_database(request, tmp_path, database):
        upgrade(revision=BEFORE_IMPORTED_MARK)
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO areas (id, name) VALUES (1, 'Norr')"))
            connection.execute(text(
                "INSERT INTO topics (id, scope, number, title, position, active) "
                "VALUES (1, 'city', 1, 'Unga', 1, :yes)"), {"yes": True})
            _legacy_rows(connection, 1, "import")
            _legacy_rows(connection, 2, "edit")  # approved in the system: not an import
        upgrade()
        with db.engine.connect() as connection:
            contributions = dict(connection.execute(text(
                "SELECT id, imported_at IS NOT NULL FROM contributions ORDER BY id")).all())
            consolidations = dict(connection.execute(text(
                "SELECT id, imported_at IS NOT NULL FROM consolidations ORDER BY id")).all())
        assert contributions == {1: True, 2: False}
        assert consolidations == {1: True, 2: False}
        db.session.remove()
        downgrade(revision=BEFORE_IMPORTED_MARK)
        assert "imported_at" not in {c["name"] for c in inspect(db.engine).get_columns(
            "contributions")}


# --- e9d3b7f1a5c8: approved history is frozen -----------------------------------------------

BEFORE_FROZEN_HISTORY = "b2d8f4a0e3c6"


@ON_SQLITE_AND_POSTGRES
def test_approved_sections_get_what_they_were_approved_with_from_the_trail(request, tmp_path,
                                                                        database):
    """Approved, exported, then renamed and reordered while approved history still followed
    the topics: the migration rebuilds the approved titles, order and cross-reference from
    the trail, so the snapshot matches the digest the approval recorded and the old export
    verifies."""
    from app.admin import operations as admin
    from app.admin import structure
    from app.contributions.snapshot import snapshot_intact
    from app.core.unit_of_work import operation
    from app.documents.cross_references import set_cross_reference
    from app.documents.export import export_contribution
    from app.documents.verify import verify_document
    from app.models import Section, Topic
    from tests.documents.support import approve_period
    from tests.factories import SETUP, build_world, run

    with application_on_empty_database(request, tmp_path, database):
        upgrade()
        world = build_world()
        with operation(SETUP):
            second = admin.create_topic(SETUP, "Otrygga platser", area_name="Norr")
            db.session.add(Section(contribution_id=world.contribution().id, topic_id=second.id))
        first = db.session.scalar(db.select(Topic).where(Topic.title == "Trygghet i norr"))
        city = world.sections()[0]
        run(world, "drafter", set_cross_reference, city.id, first.id, city.version)
        approve_period(world)
        exported = export_contribution(world.user("auditor"), world.contribution().id)
        approved = [(s.id, s.approved_title, s.approved_position, s.approved_reference)
                    for s in world.sections()]
        with operation(SETUP):
            topic = db.session.get(Topic, first.id)
            structure.rename_topic(SETUP, topic.id, "Nytt namn", expected_version=topic.version)
        with operation(SETUP):
            topic = db.session.get(Topic, second.id)
            structure.move_topic(SETUP, topic.id, "up", expected_version=topic.version)
        with operation(SETUP):
            topic = db.session.get(Topic, first.id)
            structure.rename_topic(SETUP, topic.id, "Ännu ett namn",
                                   expected_version=topic.version)
        db.session.remove()
        downgrade(revision=BEFORE_FROZEN_HISTORY)
        assert "approved_title" not in {c["name"] for c in inspect(db.engine).get_columns(
            "sections")}
        upgrade()
        db.session.remove()
        rebuilt = [(s.id, s.approved_title, s.approved_position, s.approved_reference)
                   for s in world.sections()]
        assert rebuilt == approved
        assert rebuilt[-2][1:] == ("Trygghet i norr", 3, None)
        assert rebuilt[0][3] == "Trygghet i norr"
        assert snapshot_intact(world.contribution()) is True
        report = verify_document(exported.data)
        assert report.matches, report.summary
        # Drafts are not frozen.
        with db.engine.connect() as connection:
            assert connection.scalar(text(
                "SELECT count(*) FROM sections s JOIN contributions c ON c.id = s.contribution_id"
                " WHERE c.state <> 'approved' AND s.approved_position IS NOT NULL")) == 0
