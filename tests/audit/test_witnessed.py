"""`flask audit verify` against the witness: the tamper table, done with the owner's
privileges and the triggers out of the way, each detected at the right event; a witness line
that is not signed by the app's key refused, naming it."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.audit.trail import format_time, record_event
from app.audit.witness import SigningKey, app_witness, parse_checkpoint, public_key_pem
from app.core.unit_of_work import operation
from app.extensions import db
from tests.audit.support import (
    EVENTS,
    ON_EACH_DATABASE,
    PARKING,
    forged_values,
    guards_off,
    head,
    random_hash,
    renumber,
    row,
    rows,
    update_event,
)
from tests.factories import SETUP, fill_sections


def verify(runner, *args: str):
    result = runner.invoke(args=["audit", "verify", *args])
    db.session.rollback()
    return result


def witnessed_lines() -> list[tuple[int, str]]:
    return list(app_witness().store.read())


def failed_at(result, seq: int | None, reason: str) -> None:
    assert result.exit_code == 1, result.output
    where = "" if seq is None else f" at event {seq}"
    assert f"FAILED against the witness{where}: " in result.output, result.output
    assert reason in result.output, result.output


@pytest.fixture
def history(world):
    """The world's set-up and a drafter's edits, every commit witnessed."""
    fill_sections(world)
    count, _newest = head()
    assert parse_checkpoint(witnessed_lines()[-1][1]).seq == count
    return count


def _append(values) -> None:
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(EVENTS.insert().values(**values))
    db.session.rollback()


def _forged_append(count: int, newest: str, occurred_at: datetime) -> None:
    """A well-formed event after the head, its hash computed as the app would (appending
    needs no privilege beyond INSERT: even the app's role has it)."""
    _append(forged_values(row(count), seq=count + 1, prev_hash=newest,
                          action="contribution.approve", actor_name="Mallory",
                          occurred_at=occurred_at))


# --- what passes -------------------------------------------------------------------------------

@ON_EACH_DATABASE
def test_an_untouched_log_verifies_against_the_witness(history, runner, database):
    count, newest = head()
    result = verify(runner)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"OK: {count} events, head hash {newest}"
    assert lines[1].startswith(f"Witnessed: the log extends the latest signed checkpoint, "
                               f"event {count} (hash {newest}")
    assert f"{len(witnessed_lines())} lines, every signature good." in lines[1]
    assert lines[2] == "Every event was filed by a commit of the app's."


def test_events_before_the_witness_began_are_vouched_for_by_its_heads(history, runner):
    """A deployment that turns the witness on later: its first line's from_seq starts it."""
    path = app_witness().store.path
    kept = [text for _n, text in witnessed_lines()][-2:]
    path.write_text("".join(line + "\n" for line in kept))
    first = parse_checkpoint(kept[0]).from_seq
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert (f"Every event from event {first} on was filed by a commit of the app's (events 1 "
            f"to {first - 1} precede the witness") in result.output


def test_a_copy_of_the_witness_and_the_auditors_public_key(history, runner, tmp_path):
    copy, public = tmp_path / "copy.jsonl", tmp_path / "pub.pem"
    copy.write_bytes(app_witness().store.path.read_bytes())
    assert runner.invoke(args=["audit", "public-key", "--out", str(public)]).exit_code == 0
    assert verify(runner, "--witness", str(copy), "--public-key", str(public)).exit_code == 0
    other = tmp_path / "other.pem"
    other.write_text(public_key_pem(
        SigningKey.from_file(tmp_path / "other-key.pem", generate=True).public_key))
    result = verify(runner, "--witness", str(copy), "--public-key", str(other))
    failed_at(result, None, "witness line 1 (event ")
    assert "is refused: it was signed with key " in result.output


# --- the tamper table ----------------------------------------------------------------------

@ON_EACH_DATABASE
def test_an_edited_event_is_named(history, runner, database):
    with guards_off() as connection:
        update_event(connection, 7, actor_name="Mallory")
    result = verify(runner)
    assert "FAILED at event 7: its hash does not match its contents" in result.output
    failed_at(result, 7, "the chain breaks at event 7, at or before the latest witnessed")


@ON_EACH_DATABASE
def test_a_rewrite_rehashed_from_event_7_on_is_named_within_its_commit(history, runner,
                                                                        database):
    """Every hash recomputed: the chain alone verifies; the witnessed heads do not match."""
    count, _newest = head()
    with guards_off() as connection:
        prev_hash = row(6).hash
        for original in rows()[6:]:
            values = forged_values(original, prev_hash=prev_hash,
                                   actor_name="Mallory" if original.seq == 7 else
                                   original.actor_name)
            update_event(connection, original.seq, **values)
            prev_hash = values["hash"]
    result = verify(runner)
    assert result.output.startswith(f"OK: {count} events") is False
    commits = [parse_checkpoint(line) for _number, line in witnessed_lines()]
    commit = next(c for c in commits if c.from_seq <= 7 <= c.seq)
    failed_at(result, commit.seq, f"the history was rewritten after event {commit.from_seq - 1}"
                                  f" and at or before event {commit.seq}")
    assert "FAILED at event" not in result.output  # the chain itself is consistent


@ON_EACH_DATABASE
def test_a_deleted_event_is_named(history, runner, database):
    with guards_off() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq == 7))
    result = verify(runner)
    assert "FAILED at event 7: event 7 is missing" in result.output
    failed_at(result, 7, "the chain breaks at event 7")


