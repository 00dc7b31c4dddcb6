"""`flask notifications send`, for cron or a systemd timer."""
from __future__ import annotations

from tests.factories import advance


def test_send_delivers_what_is_due_and_says_so(runner, world, mailbox):
    advance(world, "Norr", "police_review")
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == "Sent 2; to try again later 0; given up 0.\n"
    assert len(mailbox.messages) == 2
    again = runner.invoke(args=["notifications", "send"])
    assert again.output == "Sent 0; to try again later 0; given up 0.\n"


def test_send_with_the_server_away_exits_1_for_the_monitoring(runner, world, smtp_port):
    advance(world, "Norr", "police_review")
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 1
    assert "Sent 0; to try again later 1; given up 0." in result.output
    assert "The mail server could not be reached" in result.output


def test_send_without_a_mail_server_says_what_waits(app, runner, world):
    app.config["SMTP_HOST"] = None
    advance(world, "Norr", "police_review")
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 1
    assert "LAGESBILD_SMTP_HOST is not set: 2 message(s) wait in the outbox." in result.output
