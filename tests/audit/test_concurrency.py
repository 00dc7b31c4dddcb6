"""Racing writers: one transition wins and writes one event; concurrent appends make one
contiguous chain (no fork, no gap, no "database is locked").

Each thread pushes its own app context, so it gets its own Flask-SQLAlchemy session and
its own connection. A Barrier releases the threads together, so their operations overlap
and queue up on the write serialisation (BEGIN IMMEDIATE on SQLite; on PostgreSQL the
chain's advisory lock, which operation() takes first).
"""
from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from app.audit.trail import record_event
from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.actors import SystemActor
from app.core.errors import InvalidTransition, StaleVersion
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import GENESIS_HASH, AuditEvent, Contribution
from tests import flow
from tests.audit.support import ON_EACH_DATABASE, rows
from tests.factories import advance

BARRIER_TIMEOUT = 30
JOIN_TIMEOUT = 120


def run_together(app, n: int, work: Callable[[int, Callable[[], None]], Any]) -> list:
    """Run work(i, wait) in n threads, each in its own app context; `wait()` returns when
    all n threads have called it. Returns, per thread, ("ok", value) or ("error", exc)."""
    barrier = threading.Barrier(n, timeout=BARRIER_TIMEOUT)
    results: list = [None] * n

    def target(i: int) -> None:
        passed = False

        def wait() -> None:
            nonlocal passed
            barrier.wait()
            passed = True

        with app.app_context():
            try:
                results[i] = ("ok", work(i, wait))
            except BaseException as error:  # reported to the test, not to the thread hook
                results[i] = ("error", error)
                if not passed:
                    barrier.abort()  # nobody waits forever for a thread that died early
            finally:
                db.session.remove()

    db.session.rollback()  # the test's own session holds no transaction while they run
    threads = [threading.Thread(target=target, args=(i,), name=f"racer-{i}") for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results


def _max_seq() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.coalesce(func.max(AuditEvent.seq), 0)))


def _events_after(seq: int) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)))


def _assert_one_contiguous_chain(expected_count: int) -> list:
    events = rows()
    assert [e.seq for e in events] == list(range(1, expected_count + 1))
    assert len({e.hash for e in events}) == expected_count
    previous = GENESIS_HASH
    for event in events:
        assert event.prev_hash == previous, f"fork or gap at {event.seq}"
        previous = event.hash
    result = verify_chain()
    assert result.ok, result
    assert result.count == expected_count and result.head_hash == previous
    return events


# --- (a) racing transitions ------------------------------------------------------------------

REVIEWERS = {"same_reviewer": ["reviewer"], "two_reviewers": ["reviewer", "reviewer2"]}


def _race_to_approve(app, world, threads: int, reviewers: list[str], *, pass_version: bool):
    """`threads` reviewers approve the same contribution at once."""
    contribution = advance(world, "Norr", "police_review")
    contribution_id, version = contribution.id, contribution.version
    before = _max_seq()

    def work(i: int, wait: Callable[[], None]):
        key = reviewers[i % len(reviewers)]
        actor = world.user(key)
        actor.memberships  # noqa: B018  (warm up outside the race)
        # What the reviewer's page showed, read before the race as a form would have it.
        seen = contributions.get_contribution(contribution_id)
        assert (seen.state, seen.version) == ("police_review", version)
        kwargs = {"expected_version": seen.version} if pass_version else {}
        wait()
        with operation(actor):
            flow.approve(actor, contribution_id, **kwargs)
        return world.users[key]

    results = run_together(app, threads, work)
    winners = [value for status, value in results if status == "ok"]
    losers = [value for status, value in results if status == "error"]
    assert len(winners) == 1, results
    assert len(losers) == threads - 1
    assert all(isinstance(e, StaleVersion | InvalidTransition) for e in losers), losers
    for error in losers:
        assert error.message  # a clear message for the user ...
        assert error.http_status == 409  # ... and a 409 on the web

    db.session.rollback()
    stored = db.session.get(Contribution, contribution_id)
    assert stored.state == "reviewed"
    assert stored.version == version + 1
    assert stored.reviewed_by_id == winners[0]
    written = _events_after(before)
    approvals = [e for e in written if e.action == "contribution.approve"]
    assert len(approvals) == 1
    assert approvals[0].actor_id == winners[0]
    assert approvals[0].object_id == str(contribution_id)
    assert (approvals[0].from_state, approvals[0].to_state) == ("police_review", "reviewed")
    _assert_one_contiguous_chain(before + len(written))
    return losers, written


@ON_EACH_DATABASE
@pytest.mark.parametrize("reviewers", REVIEWERS.values(), ids=REVIEWERS.keys())
def test_racing_approvals_with_the_version_write_exactly_one_event(app, world, database,
                                                                   reviewers):
    """Each racer sends the version it was shown: one wins; every loser gets StaleVersion
    (a 409 naming both versions, not a security event), so the race writes exactly one
    audit event in total."""
    threads = 8 if database == "postgres" else 4
    losers, written = _race_to_approve(app, world, threads, reviewers, pass_version=True)
    assert all(isinstance(e, StaleVersion) for e in losers), losers
    assert all(e.details == {"expected_version": 2, "current_version": 3} for e in losers)
    assert [e.action for e in written] == ["contribution.approve"]


