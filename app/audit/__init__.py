"""The audit trail: the one function that appends events (trail), verifying the chain
(verify), and what auditors do with it: browse, compare, prove and export the history.

register(app) adds the "audit" blueprint (/audit/...), the "Händelselogg" menu entry for
auditors, and the `flask audit` commands verify (progress bar, --checkpoint), checkpoint and
export.
"""
from __future__ import annotations

from flask import Flask

from app.core.messages import N_


def register(app: Flask) -> None:
    from app.audit.cli import audit_cli
    from app.audit.policy import is_auditor
    from app.audit.routes import audit
    from app.web.menu import register_menu_item

    app.register_blueprint(audit)
    register_menu_item("audit.log", N_("Event log"), 80, visible=is_auditor)
    app.cli.add_command(audit_cli)
