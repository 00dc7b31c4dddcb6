"""Verifying the chain: re-compute every hash in batches on two readers (the server hashes on
PostgreSQL), name the first event that does not fit, and check that the audit table is still
built as the migrations built it."""
from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.schema import CreateTable

from app.audit.guards import guard_problem
from app.audit.trail import hash_of_record
from app.extensions import db
from app.models import GENESIS_HASH, AuditEvent
from app.models.audit import DERIVED_COLUMNS, derived_column_sql


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    head_seq: int | None
    head_hash: str
    failed_seq: int | None = None
    reason: str | None = None


# What the event-by-event check reads: on SQLite, reading the derived columns would derive them.
_HASHED_RECORD = ("seq", "prev_hash", "hash", "canonical")


def iter_events(batch_size: int = 5000, after_seq: int = 0,
                columns: tuple[str, ...] | None = None) -> Iterator[Any]:
    """Stream events (as plain rows, not ORM objects; every column unless `columns` says
    which) in seq order, one batch at a time, so verifying a large log needs flat memory."""
    table = AuditEvent.__table__
    selected = [table.c[name] for name in columns] if columns else [table]
    last_seq = after_seq
    while True:
        batch = db.session.execute(
            select(*selected).where(table.c.seq > last_seq).order_by(table.c.seq)
            .limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def _digests(events: Iterator[Any]) -> Iterator[tuple[int, str, str, str]]:
    """(seq, prev_hash, stored hash, recomputed hash) of each event row, hashed as stored."""
    for event in events:
        yield (event.seq, event.prev_hash, event.hash,
               hash_of_record(event.prev_hash, event.canonical))


# Events per batch of the fast verifier: large enough that the per-query cost vanishes, small
# enough that the batches in flight (two per reader) stay a few megabytes.
VERIFY_BATCH = 2000
# Joins the canonical texts of a batch on SQLite: canonical JSON escapes every control
# character, so a record separator can only appear between records (the database refuses a
# stored text holding a raw one; were one there, the texts and prev_hashes would not pair up,
# the batch would fail the fast check and be checked event by event).
_SEPARATOR = 30

# Reader threads, each on a connection of its own, taking every READERS-th batch. While one
# waits for the database or hashes (both without the GIL) another can do the same.
VERIFY_READERS = 2

# One batch: the events with seq in (low, high], their stored hashes and prev_hashes, and the
# SHA-256 of each event's hashed text (its prev_hash, a newline and its canonical JSON). The
# aggregates take the rows in seq order (the primary key's order, in practice, on both
# databases; an "ORDER BY" inside each would sort every batch again). Nothing here is trusted:
# a batch with a gap, an extra event or rows out of order fails the fast check and is then
# checked event by event, hashed here.
_BATCH_SQL = {
    # SQLite hands over the canonical texts as bytes, joined by a record separator, and
    # chain_digests hashes them. (Joining prev_hash and text per row in SQL, or handing over
    # text, costs more than the hashing.)
    "sqlite": """
        SELECT count(*), min(seq), max(seq), group_concat(hash, ''),
               CAST(group_concat(prev_hash, '') AS BLOB),
               CAST(group_concat(canonical, char(30)) AS BLOB)
        FROM audit_events WHERE seq > :low AND seq <= :high""",
    # PostgreSQL hashes each text itself (its UTF-8 bytes, as the recipe says) and hands over
    # 32 bytes per event instead of the text: moving the texts through the wire protocol costs
    # several times more than hashing them, and each reader's server process hashes in parallel.
    "postgresql": """
        SELECT count(*), min(seq), max(seq), string_agg(hash, ''), string_agg(prev_hash, ''),
               string_agg(pg_catalog.sha256(pg_catalog.convert_to(
                   prev_hash || chr(10) || canonical, 'UTF8')), ''::bytea)
        FROM (SELECT seq, prev_hash, hash, canonical FROM audit_events
              WHERE seq > :low AND seq <= :high ORDER BY seq) AS batch""",
}


@dataclass(frozen=True)
class _Batch:
    count: int
    first: int | None
    last: int | None
    hashes: str  # the stored hashes, joined
    prev_hashes: bytes  # the stored prev_hashes, joined
    digests: bytes | None  # SHA-256 of each hashed text, joined (None: texts and prev_hashes
    # did not pair up)


def chain_digests(prev_hashes: bytes, records: bytes, separator: int) -> bytes | None:
    """A batch hashed by the recipe: split `records` at `separator`; for each part, SHA-256 of
    its prev_hash (the next 64 bytes of `prev_hashes`), a newline and the part; joined. None
    unless the two pair up."""
    parts = records.split(bytes([separator])) if records else []
    if len(prev_hashes) != 64 * len(parts):
        return None
    sha256 = hashlib.sha256
    return b"".join([sha256(prev_hashes[64 * index:64 * index + 64] + b"\n" + part).digest()
                     for index, part in enumerate(parts)])


def _hashed_batch(row: tuple) -> _Batch:
    """A batch as read: hashed by the database (PostgreSQL) or hashed here (SQLite)."""
    count, first, last, hashes, prev_hashes, texts_or_digests = row
    if isinstance(prev_hashes, str):  # PostgreSQL: hashed by the server
        prev_hashes, digests = prev_hashes.encode("utf-8"), texts_or_digests or b""
    else:
        prev_hashes = prev_hashes or b""
        digests = chain_digests(prev_hashes, texts_or_digests or b"", _SEPARATOR)
    return _Batch(count, first, last, hashes or "", prev_hashes, digests)


def _read_batches(engine, ranges: list[tuple[int, int]], out: queue.Queue,
                  stop: threading.Event) -> None:
    """Reader thread: the batches of `ranges`, in order, read in one transaction and hashed;
    None at the end, or the exception that stopped it (the caller raises it)."""
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            query = text(_BATCH_SQL[engine.dialect.name])
            for low, high in ranges:
                if stop.is_set():
                    break
                row = tuple(connection.execute(query, {"low": low, "high": high}).one())
                out.put(_hashed_batch(row))
        out.put(None)
    except BaseException as error:
        out.put(error)


@dataclass(frozen=True)
class _Checked:
    """How far a check got: the next seq expected, the hash it must link to, events passed."""

    expected_seq: int = 1
    prev_hash: str = GENESIS_HASH
    count: int = 0


def _batch_passes(batch: _Batch, expected_seq: int, size: int, prev_hash: str) -> bool:
    """Seqs expected_seq.. contiguous, each prev_hash the hash before it, each hash the SHA-256
    of its stored record."""
    if not (batch.count == size and batch.digests is not None and batch.first == expected_seq
            and batch.last - batch.first + 1 == size and len(batch.hashes) == 64 * size
            and batch.prev_hashes == (prev_hash + batch.hashes[:-64]).encode("utf-8")):
        return False
    try:
        return batch.digests == bytes.fromhex(batch.hashes)
    except ValueError:  # a stored hash that is not even hexadecimal
        return False


def _verify_fast(progress: Callable[[int], None] | None) -> VerifyResult | _Checked:
    """Check the table batch by batch up to the newest event now. Returns the result, or where
    the first batch that does not pass begins (the event-by-event check takes over there and
    names the failure)."""
    head = db.session.scalar(select(func.max(AuditEvent.seq))) or 0
    size = VERIFY_BATCH
    ranges = [(low, min(low + size, head)) for low in range(0, head, size)]
    readers = max(1, min(VERIFY_READERS, len(ranges)))
    queues = [queue.Queue(maxsize=2) for _ in range(readers)]
    stop = threading.Event()
    threads = [threading.Thread(target=_read_batches, name=f"audit-verify-reader-{n}",
                                args=(db.engine, ranges[n::readers], queues[n], stop),
                                daemon=True) for n in range(readers)]
    for thread in threads:
        thread.start()
    checked = _Checked()
    try:
        for number, (low, high) in enumerate(ranges):
            batch = queues[number % readers].get()
            if isinstance(batch, BaseException):
                raise batch
            if not _batch_passes(batch, checked.expected_seq, high - low, checked.prev_hash):
                return checked
            checked = _Checked(high + 1, batch.hashes[-64:], checked.count + batch.count)
            if progress is not None:
                progress(checked.count)
    finally:
        stop.set()
        for thread, waiting in zip(threads, queues, strict=False):
            while thread.is_alive():  # unblock a reader waiting to put, then let it finish
                try:
                    waiting.get_nowait()
                except queue.Empty:
                    thread.join(0.05)
    return VerifyResult(True, checked.count, head or None, checked.prev_hash)


def verify_chain(
    events: Iterator[Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Recompute the chain; name the first event that does not fit, and why.

    Without `events`, the whole table: first that its columns are still derived from the
    hashed records (see schema_problem), then batch by batch; a batch that does not pass is
    checked again event by event, which names the failure."""
    if events is None:
        problem = schema_problem()
        if problem is not None:
            return VerifyResult(False, 0, None, GENESIS_HASH, None, problem)
        fast = _verify_fast(progress)
        if isinstance(fast, VerifyResult):
            return fast
        return _check(_digests(iter_events(after_seq=fast.expected_seq - 1,
                                           columns=_HASHED_RECORD)), progress, fast)
    return _check(_digests(events), progress)


def _check(digests: Iterator[tuple[int, str, str, str]],
           progress: Callable[[int], None] | None,
           start: _Checked = _Checked()) -> VerifyResult:
    """Event by event, from `start` (the beginning unless batches already passed)."""
    expected_seq, prev_hash, count = start.expected_seq, start.prev_hash, start.count
    for seq, event_prev_hash, stored_hash, recomputed in digests:
        if seq != expected_seq:
            reason = (
                f"event {expected_seq} is missing (the next one found is {seq}): "
                "an event was deleted or the sequence was rewritten"
                if seq > expected_seq
                else f"sequence out of order: expected {expected_seq}, found {seq}"
            )
            return VerifyResult(False, count, expected_seq - 1, prev_hash, expected_seq, reason)
        if event_prev_hash != prev_hash:
            return VerifyResult(
                False, count, seq - 1, prev_hash, seq,
                "its prev_hash does not match the hash of the event before it: "
                "an event was inserted, deleted or reordered here",
            )
        if recomputed != stored_hash:
            return VerifyResult(
                False, count, seq - 1, prev_hash, seq,
                "its hash does not match its contents: the event was altered",
            )
        prev_hash = stored_hash
        count += 1
        expected_seq += 1
        if progress is not None:
            progress(count)
    return VerifyResult(True, count, expected_seq - 1 if count else None, prev_hash)


def _normalised(sql: str) -> str:
    """Schema text with the formatting a database may add or drop taken out."""
    return re.sub(r"[\s()\"]|::text", "", sql).lower().rstrip(",")


def schema_problem() -> str | None:
    """Why the audit table's columns might say something its hashed records do not, or None.

    Every hashed field's column must still be generated by the database from `canonical`,
    with the expression the migrations wrote: a column turned into a plain one (or given
    another expression) could be changed without touching the hashed text. And the
    append-only triggers must be there, enabled, as the migrations made them (guards.py)."""
    bind = db.session.get_bind()
    guards = guard_problem(db.session.connection())
    if guards is not None:
        return guards
    if bind.dialect.name == "postgresql":
        found = dict(db.session.execute(text(
            "SELECT a.attname, CASE WHEN a.attgenerated = 's' "
            "THEN pg_get_expr(d.adbin, d.adrelid) END "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d "
            "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = 'audit_events'::regclass AND a.attnum > 0 "
            "AND NOT a.attisdropped")).all())
        for name in DERIVED_COLUMNS:
            expression = found.get(name)
            if expression is None or (_normalised(expression)
                                      != _normalised(derived_column_sql("postgresql", name))):
                return (f"the audit table's column {name} is no longer derived from the "
                        "hashed record as the migrations made it: the schema was altered")
        return None
    table_sql = db.session.scalar(text(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'")) or ""
    expected = str(CreateTable(AuditEvent.__table__).compile(dialect=bind.dialect))
    # Compared item by item (SQLAlchemy writes one per line), whatever their order.
    def items(sql: str) -> list[str]:
        return sorted(filter(None, map(_normalised, sql.splitlines())))
    if items(table_sql) != items(expected):
        return ("the audit table's definition is not the one the migrations made, so its "
                "columns may not be derived from the hashed records: the schema was altered")
    return None
