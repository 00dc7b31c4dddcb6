"""Every response says what the browser may load and run, forbids framing and sniffing, keeps
the referrer on this site, and pages behind login are never cached; HSTS once on HTTPS."""
from __future__ import annotations

import pytest

from app.web.headers import CONTENT_SECURITY_POLICY


def _directives(policy: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in policy.split("; ")}


def test_the_policy_allows_no_inline_script_and_no_framing():
    directives = _directives(CONTENT_SECURITY_POLICY)
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] + directives["default-src"]


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/style.css", "/no-such-page"])
def test_every_response_carries_the_headers(web, path):
    response = web.client.get(path)
    response.close()  # a static file is streamed from an open file
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # not configured for HTTPS


def test_pages_behind_login_are_not_cached_and_the_login_page_may_be(web, world):
    assert "no-store" not in web.client.get("/login").headers.get("Cache-Control", "")
    web.log_in_as("drafter")
    for path in ("/", f"/contributions/{world.contribution().id}"):
        response = web.client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"


def test_hsts_once_the_app_is_configured_for_https(app, web):
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        response = web.client.get("/login", base_url="https://localhost")
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
