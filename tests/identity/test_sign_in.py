"""Sign-in through a real OpenID Connect provider on 127.0.0.1: the good path, every token and
state fault refused with a generic page and its reason in the trail, memberships that follow
the groups, and the people who must not get in."""
from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.core.unit_of_work import operation
from app.extensions import db
from app.identity import operations as identity
from app.models import Membership, User
from tests.factories import SETUP

GENERIC = "Inloggningen via identitetsleverantören lyckades inte."
DRAFTERS_NORR = "g-drafters-norr"
NORR_OFFICE = "Norra stadsdelsförvaltningen"


def _map(group: str, role: str, organisation: str, area: str | None = None) -> int:
    with operation(SETUP):
        return identity.add_mapping(SETUP, group=group, role=role,
                                    organisation_name=organisation, area_name=area).id


def _oidc_user() -> User | None:
    db.session.rollback()
    return db.session.scalar(select(User).where(User.oidc_subject == "person-1"))


def _data(event) -> dict:
    return json.loads(event.data)


@pytest.fixture
def drafters_norr(world):
    return _map(DRAFTERS_NORR, "drafter", NORR_OFFICE, "Norr")


def test_login_page_offers_the_provider_and_passwords(web):
    html = web.client.get("/login").get_data(as_text=True)
    assert '<a class="button" href="/login/oidc">Logga in med Stadens inloggning</a>' in html
    assert '<label for="password">Lösenord</label>' in html


