"""Periods: the period overview, the consolidation and approval page, and the workflow page."""
from __future__ import annotations

from flask import Flask

from app.core.messages import N_
from app.web.menu import register_menu_item


def contribution_state_label(name: str) -> str:
    """A contribution state's name in the request's language."""
    from flask_babel import get_locale

    from workflows import CONTRIBUTION_WORKFLOW

    return CONTRIBUTION_WORKFLOW.state(name).label(str(get_locale() or "sv"))


def register(app: Flask) -> None:
    from app.periods.overview import may_see_periods
    from app.periods.routes import periods

    app.register_blueprint(periods)

    @app.context_processor
    def _period_helpers():
        # Links into pages other features own, drawn only once those features are installed.
        return {"state_label": contribution_state_label,
                "has_endpoint": lambda name: name in app.view_functions}
    register_menu_item("periods.index", N_("Periods"), 20,
                       visible=lambda user: user.is_authenticated and may_see_periods(user))
    register_menu_item("periods.workflows", N_("Workflow"), 80,
                       visible=lambda user: user.is_authenticated)
