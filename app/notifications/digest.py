"""The daily digest: for each user who chose it, the handoff messages held since her last
digest, listed in one message (`flask --app app notifications digest`, daily from a timer,
before `notifications send`). At most one digest a person a day, so a second run the same
day queues nothing; the messages it lists are marked with it in the same transaction, so
none is listed twice. The digest itself is an ordinary outbox message: the sender delivers
it at least once, its row locked while it goes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import groupby

from sqlalchemy import select

from app.core.clock import now
from app.extensions import db
from app.models import Notification
from app.notifications.outbox import footer, render
from app.notifications.sender import DEACTIVATED


@dataclass
class Digested:
    digests: int = 0
    messages: int = 0
    not_sent_to_deactivated: int = 0


def queue_digests(on: date) -> Digested:
    """Queue the digests of `on` (a day in Stockholm), inside the caller's transaction."""
    query = (select(Notification).where(
        Notification.held_for_digest.is_(True), Notification.digest_id.is_(None),
        Notification.sent_at.is_(None), Notification.failed_at.is_(None))
        .order_by(Notification.recipient_id, Notification.id))
    if db.session.get_bind().dialect.name == "postgresql":
        # Another run at the same moment skips what this one is listing.
        query = query.with_for_update(skip_locked=True)
    digested = Digested()
    for _, group in groupby(db.session.scalars(query).all(), key=lambda n: n.recipient_id):
        messages = list(group)
        user = messages[0].recipient
        if not user.active:
            for message in messages:
                message.failed_at, message.last_error = now(), DEACTIVATED
            digested.not_sent_to_deactivated += len(messages)
            continue
        once_key = f"digest:{on.isoformat()}:user-{user.id}"
        if db.session.scalar(select(Notification.id).where(Notification.once_key == once_key)):
            continue  # today's digest has gone: these wait for tomorrow's
        language = user.language or "sv"
        subject, body = render("digest", language, {"messages": messages, "day": on})
        digest = Notification(recipient_id=user.id, kind="digest", subject=subject,
                              body=body + footer(language), created_at=now(),
                              next_attempt_at=now(), once_key=once_key)
        db.session.add(digest)
        db.session.flush()
        for message in messages:
            message.digest_id = digest.id
        digested.digests += 1
        digested.messages += len(messages)
    db.session.flush()
    return digested
