"""Service tests for app.web.auth: sign-in and sign-out and their audit events."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.verify import verify_chain
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent
from app.web import auth
from tests.factories import PASSWORD, SETUP, data_of, events_since, head_seq


def sign_in(email, password):
    """As the login view does: one operation, committed whatever the outcome."""
    with operation(None):
        user = auth.authenticate(email, password)
        return None if user is None else user.id


@pytest.mark.parametrize("email", ["drafter@example.se", "  Drafter@Example.SE  "])
def test_successful_sign_in_is_logged(world, email):
    seq = head_seq()
    user_id = sign_in(email, PASSWORD)

    assert user_id == world.users["drafter"]
    [event] = events_since(seq)
    assert event.action == "auth.login_succeeded"
    assert event.actor_id == user_id
    assert (event.object_type, event.object_id) == ("user", str(user_id))
    assert event.actor_organisation == "Norra stadsdelsförvaltningen"
    assert PASSWORD not in event.data
    assert verify_chain().ok


@pytest.mark.parametrize(("email", "password", "reason", "known"), [
    ("drafter@example.se", "fel lösenord", "wrong password", True),
    ("drafter@example.se", "", "wrong password", True),
    ("drafter@example.se", None, "wrong password", True),
    ("ingen@example.se", PASSWORD, "unknown e-mail", False),
    ("", PASSWORD, "unknown e-mail", False),
    (None, None, "unknown e-mail", False),
])
def test_failed_sign_in_is_logged(world, email, password, reason, known):
    seq = head_seq()
    assert sign_in(email, password) is None

    [event] = events_since(seq)
    assert event.action == "auth.login_failed"
    data = data_of(event)
    assert data["reason"] == reason
    assert event.object_type == "user"
    if known:
        assert event.actor_id == world.users["drafter"]
        assert event.object_id == str(world.users["drafter"])
        assert data["email"] == "drafter@example.se"
    else:
        assert (event.actor_id, event.object_id) == (None, None)
    if password:
        assert password not in event.data
    assert verify_chain().ok


def test_unknown_but_well_formed_email_is_kept_for_the_security_log(world):
    seq = head_seq()
    sign_in("Ingen.Alls@Example.se", PASSWORD)
    [event] = events_since(seq)
    assert data_of(event)["email"] == "ingen.alls@example.se"


def test_deactivated_user_is_refused_even_with_the_right_password(world):
    with operation(SETUP):
        world.user("reviewer").active = False
    seq = head_seq()

    assert sign_in("reviewer@example.se", PASSWORD) is None

    [event] = events_since(seq)
    assert event.action == "auth.login_failed"
    assert data_of(event)["reason"] == "account deactivated"
    assert event.actor_id == world.users["reviewer"]


def test_deactivated_user_with_a_wrong_password_is_told_nothing_more(world):
    with operation(SETUP):
        world.user("reviewer").active = False
    seq = head_seq()
    assert sign_in("reviewer@example.se", "fel lösenord") is None
    [event] = events_since(seq)
    assert data_of(event)["reason"] == "wrong password"


@pytest.mark.parametrize("typed", [
    pytest.param("Sommar2030!hemligt", id="password-like"),
    pytest.param("hemligt@lösen", id="at-sign-but-no-domain-dot"),
    pytest.param("x" * 90 + "@example.se", id="too-long-to-be-an-address"),
    pytest.param("Lösen ord med mellanslag", id="with-spaces"),
])
def test_a_password_typed_into_the_email_field_is_not_logged(world, typed):
    seq = head_seq()
    assert sign_in(typed, "whatever") is None

    [event] = events_since(seq)
    assert event.action == "auth.login_failed"
    data = data_of(event)
    assert data == {"email": "(not an e-mail address)", "reason": "unknown e-mail"}
    for row in db.session.scalars(select(AuditEvent.data)):
        assert typed.lower() not in row.lower()
        assert typed.strip().lower()[:12] not in row.lower()


def test_sign_out_is_logged_and_ends_every_session(world):
    seq = head_seq()
    user = world.user("auditor")
    generation = user.session_generation
    with operation(user):
        auth.log_out(user)
    assert world.user("auditor").session_generation == generation + 1
    [event] = events_since(seq)
    assert event.action == "auth.logout"
    assert event.actor_id == world.users["auditor"]
    assert (event.object_type, event.object_id) == ("user", str(world.users["auditor"]))


def test_repeated_failures_each_leave_an_event_and_the_chain_holds(world):
    seq = head_seq()
    for attempt in range(3):
        assert sign_in("approver@example.se", f"gissning {attempt}") is None
    assert sign_in("approver@example.se", PASSWORD) == world.users["approver"]
    assert [e.action for e in events_since(seq)] == ["auth.login_failed"] * 3 + [
        "auth.login_succeeded"]
    assert verify_chain().ok


def test_an_identity_number_typed_as_the_e_mail_address_is_not_kept(world):
    from app.core.text_rules import luhn_ok

    nine = "850709317"
    ten = nine + next(str(d) for d in range(10) if luhn_ok(nine + str(d)))
    seq = head_seq()
    sign_in(f"19{ten[:6]}-{ten[6:]}@example.se", PASSWORD)
    [event] = events_since(seq)
    assert event.action == "auth.login_failed"
    assert data_of(event)["email"] == "(not an e-mail address)"
    assert ten[:6] not in event.canonical
