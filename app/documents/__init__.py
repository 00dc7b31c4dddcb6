"""Documents: export the lägesbild (DOCX and a print view) with a fingerprint, verify exported
files, import old documents with a mapping preview, carry texts forward, cross-references."""
from __future__ import annotations

from flask import Flask

from app.core.messages import N_


def _sees_documents(user) -> bool:
    from app.core.access import all_roles

    # Readers see their documents; administrators carry texts forward into new periods.
    return bool(all_roles(user))


def register(app: Flask) -> None:
    from app.documents.cli import documents_cli
    from app.documents.routes import documents
    from app.documents.template import check_configured_template
    from app.web.menu import register_menu_item

    check_configured_template(app.config.get("DOCX_TEMPLATE"))
    app.register_blueprint(documents)
    app.cli.add_command(documents_cli)
    register_menu_item("documents.index", N_("Documents"), 60, visible=_sees_documents)
