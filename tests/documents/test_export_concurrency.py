"""A whole-period export holds no write lock while it reads and renders: writers save while it
runs and none fails, and its fingerprint still binds the texts to the audit head they were
read at (one read transaction). The lock is checked directly (SQLite: can another connection
BEGIN IMMEDIATE without waiting? PostgreSQL: can it take the chain's advisory lock?), not by
timing."""
from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from sqlalchemy import create_engine, select, text

from app.audit.trail import _CHAIN_LOCK_KEY
from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.unit_of_work import consistent_read, operation
from app.documents import export as documents_export
from app.documents.export import audit_head, content_hash, export_period, fingerprint_of
from app.extensions import db
from app.models import AuditEvent, Section
from tests.audit.support import ON_EACH_DATABASE
from tests.factories import fill_sections

JOIN_TIMEOUT = 120


def write_lock_is_free() -> bool:
    """Could another writer begin its write operation right now, without waiting?"""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            taken = connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                      {"key": _CHAIN_LOCK_KEY})
            connection.rollback()
            return bool(taken)
    finally:
        engine.dispose()


def save_in_thread(app, world, key: str, section_id: int, new_text: str) -> list:
    """Save a section's text as `key` from another thread (its own session and connection);
    returns what happened: [] while running, then ["ok"] or [the error]."""
    outcome: list = []

    def target():
        with app.app_context():
            try:
                section = db.session.get(Section, section_id)
                user = world.user(key)
                with operation(user):
                    contributions.edit_section(user, section_id, new_text, section.version)
                outcome.append("ok")
            except BaseException as error:  # reported to the test
                outcome.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=target, name=f"writer-{key}")
    thread.start()
    thread.join(JOIN_TIMEOUT)
    assert not thread.is_alive(), "a save is stuck behind the export"
    return outcome


def _export_event() -> dict:
    db.session.rollback()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.export")
                              .order_by(AuditEvent.seq.desc()).limit(1))
    return {"seq": event.seq, **json.loads(event.data)}


@ON_EACH_DATABASE
def test_a_save_goes_through_while_the_period_is_read_and_rendered(app, world, monkeypatch,
                                                                  database):
    fill_sections(world, "Norr")
    fill_sections(world, "Söder", "drafter_south")
    section_id = world.sections("Söder")[0].id
    seen = {}
    read, render = documents_export.period_content, documents_export.render_docx

    def reading(period):
        seen["free while reading"] = write_lock_is_free()
        return read(period)

    def rendering(content, moment, fingerprint, template):
        seen["free while rendering"] = write_lock_is_free()
        seen["save"] = save_in_thread(app, world, "drafter_south", section_id,
                                      "- Sparat medan dokumentet skapades.")
        return render(content, moment, fingerprint, template)

    monkeypatch.setattr(documents_export, "period_content", reading)
    monkeypatch.setattr(documents_export, "render_docx", rendering)
    exported = export_period(world.user("consolidator"), world.period_id)

    assert seen == {"free while reading": True, "free while rendering": True, "save": ["ok"]}
    event = _export_event()
    saved = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "section.edit")
                              .order_by(AuditEvent.seq.desc()).limit(1))
    # The texts and the head were read together, before the save: the file shows the text
    # before it, and its fingerprint binds it to the head before the save's event.
    assert event["audit_head_seq"] < saved.seq < event["seq"]
    assert "Sparat medan" not in json.dumps([[s.text for s in c.sections]
                                              for c in exported.content.chapters])
    head_hash = db.session.scalar(select(AuditEvent.hash).where(
        AuditEvent.seq == event["audit_head_seq"]))
    assert event["audit_head_hash"] == head_hash
    assert exported.fingerprint == fingerprint_of(content_hash(exported.content), head_hash)
    assert verify_chain().ok


@ON_EACH_DATABASE
def test_writers_keep_saving_during_whole_period_exports(app, world, database):
    """Three drafters save over and over while the period is exported three times: every
    save succeeds (none waits out a busy timeout or fails with "database is locked")."""
    fill_sections(world, "Norr")
    fill_sections(world, "Söder", "drafter_south")
    writers = [("drafter", world.sections("Norr")[0].id),
               ("drafter2", world.sections("Norr")[1].id),
               ("drafter_south", world.sections("Söder")[0].id)]
    exporting = threading.Event()
    exporting.set()
    outcomes: dict[str, list] = {key: [] for key, _ in writers}

    def write(key: str, section_id: int):
        with app.app_context():
            try:
                user, round_number = world.user(key), 0
                while exporting.is_set() or round_number < 2:
                    round_number += 1
                    version = db.session.get(Section, section_id).version
                    with operation(user):
                        contributions.edit_section(user, section_id,
                                                   f"- Text {round_number} av {key}.", version)
                    outcomes[key].append("ok")
            except BaseException as error:  # reported to the test
                outcomes[key].append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=writer, name=f"writer-{writer[0]}")
               for writer in writers]
    db.session.rollback()
    for thread in threads:
        thread.start()
    try:
        exports = [export_period(world.user("consolidator"), world.period_id)
                   for _ in range(3)]
    finally:
        exporting.clear()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck"
    for key, outcome in outcomes.items():
        assert outcome and all(result == "ok" for result in outcome), (key, outcome)
    assert len({exported.fingerprint for exported in exports}) >= 1
    assert verify_chain().ok


@ON_EACH_DATABASE
def test_a_consistent_read_sees_one_moment(app, world, database):
    """Within one read, a save committed meanwhile is not seen, by any later query."""
    fill_sections(world, "Norr")
    section_id = world.sections("Norr")[0].id
    with consistent_read():
        before = db.session.scalar(select(Section.text).where(Section.id == section_id))
        head_before = audit_head()
        assert save_in_thread(app, world, "drafter", section_id, "- Ny text.") == ["ok"]
        assert db.session.scalar(select(Section.text).where(Section.id == section_id)) == before
        assert audit_head() == head_before
    assert db.session.get(Section, section_id).text == "- Ny text."


def test_a_consistent_read_refuses_to_run_inside_an_operation(app, world):
    with pytest.raises(RuntimeError, match="inside an operation"), \
            operation(world.user("drafter")), consistent_read():
        pass