@ON_EACH_DATABASE
def test_racing_approvals_without_the_version(app, world, database):
    """Without expected_version the racers after the winner (write operations are
    serialised: BEGIN IMMEDIATE on SQLite, the chain lock taken first on PostgreSQL) find
    the contribution already 'reviewed' and get InvalidTransition, which operation() logs
    as security.transition_refused (by design: a trigger fired from the wrong state). Still
    exactly one approval, but one more event per loser: callers must pass the version
    they showed for a race to leave a single event."""
    threads = 8 if database == "postgres" else 4
    losers, written = _race_to_approve(app, world, threads, ["reviewer", "reviewer2"],
                                       pass_version=False)
    assert all(isinstance(e, InvalidTransition) for e in losers), losers
    assert "'reviewed'" in losers[0].message
    assert written[0].action == "contribution.approve"
    assert [e.action for e in written[1:]] == ["security.transition_refused"] * (threads - 1)


# --- (b) concurrent appends ------------------------------------------------------------------

def _append_together(app, threads: int, per_thread: int, *, fail_every: int = 0):
    """Each thread appends `per_thread` events, one operation each; with fail_every, every
    n-th operation raises after its event was written (so it must roll back, leaving no
    trace and no gap)."""

    def work(i: int, wait: Callable[[], None]):
        actor = SystemActor(name=f"tråd {i}", organisation_name="Testförvaltningen")
        committed = []
        wait()
        for n in range(per_thread):
            try:
                with operation(actor):
                    record_event("test.concurrent_append", actor=actor, object_type="thread",
                                 object_id=i, data={"tråd": i, "n": n, "text": "åäö"})
                    if fail_every and n % fail_every == fail_every - 1:
                        raise LookupError("rolled back on purpose")
                committed.append(n)
            except LookupError:
                pass
        return committed

    results = run_together(app, threads, work)
    errors = [value for status, value in results if status == "error"]
    assert not errors, errors  # no "database is locked", no unique violations, no retries
    return [value for _status, value in results]


def _assert_all_appends_present(events, committed_by_thread):
    seen: dict[int, list[int]] = {}
    for event in events:
        if event.action == "test.concurrent_append":
            data = json.loads(event.data)
            seen.setdefault(data["tråd"], []).append(data["n"])
    # Every committed event is there once, and each thread's events are in its own order.
    assert seen == {i: committed for i, committed in enumerate(committed_by_thread)}
    assert Counter(e.action for e in events)["test.concurrent_append"] == sum(
        len(c) for c in committed_by_thread)


@pytest.mark.postgres
def test_concurrent_appends_make_one_chain_postgres(app, dialect):
    assert dialect == "postgresql"
    committed = _append_together(app, threads=8, per_thread=25)
    assert all(c == list(range(25)) for c in committed)
    events = _assert_one_contiguous_chain(8 * 25)
    _assert_all_appends_present(events, committed)


@pytest.mark.postgres
def test_concurrent_appends_with_rollbacks_leave_no_gap_postgres(app):
    committed = _append_together(app, threads=8, per_thread=20, fail_every=4)
    assert all(len(c) == 15 for c in committed)
    events = _assert_one_contiguous_chain(8 * 15)
    _assert_all_appends_present(events, committed)


def test_concurrent_appends_make_one_chain_on_the_main_database(app):
    committed = _append_together(app, threads=4, per_thread=10)
    events = _assert_one_contiguous_chain(4 * 10)
    _assert_all_appends_present(events, committed)


def test_concurrent_appends_with_rollbacks_on_the_main_database(app):
    committed = _append_together(app, threads=4, per_thread=8, fail_every=3)
    assert all(c == [0, 1, 3, 4, 6, 7] for c in committed)
    events = _assert_one_contiguous_chain(4 * 6)
    _assert_all_appends_present(events, committed)


def test_the_main_database_is_a_file_in_wal_mode_when_sqlite(app, dialect):
    """The SQLite runs above are meaningful only on a file database with WAL, where several
    connections really compete (an in-memory database has a single connection)."""
    if dialect != "sqlite":
        pytest.skip("the main database is not SQLite")
    assert db.engine.url.database not in (None, "", ":memory:")
    assert db.session.connection().exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


@ON_EACH_DATABASE
def test_concurrent_edits_of_different_sections_make_one_chain(world, app, database):
    """Real operations, not bare appends: eight sections (two areas) edited at once, each
    by its own drafter thread, three times. Every edit commits, with its revision and its
    event, and the chain stays one line."""
    from app.models import SectionRevision

    jobs = [(area, drafter, section.id)
            for area, drafter in (("Norr", "drafter"), ("Söder", "drafter_south"))
            for section in world.sections(area)]
    assert len(jobs) == 8
    before = _max_seq()

    def work(i: int, wait: Callable[[], None]):
        _area, key, section_id = jobs[i]
        wait()
        for n in range(3):
            actor = world.user(key)
            version = contributions.get_section(section_id).version
            with operation(actor):
                contributions.edit_section(actor, section_id,
                                           f"- Läget i område {i}, version {n}: åäö.", version)

    results = run_together(app, len(jobs), work)
    assert [status for status, _ in results] == ["ok"] * len(jobs), results
    events = _assert_one_contiguous_chain(before + 3 * len(jobs))
    assert Counter(e.action for e in events[before:]) == {"section.edit": 3 * len(jobs)}
    db.session.rollback()
    for _area, _key, section_id in jobs:
        numbers = db.session.scalars(select(SectionRevision.number).where(
            SectionRevision.section_id == section_id).order_by(SectionRevision.number)).all()
        assert numbers == [1, 2, 3]
