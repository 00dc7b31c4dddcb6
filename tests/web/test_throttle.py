"""Login throttling (app.web.throttle): failed sign-ins per account and per client address, the
lockout's message, and what a flood leaves in the trail. (Several app servers counting in one
Redis: tests/web/test_throttle_servers.py.)"""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent
from tests.factories import PASSWORD, data_of, head_seq

LOCKED_OUT = re.compile(r"För många misslyckade inloggningar\. Försök igen om (\d+) minuter? "
                        r"\(kl\. (\d\d:\d\d)\)\.")


@pytest.fixture
def limits(app):
    """Small limits, so a test reaches them in a few requests."""
    def set_limits(per_account: str = "3 per 15 minutes", per_address: str = "20 per 15 minutes"):
        app.config["LOGIN_LIMIT_PER_ACCOUNT"] = per_account
        app.config["LOGIN_LIMIT_PER_ADDRESS"] = per_address
    set_limits()
    return set_limits


def attempt(web, email: str, password: str = "wrong password", address: str = "127.0.0.1"):
    return web.client.post("/login", data={"csrf_token": web.csrf_token(), "email": email,
                                           "password": password},
                           environ_base={"REMOTE_ADDR": address})


def actions_since(seq: int) -> list[str]:
    db.session.rollback()  # end the test's read transaction: see what requests committed
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)))


def event_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_past_the_limit_even_the_right_password_waits_and_the_page_says_until_when(
        web, world, limits):
    seq = head_seq()
    for _ in range(3):
        assert attempt(web, "drafter@example.se").status_code == 401
    refused = attempt(web, "drafter@example.se", PASSWORD)

    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    minutes, _clock = LOCKED_OUT.search(page).groups()
    assert int(minutes) == 15
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert 'value="drafter@example.se"' in page  # the address stays typed
    assert not web.is_logged_in()
    # The three failures are in the trail, the refusal once, and no sign-in.
    assert actions_since(seq) == ["auth.login_failed"] * 3 + ["auth.login_throttled"]
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.login_throttled")).one()
    assert data_of(event)["limit"] == "account"
    assert data_of(event)["email"] == "drafter@example.se"


def test_the_lockout_reads_the_same_for_an_account_that_does_not_exist(web, world, limits):
    pages = {}
    for email in ("drafter@example.se", "nobody.here@example.se"):
        for _ in range(3):
            attempt(web, email)
        refused = attempt(web, email)
        assert refused.status_code == 429
        page = refused.get_data(as_text=True).replace(email, "EMAIL")
        pages[email] = re.sub(r'name="csrf_token" value="[^"]+"', "", page)
    known, unknown = pages.values()
    assert LOCKED_OUT.search(known).group(0) == LOCKED_OUT.search(unknown).group(0)
    assert known == unknown


def test_other_accounts_are_not_locked_out_by_one_accounts_guesser(web, world, limits):
    for _ in range(4):
        attempt(web, "drafter@example.se")
    assert web.log_in("reviewer@example.se").status_code == 302


def test_right_passwords_never_count(web, world, limits):
    for _ in range(5):
        assert web.log_in("drafter@example.se").status_code == 302
        web.log_out()
    assert attempt(web, "drafter@example.se").status_code == 401


def test_the_same_account_counts_however_its_address_is_typed(web, world, limits):
    for typed in ("drafter@example.se", " Drafter@Example.SE", "DRAFTER@example.se "):
        assert attempt(web, typed).status_code == 401
    assert attempt(web, "drafter@example.se", PASSWORD).status_code == 429


def test_after_the_window_the_account_may_try_again(web, world, limits):
    limits(per_account="2 per 1 second")
    for _ in range(2):
        attempt(web, "drafter@example.se")
    assert attempt(web, "drafter@example.se", PASSWORD).status_code == 429
    time.sleep(1.2)
    assert attempt(web, "drafter@example.se", PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_throttled_and_others_are_not(
        web, world, limits):
    limits(per_address="5 per 15 minutes")
    seq = head_seq()
    for number in range(5):
        assert attempt(web, f"guess{number}@example.se", address="198.51.100.9").status_code == 401
    refused = attempt(web, "drafter@example.se", PASSWORD, address="198.51.100.9")
    assert refused.status_code == 429
    assert LOCKED_OUT.search(refused.get_data(as_text=True))
    assert attempt(web, "drafter@example.se", PASSWORD, address="198.51.100.10").status_code == 302
    db.session.rollback()
    throttled = db.session.scalars(select(AuditEvent).where(
        AuditEvent.seq > seq, AuditEvent.action == "auth.login_throttled")).one()
    assert data_of(throttled)["limit"] == "address"
    assert throttled.client_address == "198.51.100.9"


def test_a_flood_of_a_thousand_guesses_leaves_a_bounded_trail(web, world):
    """With the default limits (10 per account, 50 per address in 15 minutes)."""
    before, seq = event_count(), head_seq()
    token = web.csrf_token()
    statuses = []
    for number in range(1000):
        email = "drafter@example.se" if number % 2 else f"guess{number}@example.se"
        response = web.client.post("/login", data={"csrf_token": token, "email": email,
                                                   "password": f"guess {number}"})
        statuses.append(response.status_code)
    added = event_count() - before
    # 10 guesses at the account, 40 more at others, then one event per breached limit.
    assert statuses.count(401) == 50
    assert statuses.count(429) == 950
    assert added == 50 + 2
    assert actions_since(seq).count("auth.login_throttled") == 2