@ON_EACH_DATABASE
def test_an_inserted_event_is_named(history, runner, database):
    with guards_off() as connection:
        renumber(connection, from_seq=7, by=1)
        connection.execute(EVENTS.insert().values(**forged_values(
            row(6), seq=7, actor_name="Mallory", prev_hash=random_hash())))
    result = verify(runner)
    failed_at(result, 7, "the chain breaks at event 7")


@ON_EACH_DATABASE
def test_a_reordering_is_named(history, runner, database):
    with guards_off() as connection:
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 9).values(seq=PARKING))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 10).values(seq=9))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == PARKING).values(seq=10))
    failed_at(verify(runner), 9, "the chain breaks at event 9")


@ON_EACH_DATABASE
def test_a_forged_append_after_the_last_checkpoint_is_named(history, runner, database):
    count, newest = head()
    _forged_append(count, newest, datetime.now(UTC) - timedelta(minutes=5))
    result = verify(runner)
    assert f"OK: {count + 1} events" not in result.output
    failed_at(result, count + 1, f"event {count + 1} is covered by no witness line")
    assert "a forged append" in result.output


@ON_EACH_DATABASE
def test_a_forged_append_stays_named_after_the_app_commits_again(history, runner, database):
    """The next commit's line covers only its own events, not the forged one before them."""
    count, newest = head()
    _forged_append(count, newest, datetime.now(UTC) - timedelta(minutes=5))
    with operation(SETUP):
        record_event("test.after_the_forgery", actor=SETUP)
    assert head()[0] == count + 2
    failed_at(verify(runner), count + 1, f"event {count + 1} is covered by no witness line")


def test_a_fresh_forged_append_is_pending_until_the_grace_window_ends(history, app, runner):
    count, newest = head()
    _forged_append(count, newest, datetime.now(UTC))
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "1 newer events await their line (within the grace window)" in result.output
    app.config["AUDIT_WITNESS_GRACE_SECONDS"] = 0
    failed_at(verify(runner), count + 1, "older than the grace window (0 s)")


def test_a_forged_append_dated_in_the_future_is_named(history, runner):
    count, newest = head()
    _forged_append(count, newest, datetime.now(UTC) + timedelta(days=1))
    failed_at(verify(runner), count + 1, f"event {count + 1} is covered by no witness line")


@ON_EACH_DATABASE
def test_a_tail_cut_is_named(history, runner, database):
    count, _newest = head()
    with guards_off() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq > count - 3))
    failed_at(verify(runner), count - 2,
              f"the log ends at event {count - 3}, but witness line "
              f"{len(witnessed_lines())} (signed, filed ")
    assert f"events {count - 2} to {count} were removed (truncation)" in verify(runner).output


