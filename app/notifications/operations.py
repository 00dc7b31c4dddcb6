"""Changing a user's notification preferences: the one operation the page (and any command)
calls; an audit event whenever something changed, none when nothing did."""
from __future__ import annotations

from app.audit.trail import record_event
from app.core.access import deny
from app.core.actors import Actor
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.extensions import db
from app.models import User
from app.notifications.preferences import MODES

ACTION = "user.set_notification_preferences"


def set_notification_preferences(actor: Actor, user: User, mode: str,
                                 reminders_on: bool) -> bool:
    """Choose immediate messages or the daily digest, and reminders on or off. Each user
    chooses for herself (the command line may for anyone). Returns whether anything changed."""
    if isinstance(actor, User) and actor.id != user.id:
        raise deny(Msg(N_("Only the user herself chooses how her messages come.")),
                   action=ACTION, object_type="user", object_id=user.id)
    if mode not in MODES:
        raise InvalidInput(Msg(N_("Choose how your messages come: each as it happens, or "
                                  "one a day.")))
    before = {"mode": user.notification_mode, "reminders": user.reminders_on}
    after = {"mode": mode, "reminders": bool(reminders_on)}
    if before == after:
        return False
    user.notification_mode, user.reminders_on = mode, bool(reminders_on)
    db.session.flush()
    record_event(ACTION, actor=actor, object_type="user", object_id=user.id,
                 data={"from": before, "to": after})
    return True
