"""Auditors: browse, compare, prove and export the history (issue 4).

register(app) adds the "audit" blueprint (/audit/...), the "Händelselogg" menu entry for
auditors, and the commands `audit verify` (progress bar, --checkpoint), `audit checkpoint`
and `audit export` to the existing `flask audit` group.
"""
from __future__ import annotations

from flask import Flask

from app.i18n import N_


def register(app: Flask) -> None:
    from app.audit_trail.cli import add_commands
    from app.audit_trail.routes import audit
    from app.services.audit_query import is_auditor
    from app.web.menu import register_menu_item

    app.register_blueprint(audit)
    register_menu_item("audit.log", N_("Event log"), 80, visible=is_auditor)
    add_commands()
