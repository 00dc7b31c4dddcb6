"""The audit trail: the one function that appends events (verify.py checks the chain).

Each event's hash is SHA-256 over the previous hash and a canonical JSON encoding of the event
(seq included), so an edited, deleted, inserted or reordered row breaks the chain at that row.
The row stores that canonical JSON, and the database derives the other columns from it (see
AuditEvent), so verifying reads the stored text and never re-encodes. Appends are serialised:
a transaction-scoped advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite (see
app/database.py), and unique seq / prev_hash as the last line of defence.
"""
from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from app.core.actors import SystemActor
from app.core.clock import now
from app.extensions import db
from app.models import GENESIS_HASH, AuditEvent, User

# Any fixed 64-bit number: the key of the PostgreSQL advisory lock guarding the chain head.
_CHAIN_LOCK_KEY = 0x4C616765736269

HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "actor_organisation", "action",
    "object_type", "object_id", "period_id", "area_id", "contribution_id", "from_state",
    "to_state", "data", "request_id", "client_address", "prev_hash",
)


# Where record_event leaves the head the current transaction reached, for the witness to sign
# once the transaction commits (app/audit/witness.py): the session's info, cleared by commit
# and rollback.
PENDING_HEAD = "lagesbild_audit_pending_head"


@dataclass(frozen=True)
class PendingHead:
    from_seq: int  # the transaction's first event
    seq: int
    hash: str
    occurred_at: str


@dataclass(frozen=True)
class RequestInfo:
    request_id: str | None = None
    client_address: str | None = None


# RequestInfo is frozen, so one shared default is safe.
_request_info: ContextVar[RequestInfo] = ContextVar("audit_request_info",
                                                   default=RequestInfo())  # noqa: B039


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


def hash_of_record(prev_hash: str, canonical: str) -> str:
    """The recipe: SHA-256 of the previous hash, a newline, and the canonical JSON (UTF-8)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def compute_hash(payload: dict[str, Any]) -> str:
    return hash_of_record(payload["prev_hash"], canonical_json(payload))


def _organisation_name(actor: User | SystemActor | None) -> str | None:
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
    actor: User | SystemActor | None = None,
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
    payload = {
        "seq": seq,
        "occurred_at": format_time(now()),
        "actor_id": actor.id if isinstance(actor, User) else None,
        "actor_name": actor.name if actor else None,
        "actor_organisation": _organisation_name(actor),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "period_id": period_id,
        "area_id": area_id,
        "contribution_id": contribution_id,
        "from_state": from_state,
        "to_state": to_state,
        "data": canonical_json(data or {}),
        "request_id": info.request_id,
        "client_address": info.client_address,
        "prev_hash": prev_hash,
    }
    canonical = canonical_json(payload)
    # The database derives every other column from `canonical` (see AuditEvent).
    event = AuditEvent(seq=seq, canonical=canonical, prev_hash=prev_hash,
                       hash=hash_of_record(prev_hash, canonical))
    db.session.add(event)
    db.session.flush()
    earlier = db.session.info.get(PENDING_HEAD)
    db.session.info[PENDING_HEAD] = PendingHead(earlier.from_seq if earlier else seq, seq,
                                                event.hash, payload["occurred_at"])
    return event


def scope_of(contribution) -> dict[str, int]:
    """The filter columns of an event about a contribution (or one of its sections)."""
    return {"period_id": contribution.period_id, "area_id": contribution.area_id,
            "contribution_id": contribution.id}
