"""The web interface: sign-in, the start page, and central error handling."""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, url_for
from flask_babel import get_locale, gettext, lazy_gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.core.errors import DomainError
from app.core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from app.core.messages import N_, Msg
from app.core.paging import cursor
from app.core.text_blocks import text_blocks
from app.extensions import db, login_manager
from app.models import User
from app.web import headers, sessions, throttle
from app.web.menu import main_menu, register_menu_item
from workflows.roles import ROLE_NAMES

log = logging.getLogger(__name__)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        user = db.session.get(User, int(user_id))
    except (ValueError, OverflowError):
        return None
    # A deactivated user's sessions end too (Flask-Login checks is_active only at sign-in).
    if user is not None and not (user.is_active and sessions.still_valid(user)):
        sessions.end()
        return None
    return user


def register_web(app: Flask) -> None:
    from app.web.routes import web

    app.register_blueprint(web)
    headers.install(app)
    throttle.install(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = lazy_gettext("Log in to see the page.")
    login_manager.login_message_category = "info"

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        return _error_page(error.http_status, error.translated(gettext))

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return _error_page(400, gettext("The form had expired or lacked its security code. "
                                        "Reload the page and try again."))

    @app.context_processor
    def _helpers():
        return {
            "role_summary": role_summary,
            "current_language": str(get_locale() or DEFAULT_LANGUAGE),
            "languages": LANGUAGES,
            "main_menu": lambda place="main": main_menu(current_user, place),
        }

    app.add_template_global(page_url, "page_url")

    # Every page shows a section's text through this one rule (lists and paragraphs).
    app.add_template_filter(text_blocks, "text_blocks")

    @app.template_filter("tr")
    def _translate_message(value):
        """Shows an app.core.messages.Msg in the request's language; other values as they are."""
        return value.translated() if isinstance(value, Msg) else value

    register_menu_item("web.start", N_("My tasks"), 10)

    for status in (403, 404, 405):
        app.register_error_handler(status, lambda e, s=status: _error_page(s, None))

    @app.errorhandler(413)
    def _too_large(error):
        # Werkzeug stops reading at MAX_CONTENT_LENGTH: the upload is refused, not stored.
        limit = current_app.config["MAX_UPLOAD_BYTES"] // 2**20
        return _error_page(413, gettext("The upload is too large: a file may be at most "
                                        "%(limit)s MB. Choose a smaller file.", limit=limit))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(error):
        """The database is down, unreachable or too busy: 503 and a page that needs nothing
        from it (the write, if any, was rolled back with its transaction)."""
        log.error("request %s: the database is unavailable: %s", g.get("request_id"),
                  str(error).splitlines()[0])
        try:
            db.session.rollback()
        except (OperationalError, InterfaceError, PoolTimeout):
            pass
        page = render_template("unavailable.html", request_id=g.get("request_id", "-"),
                               language=str(get_locale() or DEFAULT_LANGUAGE))
        return page, 503, {"Retry-After": "30"}

    @app.errorhandler(500)
    def _server_error(error):
        log.exception("request %s failed", g.get("request_id"))
        return _error_page(500, None)


def page_url(endpoint: str, args: dict, **where) -> str:
    """A link to a page of a keyset-paged list (app.core.paging): the page's own arguments
    plus one of before= / after= (a key, as a cursor) or last=1 (templates/_paging.html)."""
    extra = {name: cursor(value) if isinstance(value, tuple) else value
             for name, value in where.items()}
    return url_for(endpoint, **{k: v for k, v in {**args, **extra}.items()
                                if v not in (None, "")})


def role_label(role: str) -> str:
    """A role's title in the request's language (workflows.roles names every role)."""
    names = ROLE_NAMES.get(role)
    return names.title(str(get_locale() or DEFAULT_LANGUAGE)) if names else role


def role_summary(user: User) -> str:
    parts = []
    for membership in user.memberships:
        label = role_label(membership.role)
        parts.append(f"{label} – {membership.area.name}" if membership.area else label)
    return ", ".join(parts) or gettext("no roles")


ERROR_TITLES = {
    400: N_("Invalid input"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    413: N_("Too large"),
    500: N_("Something went wrong"),
}


def _error_page(status: int, message: str | None):
    request_id = g.get("request_id", "-")
    log.info("error %s on request %s: %s", status, request_id, message)
    return render_template("error.html", status=status,
                           title=gettext(ERROR_TITLES.get(status, N_("Error"))),
                           message=message, request_id=request_id), status
