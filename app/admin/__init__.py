"""Administration: organisations, areas, topics, periods, users and their roles (operations.py),
from the command line (cli.py) and in the browser for administrators (routes.py, /admin), with
every local user's own password page and the one-time reset links (passwords.py holds the
password rule). Administrators never touch content or history."""
from __future__ import annotations

from flask import Flask

from app.core.messages import N_


def register(app: Flask) -> None:
    from app.admin.cli import register_cli
    from app.admin.routes import account, admin_pages, is_admin
    from app.web.menu import register_menu_item

    app.register_blueprint(admin_pages)
    app.register_blueprint(account)
    register_menu_item("admin.index", N_("Administration"), 90, visible=is_admin)
    register_cli(app)
