"""Writing messages into the outbox, inside the transaction of the change they tell about."""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, g, has_app_context
from flask_babel import force_locale
from sqlalchemy import select

from app.core.clock import now
from app.extensions import db
from app.models import Notification, User

_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " "})


def one_line(text: str) -> str:
    """`text` for a mail header: a CR or LF from a name or title must not start a new one."""
    return text.translate(_LINE_BREAKS)


def external_url(path: str) -> str:
    """A link for a message: the configured address of the app, never a request's Host."""
    return current_app.config["EXTERNAL_URL"].rstrip("/") + path


def enqueue(recipients: Iterable[User], kind: str, template: str, *,
            once: str | None = None, **context) -> int:
    """One message per active recipient, rendered in her language from
    notifications/<template>.txt, whose first line is the subject. With `once`, a recipient
    who was ever queued a message under that key gets none. Returns how many were queued."""
    count = 0
    rendered: dict[str, tuple[str, str]] = {}  # one rendering per language, not per person
    for user in {u.id: u for u in recipients if u.active}.values():
        once_key = f"{once}:user-{user.id}" if once else None
        if once_key and db.session.scalar(
                select(Notification.id).where(Notification.once_key == once_key)):
            continue
        language = user.language or "sv"
        if language not in rendered:
            rendered[language] = _render(template, language, context)
        subject, body = rendered[language]
        db.session.add(Notification(recipient_id=user.id, kind=kind, subject=subject,
                                    body=body, created_at=now(), next_attempt_at=now(),
                                    once_key=once_key))
        count += 1
    if count and has_app_context():
        g.notifications_queued = True
    return count


def _render(template: str, language: str, context: dict) -> tuple[str, str]:
    """(subject, body) of notifications/<template>.txt in `language`: the first line is the
    subject. The template alone, without the pages' context processors (menus, CSRF)."""
    with force_locale(language):
        text = current_app.jinja_env.get_template(f"notifications/{template}.txt").render(
            link=external_url, **context)
    subject, _, body = text.strip().partition("\n")
    return one_line(subject)[:200], body.strip() + "\n"
