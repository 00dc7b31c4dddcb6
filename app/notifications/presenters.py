"""The outbox as administrators see it: counts by state and a paged list of who was sent what
kind of message when, with attempts and errors. Never a subject or a body: those carry texts
an administrator may not read (remarks, reasons, what changed)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from app.core.messages import N_
from app.extensions import db
from app.models import Notification

PAGE_SIZE = 50

# Each state's condition, the one place the outbox's states are defined (a message is in
# exactly one), with its label (an English msgid).
_N = Notification
STATES = {
    "queued": (and_(_N.sent_at.is_(None), _N.failed_at.is_(None),
                    _N.held_for_digest.is_(False)), N_("Queued")),
    "held": (and_(_N.held_for_digest.is_(True), _N.digest_id.is_(None),
                  _N.sent_at.is_(None), _N.failed_at.is_(None)), N_("Held for the digest")),
    "in_digest": (and_(_N.digest_id.is_not(None), _N.failed_at.is_(None)),
                  N_("Listed in a digest")),
    "sent": (_N.sent_at.is_not(None), N_("Sent")),
    "failed": (_N.failed_at.is_not(None), N_("Not sent (given up)")),
}


def state_of(notification: Notification) -> str:
    if notification.failed_at is not None:
        return "failed"
    if notification.sent_at is not None:
        return "sent"
    if notification.digest_id is not None:
        return "in_digest"
    return "held" if notification.held_for_digest else "queued"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    recipient_name: str
    recipient_email: str
    recipient_active: bool
    kind: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None  # while it waits to be sent
    done_at: datetime | None  # sent or given up
    digest_id: int | None


@dataclass(frozen=True)
class OutboxPage:
    counts: dict[str, int]
    rows: list[OutboxRow]
    state: str | None
    older_before_id: int | None  # the next page's "before"


def outbox_page(state: str | None = None, before_id: int | None = None,
                size: int = PAGE_SIZE) -> OutboxPage:
    """Newest first; paged by id (before_id), so a page never skips or repeats a message
    while others are queued."""
    counts = {name: db.session.scalar(select(func.count()).select_from(Notification)
                                      .where(condition)) or 0
              for name, (condition, _) in STATES.items()}
    query = (select(Notification).options(joinedload(Notification.recipient))
             .order_by(Notification.id.desc()).limit(size + 1))
    if state is not None:
        query = query.where(STATES[state][0])
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    found = list(db.session.scalars(query))
    rows = [_row(notification) for notification in found[:size]]
    older = rows[-1].id if len(found) > size else None
    return OutboxPage(counts, rows, state, older)


def _row(notification: Notification) -> OutboxRow:
    state = state_of(notification)
    user = notification.recipient
    return OutboxRow(
        id=notification.id, recipient_name=user.name, recipient_email=user.email,
        recipient_active=user.active, kind=notification.kind, state=state,
        attempts=notification.attempts, last_error=notification.last_error,
        created_at=notification.created_at,
        next_attempt_at=notification.next_attempt_at if state == "queued" else None,
        done_at=notification.sent_at or notification.failed_at,
        digest_id=notification.digest_id)
