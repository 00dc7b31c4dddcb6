"""Each user's choice of messages, the one rule the outbox, the digest and the page ask:
every handoff as it happens or held for one message a day, and reminders on or off."""
from __future__ import annotations

from app.core.messages import N_

IMMEDIATE = "immediate"
DIGEST = "digest"
# The modes in the order the page offers them, each with its label (an English msgid).
MODES = {
    IMMEDIATE: N_("Each message as it happens"),
    DIGEST: N_("One message a day, listing them (a daily digest)"),
}
# Where the footer of every message sends people to change them (app.notifications.routes).
PREFERENCES_PATH = "/account/notifications"


def is_reminder(kind: str) -> bool:
    return kind.startswith("reminder.")


def wants(user, kind: str) -> bool:
    """Whether `user` is to get a message of `kind` at all: nothing to the deactivated, no
    reminders to whoever switched them off."""
    return bool(user.active) and not (is_reminder(kind) and not user.reminders_on)


def held_for_digest(user, kind: str) -> bool:
    """A handoff for someone who chose the digest waits for it; a reminder, itself daily and
    about a deadline, goes as it is."""
    return user.notification_mode == DIGEST and not is_reminder(kind)
