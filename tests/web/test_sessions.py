"""Sessions end on the server: a cookie copied before logout, a password change or a role change
is worth nothing after it, and every session ends after 30 minutes without a request and 10
hours after sign-in (issue 11's first item)."""
from __future__ import annotations

import time

import pytest

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.models import User
from tests.factories import SETUP


def _steal(web, thief) -> None:
    """The thief's browser gets a copy of the victim's session cookie."""
    cookie = web.client.get_cookie("session")
    assert cookie is not None
    thief.client.set_cookie("session", cookie.value)


def test_a_cookie_copied_before_logout_is_refused_after_it(web, other_web, world):
    web.log_in_as("consolidator")
    _steal(web, other_web)
    assert other_web.is_logged_in()  # the copy works while the session lives
    token = other_web.csrf_token(f"/contributions/{world.contribution().id}")

    web.log_out()

    assert not other_web.is_logged_in()
    contribution = world.contribution()
    response = other_web.client.post(f"/contributions/{contribution.id}/exclude", data={
        "csrf_token": token, "expected_version": contribution.version, "reason": "Stulen."})
    assert response.status_code in (302, 400)  # to the login page, or the form expired
    assert world.contribution().excluded_reason is None


def test_logout_ends_the_users_sessions_on_every_device(web, other_web, world):
    web.log_in_as("drafter")
    other_web.log_in_as("drafter")
    web.log_out()
    assert not other_web.is_logged_in()
    other_web.log_in_as("drafter")  # signing in again works
    assert other_web.is_logged_in()


def test_a_password_change_ends_the_sessions(web, world):
    web.log_in_as("reviewer")
    with operation(SETUP):
        user = world.user("reviewer")
        user.set_password("ett helt nytt lösenord")
    assert not web.is_logged_in()


def test_deactivation_ends_the_sessions_a_copied_cookie_included(web, other_web, world):
    web.log_in_as("drafter")
    _steal(web, other_web)
    with operation(SETUP):
        admin.set_user_active(SETUP, world.user("drafter"), False)
    assert not web.is_logged_in()
    assert not other_web.is_logged_in()
    assert web.log_in("drafter@example.se").status_code == 401  # and no new one begins
    # Reactivated, the old cookie stays dead; signing in again works.
    with operation(SETUP):
        admin.set_user_active(SETUP, world.user("drafter"), True)
    _steal(web, other_web)
    assert not other_web.is_logged_in()
    web.log_in_as("drafter")


def test_a_role_change_ends_the_sessions(web, world):
    web.log_in_as("auditor")
    with operation(SETUP):
        admin.grant_role(SETUP, world.user("auditor"), "approver")
    response = web.client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Din session har avslutats. Logga in igen." in page
    web.log_in_as("auditor")
    assert web.is_logged_in()


@pytest.mark.parametrize(("key", "age"), [
    ("_seen", 30 * 60 + 5),  # idle for more than 30 minutes
    ("_started", 10 * 3600 + 5),  # signed in more than 10 hours ago, though busy since
])
def test_a_session_ends_after_the_timeouts(web, world, key, age):
    web.log_in_as("drafter")
    with web.client.session_transaction() as session:
        session[key] = time.time() - age
    assert not web.is_logged_in()


def test_a_busy_session_lives_on(web, world):
    web.log_in_as("drafter")
    with web.client.session_transaction() as session:
        session["_seen"] = time.time() - 29 * 60
    assert web.is_logged_in()  # and the request renewed it
    with web.client.session_transaction() as session:
        assert time.time() - session["_seen"] < 60


def test_a_session_from_before_generations_is_ended(web, world):
    web.log_in_as("drafter")
    with web.client.session_transaction() as session:
        del session["_generation"]
    assert not web.is_logged_in()


def test_the_timeouts_come_from_the_settings(app, web, world):
    app.config["SESSION_IDLE_SECONDS"] = 60
    try:
        web.log_in_as("drafter")
        with web.client.session_transaction() as session:
            session["_seen"] = time.time() - 61
        assert not web.is_logged_in()
    finally:
        app.config["SESSION_IDLE_SECONDS"] = 30 * 60


def test_the_generation_starts_at_zero_and_only_grows(world):
    user = world.user("approver")
    assert isinstance(user.session_generation, int)
    before = user.session_generation
    user.end_sessions()
    assert user.session_generation == before + 1
    assert User.session_generation.property.columns[0].server_default.arg == "0"
