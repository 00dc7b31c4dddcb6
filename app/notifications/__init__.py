"""Notifications: who is told what at each handoff, through an outbox written with the change
and delivered over SMTP after commit (right away, best effort, and from
`flask notifications send` for cron, so a crash between commit and send loses nothing)."""
from __future__ import annotations

from flask import Flask, g

from app.core.messages import N_


def register(app: Flask) -> None:
    from app.notifications import sender
    from app.notifications.cli import notifications_cli
    from app.notifications.routes import is_admin, notifications
    from app.web.menu import register_menu_item

    # The preferences and outbox pages, and the messages' templates.
    app.register_blueprint(notifications)
    app.cli.add_command(notifications_cli)
    register_menu_item("notifications.outbox", N_("Outbox"), 90, visible=is_admin)
    register_menu_item("notifications.preferences", N_("Notifications"), 10,
                       visible=lambda user: user.is_authenticated, place="user")

    @app.after_request
    def _deliver_after_the_response(response):
        # After the response has gone: the user does not wait for the mail server.
        if g.pop("notifications_queued", False) and app.config.get("SMTP_HOST"):
            def deliver():
                with app.app_context():
                    sender.deliver_due()
            response.call_on_close(deliver)
        return response
