"""The web interface: sign-in, the start page, and central error handling."""
from __future__ import annotations

import logging

from flask import Flask, g, render_template
from flask_wtf.csrf import CSRFError

from app.extensions import db, login_manager
from app.models import ROLE_LABELS_SV, User
from app.services.errors import DomainError

log = logging.getLogger(__name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None


def register_web(app: Flask) -> None:
    from app.web.routes import web

    app.register_blueprint(web)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Logga in för att se sidan."
    login_manager.login_message_category = "info"

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return _error_page(error.http_status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return _error_page(400, "Formuläret hade gått ut eller saknade sin säkerhetskod. "
                                "Ladda om sidan och försök igen.")

    @app.context_processor
    def _helpers():
        return {"role_summary": role_summary}

    for status in (403, 404, 405):
        app.register_error_handler(status, lambda e, s=status: _error_page(s, None))

    @app.errorhandler(500)
    def _server_error(error):
        log.exception("request %s failed", g.get("request_id"))
        return _error_page(500, None)


def role_summary(user: User) -> str:
    parts = []
    for membership in user.memberships:
        label = ROLE_LABELS_SV.get(membership.role, membership.role)
        parts.append(f"{label} – {membership.area.name}" if membership.area else label)
    return ", ".join(parts) or "inga roller"


ERROR_TITLES = {
    400: "Felaktig uppgift",
    403: "Åtkomst nekad",
    404: "Sidan finns inte",
    405: "Metoden stöds inte",
    409: "Konflikt",
    500: "Något gick fel",
}


def _error_page(status: int, message: str | None):
    request_id = g.get("request_id", "-")
    log.info("error %s on request %s: %s", status, request_id, message)
    return render_template("error.html", status=status, title=ERROR_TITLES.get(status, "Fel"),
                           message=message, request_id=request_id), status
