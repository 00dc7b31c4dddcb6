"""`flask --app app notifications send`: deliver the outbox (for cron or a systemd timer)."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.extensions import db
from app.models import Notification
from app.notifications.sender import deliver_due

notifications_cli = AppGroup("notifications", help="The notifications outbox.")


@notifications_cli.command("send")
def notifications_send():
    """Send every message that is due; exit 1 if the mail server could not be reached."""
    if not current_app.config.get("SMTP_HOST"):
        waiting = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.sent_at.is_(None), Notification.failed_at.is_(None)))
        raise click.ClickException(f"LAGESBILD_SMTP_HOST is not set: {waiting} message(s) "
                                   "wait in the outbox.")
    delivery = deliver_due()
    click.echo(f"Sent {delivery.sent}; to try again later {delivery.deferred}; "
               f"given up {delivery.failed}.")
    if delivery.server_down:
        click.echo("The mail server could not be reached; the rest wait for the next run.",
                   err=True)
        sys.exit(1)
