"""The server's log (app.logs): JSON lines carrying the request id, the user, the route, the
status and the duration; the id is the audit trail's and goes back in X-Request-Id."""
from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from app.logs import JsonFormatter, RequestContext, configure_logging, request_log


@pytest.fixture
def json_lines():
    """What the request logger writes, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContext())
    handler.setFormatter(JsonFormatter())
    request_log.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    request_log.removeHandler(handler)


def test_each_request_leaves_one_json_line_with_its_id_user_route_and_status(
        web, world, json_lines, audit_events):
    web.log_in_as("drafter")
    contribution_id = world.contribution().id
    response = web.client.get(f"/contributions/{contribution_id}")
    missing = web.client.get("/contributions/999999")

    lines = json_lines()
    page = next(line for line in lines if line["path"] == f"/contributions/{contribution_id}")
    assert page["request_id"] == response.headers["X-Request-Id"]
    assert page["user_id"] == world.users["drafter"]
    assert page["route"] == "/contributions/<id:contribution_id>"
    assert page["status"] == 200 and page["method"] == "GET"
    assert isinstance(page["duration_ms"], float) and page["duration_ms"] > 0
    assert page["level"] == "INFO" and page["logger"] == "lagesbild.request"
    assert page["time"].endswith("Z")
    assert next(line for line in lines if line["path"] == "/contributions/999999")["status"] \
        == 404 == missing.status_code
    # The login's line carries the id its audit event has.
    (login,) = audit_events("auth.login_succeeded")
    assert any(line["request_id"] == login.request_id and line["path"] == "/login"
               for line in lines)


def test_an_id_sent_by_a_client_without_a_trusted_proxy_is_not_taken(web, json_lines):
    response = web.client.get("/login", headers={"X-Request-Id": "forged-id"})
    assert response.headers["X-Request-Id"] != "forged-id"
    assert json_lines()[-1]["request_id"] == response.headers["X-Request-Id"]


def test_an_exception_is_one_json_line_with_its_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("lagesbild", logging.ERROR, __file__, 1, "failed %s",
                                   ("x",), exc_info=sys.exc_info())
    RequestContext().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed x" and entry["request_id"] is None
    assert "ValueError: boom" in entry["exception"]


def test_configuring_twice_keeps_one_handler():
    configure_logging("json")
    configure_logging("text")
    marked = [h for h in logging.getLogger().handlers if getattr(h, "_lagesbild_handler", False)]
    assert len(marked) == 1
    assert not isinstance(marked[0].formatter, JsonFormatter)


def test_an_identity_number_never_reaches_the_log(web, world, json_lines):
    """A URL (or a library's error) may carry one: message, path and traceback lose it."""
    from app.core.text_rules import luhn_ok

    nine = "850709317"
    number = f"{nine[:6]}-{nine[6:]}" + next(str(d) for d in range(10)
                                            if luhn_ok(nine + str(d)))
    web.client.get(f"/documents/{number}")
    [entry] = [e for e in json_lines() if e.get("status") == 404]
    assert entry["path"] == "/documents/[identity number removed]"
    assert nine[:6] not in json.dumps(entry)
    try:
        raise ValueError(f"bad value {number}")
    except ValueError:
        record = logging.LogRecord("lagesbild", logging.ERROR, __file__, 1, "failed for %s",
                                   (number,), exc_info=sys.exc_info())
    RequestContext().filter(record)
    line = JsonFormatter().format(record)
    assert nine[:6] not in line
    entry = json.loads(line)
    assert entry["message"] == "failed for [identity number removed]"
    assert "ValueError: bad value [identity number removed]" in entry["exception"]
