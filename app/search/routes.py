"""The search page: GET /search?q=...&page=N. A read: no write transaction, no audit event."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from app.core.parsing import whole_number
from app.search.query import MAX_QUERY_CHARS, search

bp = Blueprint("search", __name__, template_folder="templates")


@bp.get("/search")
@login_required
def index():
    query = request.args.get("q", "")
    page = whole_number(request.args.get("page"), 1, 100_000) or 1
    results = search(current_user._get_current_object(), query, page) if query.strip() \
        else None
    return render_template("search/index.html", query=query, results=results,
                           max_chars=MAX_QUERY_CHARS)
