"""Writing messages into the outbox, inside the transaction of the change they tell about."""
from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, g, has_app_context
from flask_babel import force_locale
from sqlalchemy import select

from app.core.clock import now
from app.extensions import db
from app.models import Notification, User
from app.notifications.preferences import PREFERENCES_PATH, held_for_digest, wants

_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " "})


def one_line(text: str) -> str:
    """`text` for a mail header: a CR or LF from a name or title must not start a new one."""
    return text.translate(_LINE_BREAKS)


def external_url(path: str) -> str:
    """A link for a message: the configured address of the app, never a request's Host."""
    return current_app.config["EXTERNAL_URL"].rstrip("/") + path


def enqueue(recipients: Iterable[User], kind: str, template: str, *,
            once: str | None = None, **context) -> int:
    """One message per recipient who wants it (app.notifications.preferences), rendered in
    her language from notifications/<template>.txt, whose first line is the subject. For
    someone who chose the daily digest it is held for it, without the footer (the digest
    has one). With `once`, a recipient who was ever queued a message under that key gets
    none. Returns how many were queued."""
    count = sendable = 0
    rendered: dict[str, tuple[str, str, str]] = {}  # once per language, not per person
    for user in {u.id: u for u in recipients if wants(u, kind)}.values():
        once_key = f"{once}:user-{user.id}" if once else None
        if once_key and db.session.scalar(
                select(Notification.id).where(Notification.once_key == once_key)):
            continue
        language = user.language or "sv"
        if language not in rendered:
            rendered[language] = (*render(template, language, context), footer(language))
        subject, body, ending = rendered[language]
        held = held_for_digest(user, kind)
        db.session.add(Notification(recipient_id=user.id, kind=kind, subject=subject,
                                    body=body if held else body + ending,
                                    created_at=now(), next_attempt_at=now(),
                                    once_key=once_key, held_for_digest=held))
        count += 1
        sendable += not held
    if sendable and has_app_context():  # the sender runs after the response
        g.notifications_queued = True
    return count


def render(template: str, language: str, context: dict) -> tuple[str, str]:
    """(subject, body) of notifications/<template>.txt in `language`: the first line is the
    subject. The template alone, without the pages' context processors (menus, CSRF)."""
    subject, _, body = _render_text(template, language, context).strip().partition("\n")
    return one_line(subject)[:200], body.strip() + "\n"


def footer(language: str) -> str:
    """What ends every message: why it came, and where to choose how messages come."""
    return "\n" + _render_text("_footer", language, {}).strip() + "\n"


def _render_text(template: str, language: str, context: dict) -> str:
    with force_locale(language):
        return current_app.jinja_env.get_template(f"notifications/{template}.txt").render(
            link=external_url, preferences_path=PREFERENCES_PATH, **context)
