"""Notifications: who is told what at each handoff, through an outbox written with the change
and delivered over SMTP after commit (right away, best effort, and from
`flask notifications send` for cron, so a crash between commit and send loses nothing)."""
from __future__ import annotations

from flask import Blueprint, Flask, g


def register(app: Flask) -> None:
    from app.notifications import sender
    from app.notifications.cli import notifications_cli

    # The messages' templates (a blueprint with no routes).
    app.register_blueprint(Blueprint("notifications", __name__, template_folder="templates"))
    app.cli.add_command(notifications_cli)

    @app.after_request
    def _deliver_after_the_response(response):
        # After the response has gone: the user does not wait for the mail server.
        if g.pop("notifications_queued", False) and app.config.get("SMTP_HOST"):
            def deliver():
                with app.app_context():
                    sender.deliver_due()
            response.call_on_close(deliver)
        return response
