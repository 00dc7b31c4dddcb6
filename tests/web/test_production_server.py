"""The production server as a city runs it: gunicorn with several workers, configured from the
environment (LAGESBILD_...), behind one reverse proxy. Started for real on 127.0.0.1, on the
database the suite runs on (a database of its own on PostgreSQL, dropped afterwards)."""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import MAIN_DATABASE_URL

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "a-long-random-production-secret-for-the-tests-only"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(database_url: str, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAGESBILD_") and k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update({"LAGESBILD_DATABASE_URL": database_url, **settings})
    return env


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    if not MAIN_DATABASE_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('production') / 'lagesbild.sqlite'}"
        return
    server = make_url(MAIN_DATABASE_URL)
    name = f"lagesbild_production_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _gunicorn(env: dict[str, str], port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--timeout", "60", "app:create_app()"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def _get(url: str, opener=None, headers: dict | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _witness_settings(folder: Path) -> dict[str, str]:
    """Production needs the audit trail's witness and its signing key (app/audit/witness.py)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = folder / "witness-key.pem"
    key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return {"LAGESBILD_WITNESS_PATH": str(folder / "witness.jsonl"),
            "LAGESBILD_WITNESS_KEY": str(key)}


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    folder = tmp_path_factory.mktemp("gunicorn")
    env = _environment(database_url, LAGESBILD_ENV="production", LAGESBILD_SECRET_KEY=SECRET,
                       LAGESBILD_TRUSTED_PROXIES="1", **_witness_settings(folder))
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=120)
    port = _free_port()
    log_path = folder / "gunicorn.log"
    log = log_path.open("w")
    process = _gunicorn(env, port, log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _get(f"{base}/healthz")[0] == 200:
                break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            log.close()
            pytest.fail("gunicorn did not start: " + log_path.read_text()[-2000:])
        time.sleep(0.2)
    database = create_engine(database_url)
    yield base, database, port
    database.dispose()
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_health_and_readiness_say_only_ok(server):
    base, _database, _port = server
    status, _headers, body = _get(f"{base}/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, headers, body = _get(f"{base}/readyz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert headers["Content-Type"] == "application/json"


def test_the_login_page_is_swedish_and_its_cookie_is_secure(server):
    base, _database, _port = server
    status, headers, body = _get(f"{base}/login")
    assert status == 200 and '<html lang="sv">' in body and "Logga in" in body
    cookie = headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_behind_the_proxy_the_trail_records_the_clients_address(server):
    base, database, port = server
    # The proxy terminates HTTPS and says so; the session cookie is Secure, so it is passed
    # back by hand (a client would send it only over HTTPS).
    proxied = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
               "Referer": f"https://127.0.0.1:{port}/login"}  # CSRF checks it over HTTPS
    _status, headers, page = _get(f"{base}/login", headers=proxied)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = headers["Set-Cookie"].split(";")[0]
    form = urllib.parse.urlencode({"csrf_token": token, "email": "nobody@example.se",
                                   "password": "wrong password"}).encode()
    request = urllib.request.Request(f"{base}/login", data=form,
                                     headers={**proxied, "Cookie": cookie})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode()
    except urllib.error.HTTPError as error:
        body = error.read().decode()
    assert "Fel e-postadress eller lösenord." in body
    with database.connect() as connection:
        addresses = list(connection.scalars(text(
            "SELECT client_address FROM audit_events WHERE action = 'auth.login_failed'")))
    assert addresses == ["203.0.113.7"]


def test_a_missing_trigger_makes_the_server_not_ready_without_saying_why(server):
    base, database, _port = server
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
        status, _headers, body = _get(f"{base}/readyz")
        assert status == 503 and json.loads(body) == {"status": "unavailable"}
        assert _get(f"{base}/healthz")[0] == 200  # the process itself is fine
    finally:
        with database.begin() as connection:
            for statement in put_back:
                connection.execute(text(statement))
    assert _get(f"{base}/readyz")[0] == 200


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    env = _environment(f"sqlite:///{tmp_path / 'x.sqlite'}", LAGESBILD_ENV="production")
    with (tmp_path / "gunicorn.log").open("w") as log:
        process = _gunicorn(env, _free_port(), log)
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
