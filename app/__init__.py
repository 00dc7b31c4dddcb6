"""Lägesbild: the application factory."""
from __future__ import annotations

import importlib
import logging
import os
import uuid

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import settings_from_environment
from app.core.i18n import init_i18n
from app.core.parsing import IdConverter
from app.database import configure_engine
from app.extensions import csrf, db, login_manager, migrate

# Feature packages, each with register(app): blueprints, menu entries, CLI commands.
FEATURES: tuple[str, ...] = (
    "app.contributions",
    "app.periods",
    "app.audit",
    "app.documents",
    "app.admin",
    "app.demo",
)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(settings_from_environment(app.instance_path))
    if config:
        app.config.update(config)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind a reverse proxy: believe its X-Forwarded-* headers (and only as many as
        # there are proxies), so the audit trail records the client, not the proxy.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # <id:name> in every route: ASCII digits within an INTEGER column's range, else 404.
    app.url_map.converters["id"] = IdConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
                     render_as_batch=True, compare_type=True)
    # First: every other before_request hook (CSRF's included) may end the request, and its
    # error page and log line need the request id.
    _install_request_context(app)
    from app.web.input_guard import refuse_nul_characters

    app.before_request(refuse_nul_characters)
    csrf.init_app(app)
    login_manager.init_app(app)
    init_i18n(app)
    with app.app_context():
        configure_engine(db.engine)

    from app import models  # noqa: F401  (register the tables with the metadata)
    from app.web import register_web

    register_web(app)
    for feature in FEATURES:
        importlib.import_module(feature).register(app)
    logging.basicConfig(level=logging.INFO)
    # pytransitions logs every state callback at INFO: noise in the server log and the CLI.
    logging.getLogger("transitions").setLevel(logging.WARNING)
    return app


def _install_request_context(app: Flask) -> None:
    """Every request gets an id (in the log, the audit trail and error pages)."""
    from app.audit.trail import RequestInfo, _request_info

    @app.before_request
    def _begin_request():
        g.request_id = uuid.uuid4().hex[:16]
        g._audit_token = _request_info.set(RequestInfo(g.request_id, request.remote_addr))

    @app.teardown_request
    def _end_request(_exc):
        token = g.pop("_audit_token", None)
        if token is not None:
            try:
                _request_info.reset(token)
            except ValueError:  # torn down in another context: nothing left to undo there
                pass
