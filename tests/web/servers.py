"""Real app servers for the tests: gunicorn started on 127.0.0.1 as a city runs it, configured
from the environment (LAGESBILD_...), on the database the suite runs on (a database of its own
on PostgreSQL, dropped afterwards)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import MAIN_DATABASE_URL, drop_postgres_database, private_postgres_database

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SECRET = "a-long-random-production-secret-for-the-tests-only"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without any LAGESBILD_ setting, then these."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LAGESBILD_") and k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update({"LAGESBILD_DATABASE_URL": database_url, **settings})
    return env


def witness_settings(folder: Path) -> dict[str, str]:
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
def database_url(tmp_path_factory):
    if not MAIN_DATABASE_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path_factory.mktemp('production') / 'lagesbild.sqlite'}"
        return
    url = private_postgres_database(MAIN_DATABASE_URL, "lagesbild_production")
    yield url
    drop_postgres_database(url, MAIN_DATABASE_URL)


def migrate(env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=REPO, env=env,
                   check=True, capture_output=True, timeout=120)


def gunicorn(env: dict[str, str], port: int, log, workers: int = 2,
             command: list[str] | None = None, cwd: Path = REPO) -> subprocess.Popen:
    """gunicorn as the README says to start it (`command`: another installation's)."""
    return subprocess.Popen(
        [*(command or [str(BIN / "gunicorn")]), "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--timeout", "60", "app:create_app()"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def get(url: str, opener=None, headers: dict | None = None) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def post(url: str, form: bytes, headers: dict) -> tuple[int, dict, str]:
    request = urllib.request.Request(url, data=form, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


@contextmanager
def running_server(env: dict[str, str], folder: Path, workers: int = 2,
                   command: list[str] | None = None, cwd: Path = REPO) -> Iterator[str]:
    """gunicorn serving until the block ends; yields its base URL (fails with its log if it
    does not come up within a minute)."""
    port = free_port()
    log_path = folder / f"gunicorn-{port}.log"
    log = log_path.open("w")
    process = gunicorn(env, port, log, workers, command, cwd)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("gunicorn did not start: " + log_path.read_text()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