@ON_EACH_DATABASE
def test_an_emptied_table_is_named(history, runner, database, dialect):
    count, _newest = head()
    with guards_off() as connection:
        if dialect == "postgresql":
            connection.execute(text("TRUNCATE audit_events"))
        else:
            connection.execute(EVENTS.delete())
    assert head()[0] == 0
    result = verify(runner)
    assert "OK: 0 events" not in result.output
    failed_at(result, 1, f"the log is empty, but witness line {len(witnessed_lines())}")
    assert f"events 1 to {count} were removed (truncation)" in result.output


@ON_EACH_DATABASE
def test_a_rewritten_tail_after_a_cut_is_named(history, runner, database):
    """Cut the tail and append events re-made to fit: the witnessed head's hash differs."""
    count, _newest = head()
    with guards_off() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq > count - 2))
        prev_hash = row(count - 2).hash
        for seq in (count - 1, count):
            values = forged_values(row(count - 2), seq=seq, prev_hash=prev_hash,
                                   action="contribution.approve")
            connection.execute(EVENTS.insert().values(**values))
            prev_hash = values["hash"]
    commits = [parse_checkpoint(line) for _number, line in witnessed_lines()]
    first_changed = min(c.seq for c in commits if c.seq >= count - 1)
    result = verify(runner)
    failed_at(result, first_changed, f"event {first_changed} has hash ")
    assert "the history was rewritten" in result.output


# --- the triggers ------------------------------------------------------------------------------

@ON_EACH_DATABASE
def test_a_dropped_trigger_is_named(history, runner, database, dialect):
    name = "audit_events_append_only" if dialect == "postgresql" else "audit_events_no_update"
    sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :name"),
                            {"name": name}) if dialect == "sqlite" else None
    db.session.rollback()
    drop = f"DROP TRIGGER {name}" + (" ON audit_events" if dialect == "postgresql" else "")
    with db.engine.begin() as connection:
        connection.execute(text(drop))
    try:
        result = verify(runner)
        assert result.exit_code == 1
        assert f"the append-only triggers are not in place (missing: {name})" in result.output
    finally:
        with db.engine.begin() as connection:
            connection.execute(text(sql or "CREATE TRIGGER audit_events_append_only BEFORE "
                                    "UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE "
                                    "FUNCTION lagesbild_refuse_change()"))
    assert verify(runner).exit_code == 0


@pytest.mark.postgres
def test_a_disabled_trigger_and_a_defused_function_are_named(history, runner):
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER "
                                "audit_events_no_truncate"))
    try:
        assert "(disabled: audit_events_no_truncate)" in verify(runner).output
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER "
                                    "audit_events_no_truncate"))
    original = db.session.scalar(text(
        "SELECT pg_get_functiondef('lagesbild_refuse_change'::regproc)"))
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(text("CREATE OR REPLACE FUNCTION lagesbild_refuse_change() RETURNS "
                                "trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"))
    try:
        result = verify(runner)
        assert result.exit_code == 1
        assert "not as the migrations made them: audit_events_append_only" in result.output
    finally:
        with db.engine.begin() as connection:
            connection.execute(text(original))
    assert verify(runner).exit_code == 0


# --- the witness itself ----------------------------------------------------------------------

def _rewrite_line(number: int, change) -> None:
    path = app_witness().store.path
    lines = path.read_text().splitlines()
    lines[number - 1] = change(lines[number - 1])
    path.write_text("\n".join(lines) + "\n")


@ON_EACH_DATABASE
@pytest.mark.parametrize("field, change", [
    ("hash", lambda value: "f" * 64), ("seq", lambda value: value + 1),
    ("from_seq", lambda value: value - 1), ("written_at", lambda value: "2020-01-01T00:00:00Z"),
])
def test_a_witness_line_changed_without_the_key_is_refused(history, runner, database, field,
                                                            change):
    def changed(line: str) -> str:
        fields = json.loads(line)
        return json.dumps(fields | {field: change(fields[field])})
    _rewrite_line(3, changed)
    failed_at(verify(runner), None, "witness line 3 (event ")
    assert "its signature does not verify: it was altered or forged" in verify(runner).output


