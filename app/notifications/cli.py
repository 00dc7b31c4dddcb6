"""`flask --app app notifications send`: deliver the outbox (for cron or a systemd timer)."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.core.clock import STOCKHOLM, now
from app.core.command_line import run_as_command_line
from app.extensions import db
from app.models import Notification
from app.notifications.digest import queue_digests
from app.notifications.sender import deliver_due

notifications_cli = AppGroup("notifications", help="The notifications outbox.")


@notifications_cli.command("send")
def notifications_send():
    """Send every message that is due; exit 1 if the mail server could not be reached."""
    if not current_app.config.get("SMTP_HOST"):
        waiting = db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.sent_at.is_(None), Notification.failed_at.is_(None),
            Notification.held_for_digest.is_(False)))
        raise click.ClickException(f"LAGESBILD_SMTP_HOST is not set: {waiting} message(s) "
                                   "wait in the outbox.")
    delivery = deliver_due()
    click.echo(f"Sent {delivery.sent}; to try again later {delivery.deferred}; "
               f"given up {delivery.failed}."
               + (f" Not sent to deactivated users: {delivery.not_sent_to_deactivated}."
                  if delivery.not_sent_to_deactivated else ""))
    if delivery.server_down:
        click.echo("The mail server could not be reached; the rest wait for the next run.",
                   err=True)
        sys.exit(1)


@notifications_cli.command("digest")
@click.option("--on", "on", default=None, metavar="YYYY-MM-DD",
              help="The day of the digest (default: today in Stockholm).")
def notifications_digest(on):
    """Queue the daily digest for everyone who chose it; run daily, before `send`."""
    try:
        day = date.fromisoformat(on) if on else now().astimezone(STOCKHOLM).date()
    except ValueError:
        raise click.BadParameter(f"'{on}' is not a date (YYYY-MM-DD)",
                                 param_hint="--on") from None
    digested = run_as_command_line(lambda _actor: queue_digests(day))
    click.echo(f"Digests queued for {day.isoformat()}: {digested.digests}, listing "
               f"{digested.messages} message(s)."
               + (f" Not sent to deactivated users: {digested.not_sent_to_deactivated}."
                  if digested.not_sent_to_deactivated else ""))