def test_good_sign_in_makes_the_account_with_the_mapped_role(
        provider, drafters_norr, through_provider, web, audit_events):
    provider.person["groups"] = [DRAFTERS_NORR, "some-other-group"]

    authorize_url = through_provider.to_provider(next="/audit/")
    query = parse_qs(urlsplit(authorize_url).query)
    assert authorize_url.startswith(provider.issuer + "/authorize?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["nonce"][0] and query["state"][0]
    assert query["scope"] == ["openid email profile"]
    response = through_provider.back_at_app(through_provider.at_provider(authorize_url))

    assert response.status_code == 302
    assert response.headers["Location"] == "/audit/"
    assert provider.token_requests[0]["code_verifier"]  # PKCE: the verifier was sent
    start = web.client.get("/")
    assert start.status_code == 200
    assert "Välkommen, Anna Berg." in start.get_data(as_text=True)
    user = _oidc_user()
    assert (user.email, user.name, user.organisation.name) == (
        "anna.berg@example.se", "Anna Berg", NORR_OFFICE)
    assert user.oidc_issuer == provider.issuer
    assert [(m.role, m.area.name, m.source) for m in user.memberships] == [
        ("drafter", "Norr", "group")]
    assert not user.check_password("")  # no usable local password
    [created] = [e for e in audit_events("user.create") if _data(e).get("source") == "oidc"]
    assert _data(created)["source"] == "oidc" and created.actor_id is None
    assert created.actor_name == f"identity provider ({provider.issuer})"
    [granted] = audit_events("membership.create")[-1:]
    assert _data(granted) == {"role": "drafter", "area": "Norr", "group": DRAFTERS_NORR,
                              "source": "group"}
    [succeeded] = audit_events("auth.login_succeeded")
    assert succeeded.actor_id == user.id
    assert _data(succeeded) == {"method": "oidc", "issuer": provider.issuer}


def _assert_refused(response, web, audit_events, reason: str) -> None:
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert GENERIC in html
    assert reason not in html  # the detail is for the trail only
    assert not web.is_logged_in()
    [event] = audit_events("auth.login_failed")[-1:]
    assert event.actor_id is None
    assert _data(event)["method"] == "oidc"
    assert _data(event)["reason"] == reason
    assert audit_events("auth.login_succeeded") == []


@pytest.mark.parametrize(("tweak", "reason"), [
    ({"aud": "another-client"}, "ID token claim 'aud' invalid or missing"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "ID token expired"),
    ({"iss": "http://127.0.0.1:1/another-issuer"}, "ID token claim 'iss' invalid or missing"),
    ({"nonce": "not-the-nonce-we-sent"}, "ID token claim 'nonce' invalid or missing"),
    ({"nonce": None}, "ID token claim 'nonce' invalid or missing"),
], ids=["wrong-audience", "expired", "wrong-issuer", "nonce-mismatch", "nonce-missing"])
def test_a_token_fault_is_refused_with_its_reason_in_the_trail(
        provider, drafters_norr, through_provider, web, audit_events, tweak, reason):
    provider.person["groups"] = [DRAFTERS_NORR]
    provider.tweaks = tweak

    _assert_refused(through_provider.sign_in(), web, audit_events, reason)
    assert _oidc_user() is None  # nothing was made of a token that does not hold


def test_a_bad_signature_is_refused(provider, drafters_norr, through_provider, web,
                                    audit_events):
    provider.person["groups"] = [DRAFTERS_NORR]
    provider.sign_with_other_key = True

    _assert_refused(through_provider.sign_in(), web, audit_events,
                    "ID token signature does not verify")
    assert _oidc_user() is None


def test_a_replayed_state_is_refused(provider, drafters_norr, through_provider, web,
                                     other_web, audit_events):
    provider.person["groups"] = [DRAFTERS_NORR]
    assert through_provider.sign_in().status_code == 302
    callback = through_provider.callback_url

    # The same browser again (its state was used), and another browser (it never had it).
    again = web.client.get(callback)
    elsewhere = other_web.client.get(callback)

    for response in (again, elsewhere):
        assert response.status_code == 401
        assert GENERIC in response.get_data(as_text=True)
    reasons = [_data(e)["reason"] for e in audit_events("auth.login_failed")]
    assert reasons == ["state missing, unknown or already used"] * 2
    assert len(audit_events("auth.login_succeeded")) == 1
    assert not other_web.is_logged_in()


def test_a_callback_without_state_or_code_is_refused(provider, drafters_norr, web,
                                                     audit_events):
    for query in ("", "?code=abc", "?state=xyz", "?error=access_denied&state=xyz"):
        response = web.client.get("/login/oidc/callback" + query)
        assert response.status_code == 401, query
    assert len(audit_events("auth.login_failed")) == 4


def test_the_provider_refuses_a_token_request_without_the_pkce_verifier(
        provider, drafters_norr, through_provider, client, web, audit_events):
    provider.person["groups"] = [DRAFTERS_NORR]
    callback = through_provider.at_provider(through_provider.to_provider())
    with client.session_transaction() as session:
        [key] = [k for k in session if k.startswith("_state_")]
        state = session[key]
        del state["data"]["code_verifier"]
        session[key] = state

    response = through_provider.back_at_app(callback)

    assert "code_verifier" not in provider.token_requests[-1]
    _assert_refused(response, web, audit_events, "provider refused: invalid_grant")


def test_a_group_removed_at_the_provider_removes_the_role_at_next_sign_in(
        provider, drafters_norr, through_provider, web, audit_events):
    _map("g-auditors", "auditor", NORR_OFFICE)
    provider.person["groups"] = [DRAFTERS_NORR, "g-auditors"]
    assert through_provider.sign_in().status_code == 302
    user = _oidc_user()
    assert sorted((m.role, m.source) for m in user.memberships) == [
        ("auditor", "group"), ("drafter", "group")]
    web.log_out()

    provider.person["groups"] = ["g-auditors"]
    assert through_provider.sign_in().status_code == 302

    user = _oidc_user()
    assert [(m.role, m.area, m.source) for m in user.memberships] == [
        ("auditor", None, "group")]
    [removed] = audit_events("membership.delete")
    assert removed.object_id == str(user.id)
    assert _data(removed) == {"role": "drafter", "area": "Norr", "source": "group"}
    assert removed.actor_name == f"identity provider ({provider.issuer})"
    html = web.client.get("/").get_data(as_text=True)
    assert "(Revisor)" in html and "Skribent" not in html


def test_a_role_granted_by_hand_is_left_alone_by_the_groups(
        provider, drafters_norr, through_provider, web, audit_events):
    provider.person["groups"] = [DRAFTERS_NORR]
    assert through_provider.sign_in().status_code == 302
    from app.admin import operations as admin
    with operation(SETUP):
        admin.grant_role(SETUP, _oidc_user(), "auditor")
    provider.person["groups"] = []

    assert through_provider.sign_in().status_code == 302  # she still has a role

    assert [(m.role, m.source) for m in _oidc_user().memberships] == [("auditor", "manual")]
    assert [_data(e)["role"] for e in audit_events("membership.delete")] == ["drafter"]


def test_a_removed_mapping_takes_the_role_at_next_sign_in(
        provider, drafters_norr, through_provider, web, audit_events):
    provider.person["groups"] = [DRAFTERS_NORR]
    assert through_provider.sign_in().status_code == 302
    web.log_out()
    with operation(SETUP):
        identity.remove_mapping(SETUP, drafters_norr)

    response = through_provider.sign_in()

    assert response.status_code == 403  # no role left: the no-access page
    assert "Stadens servicedesk, servicedesk@example.se" in response.get_data(as_text=True)
    assert not web.is_logged_in()
    assert _oidc_user().memberships == []
    assert len(audit_events("membership.delete")) == 1


def test_an_unknown_person_with_no_mapped_group_gets_the_page_and_no_account(
        provider, drafters_norr, through_provider, web, audit_events):
    provider.person.update(sub="stranger", email="stranger@example.se",
                           groups=["g-canteen"])

    response = through_provider.sign_in()

    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "<h1>Ingen behörighet än</h1>" in html
    assert "Be om behörighet: Stadens servicedesk, servicedesk@example.se." in html
    assert not web.is_logged_in()
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.email == "stranger@example.se")) is None
    [event] = audit_events("auth.login_failed")
    assert _data(event)["reason"] == "no mapped group"
    assert _data(event)["groups"] == ["g-canteen"]
    assert all(_data(e).get("source") != "oidc" for e in audit_events("user.create"))


