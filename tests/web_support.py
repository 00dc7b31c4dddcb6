"""Web tests: a test client whose requests behave as in production, and sign-in helpers.

Every client runs each request in its own application context (tests/conftest.py's
IsolatedClient), as under a real server.
"""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent
from tests.factories import PASSWORD


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}

    def handle_starttag(self, tag, attrs):
        if tag == "input":
            attributes = dict(attrs)
            if attributes.get("name"):
                self.values.setdefault(attributes["name"], []).append(
                    attributes.get("value") or "")


def input_values(html: str) -> dict[str, list[str]]:
    parser = _Inputs()
    parser.feed(html)
    return parser.values


class WebSession:
    """One person at one browser: a client with its own cookies."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def csrf_token(self, path: str = "/login") -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        tokens = set(input_values(response.get_data(as_text=True)).get("csrf_token", []))
        assert len(tokens) == 1, f"expected one CSRF token on {path}, found {tokens}"
        return tokens.pop()

    def log_in(self, email: str, password: str = PASSWORD, next: str | None = None,
               with_token: bool = True):
        data = {"email": email, "password": password}
        if next is not None:
            data["next"] = next
        if with_token:
            data["csrf_token"] = self.csrf_token()
        return self.client.post("/login", data=data)

    def log_in_as(self, key: str, **kwargs):
        """A user of tests.factories' world, by key ("drafter", "reviewer", ...)."""
        response = self.log_in(f"{key}@example.se", **kwargs)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    def log_out(self, with_token: bool = True):
        data = {"csrf_token": self.csrf_token("/")} if with_token else {}
        return self.client.post("/logout", data=data)

    def is_logged_in(self) -> bool:
        response = self.client.get("/")
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/login")
            return False
        assert response.status_code == 200
        return True


@pytest.fixture
def web(client) -> WebSession:
    return WebSession(client)


@pytest.fixture
def other_web(app) -> WebSession:
    """A second person, with cookies of their own."""
    return WebSession(app.test_client())


@pytest.fixture
def audit_events():
    """The audit events with this action, as committed by the requests so far."""

    def events(action: str) -> list[AuditEvent]:
        db.session.rollback()  # end the test's read transaction: see what requests committed
        return list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))

    return events


def shown_after_redirect(web: WebSession, response) -> str:
    """A failed form's page: the POST redirects (303) to the page's own address, and the GET
    there shows the form again. Returns that page."""
    assert response.status_code == 303, response.status_code
    location = response.headers["Location"]
    assert "/transition/" not in location and "/exclusion" not in location, location
    shown = web.client.get(location)
    assert shown.status_code == 200, (location, shown.status_code)
    return shown.get_data(as_text=True)


def field_error(html: str, field_id: str) -> str:
    """The message of the field `field_id` as its aria-describedby points to it; the field must
    be marked aria-invalid. Fails if the field is not in error."""
    import re
    from html import unescape

    tag = re.search(rf'<(?:textarea|input|select)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', html)
    assert tag, f"no field {field_id}"
    assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described, tag.group(0)
    messages = []
    for element_id in described.group(1).split():
        element = re.search(rf'<(\w+)\b[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>',
                            html, re.S)
        assert element, f"aria-describedby names {element_id}, which is not on the page"
        messages.append(unescape(re.sub(r"<[^>]+>", "", element.group(2))).strip())
    return " ".join(messages)


def invalid_fields(html: str) -> list[str]:
    """The ids of the fields marked aria-invalid."""
    import re

    return re.findall(r'<(?:textarea|input|select)\b[^>]*\bid="([^"]+)"[^>]*aria-invalid="true"',
                      html)
