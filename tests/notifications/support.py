"""Helpers for the notification tests: choosing preferences as the set-up, reading the outbox."""
from __future__ import annotations

from sqlalchemy import select

from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Notification
from app.notifications import operations
from tests.factories import SETUP


def choose(world, key: str, mode: str = "immediate", reminders_on: bool = True) -> None:
    with operation(SETUP):
        operations.set_notification_preferences(SETUP, world.user(key), mode, reminders_on)


def outbox() -> list[Notification]:
    db.session.rollback()  # see what the operations committed
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))
