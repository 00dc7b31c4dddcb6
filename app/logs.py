"""The server's log: one line per record, JSON in production (LAGESBILD_LOG_FORMAT=json) so a
log collector can index it, and one line per request with its id, user, route, status and
duration. The request id is the one in the audit trail and on error pages, and goes back in
the X-Request-Id header, so gunicorn's access log can carry it too."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

from app.core.text_rules import redact_identity_numbers

request_log = logging.getLogger("lagesbild.request")

# The fields a record may carry beyond the message (set through `extra=`).
REQUEST_FIELDS = ("method", "path", "route", "status", "duration_ms")
# An id the reverse proxy sent (nginx: proxy_set_header X-Request-Id $request_id).
_PROXY_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContext(logging.Filter):
    """Puts the request id and the signed-in user's id on every record made in a request, and
    takes any identity number out of its message, path and traceback (a URL or a library's
    error may carry one; the log is kept and shipped)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = redact_identity_numbers(record.getMessage()), None
        except (TypeError, ValueError):  # a malformed record: logging reports it as it is
            pass
        if isinstance(getattr(record, "path", None), str):
            record.path = redact_identity_numbers(record.path)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_identity_numbers(
                logging.Formatter().formatException(record.exc_info))
        record.request_id = getattr(record, "request_id", None) or (
            g.get("request_id") if has_request_context() else None)
        if not hasattr(record, "user_id"):
            record.user_id = _user_id() if has_request_context() else None
        return True


def _user_id() -> int | None:
    # Only a user Flask-Login already loaded: logging must not query the database.
    user = g.get("_login_user")
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        entry.update({name: getattr(record, name) for name in REQUEST_FIELDS
                      if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_HANDLER_MARK = "_lagesbild_handler"


def configure_logging(log_format: str) -> None:
    """One handler on the root logger, to stderr (made once per process: tests build many
    apps; the last format asked for wins)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, _HANDLER_MARK, False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _HANDLER_MARK, True)
        handler.addFilter(RequestContext())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else
                         logging.Formatter(TEXT_FORMAT))
    root.setLevel(logging.INFO)
    # pytransitions logs every state callback at INFO: noise in the server log and the CLI.
    logging.getLogger("transitions").setLevel(logging.WARNING)


def install_request_log(app: Flask) -> None:
    """Every request gets an id (or keeps a trusted proxy's) and leaves one line when done."""
    from app.audit.trail import RequestInfo, _request_info

    trust_proxy_id = bool(app.config.get("TRUSTED_PROXIES"))

    @app.before_request
    def _begin_request():
        g.request_started = time.perf_counter()
        sent = request.headers.get("X-Request-Id", "") if trust_proxy_id else ""
        g.request_id = sent if _PROXY_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex[:16]
        g._audit_token = _request_info.set(RequestInfo(g.request_id, request.remote_addr))

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        if started is not None and request.endpoint != "static":
            # A route whose path carries a secret (a reset link's token) logs this instead.
            path = g.get("log_path", request.path)
            request_log.info("%s %s %s", request.method, path, response.status_code,
                             extra={"method": request.method, "path": path,
                                    "route": request.url_rule.rule if request.url_rule else None,
                                    "status": response.status_code,
                                    "duration_ms": round(1000 * (time.perf_counter() - started),
                                                         1)})
        if g.get("request_id"):
            response.headers["X-Request-Id"] = g.request_id
        return response

    @app.teardown_request
    def _end_request(_exc):
        token = g.pop("_audit_token", None)
        if token is not None:
            try:
                _request_info.reset(token)
            except ValueError:  # torn down in another context: nothing left to undo there
                pass
