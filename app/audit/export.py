"""Exporting the audit trail (CSV for people, JSON Lines for proof) and checkpoints.

JSON Lines: one event per line with every hashed field exactly as hashed (occurred_at in the
hash's own format, data as the stored canonical JSON text) plus `hash`, oldest first, so
tools/verify_export.py can recompute the chain with Python's standard library alone.

CSV: UTF-8 with a byte order mark and semicolons between fields, which is what Excel in a
Swedish locale opens correctly (it takes the BOM as "UTF-8" and ';' as the list separator,
since ',' is the decimal separator there). Cells that would start with = + - @ (which Excel
would run as a formula) get a leading apostrophe; the JSON Lines export is the faithful one.

A checkpoint is the chain's head (seq, hash, time) written to a file to be kept outside the
system (signed like the witness's lines: witness.py); `verify_against_checkpoint` proves the
log still extends it.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import func, select

from app.audit.policy import is_auditor, require_auditor
from app.audit.query import EventFilter
from app.audit.trail import HASHED_FIELDS, format_time, record_event
from app.audit.verify import VerifyResult, verify_chain
from app.audit.witness import Checkpoint, parse_checkpoint
from app.audit.witnessed import WitnessResult
from app.core.access import deny
from app.core.actors import Actor, SystemActor
from app.core.clock import STOCKHOLM, now
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.extensions import db
from app.models import AuditEvent

EVENTS = AuditEvent.__table__
FORMATS = ("jsonl", "csv")
CSV_DELIMITER = ";"
CSV_COLUMNS = ("seq", "occurred_at", "occurred_at_local", "actor_id", "actor_name",
               "actor_organisation", "action", "object_type", "object_id", "period_id",
               "area_id", "contribution_id", "from_state", "to_state", "data", "request_id",
               "client_address", "prev_hash", "hash")
BATCH = 5000


@dataclass(frozen=True)
class ExportTicket:
    """What one export covers: the filter, and the head at the moment it was asked for, so
    the file is a consistent snapshot whatever is appended while it streams."""

    event_filter: EventFilter
    format: str
    up_to_seq: int

    @property
    def filename(self) -> str:
        kind = "full" if self.event_filter.is_empty else "filtered"
        return f"audit-{kind}-to-{self.up_to_seq}.{self.format}"

    @property
    def mimetype(self) -> str:
        return "text/csv; charset=utf-8" if self.format == "csv" else \
            "application/x-ndjson; charset=utf-8"


def prepare_export(actor: Actor, event_filter: EventFilter,
                   export_format: str) -> ExportTicket:
    """Check the reader and the format and fix what the export covers (the head now). Nothing
    is recorded yet: see record_export."""
    if not (is_auditor(actor) or isinstance(actor, SystemActor)):
        raise deny(Msg(N_("Only auditors may export the audit trail.")), action="audit.export")
    if export_format not in FORMATS:
        raise InvalidInput(Msg(N_("Unknown export format '{format}': use jsonl or csv."),
                               format=str(export_format)[:20]))
    up_to = db.session.scalar(select(func.max(EVENTS.c.seq))) or 0
    return ExportTicket(event_filter, export_format, up_to)


def record_export(actor: Actor, ticket: ExportTicket, built: BuiltExport) -> None:
    """Record the built export (`audit.export`): its filter, the last event it covers, how many
    events it holds and the SHA-256 of the file handed out."""
    described = ticket.event_filter.described()
    scope = {k: described[k] for k in ("period_id", "area_id", "contribution_id")
             if k in described}
    data: dict[str, Any] = {"format": ticket.format, "filter": described,
                            "up_to_seq": ticket.up_to_seq}
    data.update(events=built.events, sha256=built.sha256)
    record_event("audit.export", actor=actor, object_type="audit_trail", object_id="export",
                 data=data, **scope)


def iter_matching(event_filter: EventFilter, up_to_seq: int,
                  batch_size: int = BATCH) -> Iterator[Any]:
    """Matching events oldest first, in batches by key (flat memory, no OFFSET)."""
    conditions = event_filter.conditions() + [EVENTS.c.seq <= up_to_seq]
    last = 0
    while True:
        # The stored record, not the derived columns: it is what was hashed, and on SQLite
        # it spares deriving every column of every exported row.
        rows = db.session.execute(
            select(EVENTS.c.seq, EVENTS.c.canonical, EVENTS.c.hash)
            .where(*conditions, EVENTS.c.seq > last)
            .order_by(EVENTS.c.seq).limit(batch_size)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def event_record(row: Any) -> dict[str, Any]:
    """One event as exported: every hashed field as hashed, then the hash."""
    canonical = getattr(row, "canonical", None)
    if canonical is not None:
        record = json.loads(canonical)
    else:
        record = {name: getattr(row, name) for name in HASHED_FIELDS}
        record["occurred_at"] = format_time(row.occurred_at)
    record["hash"] = row.hash
    return record


def jsonl_line(row: Any) -> str:
    """The stored record exactly as hashed, with the hash added as the last field."""
    canonical = getattr(row, "canonical", None)
    if canonical is not None and canonical.endswith("}"):
        return f'{canonical[:-1]},"hash":{json.dumps(row.hash)}}}\n'
    return json.dumps(event_record(row), ensure_ascii=False, separators=(",", ":")) + "\n"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def csv_row(row: Any) -> list[Any]:
    record = event_record(row)
    moment = datetime.fromisoformat(record["occurred_at"].replace("Z", "+00:00"))
    local = moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S")
    values = [record[c] if c != "occurred_at_local" else local for c in CSV_COLUMNS]
    return [_csv_cell(v) for v in values]


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def export_chunks(ticket: ExportTicket) -> Iterator[str]:
    """The export as text chunks (a batch of events each), for streaming or writing."""
    if ticket.format == "csv":
        yield "\ufeff" + _csv_text([list(CSV_COLUMNS)])
        batch: list[list[Any]] = []
        for row in iter_matching(ticket.event_filter, ticket.up_to_seq):
            batch.append(csv_row(row))
            if len(batch) >= 1000:
                yield _csv_text(batch)
                batch = []
        if batch:
            yield _csv_text(batch)
        return
    lines: list[str] = []
    for row in iter_matching(ticket.event_filter, ticket.up_to_seq):
        lines.append(jsonl_line(row))
        if len(lines) >= 1000:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def write_export(ticket: ExportTicket, handle) -> int:
    """Write the export to a binary file; returns the number of events written."""
    count = 0
    for chunk in export_chunks(ticket):
        handle.write(chunk.encode("utf-8"))
        count += chunk.count("\n")
    return count - (1 if ticket.format == "csv" else 0)


# Kept in memory up to this size, then in a temporary file.
SPOOL_BYTES = 16 * 2**20


@dataclass
class BuiltExport:
    """A complete export, ready to send from its start."""

    file: IO[bytes]
    events: int
    sha256: str


class _Digesting:
    """A binary file that also hashes what is written to it."""

    def __init__(self, handle: IO[bytes]):
        self.handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.handle.write(data)


def build_export(ticket: ExportTicket) -> BuiltExport:
    """The whole export, written before anything is sent. A failure on the way (the database
    gone, a row that cannot be read) is then an error page instead of a 200 whose download
    stops half-way, and the export is recorded (record_export) only once it exists, with the
    fingerprint of exactly what the reader gets."""
    handle = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        writer = _Digesting(handle)
        events = write_export(ticket, writer)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return BuiltExport(handle, events, writer.digest.hexdigest())


# -- checkpoints ----------------------------------------------------------------------------

def current_checkpoint(up_to_seq: int | None = None) -> Checkpoint:
    """The head of the chain, or with `up_to_seq` that event (the head a verification reached,
    so that events appended since are not vouched for)."""
    query = select(EVENTS.c.seq, EVENTS.c.hash, EVENTS.c.occurred_at)
    if up_to_seq is not None:
        query = query.where(EVENTS.c.seq <= up_to_seq)
    head = db.session.execute(query.order_by(EVENTS.c.seq.desc()).limit(1)).first()
    if head is None:
        raise InvalidInput("The audit trail is empty: there is nothing to checkpoint.")
    return Checkpoint(head.seq, head.hash, format_time(head.occurred_at),
                      format_time(now().astimezone(UTC)))


def read_checkpoint(content: str) -> Checkpoint:
    """Parse a checkpoint file (signed or not); a malformed one raises InvalidInput."""
    return parse_checkpoint(content)


@dataclass(frozen=True)
class CheckpointResult:
    chain: VerifyResult
    ok: bool
    reason: str | None = None


def verify_against_checkpoint(checkpoint: Checkpoint,
                              progress: Callable[[int], None] | None = None) -> CheckpointResult:
    """Verify the chain and that it still passes through the checkpoint's event unchanged.

    A truncated log ends before the checkpoint; a history rewritten before it (even with every
    hash recomputed, which the chain alone cannot reveal) has another hash at that seq."""
    chain = verify_chain(progress=progress)
    # The checkpoint's event as stored now (the chain check above covers everything up to
    # where it stopped; a failure before the checkpoint is reported as such below).
    seen_hash = db.session.scalar(select(EVENTS.c.hash).where(EVENTS.c.seq == checkpoint.seq))
    if not chain.ok and chain.failed_seq is None:
        return CheckpointResult(chain, False, f"the log cannot be trusted: {chain.reason}")
    if not chain.ok and chain.failed_seq <= checkpoint.seq:
        return CheckpointResult(chain, False, (
            f"the chain breaks at event {chain.failed_seq}, at or before the checkpoint's "
            f"event {checkpoint.seq}: {chain.reason}"))
    if seen_hash is None or (chain.ok and chain.head_seq < checkpoint.seq):
        return CheckpointResult(chain, False, (
            f"the log ends at event {chain.head_seq or 0}, before the checkpoint's event "
            f"{checkpoint.seq}: events were removed (truncation)"))
    if seen_hash != checkpoint.hash:
        return CheckpointResult(chain, False, (
            f"event {checkpoint.seq} has hash {seen_hash}, but the checkpoint says "
            f"{checkpoint.hash}: the history up to the checkpoint was rewritten"))
    if not chain.ok:
        return CheckpointResult(chain, False, (
            f"the checkpoint's event {checkpoint.seq} is intact, but the chain breaks after it "
            f"at event {chain.failed_seq}: {chain.reason}"))
    return CheckpointResult(chain, True)


def record_verification_view(actor: Actor) -> None:
    """Auditors see the verify result in the interface; the read is logged."""
    from app.audit.query import record_view

    record_view(actor, "verify")


# -- verification from the interface ---------------------------------------------------------

VERIFY_ACTION = "audit.verify"


@dataclass(frozen=True)
class Verification:
    """A verification run from the interface, as its audit event recorded it."""

    ok: bool
    count: int
    head_seq: int | None
    head_hash: str
    failed_seq: int | None
    reason: str | None
    at: datetime  # UTC
    by: str | None
    seq: int  # the audit.verify event itself
    appended_since: int  # events after it (the verification itself included)
    # Against the witness: {"ok", "reason", "failed_seq", "latest_seq"}, or None where the run
    # had no witness to check (the chain alone was checked).
    witness: dict | None = None


def record_verification(actor: Actor, result: VerifyResult | WitnessResult) -> None:
    """Log a verification run and its result (`audit.verify`): the last one is what the verify
    page shows, and the trail keeps every one. Auditors only."""
    require_auditor(actor, VERIFY_ACTION)
    witness = None
    if isinstance(result, WitnessResult):
        witness = {"ok": result.ok, "reason": result.reason, "failed_seq": result.failed_seq,
                   "latest_seq": result.latest.seq if result.latest else None}
        result = result.chain
    record_event(VERIFY_ACTION, actor=actor, object_type="audit_trail", object_id="chain",
                 data={"ok": result.ok, "count": result.count, "head_seq": result.head_seq,
                       "head_hash": result.head_hash, "failed_seq": result.failed_seq,
                       "reason": result.reason, "witness": witness})


def last_verification() -> Verification | None:
    """The newest verification run from the interface (one probe of the action index)."""
    event = db.session.execute(
        select(EVENTS.c.seq, EVENTS.c.occurred_at, EVENTS.c.actor_name, EVENTS.c.data)
        .where(EVENTS.c.action == VERIFY_ACTION).order_by(EVENTS.c.seq.desc()).limit(1)
    ).first()
    if event is None:
        return None
    data = json.loads(event.data)
    newest = db.session.scalar(select(func.max(EVENTS.c.seq)))
    return Verification(bool(data["ok"]), int(data["count"]), data.get("head_seq"),
                        data["head_hash"], data.get("failed_seq"), data.get("reason"),
                        event.occurred_at, event.actor_name, event.seq,
                        (newest or event.seq) - (data.get("head_seq") or 0), data.get("witness"))
