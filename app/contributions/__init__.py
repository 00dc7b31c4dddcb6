"""The contribution pages: read a contribution, edit its sections, act on it, see its history."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from flask_babel import get_locale

    from app.contributions.presenters import status_label
    from app.contributions.routes import bp

    app.register_blueprint(bp)
    # Any page showing a contribution's or consolidation's status (an import says so).
    app.add_template_global(lambda subject: status_label(subject, str(get_locale() or "sv")),
                            "status_label")
