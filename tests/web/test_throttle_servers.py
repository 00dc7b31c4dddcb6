"""Several app servers count failed sign-ins together in one shared store: two gunicorn
servers (two workers each) on one database and the Redis server on 127.0.0.1:6379. With the
default memory store each process counts alone, which the last test shows."""
from __future__ import annotations

import os
import random
import re
import socket
import urllib.parse
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.web.servers import SECRET, database_url, environment, get, migrate, post, running_server

__all__ = ["database_url"]  # a fixture

REDIS = ("127.0.0.1", 6379)
LIMIT = 4


def _require_redis() -> None:
    try:
        socket.create_connection(REDIS, timeout=3).close()
    except OSError as error:
        message = (f"Redis is not reachable at {REDIS[0]}:{REDIS[1]} ({error}); CI sets "
                   "LAGESBILD_REQUIRE_REDIS=1 and fails here.")
        if os.environ.get("LAGESBILD_REQUIRE_REDIS") == "1":
            pytest.fail(message)
        pytest.skip(message)


def _servers(database_url: str, folder, store: str, workers: int):
    env = environment(database_url, LAGESBILD_SECRET_KEY=SECRET, LAGESBILD_HTTPS="0",
                      LAGESBILD_TRUSTED_PROXIES="1", LAGESBILD_RATELIMIT_STORAGE_URL=store,
                      LAGESBILD_LOGIN_LIMIT_PER_ACCOUNT=f"{LIMIT} per 15 minutes")
    migrate(env)
    return running_server(env, folder, workers), running_server(env, folder, workers)


def _attempt(base: str, email: str, client_address: str) -> int:
    forwarded = {"X-Forwarded-For": client_address}
    _status, headers, page = get(f"{base}/login", headers=forwarded)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": "a wrong guess"}).encode()
    cookie = headers["Set-Cookie"].split(";")[0]
    status, _headers, _body = post(f"{base}/login", form, {**forwarded, "Cookie": cookie})
    return status


def _unique_client():
    """A new account name and client address each run: the shared store outlives the test
    (its counters expire with the window), and CI runs the suite twice against it."""
    address = "10.{}.{}.{}".format(*random.sample(range(1, 255), 3))
    return f"guesser-{uuid.uuid4().hex[:12]}@example.se", address


def _actions(database_url: str, email: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        actions = list(connection.scalars(text(
            "SELECT action FROM audit_events WHERE action LIKE 'auth.login_%' "
            "AND data LIKE :email ORDER BY seq"), {"email": f"%{email}%"}))
    engine.dispose()
    return actions


def test_two_servers_sharing_redis_count_one_accounts_failures_together(
        database_url, tmp_path):
    _require_redis()
    email, address = _unique_client()
    first, second = _servers(database_url, tmp_path, "redis://127.0.0.1:6379/0", workers=2)
    with first as one, second as two:
        statuses = [_attempt(base, email, address) for base in (one, two) * LIMIT]
    assert statuses == [401] * LIMIT + [429] * LIMIT
    # Every failure is in the trail; the refusals, on both servers, once.
    assert _actions(database_url, email) == ["auth.login_failed"] * LIMIT + [
        "auth.login_throttled"]


def test_with_the_memory_store_each_process_counts_alone(database_url, tmp_path):
    email, address = _unique_client()
    first, second = _servers(database_url, tmp_path, "memory://", workers=1)
    with first as one, second as two:
        statuses = [_attempt(base, email, address) for base in (one, two) * LIMIT]
    # Two processes, each under the limit of four: neither refuses yet.
    assert statuses == [401] * (2 * LIMIT)