def test_a_deactivated_user_is_refused(provider, drafters_norr, through_provider, web,
                                       audit_events):
    provider.person["groups"] = [DRAFTERS_NORR]
    assert through_provider.sign_in().status_code == 302
    from app.admin import operations as admin
    with operation(SETUP):
        admin.set_user_active(SETUP, _oidc_user(), False)
    assert not web.is_logged_in()  # her session ended at once

    response = through_provider.sign_in()

    assert response.status_code == 401
    assert GENERIC in response.get_data(as_text=True)
    assert not web.is_logged_in()
    [event] = audit_events("auth.login_failed")
    assert _data(event)["reason"] == "account deactivated"
    assert event.actor_id == _oidc_user().id
    assert len(audit_events("auth.login_succeeded")) == 1


def test_an_existing_local_account_is_not_taken_over_by_its_e_mail(
        provider, drafters_norr, through_provider, web, world, audit_events):
    provider.person.update(email="drafter@example.se", groups=[DRAFTERS_NORR])

    response = through_provider.sign_in()

    assert response.status_code == 401
    assert not web.is_logged_in()
    [event] = audit_events("auth.login_failed")
    assert _data(event)["reason"] == ("e-mail belongs to an account not linked to this "
                                      "identity")
    assert world.user("drafter").oidc_subject is None


def test_linking_by_verified_e_mail_when_the_installation_allows_it(
        app, provider, drafters_norr, through_provider, web, world, audit_events):
    app.config["OIDC_LINK_BY_EMAIL"] = True
    provider.person.update(email="drafter@example.se", email_verified=False,
                           groups=[DRAFTERS_NORR])
    assert through_provider.sign_in().status_code == 401  # not verified: refused

    provider.person["email_verified"] = True
    assert through_provider.sign_in().status_code == 302

    db.session.rollback()
    drafter = world.user("drafter")
    assert (drafter.oidc_issuer, drafter.oidc_subject) == (provider.issuer, "person-1")
    assert len(audit_events("user.link_identity")) == 1
    # Her manual drafter role in Norr stays manual: the mapping gives the same.
    assert [(m.role, m.source) for m in drafter.memberships] == [("drafter", "manual")]


