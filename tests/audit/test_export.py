"""Exports: JSON Lines that re-verify with tools/verify_export.py (standard library only, run
as a subprocess) and fail naming the first line that does not fit once tampered with; CSV that
Excel opens in a Swedish locale; every export logged as audit.export."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit import export as audit_export
from app.audit.query import EventFilter
from app.audit.verify import verify_chain
from app.core.errors import InvalidInput, NotAllowed
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent
from tests.factories import advance, fill_sections

TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_export.py"


def verify_file(path: Path, *extra: str) -> subprocess.CompletedProcess:
    # -I -S: isolated, no site-packages at all: the tool must need the standard library only.
    return subprocess.run([sys.executable, "-I", "-S", str(TOOL), *extra, str(path)],
                          capture_output=True, text=True, timeout=60)


def cli_export(runner, tmp_path, fmt: str, *filters: str, name: str | None = None) -> Path:
    out = tmp_path / (name or f"export.{fmt}")
    result = runner.invoke(args=["audit", "export", "--format", fmt, *filters,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    return out


@pytest.fixture
def history(world):
    """Events with Swedish text, remarks and several areas."""
    advance(world, "Norr", "returned")
    fill_sections(world, "Söder", "drafter_south", text="- Åtgärder i Söder: trygghetsvandring.")
    return world


def test_full_jsonl_export_reverifies_with_the_standard_library(runner, tmp_path, history):
    expected = verify_chain()
    out = cli_export(runner, tmp_path, "jsonl")
    result = verify_file(out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"OK: {expected.count} events, head hash {expected.head_hash}")
    lines = out.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["seq"] == 1 and first["prev_hash"] == "0" * 64
    assert set(first) == {"seq", "occurred_at", "actor_id", "actor_name", "actor_organisation",
                          "action", "object_type", "object_id", "period_id", "area_id",
                          "contribution_id", "from_state", "to_state", "data", "request_id",
                          "client_address", "prev_hash", "hash"}
    assert "Södra stadsdelsförvaltningen" in out.read_text(encoding="utf-8")  # not \u escapes


def test_the_export_is_logged_and_a_snapshot_up_to_its_own_event(runner, tmp_path, history):
    head = verify_chain().head_seq
    out = cli_export(runner, tmp_path, "jsonl", "--area", "Norr")
    exported = [json.loads(line)["seq"] for line in out.read_text().splitlines()]
    assert max(exported) <= head
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.export")
                                ).one()
    assert logged.seq == head + 1
    data = json.loads(logged.data)
    assert data == {"format": "jsonl", "up_to_seq": head,
                    "filter": {"area_id": history.areas["Norr"]},
                    "events": len(exported), "sha256": data["sha256"]}
    assert logged.actor_name.startswith("command line")


def test_filtered_export_verifies_as_partial_only(runner, tmp_path, history):
    out = cli_export(runner, tmp_path, "jsonl", "--area", "Söder")
    seqs = [json.loads(line)["seq"] for line in out.read_text().splitlines()]
    stored = db.session.scalars(select(AuditEvent.seq).where(
        AuditEvent.area_id == history.areas["Söder"], AuditEvent.action != "audit.export")
        .order_by(AuditEvent.seq)).all()
    assert seqs == list(stored) and seqs
    partial = verify_file(out, "--partial")
    assert partial.returncode == 0, partial.stderr
    assert partial.stdout.startswith(f"OK: {len(seqs)} events (partial export")
    strict = verify_file(out)
    assert strict.returncode == 1
    assert strict.stderr.startswith(f"FAILED at line 1 (event {seqs[0]}): the export starts at")


def _tampered(source: Path, target: Path, change) -> Path:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(change(lines)), encoding="utf-8")
    return target


def _edit_line(index: int, **values):
    def change(lines):
        event = json.loads(lines[index])
        event.update(values)
        lines[index] = json.dumps(event, ensure_ascii=False) + "\n"
        return lines
    return change


@pytest.mark.parametrize("name,change,expected", [
    ("altered data", _edit_line(9, data='{"text":"ändrad"}'),
     "FAILED at line 10 (event 10): its hash does not match its contents"),
    ("altered actor", _edit_line(4, actor_name="Någon annan"),
     "FAILED at line 5 (event 5): its hash does not match its contents"),
    ("line removed", lambda lines: lines[:6] + lines[7:],
     "FAILED at line 7 (event 8): event 7 is missing"),
    ("lines swapped", lambda lines: lines[:3] + [lines[4], lines[3]] + lines[5:],
     "FAILED at line 4 (event 5): event 4 is missing"),
    ("line repeated", lambda lines: lines[:3] + [lines[2]] + lines[3:],
     "FAILED at line 4 (event 3): event 3 comes after event 3"),
    ("extra field", _edit_line(2, note="x"),
     "FAILED at line 3 (event 3): fields do not match the recipe; unexpected note"),
    ("not JSON", lambda lines: lines[:5] + ["{broken\n"] + lines[6:],
     "FAILED at line 6: not valid JSON"),
    ("first event removed", lambda lines: lines[1:],
     "FAILED at line 1 (event 2): the export starts at event 2, not 1"),
])
def test_a_tampered_export_fails_naming_the_first_line_that_does_not_fit(
        runner, tmp_path, history, name, change, expected):
    out = cli_export(runner, tmp_path, "jsonl")
    tampered = _tampered(out, tmp_path / "tampered.jsonl", change)
    result = verify_file(tampered)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith(expected), result.stderr


def test_rehashing_a_tampered_line_breaks_the_link_of_the_next(runner, tmp_path, history):
    """Someone who recomputes the altered line's hash still breaks the next line's link."""
    sys.path.insert(0, str(TOOL.parent))
    try:
        from verify_export import HASHED_FIELDS, event_hash
    finally:
        sys.path.remove(str(TOOL.parent))
    out = cli_export(runner, tmp_path, "jsonl")

    def change(lines):
        event = json.loads(lines[5])
        event["actor_name"] = "Någon annan"
        event["hash"] = event_hash({k: event[k] for k in HASHED_FIELDS})
        lines[5] = json.dumps(event, ensure_ascii=False) + "\n"
        return lines

    result = verify_file(_tampered(out, tmp_path / "rehashed.jsonl", change))
    assert result.returncode == 1
    assert result.stderr.startswith("FAILED at line 7 (event 7): its prev_hash does not match")


def test_missing_file_and_empty_export(tmp_path):
    missing = verify_file(tmp_path / "nothing.jsonl")
    assert missing.returncode == 1 and "cannot read" in missing.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = verify_file(empty)
    assert result.returncode == 0 and result.stdout.startswith("OK: 0 events, head hash 000")


def test_csv_opens_in_excel_with_swedish_characters(runner, tmp_path, history):
    out = cli_export(runner, tmp_path, "csv", "--area", "Söder")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["seq", "occurred_at", "occurred_at_local"]
    stored = db.session.scalars(select(AuditEvent).where(
        AuditEvent.area_id == history.areas["Söder"], AuditEvent.action != "audit.export")
        .order_by(AuditEvent.seq)).all()
    assert [int(r[0]) for r in rows[1:]] == [e.seq for e in stored]
    assert any(r[rows[0].index("actor_organisation")] == "Södra stadsdelsförvaltningen"
               for r in rows[1:])
    assert all(r[rows[0].index("hash")] == e.hash for r, e in zip(rows[1:], stored, strict=False))
    assert "\r\n" in text


def test_csv_cells_that_excel_would_run_as_formulas_are_neutralised():
    class Row:
        seq, actor_id, period_id, area_id, contribution_id = 1, None, None, None, None
        actor_name = "=HYPERLINK(\"http://x\")"
        actor_organisation, action, object_type, object_id = "+org", "-a", "@b", None
        from_state = to_state = request_id = client_address = None
        data, prev_hash, hash = "{}", "0" * 64, "1" * 64
        from datetime import UTC, datetime
        occurred_at = datetime(2030, 1, 1, tzinfo=UTC)

    cells = audit_export.csv_row(Row())
    assert "'=HYPERLINK(\"http://x\")" in cells and "'+org" in cells
    assert "'-a" in cells and "'@b" in cells


def test_only_auditors_and_the_command_line_may_export(world):
    for key in ("admin", "consolidator", "reviewer"):
        with pytest.raises(NotAllowed), operation(world.user(key)):
            audit_export.prepare_export(world.user(key), EventFilter(), "jsonl")
    with pytest.raises(InvalidInput), operation(world.user("auditor")):
        audit_export.prepare_export(world.user("auditor"), EventFilter(), "xml")
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "audit.export")).all()


def test_export_batches_do_not_skip_or_repeat(world):
    head = verify_chain().head_seq
    seqs = [row.seq for row in audit_export.iter_matching(EventFilter(), head, batch_size=7)]
    assert seqs == list(range(1, head + 1))


def test_a_command_line_export_that_cannot_be_written_is_not_recorded(runner, tmp_path,
                                                                      history):
    out = tmp_path / "no such folder" / "export.jsonl"
    result = runner.invoke(args=["audit", "export", "--format", "jsonl", "--out", str(out)])
    assert result.exit_code == 1
    assert f"Cannot write {out}" in result.output
    db.session.rollback()
    assert not db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "audit.export")).all()
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()


def test_a_command_line_export_is_recorded_with_the_fingerprint_of_its_file(
        runner, tmp_path, history):
    import hashlib

    out = cli_export(runner, tmp_path, "csv")
    (logged,) = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "audit.export")).all()
    data = json.loads(logged.data)
    assert data["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert data["events"] == len(out.read_text(encoding="utf-8").splitlines()) - 1
