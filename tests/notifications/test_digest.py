"""The daily digest (app.notifications.digest), delivered to a real SMTP server: a handoff
for someone who chose it is held, and the next morning's digest lists every held message in
one mail; running it twice sends nothing twice."""
from __future__ import annotations

import threading
from datetime import date

import pytest

from app.core.unit_of_work import operation
from app.extensions import db
from app.notifications import sender
from app.notifications.digest import queue_digests
from tests.factories import SETUP, advance
from tests.notifications.support import choose, outbox

MORNING = date(2030, 1, 9)


def run_digest(on: date = MORNING):
    with operation(SETUP):
        return queue_digests(on)


def test_a_digest_reader_gets_nothing_at_the_handoff_and_one_mail_the_next_morning(
        world, mailbox):
    choose(world, "reviewer", "digest")
    advance(world, "Norr", "police_review")
    advance(world, "Söder", "police_review")  # not hers: Söder's reviewers only
    sender.deliver_due()
    assert mailbox.recipients() == ["reviewer2@example.se", "reviewer_south@example.se"]
    (held,) = [n for n in outbox() if n.recipient.email == "reviewer@example.se"]
    assert held.held_for_digest and held.sent_at is None and "--" not in held.body

    digested = run_digest()
    assert (digested.digests, digested.messages) == (1, 1)
    sender.deliver_due()
    (digest,) = mailbox.to("reviewer@example.se")
    assert digest["Subject"] == "Lägesbild: din dagliga sammanfattning, 2030-01-09 – 1 " \
                                "meddelande"
    text = digest.get_content()
    assert "1. Lägesbild: bidraget från Norr för januari 2030 väntar på din granskning" in text
    assert f"Granska det här: https://lagesbild.example.se/contributions/" \
           f"{world.contribution('Norr').id}" in text
    assert text.count("https://lagesbild.example.se/account/notifications") == 1  # one footer


def test_the_digest_lists_every_held_message_and_running_twice_sends_nothing_twice(
        world, mailbox):
    choose(world, "consolidator", "digest")
    for area in ("Norr", "Söder"):
        advance(world, area, "reviewed")  # two police approvals: two messages held
    assert run_digest().messages == 2
    again = run_digest()
    assert (again.digests, again.messages) == (0, 0)
    sender.deliver_due()
    sender.deliver_due()
    (digest,) = mailbox.to("consolidator@example.se")
    assert "2 meddelanden" in digest["Subject"]
    text = digest.get_content()
    assert "1. Lägesbild: polisen har godkänt bidraget från Norr" in text
    assert "2. Lägesbild: polisen har godkänt bidraget från Söder" in text
    # consolidator2 chose nothing: two messages of her own, as they happened
    assert len(mailbox.to("consolidator2@example.se")) == 2
    assert all(n.digest_id is not None for n in outbox()
               if n.held_for_digest and n.recipient.email == "consolidator@example.se")


def test_one_digest_a_day_what_comes_later_waits_for_the_next(world, mailbox):
    choose(world, "consolidator", "digest")
    advance(world, "Norr", "reviewed")
    assert run_digest().digests == 1
    advance(world, "Söder", "reviewed")
    assert run_digest().digests == 0  # the same morning: today's digest has gone
    tomorrow = run_digest(date(2030, 1, 10))
    assert (tomorrow.digests, tomorrow.messages) == (1, 1)
    sender.deliver_due()
    first, second = mailbox.to("consolidator@example.se")
    assert "Norr" in first.get_content() and "Söder" not in first.get_content()
    assert "Söder" in second.get_content() and "Norr" not in second.get_content()


def test_reminders_are_not_held_for_the_digest(world, mailbox):
    from app.reminders.reminders import remind

    choose(world, "drafter", "digest")
    with operation(SETUP):
        remind(date(2030, 1, 9))
    sender.deliver_due()
    assert len(mailbox.to("drafter@example.se")) == 1
    assert run_digest().digests == 0


def test_a_digest_in_english_for_who_chose_english(world, mailbox):
    choose(world, "reviewer", "digest")
    with operation(SETUP):
        world.user("reviewer").language = "en"
    advance(world, "Norr", "police_review")
    run_digest()
    sender.deliver_due()
    (digest,) = mailbox.to("reviewer@example.se")
    assert digest["Subject"] == "Lägesbild: your daily digest, 2030-01-09 – 1 message"
    assert "What has happened since your last digest, oldest first." in digest.get_content()
    assert "To get one message a day instead, or to switch reminders off: " \
           "https://lagesbild.example.se/account/notifications" in digest.get_content()


def test_the_command_line_queues_the_digests_and_says_so(runner, world, mailbox):
    choose(world, "reviewer", "digest")
    advance(world, "Norr", "police_review")
    result = runner.invoke(args=["notifications", "digest", "--on", "2030-01-09"])
    assert result.exit_code == 0, result.output
    assert result.output == "Digests queued for 2030-01-09: 1, listing 1 message(s).\n"
    again = runner.invoke(args=["notifications", "digest", "--on", "2030-01-09"])
    assert again.output == "Digests queued for 2030-01-09: 0, listing 0 message(s).\n"
    bad = runner.invoke(args=["notifications", "digest", "--on", "tomorrow"])
    assert bad.exit_code == 2 and "'tomorrow' is not a date" in bad.output


@pytest.mark.postgres
def test_two_digest_runs_at_once_queue_one_digest(app, world, mailbox):
    choose(world, "consolidator", "digest")
    for area in ("Norr", "Söder"):
        advance(world, area, "reviewed")
    db.session.remove()
    results = []

    def run():
        with app.app_context():
            results.append(run_digest().digests)
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, 1]
    sender.deliver_due()
    assert len(mailbox.to("consolidator@example.se")) == 1
