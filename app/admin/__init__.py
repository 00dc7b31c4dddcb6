"""Administration: organisations, areas, topics, periods, users and their roles (operations.py),
from the command line (cli.py) and in the browser for administrators (routes.py, /admin), with
every local user's own password page and the one-time reset links (passwords.py holds the
password rule). Administrators never touch content or history."""
from __future__ import annotations

from flask import Flask, current_app

from app.core.messages import N_


def register(app: Flask) -> None:
    from app.admin.cli import register_cli
    from app.admin.routes import account, admin_pages, is_admin
    from app.web.menu import register_menu_item

    app.register_blueprint(admin_pages)
    app.register_blueprint(account)
    register_menu_item("admin.index", N_("Administration"), 90, visible=is_admin)
    # A local password to change only where local passwords are in use (app/identity).
    register_menu_item("account.password", N_("Change password"), 20, place="user",
                       visible=lambda user: current_app.config.get("LOCAL_PASSWORDS", True))
    register_cli(app)
    _register_structure_pages(app)


def _register_structure_pages(app: Flask) -> None:
    """Topics and periods in the browser (/admin/topics, /admin/periods), for admins."""
    from app.admin.structure_routes import admin_structure, is_admin
    from app.core.messages import N_
    from app.web.menu import register_menu_item

    app.register_blueprint(admin_structure)
    register_menu_item("admin_structure.topics", N_("Topics and periods"), 90,
                       visible=is_admin)
