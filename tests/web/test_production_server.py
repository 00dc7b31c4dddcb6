"""The production server as a city runs it: gunicorn with several workers, configured from the
environment (LAGESBILD_...), behind one reverse proxy. Started for real on 127.0.0.1, on the
database the suite runs on (tests/web/servers.py)."""
from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse

import pytest
from sqlalchemy import create_engine, text

from tests.web.servers import (
    SECRET,
    database_url,
    environment,
    free_port,
    get,
    gunicorn,
    migrate,
    post,
    running_server,
    witness_settings,
)

__all__ = ["database_url"]  # a fixture


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    folder = tmp_path_factory.mktemp("gunicorn")
    env = environment(database_url, LAGESBILD_ENV="production", LAGESBILD_SECRET_KEY=SECRET,
                      LAGESBILD_TRUSTED_PROXIES="1", **witness_settings(folder))
    migrate(env)
    with running_server(env, folder) as base:
        database = create_engine(database_url)
        port = int(base.rsplit(":", 1)[1])
        yield base, database, port, folder / f"gunicorn-{port}.log"
        database.dispose()


def test_health_and_readiness_say_only_ok(server):
    base, _database, _port, _log = server
    status, _headers, body = get(f"{base}/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, headers, body = get(f"{base}/readyz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert headers["Content-Type"] == "application/json"


def test_the_login_page_is_swedish_and_its_cookie_is_secure(server):
    base, _database, _port, _log = server
    status, headers, body = get(f"{base}/login")
    assert status == 200 and '<html lang="sv">' in body and "Logga in" in body
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_behind_the_proxy_the_trail_records_the_clients_address(server):
    base, database, port, _log = server
    # The proxy terminates HTTPS and says so; the session cookie is Secure, so it is passed
    # back by hand (a client would send it only over HTTPS).
    proxied = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
               "Referer": f"https://127.0.0.1:{port}/login"}  # CSRF checks it over HTTPS
    _status, headers, page = get(f"{base}/login", headers=proxied)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = headers["Set-Cookie"].split(";")[0]
    form = urllib.parse.urlencode({"csrf_token": token, "email": "nobody@example.se",
                                   "password": "wrong password"}).encode()
    _status, _headers, body = post(f"{base}/login", form, {**proxied, "Cookie": cookie})
    assert "Fel e-postadress eller lösenord." in body
    with database.connect() as connection:
        addresses = list(connection.scalars(text(
            "SELECT client_address FROM audit_events WHERE action = 'auth.login_failed'")))
    assert addresses == ["203.0.113.7"]


def test_a_missing_trigger_makes_the_server_not_ready_without_saying_why(server):
    base, database, _port, _log = server
    if database.dialect.name == "postgresql":
        take_away = ["ALTER TABLE remarks DISABLE TRIGGER remarks_append_only"]
        put_back = ["ALTER TABLE remarks ENABLE TRIGGER remarks_append_only"]
    else:
        with database.connect() as connection:
            put_back = list(connection.scalars(text(
                "SELECT sql FROM sqlite_master WHERE name = 'remarks_no_delete'")))
        take_away = ["DROP TRIGGER remarks_no_delete"]
    with database.begin() as connection:
        for statement in take_away:
            connection.execute(text(statement))
    try:
        status, _headers, body = get(f"{base}/readyz")
        assert status == 503 and json.loads(body) == {"status": "unavailable"}
        assert get(f"{base}/healthz")[0] == 200  # the process itself is fine
    finally:
        with database.begin() as connection:
            for statement in put_back:
                connection.execute(text(statement))
    assert get(f"{base}/readyz")[0] == 200


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    env = environment(f"sqlite:///{tmp_path / 'x.sqlite'}", LAGESBILD_ENV="production")
    with (tmp_path / "gunicorn.log").open("w") as log:
        process = gunicorn(env, free_port(), log)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("gunicorn kept running without a secret key")
    assert process.returncode != 0
    output = (tmp_path / "gunicorn.log").read_text()
    assert "LAGESBILD_SECRET_KEY must be set in production" in output


def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(web, world, audit_events):
    """Anyone can send X-Forwarded-For: only a configured proxy's is believed."""
    web.client.post("/login", data={"csrf_token": web.csrf_token(), "email": "x@example.se",
                                    "password": "wrong"},
                    headers={"X-Forwarded-For": "203.0.113.7"})
    (event,) = audit_events("auth.login_failed")
    assert event.client_address == "127.0.0.1"


def test_the_log_is_json_with_the_proxys_request_id(server):
    base, _database, _port, log = server
    status, headers, _body = get(f"{base}/login?from=log-test",
                                 headers={"X-Request-Id": "nginx-7f3a9c"})
    assert status == 200 and headers["X-Request-Id"] == "nginx-7f3a9c"
    time.sleep(0.2)  # the worker's line reaches the file
    entries = [json.loads(line) for line in log.read_text().splitlines()
               if line.startswith("{")]
    (entry,) = [e for e in entries if e.get("request_id") == "nginx-7f3a9c"]
    assert entry["logger"] == "lagesbild.request" and entry["status"] == 200
    assert entry["route"] == "/login" and entry["user_id"] is None
