"""Sign-in and sign-out pages: Swedish, CSRF-protected, audited, no open redirects."""
from __future__ import annotations

import json
import re

import pytest

from app.extensions import db
from tests.factories import PASSWORD

WRONG_CREDENTIALS = "Fel e-postadress eller lösenord."


def test_login_page_is_swedish_with_labelled_fields(web):
    response = web.client.get("/login")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "<title>Logga in – Lägesbild</title>" in html
    assert "<h1>Logga in</h1>" in html
    assert '<label for="email">E-postadress</label>' in html
    assert '<label for="password">Lösenord</label>' in html
    assert re.search(r'<input id="email" name="email" type="email" autocomplete="username" '
                     r'required', html)
    assert re.search(r'<input id="password" name="password" type="password" '
                     r'autocomplete="current-password" required>', html)
    assert '<button type="submit" class="button">Logga in</button>' in html
    assert "Hoppa till innehållet" in html
    assert "Logga ut" not in html  # nobody is signed in


def test_login_succeeds_redirects_to_start_and_is_audited(web, world, audit_events):
    response = web.log_in("drafter@example.se")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    start = web.client.get("/")
    assert start.status_code == 200
    assert "Välkommen, Drafter." in start.get_data(as_text=True)
    [event] = audit_events("auth.login_succeeded")
    assert event.actor_id == world.users["drafter"]
    assert event.actor_name == "Drafter"
    assert event.actor_organisation == "Norra stadsdelsförvaltningen"
    assert (event.object_type, event.object_id) == ("user", str(world.users["drafter"]))
    assert event.request_id and event.client_address == "127.0.0.1"
    assert audit_events("auth.login_failed") == []


def test_email_is_matched_case_insensitively(web, world):
    assert web.log_in("  Drafter@Example.SE ").status_code == 302
    assert web.is_logged_in()


def test_wrong_password_is_refused_with_401_and_audited(web, world, audit_events):
    response = web.log_in("drafter@example.se", password="wrong password here")

    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert WRONG_CREDENTIALS in html
    assert 'value="drafter@example.se"' in html  # the e-mail is kept for another try
    assert "wrong password here" not in html
    assert not web.is_logged_in()
    [event] = audit_events("auth.login_failed")
    assert event.actor_id == world.users["drafter"]
    assert json.loads(event.data) == {"email": "drafter@example.se", "reason": "wrong password"}
    assert audit_events("auth.login_succeeded") == []


def test_unknown_email_gets_the_same_message(web, world, audit_events):
    response = web.log_in("nobody@example.se")

    assert response.status_code == 401
    assert WRONG_CREDENTIALS in response.get_data(as_text=True)
    [event] = audit_events("auth.login_failed")
    assert event.actor_id is None
    assert json.loads(event.data)["reason"] == "unknown e-mail"


def test_a_password_typed_into_the_email_field_is_not_kept(web, world, audit_events):
    web.log_in("hemligt-losenord", password="x")

    [event] = audit_events("auth.login_failed")
    assert "hemligt-losenord" not in event.data


def test_deactivated_user_cannot_log_in(web, world, audit_events):
    world.user("drafter").active = False
    db.session.commit()

    response = web.log_in("drafter@example.se")

    assert response.status_code == 401
    assert WRONG_CREDENTIALS in response.get_data(as_text=True)
    assert json.loads(audit_events("auth.login_failed")[0].data)["reason"] == \
        "account deactivated"


def test_login_without_csrf_token_is_refused(web, world, audit_events):
    response = web.log_in("drafter@example.se", with_token=False)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "säkerhetskod" in html
    assert '<html lang="sv">' in html
    assert not web.is_logged_in()
    assert audit_events("auth.login_succeeded") == []
    assert audit_events("auth.login_failed") == []  # refused before anyone was checked


def test_login_with_a_forged_csrf_token_is_refused(web, world, other_web):
    foreign_token = other_web.csrf_token()  # valid, but for another session
    web.client.get("/login")
    response = web.client.post("/login", data={"csrf_token": foreign_token,
                                               "email": "drafter@example.se",
                                               "password": PASSWORD})
    assert response.status_code == 400
    assert not web.is_logged_in()


def test_logout_ends_the_session_and_is_audited(web, world, audit_events):
    web.log_in_as("drafter")
    assert web.is_logged_in()

    response = web.log_out()

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "Du är utloggad." in web.client.get("/login").get_data(as_text=True)
    start = web.client.get("/")
    assert start.status_code == 302
    assert start.headers["Location"].startswith("/login")
    [event] = audit_events("auth.logout")
    assert event.actor_id == world.users["drafter"]


def test_logout_without_csrf_token_is_refused(web, world, audit_events):
    web.log_in_as("drafter")

    response = web.log_out(with_token=False)

    assert response.status_code == 400
    assert web.is_logged_in()
    assert audit_events("auth.logout") == []


def test_logout_by_get_is_not_allowed(web, world):
    web.log_in_as("drafter")

    assert web.client.get("/logout").status_code == 405
    assert web.is_logged_in()


def test_sessions_are_per_client(web, other_web, world):
    web.log_in_as("drafter")

    assert web.is_logged_in()
    assert not other_web.is_logged_in()


def test_start_page_requires_login_and_comes_back_after_it(web, world):
    response = web.client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2F"
    login_page = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Logga in för att se sidan." in login_page
    assert '<input type="hidden" name="next" value="/">' in login_page

    after = web.log_in("drafter@example.se", next="/")
    assert after.headers["Location"] == "/"
    assert web.client.get("/").status_code == 200


def test_login_page_redirects_a_signed_in_user(web, world):
    web.log_in_as("drafter")

    response = web.client.get("/login")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_failed_login_keeps_next(web, world):
    response = web.log_in("drafter@example.se", password="wrong password here",
                          next="/?period=1")

    assert '<input type="hidden" name="next" value="/?period=1">' in \
        response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/", "/?period=1", "/lagesbild/1#section-3"])
def test_next_may_name_a_local_path(web, world, target):
    response = web.log_in("drafter@example.se", next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "//evil.example",
    "//evil.example/login",
    "https://evil.example",
    "https://evil.example/",
    "http:evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/x\r\nSet-Cookie: session=stolen",
    "javascript:alert(1)",
    "evil.example",
    "",
])
def test_next_never_leads_to_another_site(web, world, target):
    response = web.log_in("drafter@example.se", next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert web.is_logged_in()
