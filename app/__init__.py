"""Lägesbild: the application factory."""
from __future__ import annotations

import importlib
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import instance_path, settings_from_environment
from app.core.i18n import init_i18n
from app.core.parsing import IdConverter
from app.database import configure_engine
from app.extensions import csrf, db, login_manager, migrate
from app.logs import configure_logging, install_request_log

# Feature packages, each with register(app): blueprints, menu entries, CLI commands.
FEATURES: tuple[str, ...] = (
    "app.contributions",
    "app.periods",
    "app.audit",
    "app.documents",
    "app.admin",
    "app.identity",
    "app.search",
    "app.notifications",
    "app.reminders",
    "app.demo",
)


def create_app(config: dict | None = None) -> Flask:
    # Where the app writes (the SQLite file, a generated key, compiled catalogues): never the
    # install folder.
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path())
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
    install_request_log(app)
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
    configure_logging(app.config["LOG_FORMAT"])
    return app