def test_a_line_signed_with_another_key_is_refused(history, runner, tmp_path):
    other = SigningKey.from_file(tmp_path / "other.pem", generate=True)
    count, newest = head()
    forged = parse_checkpoint(witnessed_lines()[-1][1])
    with app_witness().store.path.open("a") as handle:
        handle.write(other.sign(forged).as_line())
    result = verify(runner)
    failed_at(result, None, f"witness line {len(witnessed_lines())} (event {count}) is "
                            f"refused: it was signed with key {other.id}")


@pytest.mark.parametrize("line, message", [
    ("not json", "is not a checkpoint: The checkpoint file is not JSON"),
    ('{"kind": "lagesbild-audit-checkpoint", "seq": 1, "hash": "' + "a" * 64 + '"}',
     "is not a commit's checkpoint (origin manual)"),
])
def test_a_malformed_witness_line_is_refused(history, runner, line, message):
    with app_witness().store.path.open("a") as handle:
        handle.write(line + "\n")
    failed_at(verify(runner), None, f"witness line {len(witnessed_lines())} {message}")


def test_an_emptied_witness_is_named(history, app, runner):
    app_witness().store.path.unlink()
    # Events within the grace: their lines may be on their way. (The world's events were
    # made when the session first built it, so the grace here is wide enough for them.)
    app.config["AUDIT_WITNESS_GRACE_SECONDS"] = 24 * 3600
    assert verify(runner).exit_code == 0
    app.config["AUDIT_WITNESS_GRACE_SECONDS"] = 0
    failed_at(verify(runner), 1, f"the witness holds no signed checkpoint, but the log has "
                                 f"{head()[0]} events")


def test_two_lines_that_disagree_are_named(history, runner):
    """A log restored from an older copy and written on: the same seq, another hash."""
    count, _newest = head()
    line = parse_checkpoint(witnessed_lines()[-1][1])
    with app_witness().store.path.open("a") as handle:
        handle.write(app_witness().key.sign(replace(line, hash="e" * 64,
                                                    written_at=format_time(
                                                        datetime.now(UTC)))).as_line())
    failed_at(verify(runner), count, f"give event {count} different hashes")


# --- manual checkpoints are signed too ---------------------------------------------------------

def test_a_manual_checkpoint_is_signed_and_a_changed_one_refused(history, runner, tmp_path):
    path = tmp_path / "checkpoint.json"
    result = runner.invoke(args=["audit", "checkpoint", "--out", str(path)])
    assert result.exit_code == 0 and f"signed with key {app_witness().key.id}" in result.output
    ok = verify(runner, "--checkpoint", str(path))
    assert ok.exit_code == 0 and f"signed with key {app_witness().key.id}" in ok.output
    content = json.loads(path.read_text())
    path.write_text(json.dumps(content | {"seq": content["seq"] - 1,
                                          "hash": row(content["seq"] - 1).hash}))
    result = verify(runner, "--checkpoint", str(path))
    assert result.exit_code == 1
    assert (f"FAILED: the checkpoint {path} is refused: its signature does not verify"
            in result.output)


def test_a_commit_while_the_chain_is_checked_is_no_truncation(history, runner, monkeypatch):
    """The app keeps working while an auditor verifies: a line filed after the witness was
    read is not a head the log must reach."""
    import app.audit.witnessed as witnessed

    real = witnessed.verify_chain

    def checked_then_someone_commits(*args, **kwargs):
        result = real(*args, **kwargs)
        with operation(SETUP):
            record_event("test.meanwhile", actor=SETUP)
        return result

    monkeypatch.setattr(witnessed, "verify_chain", checked_then_someone_commits)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    monkeypatch.undo()
    assert verify(runner).exit_code == 0
