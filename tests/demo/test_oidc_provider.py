"""The demo's OpenID Connect provider (app/demo/oidc_provider.py): its page to pick who signs
in, the demo data's group mapping, the app configured by `make demo`'s settings, and its
refusal to run in production."""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from app.config import settings_from_environment
from app.demo import oidc_provider
from app.demo.loader import SEED_AREA, SEED_POLICE, load_demo
from app.demo.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_PEOPLE,
    REVIEWER_GROUP,
    RunningProvider,
    demo_environment,
    s256,
)
from app.extensions import db
from app.identity.operations import list_mappings
from app.models import AuditEvent, User
from tests.conftest import _app_for

VERIFIER = "a-verifier-of-at-least-forty-three-characters-long-0123456789"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def demo_provider():
    running = RunningProvider(people=DEMO_PEOPLE)
    yield running.provider
    running.stop()


def _authorize_params(**overrides) -> dict:
    return {"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "openid email profile", "state": "s-1", "nonce": "n-1",
            "code_challenge": s256(VERIFIER), "code_challenge_method": "S256", **overrides}


def test_the_demo_provider_asks_who_signs_in_and_keeps_the_request(demo_provider):
    page = requests.get(f"{demo_provider.issuer}/authorize", params=_authorize_params(),
                        allow_redirects=False, timeout=10)

    assert page.status_code == 200
    assert "Endast för demo och test" in page.text
    for person in DEMO_PEOPLE.values():
        assert person["name"] in page.text
    assert f'name="code_challenge" value="{s256(VERIFIER)}"' in page.text
    assert 'name="state" value="s-1"' in page.text


