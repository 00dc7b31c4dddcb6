"""Administration: organisations, areas, topics, periods, users and their roles (operations.py),
from the command line (cli.py). Administrators never touch content or history."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.admin.cli import register_cli

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
