"""Reminders before each deadline to whoever holds the task, and the morning after a missed
one to them and to the city's coordinators (`flask --app app notifications remind`, daily
from cron). What each person holds is the start page's own list (app.web.tasks)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.notifications.cli import notifications_cli
    from app.reminders.cli import notifications_remind

    notifications_cli.add_command(notifications_remind, "remind")
