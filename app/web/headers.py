"""The headers every response carries: what the browser may load and run (no inline script,
no framing), no content sniffing, no referrer to other sites, HTTPS only once configured for
it, and nothing a signed-in page showed kept in a cache."""
from __future__ import annotations

from flask import Flask, Response, session

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    # Attributes only (the progress bars' style="width: N%"); never a <style> element.
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HSTS = "max-age=31536000"


def security_headers(response: Response, https: bool) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # for browsers without frame-ancestors
    headers.setdefault("Referrer-Policy", "same-origin")
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if "_user_id" in session:
        # A shared computer's back button or cache must not show what someone else read.
        # (Read from the session, not current_user: a static file need not load the user.)
        headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        return security_headers(response, bool(app.config.get("SESSION_COOKIE_SECURE")))
