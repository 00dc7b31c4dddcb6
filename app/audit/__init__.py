"""The audit trail: the one function that appends events (trail), verifying the chain
(verify), and what auditors do with it: browse, compare, prove and export the history.

register(app) adds the "audit" blueprint (/audit/...), the "Händelselogg" menu entry for
auditors, the witness (signed checkpoints after each commit: witness.py) and the `flask audit`
commands verify (against the witness; --checkpoint), checkpoint, export, public-key and
grant-app-role.
"""
from __future__ import annotations

from flask import Flask

from app.core.messages import N_


def register(app: Flask) -> None:
    from app.audit.cli import audit_cli
    from app.audit.policy import is_auditor
    from app.audit.routes import audit
    from app.audit.witness import init_app as init_witness
    from app.web.menu import register_menu_item

    init_witness(app)
    app.register_blueprint(audit)
    register_menu_item("audit.log", N_("Event log"), 80, visible=is_auditor)
    app.cli.add_command(audit_cli)
