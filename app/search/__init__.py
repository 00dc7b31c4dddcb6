"""Search: the section texts and remarks a user may read, in every period and area within
their scope (app/search/query.py), on a page of its own and from a field in the header."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.search import index  # noqa: F401  (keeps SQLite's FTS5 tables current)
    from app.search.routes import bp

    app.register_blueprint(bp)
