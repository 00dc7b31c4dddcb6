"""`flask --app app notifications remind [--on YYYY-MM-DD]`."""
from __future__ import annotations

from datetime import date

import click

from app.core.command_line import run_as_command_line
from app.reminders.reminders import remind
from app.web.tasks import today


@click.command("remind")
@click.option("--on", "on", default=None, metavar="YYYY-MM-DD",
              help="The day to remind for (default: today in Stockholm).")
def notifications_remind(on):
    """Queue the reminders due today; run daily, before `notifications send`."""
    try:
        day = date.fromisoformat(on) if on else today()
    except ValueError:
        raise click.BadParameter(f"'{on}' is not a date (YYYY-MM-DD)",
                                 param_hint="--on") from None
    reminded = run_as_command_line(lambda _actor: remind(day))
    click.echo(f"Reminders queued for {day.isoformat()}: {reminded.before} before a deadline, "
               f"{reminded.overdue} for a missed one, {reminded.coordinators} to coordinators.")
