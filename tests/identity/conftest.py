"""The identity tests' app signs in through a real OpenID Connect provider on 127.0.0.1
(app/demo/oidc_provider.py), on the main database (SQLite, or PostgreSQL)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from app.demo.oidc_provider import CLIENT_ID, CLIENT_SECRET, RunningProvider
from tests.conftest import _app_for


@pytest.fixture(scope="session")
def running_provider():
    running = RunningProvider()
    yield running
    running.stop()


@pytest.fixture
def provider(running_provider):
    running_provider.provider.reset()
    return running_provider.provider


def identity_settings(issuer: str) -> dict:
    return {"OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_SCOPES": "openid email profile",
            "OIDC_GROUPS_CLAIM": "groups", "OIDC_PROVIDER_NAME": "Stadens inloggning",
            "OIDC_LINK_BY_EMAIL": False, "LOCAL_PASSWORDS": True,
            "ADMIN_CONTACT": "Stadens servicedesk, servicedesk@example.se"}


@pytest.fixture
def app(request, tmp_path, provider):
    """The root conftest's app, with the provider configured."""
    kind = request.getfixturevalue("main_database")
    yield from _app_for(kind, tmp_path, "world" in request.fixturenames,
                        identity_settings(provider.issuer))


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


class ProviderSignIn:
    """One person's browser going through the provider: the app's redirect, the provider's
    authorize endpoint (over real HTTP), and back to the app's callback."""

    def __init__(self, client):
        self.client = client
        self.callback_url: str | None = None

    def to_provider(self, next: str | None = None) -> str:
        response = self.client.get("/login/oidc" + (f"?next={next}" if next else ""))
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"]

    def at_provider(self, authorize_url: str) -> str:
        answer = requests.get(authorize_url, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        self.callback_url = _local(answer.headers["Location"])
        return self.callback_url

    def back_at_app(self, callback_url: str | None = None):
        return self.client.get(callback_url or self.callback_url)

    def sign_in(self, next: str | None = None):
        return self.back_at_app(self.at_provider(self.to_provider(next)))


@pytest.fixture
def through_provider(client) -> ProviderSignIn:
    return ProviderSignIn(client)
