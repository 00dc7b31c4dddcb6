"""Delivering the outbox (app.notifications.sender) to a real SMTP server: each message once,
retried while the server is away, given up after a bound, headers that cannot be injected."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.clock import frozen_at, now
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Notification
from app.notifications import sender
from tests.factories import SETUP, advance
from tests.notifications.conftest import Mailbox


def waiting() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.sent_at.is_(None), Notification.failed_at.is_(None)))


def test_each_message_is_delivered_once_to_its_recipient(world, mailbox):
    advance(world, "Norr", "police_review")
    delivery = sender.deliver_due()
    assert (delivery.sent, delivery.deferred, delivery.failed) == (2, 0, 0)
    assert mailbox.recipients() == ["reviewer2@example.se", "reviewer@example.se"]
    message = mailbox.to("reviewer@example.se")[0]
    assert message["Subject"].startswith("Lägesbild: bidraget från Norr")
    assert message["To"].addresses[0].addr_spec == "reviewer@example.se"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "https://lagesbild.example.se/contributions/" in message.get_content()
    assert sender.deliver_due().sent == 0 and len(mailbox.messages) == 2  # never twice


def test_with_the_server_away_messages_wait_and_go_once_when_it_returns(world, smtp_port):
    advance(world, "Norr", "police_review")
    delivery = sender.deliver_due()
    assert delivery.server_down and delivery.deferred == 1 and delivery.sent == 0
    db.session.rollback()
    first, second = db.session.scalars(select(Notification).order_by(Notification.id))
    assert first.attempts == 1 and "ConnectionRefusedError" in first.last_error
    assert first.next_attempt_at > now()
    assert second.attempts == 0  # the run stopped at the unreachable server
    box = Mailbox()
    from aiosmtpd.controller import Controller
    controller = Controller(box, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert sender.deliver_due().sent == 1  # the first waits for its pause
        with frozen_at(now() + timedelta(minutes=2)):
            assert sender.deliver_due().sent == 1
        assert sorted(box.recipients()) == ["reviewer2@example.se", "reviewer@example.se"]
        assert waiting() == 0
    finally:
        controller.stop()


def test_a_message_is_given_up_after_the_last_attempt_and_stays_visible(world, smtp_port):
    advance(world, "Norr", "police_review")
    moment = now()
    for attempt in range(sender.MAX_ATTEMPTS):
        with frozen_at(moment + timedelta(hours=attempt)):
            sender.deliver_due()
    db.session.rollback()
    failed = db.session.scalars(select(Notification).where(
        Notification.failed_at.is_not(None))).all()
    assert len(failed) == 1 and failed[0].attempts == sender.MAX_ATTEMPTS
    assert waiting() == 1


def test_a_name_with_line_breaks_does_not_add_a_header(world, mailbox):
    with operation(SETUP):
        world.user("reviewer").name = "Eva\r\nBcc: victim@example.org"
    advance(world, "Norr", "police_review")
    sender.deliver_due()
    (message,) = mailbox.to("reviewer@example.se")
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["reviewer@example.se"]
    assert all("victim" not in rcpt for rcpt in mailbox.recipients())


def test_without_a_mail_server_configured_the_outbox_keeps_them(app, world):
    app.config["SMTP_HOST"] = None
    advance(world, "Norr", "police_review")
    assert sender.deliver_due().sent == 0 and waiting() == 2


@pytest.mark.postgres
def test_two_senders_at_once_deliver_each_message_once(app, world, mailbox):
    for area in ("Norr", "Söder"):
        advance(world, area, "reviewed")  # 2 + 1 to reviewers, 2 + 2 to coordinators
    db.session.remove()
    results = []

    def run_sender():
        with app.app_context():
            results.append(sender.deliver_due().sent)
            db.session.remove()

    threads = [threading.Thread(target=run_sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(results) == 7
    assert len(mailbox.messages) == 7
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(set(ids)) == 7
