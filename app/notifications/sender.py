"""Delivering the outbox over SMTP: one message per transaction, its row locked while it is
sent (SKIP LOCKED on PostgreSQL, so several senders share the queue and none sends a message
another has; the write lock on SQLite), marked sent in the same transaction. A message the
server refuses is tried again later with a growing pause, and given up after MAX_ATTEMPTS,
visible as failed. (If the process dies between the server's acceptance and the commit, that
one message goes again: at least once, never lost.)"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from flask import current_app
from sqlalchemy import select

from app.core.clock import now
from app.database import write_intent
from app.extensions import db
from app.models import Notification
from app.notifications.outbox import one_line

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def pause_after(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour: eight attempts span about three hours."""
    return timedelta(minutes=min(2 ** (attempts - 1), 60))


@dataclass
class Delivery:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    not_sent_to_deactivated: int = 0
    server_down: bool = False


def build_message(notification: Notification) -> EmailMessage:
    return compose(notification.recipient, notification.subject,  # made one line when queued
                   notification.body, f"notification-{notification.id}")


def compose(user, subject: str, body: str, message_key: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage(policy=SMTP)
    message["From"] = config["MAIL_FROM"]
    name = one_line(user.name)
    local, _, domain = user.email.partition("@")
    message["To"] = Address(display_name=name, username=local, domain=domain)
    message["Subject"] = one_line(subject)
    message["Message-ID"] = (f"<lagesbild-{message_key}@"
                             f"{config['MAIL_FROM'].rpartition('@')[2].strip('>') or 'localhost'}>")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send_now(user, subject: str, body: str, message_key: str) -> bool:
    """One message straight to the relay, bypassing the outbox: for what must never be kept
    in the database (a password reset link). False when no relay is configured or it did not
    take the message (logged); the caller says so to whoever is waiting."""
    if not current_app.config.get("SMTP_HOST"):
        return False
    server = _Server()
    try:
        server.send(compose(user, subject, body, message_key))
        return True
    except (smtplib.SMTPException, OSError) as error:
        log.warning("message %s to user %s not delivered: %s: %s", message_key, user.id,
                    type(error).__name__, error)
        return False
    finally:
        server.close()


class _Server:
    """One SMTP connection for a run, opened at the first message."""

    def __init__(self) -> None:
        self.connection: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.connection is None:
            config = current_app.config
            connection = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10)
            if config["SMTP_STARTTLS"]:
                connection.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                connection.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            self.connection = connection
        self.connection.send_message(message)

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass


def _next_due():
    query = (select(Notification).where(
        Notification.sent_at.is_(None), Notification.failed_at.is_(None),
        Notification.held_for_digest.is_(False),
        Notification.next_attempt_at <= now()).order_by(Notification.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return db.session.scalar(query)


def deliver_due(limit: int = 1000) -> Delivery:
    """Send what is due, up to `limit` messages; stop early when the server is unreachable
    (the rest wait for the next run, their attempts untouched)."""
    delivery = Delivery()
    if not current_app.config.get("SMTP_HOST"):
        return delivery
    server = _Server()
    try:
        for _ in range(limit):
            db.session.rollback()
            with write_intent():
                notification = _next_due()
                if notification is None:
                    db.session.rollback()
                    break
                if not notification.recipient.active:
                    _drop_for_deactivated(notification, delivery)
                    db.session.commit()
                    continue
                try:
                    server.send(build_message(notification))
                    notification.sent_at = now()
                    delivery.sent += 1
                except (smtplib.SMTPException, OSError) as error:
                    _defer(notification, error, delivery)
                    if not isinstance(error, smtplib.SMTPRecipientsRefused):
                        delivery.server_down = True
                db.session.commit()
            if delivery.server_down:
                break
    finally:
        server.close()
    return delivery


# Why a message stays unsent: its recipient was deactivated after it was queued.
DEACTIVATED = "Not sent: the recipient is deactivated."


def _drop_for_deactivated(notification: Notification, delivery: Delivery) -> None:
    """Nothing goes to a deactivated user, whenever she was deactivated: the message ends
    as not sent (visible to admins), never to be tried again."""
    notification.failed_at = now()
    notification.last_error = DEACTIVATED
    delivery.not_sent_to_deactivated += 1


def _defer(notification: Notification, error: Exception, delivery: Delivery) -> None:
    notification.attempts += 1
    notification.last_error = f"{type(error).__name__}: {error}"[:500]
    if notification.attempts >= MAX_ATTEMPTS:
        notification.failed_at = now()
        delivery.failed += 1
        log.error("notification %s given up after %s attempts: %s", notification.id,
                  notification.attempts, notification.last_error)
    else:
        notification.next_attempt_at = now() + pause_after(notification.attempts)
        delivery.deferred += 1
        log.warning("notification %s not delivered (attempt %s): %s", notification.id,
                    notification.attempts, notification.last_error)