def test_local_passwords_off_hides_the_form_and_refuses_the_post(app, web, world,
                                                                  audit_events):
    app.config["LOCAL_PASSWORDS"] = False

    html = web.client.get("/login").get_data(as_text=True)
    assert "Logga in med Stadens inloggning" in html
    assert 'name="password"' not in html
    token = web.csrf_token("/login")  # the language form carries one
    response = web.client.post("/login", data={"email": "drafter@example.se",
                                               "password": "correct horse battery",
                                               "csrf_token": token})

    assert response.status_code == 403
    assert "Inloggning med lösenord är avstängd här." in response.get_data(as_text=True)
    assert not web.is_logged_in()
    [event] = audit_events("auth.login_failed")
    assert _data(event)["reason"] == "local passwords are switched off"
    assert audit_events("auth.login_succeeded") == []


def test_logout_offers_the_providers_logout(provider, drafters_norr, through_provider, web,
                                            audit_events):
    provider.person["groups"] = [DRAFTERS_NORR]
    assert through_provider.sign_in().status_code == 302

    response = web.log_out()

    assert response.status_code == 302 and response.headers["Location"] == "/logged-out"
    page = web.client.get("/logged-out")
    html = page.get_data(as_text=True)
    assert "Logga ut från Stadens inloggning också" in html
    assert f'href="{provider.issuer}/logout?' in html and "id_token_hint=" in html
    assert "post_logout_redirect_uri=http%3A%2F%2Flocalhost%2Flogin" in html
    assert not web.is_logged_in()
    assert len(audit_events("auth.logout")) == 1


def test_logout_without_an_end_session_endpoint_goes_to_the_login(
        provider, drafters_norr, through_provider, web):
    provider.end_session = False
    provider.person["groups"] = [DRAFTERS_NORR]
    assert through_provider.sign_in().status_code == 302
    web.log_out()
    assert web.client.get("/logged-out").headers["Location"] == "/login"


def test_an_unreachable_provider_is_a_refusal_not_a_500(app, web, audit_events):
    app.extensions["lagesbild_identity"].server_metadata = {}
    app.config["OIDC_ISSUER"] = "http://127.0.0.1:9/"
    app.extensions["lagesbild_identity"]._server_metadata_url = \
        "http://127.0.0.1:9/.well-known/openid-configuration"

    response = web.client.get("/login/oidc")

    assert response.status_code == 401
    assert _data(audit_events("auth.login_failed")[0])["reason"] == \
        "discovery failed: ConnectionError"


def test_memberships_from_groups_are_marked_and_manual_ones_default(world):
    memberships = db.session.scalars(select(Membership)).all()
    assert memberships and {m.source for m in memberships} == {"manual"}


def test_a_token_too_large_for_the_cookie_is_not_kept_but_logout_is_offered(
        provider, drafters_norr, through_provider, web):
    # Entra ID sends up to 200 groups: the session cookie (4 KB at most) must still work.
    provider.person["groups"] = [DRAFTERS_NORR, *(f"group-{n:04d}-{'x' * 30}" for n in range(150))]
    assert through_provider.sign_in().status_code == 302
    assert web.is_logged_in()

    web.log_out()

    html = web.client.get("/logged-out").get_data(as_text=True)
    assert f'href="{provider.issuer}/logout?' in html and "client_id=lagesbild-demo" in html
    assert "id_token_hint" not in html


def test_forged_callbacks_are_throttled_per_address_with_one_event_per_window(
        app, provider, web, audit_events):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"

    statuses = [web.client.get(f"/login/oidc/callback?code=c{n}&state=s{n}").status_code
                for n in range(8)]

    assert statuses == [401, 401, 401, 429, 429, 429, 429, 429]
    assert len(audit_events("auth.login_failed")) == 3
    [throttled] = audit_events("auth.login_throttled")
    assert _data(throttled)["limit"] == "address"
    assert web.client.get("/login/oidc/callback", environ_base={
        "REMOTE_ADDR": "127.0.0.2"}).status_code == 401  # another address is not held up
