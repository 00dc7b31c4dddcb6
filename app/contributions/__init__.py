"""The contribution pages: read a contribution, edit its sections, act on it, see its history."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.contributions.routes import bp

    app.register_blueprint(bp)
