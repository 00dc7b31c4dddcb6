"""The audit trail: the one function that appends events, and the chain verifier.

Each event's hash is SHA-256 over the previous hash and a canonical JSON encoding of the event
(seq included), so an edited, deleted, inserted or reordered row breaks the chain at that row.
Appends are serialised: a transaction-scoped advisory lock on PostgreSQL, BEGIN IMMEDIATE on
SQLite (see app/database.py), and unique seq / prev_hash as the last line of defence.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, select, text, type_coerce

from app.clock import now
from app.extensions import db
from app.models import GENESIS_HASH, AuditEvent, User
from app.services.actors import SystemActor

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock guarding the chain head.
_CHAIN_LOCK_KEY = 0x4C616765736269

HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "actor_organisation", "action",
    "object_type", "object_id", "period_id", "area_id", "contribution_id", "from_state",
    "to_state", "data", "request_id", "client_address", "prev_hash",
)


@dataclass(frozen=True)
class RequestInfo:
    request_id: str | None = None
    client_address: str | None = None


_request_info: ContextVar[RequestInfo] = ContextVar("audit_request_info", default=RequestInfo())


@contextmanager
def request_info(request_id: str | None, client_address: str | None):
    """Set by the web layer (or CLI) so events carry where they came from."""
    token = _request_info.set(RequestInfo(request_id, client_address))
    try:
        yield
    finally:
        _request_info.reset(token)


# One encoder, made once: json.dumps with these options would build a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(data: Any) -> str:
    return _CANONICAL.encode(data)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_payload(event: Any) -> dict[str, Any]:
    """The fields covered by the hash, as plain JSON values."""
    payload = {name: getattr(event, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = format_time(event.occurred_at)
    return payload


def compute_hash(payload: dict[str, Any]) -> str:
    encoded = canonical_json(payload).encode("utf-8")
    return hashlib.sha256(payload["prev_hash"].encode("ascii") + b"\n" + encoded).hexdigest()


def _organisation_name(actor: "User | SystemActor | None") -> str | None:
    if isinstance(actor, User):
        return actor.organisation.name
    if isinstance(actor, SystemActor):
        return actor.organisation_name
    return None


def lock_chain_head() -> None:
    """Serialise appends on PostgreSQL (held to the end of the transaction; re-entrant)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def record_event(
    action: str,
    *,
    actor: "User | SystemActor | None" = None,
    object_type: str | None = None,
    object_id: int | str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict[str, Any] | None = None,
    period_id: int | None = None,
    area_id: int | None = None,
    contribution_id: int | None = None,
) -> AuditEvent:
    """Append one event in the current transaction. Call it after the change it records."""
    # Flush first: a stale version or constraint error must surface before we take the lock.
    db.session.flush()
    lock_chain_head()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    info = _request_info.get()
    event = AuditEvent(
        seq=seq,
        occurred_at=now(),
        actor_id=actor.id if isinstance(actor, User) else None,
        actor_name=actor.name if actor else None,
        actor_organisation=_organisation_name(actor),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        period_id=period_id,
        area_id=area_id,
        contribution_id=contribution_id,
        from_state=from_state,
        to_state=to_state,
        data=canonical_json(data or {}),
        request_id=info.request_id,
        client_address=info.client_address,
        prev_hash=prev_hash,
    )
    event.hash = compute_hash(event_payload(event))
    db.session.add(event)
    db.session.flush()
    return event


def scope_of(contribution) -> dict[str, int]:
    """The filter columns of an event about a contribution (or one of its sections)."""
    return {"period_id": contribution.period_id, "area_id": contribution.area_id,
            "contribution_id": contribution.id}


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    head_seq: int | None
    head_hash: str
    failed_seq: int | None = None
    reason: str | None = None


def iter_events(batch_size: int = 5000) -> Iterator[Any]:
    """Stream events (as plain rows, not ORM objects) in seq order, one batch at a time,
    so verifying a large log needs flat memory."""
    table = AuditEvent.__table__
    last_seq = 0
    while True:
        batch = db.session.execute(
            select(table).where(table.c.seq > last_seq).order_by(table.c.seq).limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        last_seq = batch[-1].seq


def _digests(events: Iterator[Any]) -> Iterator[tuple[int, str, str, str]]:
    """(seq, prev_hash, stored hash, recomputed hash) of each event, by the reference recipe."""
    for event in events:
        yield event.seq, event.prev_hash, event.hash, compute_hash(event_payload(event))


def _reference_digest(seq: int) -> str:
    table = AuditEvent.__table__
    return compute_hash(event_payload(
        db.session.execute(select(table).where(table.c.seq == seq)).one()))


def _stream_digests(batch_size: int = 5000) -> Iterator[tuple[int, str, str, str]]:
    """The same as _digests(iter_events()), faster: plain tuples instead of named rows, one
    reusable JSON encoder, and on SQLite the stored time text rewritten into the hashed form
    without a round trip through datetime. Any event whose fast digest differs is recomputed
    by the reference recipe before it is reported, so the result is always the reference's."""
    table = AuditEvent.__table__
    raw_time = db.session.get_bind().dialect.name == "sqlite"
    columns = [type_coerce(table.c.occurred_at, String).label("occurred_at")
               if raw_time and name == "occurred_at" else table.c[name]
               for name in HASHED_FIELDS] + [table.c.hash]
    names, encode, sha256 = HASHED_FIELDS, _CANONICAL.encode, hashlib.sha256
    last_seq = 0
    while True:
        batch = db.session.execute(
            select(*columns).where(table.c.seq > last_seq).order_by(table.c.seq)
            .limit(batch_size)).all()
        if not batch:
            return
        for row in batch:
            payload = dict(zip(names, row))
            moment = payload["occurred_at"]
            if raw_time:
                if len(moment) != 26:  # not SQLAlchemy's usual storage form: the slow way
                    yield row[0], row[16], row[17], _reference_digest(row[0])
                    continue
                payload["occurred_at"] = f"{moment[:10]}T{moment[11:]}Z"
            else:
                payload["occurred_at"] = format_time(moment)
            digest = sha256(row[16].encode("ascii") + b"\n" + encode(payload).encode("utf-8")
                            ).hexdigest()
            if digest != row[17]:
                digest = _reference_digest(row[0])
            yield row[0], row[16], row[17], digest
        last_seq = batch[-1][0]


def verify_chain(
    events: Iterator[Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Recompute the chain; name the first event that does not fit, and why."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    digests = _digests(events) if events is not None else _stream_digests()
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
