"""Reminders (app.reminders): before each deadline to whoever holds the task, the morning
after a missed one to them and the coordinators, each at most once. The world's period
"januari 2030" has its drafting deadline on 10 January and its review deadline on the 17th."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Notification
from app.reminders.reminders import remind
from tests.factories import SETUP, advance


def reminders(kind: str | None = None) -> list[tuple[str, str]]:
    db.session.rollback()
    return sorted((n.recipient.email.split("@")[0], n.kind) for n in db.session.scalars(
        select(Notification).where(Notification.kind.like("reminder.%")))
        if kind is None or n.kind == kind)


def run_remind(on: date):
    with operation(SETUP):
        return remind(on)


@pytest.mark.parametrize(("day", "days_left"), [(date(2030, 1, 7), 3), (date(2030, 1, 9), 1)])
def test_the_drafters_are_reminded_three_days_and_one_day_before(world, day, days_left):
    reminded = run_remind(day)
    # Both areas' contributions are drafts: their drafters hold them.
    assert reminders() == [("drafter", "reminder.before"), ("drafter2", "reminder.before"),
                           ("drafter_south", "reminder.before")]
    assert reminded.before == 3
    (message,) = [n for n in db.session.scalars(select(Notification))
                  if n.recipient.email == "drafter_south@example.se"]
    assert message.subject.startswith("Lägesbild: påminnelse – ")
    assert "sista dag 2030-01-10" in message.subject
    dagar = "dag" if days_left == 1 else "dagar"
    assert f"Sista dagen är om {days_left} {dagar}, 2030-01-10." in message.body


@pytest.mark.parametrize("day", [date(2030, 1, 6), date(2030, 1, 8), date(2030, 1, 10),
                                 date(2030, 1, 12)])
def test_no_reminder_on_other_days(world, day):
    assert run_remind(day).before == 0 and reminders("reminder.before") == []


def test_running_twice_reminds_once(world):
    run_remind(date(2030, 1, 9))
    again = run_remind(date(2030, 1, 9))
    assert again.before == 0 and len(reminders()) == 3
    run_remind(date(2030, 1, 7))  # another day before: its own reminder
    assert len(reminders()) == 6


def test_the_morning_after_a_missed_deadline_holders_and_coordinators_are_told(world):
    advance(world, "Norr", "police_review")  # Norr is with the police; Söder still a draft
    reminded = run_remind(date(2030, 1, 11))
    assert reminders("reminder.overdue") == [("drafter_south", "reminder.overdue")]
    assert reminders("reminder.overdue_coordinator") == [
        ("consolidator", "reminder.overdue_coordinator"),
        ("consolidator2", "reminder.overdue_coordinator")]
    assert (reminded.overdue, reminded.coordinators) == (1, 2)
    (message,) = [n for n in db.session.scalars(select(Notification))
                  if n.kind == "reminder.overdue_coordinator"
                  and n.recipient.email == "consolidator@example.se"]
    assert "Sista dagen var i går, 2030-01-10." in message.body
    assert world.user("drafter_south").name in message.body
    assert run_remind(date(2030, 1, 11)).coordinators == 0  # once


def test_the_police_are_reminded_of_the_review_not_the_drafter_who_waits(world):
    advance(world, "Norr", "police_review")
    run_remind(date(2030, 1, 16))
    assert reminders() == [("reviewer", "reminder.before"), ("reviewer2", "reminder.before")]


def test_a_deactivated_holder_is_not_reminded(world):
    with operation(SETUP):
        admin.set_user_active(SETUP, world.user("drafter2"), False)
    run_remind(date(2030, 1, 9))
    assert ("drafter2", "reminder.before") not in reminders()


def test_the_command_line_says_what_it_queued(runner, world):
    result = runner.invoke(args=["notifications", "remind", "--on", "2030-01-09"])
    assert result.exit_code == 0, result.output
    assert result.output == ("Reminders queued for 2030-01-09: 3 before a deadline, 0 for a "
                             "missed one, 0 to coordinators.\n")
    bad = runner.invoke(args=["notifications", "remind", "--on", "9 jan"])
    assert bad.exit_code == 2 and "'9 jan' is not a date" in bad.output