def test_the_chosen_person_is_in_the_id_token(demo_provider):
    answer = requests.post(f"{demo_provider.issuer}/authorize",
                           data={**_authorize_params(), "person": "noor"},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["s-1"]

    tokens = requests.post(f"{demo_provider.issuer}/token", timeout=10, data={
        "grant_type": "authorization_code", "code": query["code"][0],
        "redirect_uri": REDIRECT, "code_verifier": VERIFIER,
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).json()
    keys = KeySet.import_key_set(requests.get(f"{demo_provider.issuer}/jwks", timeout=10).json())
    claims = jwt.decode(tokens["id_token"], keys).claims
    assert claims["email"] == DEMO_PEOPLE["noor"]["email"]
    assert claims["groups"] == DEMO_PEOPLE["noor"]["groups"]
    assert claims["nonce"] == "n-1" and claims["aud"] == CLIENT_ID


def test_someone_not_in_the_directory_is_refused(demo_provider):
    answer = requests.post(f"{demo_provider.issuer}/authorize",
                           data={**_authorize_params(), "person": "mallory"},
                           allow_redirects=False, timeout=10)

    assert answer.status_code == 400
    assert not demo_provider.codes


def test_it_listens_on_the_loopback_interface_only(demo_provider):
    assert urlsplit(demo_provider.issuer).hostname == "127.0.0.1"


def test_it_refuses_to_run_in_production(monkeypatch, capsys):
    monkeypatch.setenv("LAGESBILD_ENV", "production")

    assert oidc_provider.main(["--port", "0"]) == 2
    assert "never runs with LAGESBILD_ENV=production" in capsys.readouterr().err


def test_make_demos_settings_configure_the_app_for_it(monkeypatch, tmp_path):
    for name, value in demo_environment(5001).items():
        monkeypatch.setenv(name, value)

    settings = settings_from_environment(str(tmp_path))

    assert settings["OIDC_ISSUER"] == "http://127.0.0.1:5001"
    assert (settings["OIDC_CLIENT_ID"], settings["OIDC_CLIENT_SECRET"]) == (CLIENT_ID,
                                                                            CLIENT_SECRET)
    assert settings["OIDC_LINK_BY_EMAIL"] is True
    assert settings["LOCAL_PASSWORDS"] is True  # the demo's passwords still work


@pytest.fixture
def demo_app(request, tmp_path, demo_provider):
    """The demo data, the app configured as `make demo` configures it."""
    kind = request.getfixturevalue("main_database")
    yield from _app_for(kind, tmp_path, False, {
        "OIDC_ISSUER": demo_provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_SCOPES": "openid email profile",
        "OIDC_GROUPS_CLAIM": "groups", "OIDC_PROVIDER_NAME": oidc_provider.DEMO_PROVIDER_NAME,
        "OIDC_LINK_BY_EMAIL": True, "LOCAL_PASSWORDS": True})


def _sign_in_as(client, issuer: str, person: str):
    start = client.get("/login/oidc")
    assert start.status_code == 302
    params = parse_qs(urlsplit(start.headers["Location"]).query)
    chosen = requests.post(f"{issuer}/authorize",
                           data={**{k: v[0] for k, v in params.items()}, "person": person},
                           allow_redirects=False, timeout=10)
    assert chosen.status_code == 302, chosen.text
    parts = urlsplit(chosen.headers["Location"])
    return client.get(f"{parts.path}?{parts.query}")


def test_the_demo_maps_the_reviewer_group_and_a_member_signs_in_as_reviewer(demo_app,
                                                                           demo_provider):
    load_demo(now=datetime(2024, 5, 15, 10, 0, tzinfo=UTC))
    [mapping] = list_mappings()
    assert (mapping.provider_group, mapping.role, mapping.organisation.name,
            mapping.area.name) == (REVIEWER_GROUP, "reviewer", SEED_POLICE, SEED_AREA)

    client = demo_app.test_client()
    assert "Logga in med Stadens demoinloggning" in client.get("/login").get_data(as_text=True)
    answer = _sign_in_as(client, demo_provider.issuer, "noor")

    assert answer.status_code == 302
    db.session.rollback()  # a fresh look: the sign-in was another request's transaction
    noor = db.session.scalar(
        select(User).where(User.email == DEMO_PEOPLE["noor"]["email"]))
    assert noor.organisation.name == SEED_POLICE
    assert [(m.role, m.area.name) for m in noor.memberships] == [("reviewer", SEED_AREA)]


def test_a_demo_person_without_a_mapped_group_is_told_whom_to_ask(demo_app, demo_provider):
    load_demo(now=datetime(2024, 5, 15, 10, 0, tzinfo=UTC))
    client = demo_app.test_client()

    answer = _sign_in_as(client, demo_provider.issuer, "alex")

    assert answer.status_code == 403
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == DEMO_PEOPLE["alex"]["email"])) \
        is None
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last.action == "auth.login_failed"
    assert json.loads(last.data)["reason"] == "no mapped group"


def test_it_runs_make_demos_command_with_its_settings_and_stops_with_it(monkeypatch, capfd):
    monkeypatch.delenv("LAGESBILD_ENV", raising=False)
    monkeypatch.setenv("LAGESBILD_OIDC_LINK_BY_EMAIL", "0")  # what the caller set wins
    show = ("import os; print(os.environ['LAGESBILD_OIDC_ISSUER'], "
            "os.environ['LAGESBILD_OIDC_CLIENT_ID'], os.environ['LAGESBILD_OIDC_LINK_BY_EMAIL'])")

    assert oidc_provider.main(["--port", "0", "--", sys.executable, "-c", show]) == 0

    out, err = capfd.readouterr()
    issuer, client_id, link = out.split()
    assert issuer.startswith("http://127.0.0.1:") and issuer != "http://127.0.0.1:0"
    assert (client_id, link) == (CLIENT_ID, "0")
    assert "NEVER in production" in err and issuer in err
    # Stopped with the command: nothing listens there any more.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{issuer}/.well-known/openid-configuration", timeout=2)


def test_the_commands_failure_is_its_exit_status():
    assert oidc_provider.main(["--port", "0", "--", sys.executable, "-c",
                               "raise SystemExit(3)"]) == 3
