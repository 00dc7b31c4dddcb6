"""Checkpoints: `audit checkpoint --out FILE` files the head outside the system; `audit verify
--checkpoint FILE` proves the log still extends it, and fails naming why after truncation or
a rewrite of history before it (even one with every hash recomputed)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.audit.verify import verify_chain
from app.extensions import db
from tests.audit.support import (
    EVENTS,
    ON_EACH_DATABASE,
    forged_values,
    guards_off,
    rows,
    update_event,
)
from tests.factories import fill_sections


def invoke(runner, *args: str):
    result = runner.invoke(args=list(args))
    db.session.rollback()
    return result


@pytest.fixture
def checkpoint(runner, world, tmp_path):
    """A checkpoint written after the world's set-up, then more history on top."""
    path = tmp_path / "checkpoint.json"
    result = invoke(runner, "audit", "checkpoint", "--out", str(path))
    assert result.exit_code == 0, result.output
    fill_sections(world)
    return path


@ON_EACH_DATABASE
def test_checkpoint_file_names_the_head(runner, world, tmp_path, database):
    path = tmp_path / "cp.json"
    result = invoke(runner, "audit", "checkpoint", "--out", str(path))
    assert result.exit_code == 0, result.output
    head = verify_chain()
    content = json.loads(path.read_text())
    assert content["kind"] == "lagesbild-audit-checkpoint"
    assert content["seq"] == head.head_seq and content["hash"] == head.head_hash
    assert content["occurred_at"].endswith("Z") and content["written_at"].endswith("Z")
    assert f"event {head.head_seq}, hash {head.head_hash}" in result.output


def test_the_log_extends_the_checkpoint(runner, checkpoint):
    result = invoke(runner, "audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 0, result.output
    head = verify_chain()
    assert result.output.startswith(f"OK: {head.count} events, head hash {head.head_hash}")
    assert "extends the checkpoint" in result.output


@ON_EACH_DATABASE
def test_truncation_is_caught(runner, checkpoint, database):
    saved = json.loads(checkpoint.read_text())["seq"]
    with guards_off() as connection:  # drop the checkpoint's event and everything after
        connection.execute(EVENTS.delete().where(EVENTS.c.seq >= saved))
    assert verify_chain().ok  # the shorter chain is intact in itself...
    result = invoke(runner, "audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1  # ...but the checkpoint shows what is gone
    assert (f"FAILED against the checkpoint: the log ends at event {saved - 1}, before the "
            f"checkpoint's event {saved}: events were removed (truncation)") in result.output


@ON_EACH_DATABASE
def test_a_rewrite_with_every_hash_recomputed_is_caught(runner, checkpoint, database):
    saved = json.loads(checkpoint.read_text())["seq"]
    target = 5
    with guards_off() as connection:
        prev_hash = None
        for row in connection.execute(select(EVENTS).where(EVENTS.c.seq >= target)
                                      .order_by(EVENTS.c.seq)).all():
            changes = {"actor_name": "Någon annan"} if row.seq == target else {}
            if prev_hash is not None:
                changes["prev_hash"] = prev_hash
            values = forged_values(row, **changes)
            update_event(connection, row.seq, **values)
            prev_hash = values["hash"]
    assert verify_chain().ok  # a perfect forgery as far as the chain alone can tell
    result = invoke(runner, "audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert f"FAILED against the checkpoint: event {saved} has hash " in result.output
    assert "the history up to the checkpoint was rewritten" in result.output


def test_a_clumsy_rewrite_before_the_checkpoint_is_named(runner, checkpoint):
    saved = json.loads(checkpoint.read_text())["seq"]
    with guards_off() as connection:
        update_event(connection, 3, action="forged")
    result = invoke(runner, "audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert "FAILED at event 3: its hash does not match its contents" in result.output
    assert (f"the chain breaks at event 3, at or before the checkpoint's event {saved}"
            in result.output)


def test_tampering_after_the_checkpoint_is_named_too(runner, checkpoint):
    last = rows()[-1].seq
    with guards_off() as connection:
        update_event(connection, last, data="{}")
    result = invoke(runner, "audit", "verify", "--checkpoint", str(checkpoint))
    assert result.exit_code == 1
    assert f"intact, but the chain breaks after it at event {last}" in result.output


@pytest.mark.parametrize("content,message", [
    ("not json", "is not JSON"),
    ('{"seq": 3}', "not an audit checkpoint"),
    ('{"kind": "lagesbild-audit-checkpoint", "seq": 0, "hash": "' + "a" * 64 + '"}',
     "no valid seq"),
    ('{"kind": "lagesbild-audit-checkpoint", "seq": 3, "hash": "xyz"}', "no valid hash"),
])
def test_a_malformed_checkpoint_file_is_refused(runner, world, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    result = invoke(runner, "audit", "verify", "--checkpoint", str(path))
    assert result.exit_code == 1 and message in result.output


def test_missing_checkpoint_file_and_empty_log(runner, app, tmp_path):
    result = invoke(runner, "audit", "verify", "--checkpoint", str(tmp_path / "none.json"))
    assert result.exit_code == 1 and "Cannot read" in result.output
    result = invoke(runner, "audit", "checkpoint", "--out", str(tmp_path / "cp.json"))
    assert result.exit_code == 1 and "nothing to checkpoint" in result.output
    assert not (tmp_path / "cp.json").exists()


def test_verify_shows_a_progress_bar_on_large_logs(runner, world, monkeypatch):
    import app.audit.cli as audit_cli_module

    calls = []
    original = audit_cli_module.click.progressbar

    def recording(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(audit_cli_module, "PROGRESS_FROM", 10)
    monkeypatch.setattr(audit_cli_module.click, "progressbar", recording)
    result = invoke(runner, "audit", "verify")
    assert result.exit_code == 0
    assert calls and calls[0]["length"] == verify_chain().count
    assert "OK: " in result.output


def test_a_checkpoint_vouches_only_for_the_head_the_verification_reached(runner, world,
                                                                         tmp_path, monkeypatch):
    """Events appended between the verification and the writing of the file are left out."""
    from app.audit import export as audit_export
    from app.audit import verify as audit

    verified = verify_chain()
    real_verify = audit.verify_chain

    def verify_then_someone_appends(*args, **kwargs):
        result = real_verify(*args, **kwargs)
        fill_sections(world)  # more events, after the check
        return result

    monkeypatch.setattr("app.audit.cli.verify_chain", verify_then_someone_appends)
    path = tmp_path / "checkpoint.json"
    result = invoke(runner, "audit", "checkpoint", "--out", str(path))
    assert result.exit_code == 0, result.output
    content = json.loads(path.read_text())
    assert content["seq"] == verified.head_seq and content["hash"] == verified.head_hash
    assert rows()[-1].seq > verified.head_seq  # the newer events exist, unvouched
    assert audit_export.current_checkpoint(up_to_seq=3).seq == 3
