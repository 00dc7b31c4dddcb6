"""Load benchmark: two gunicorn servers on one PostgreSQL database, reads and writes
interleaved (a benchmark, not a timed test).

    .venv/bin/python bench/load_bench.py [--workers 4] [--clients 16] [--seconds 30]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Creates the database lagesbild_bench_load on that server (dropped at the end), migrates it,
and sets up one area per client, each with its own drafter and an open period (through the
operations, as an administrator would). Starts two gunicorn servers with --workers workers
each; every client signs in and then, for --seconds, alternates a read (its contribution's
page) and a write (a section edit: the edit form, untimed, then the timed POST, which appends
an audit event), on the two servers in turn. Prints the median and 95th percentile of reads
and of writes, the ratio of the write median to the read median (goal: at most 2), the
throughput and the errors (goal: 0).
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from html import unescape
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
PASSWORD = "a benchmark password"
SECRET = "benchmark-secret-key-benchmark-secret-key"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _create_database(server_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(server_url)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


def _drop_database(server_url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _environment(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAGESBILD_")}
    env.update({"LAGESBILD_DATABASE_URL": database_url, "LAGESBILD_SECRET_KEY": SECRET,
                "LAGESBILD_HTTPS": "0", "LAGESBILD_LOG_FORMAT": "json",
                # The clients sign in from one address: not what the throttle is for here.
                "LAGESBILD_LOGIN_LIMIT_PER_ADDRESS": "10000 per minute"})
    return env


def _seed(database_url: str, clients: int) -> list[tuple[str, int, int]]:
    """(e-mail, contribution id, first section id) per client."""
    from app import create_app
    from app.admin import operations as admin
    from app.core.actors import SystemActor
    from app.core.unit_of_work import operation
    from app.extensions import db
    from app.models import Contribution

    actor = SystemActor(name="benchmark set-up")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET})
    seeded = []
    with app.app_context():
        with operation(actor):
            admin.create_organisation(actor, "Stadsledningskontoret", "city_office")
            for number, title in enumerate(["Unga i risk", "Otillåten påverkan",
                                            "Ordningsvakter", "Trygghet i centrum"], 1):
                admin.create_topic(actor, title, number=number)
            for n in range(clients):
                office = f"Förvaltning {n}"
                admin.create_organisation(actor, office, "district_office")
                admin.create_area(actor, f"Område {n}", [office])
                user = admin.create_user(actor, email=f"skribent{n}@bench.se",
                                         name=f"Skribent {n}", organisation_name=office,
                                         password=PASSWORD)
                admin.grant_role(actor, user, "drafter", f"Område {n}")
            admin.create_period(actor, "januari 2030", drafting_deadline=date(2030, 1, 10),
                                review_deadline=date(2030, 1, 17),
                                consolidation_deadline=date(2030, 1, 24),
                                approval_deadline=date(2030, 1, 31))
        for n in range(clients):
            contribution = db.session.scalars(
                db.select(Contribution).join(Contribution.area)
                .where(Contribution.area.has(name=f"Område {n}"))).one()
            seeded.append((f"skribent{n}@bench.se", contribution.id,
                           contribution.ordered_sections[0].id))
        db.engine.dispose()
    return seeded


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects())

    def send(self, url: str, fields: dict | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data), timeout=60) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def inputs(self, url: str) -> dict[str, str]:
        _status, body = self.send(url)
        return {name: unescape(value) for name, value in
                re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', body)}


def _run_client(bases, email, contribution_id, section_id, seconds, results, start):
    client = Client()
    token = client.inputs(f"{bases[0]}/login")["csrf_token"]
    client.send(f"{bases[0]}/login", {"csrf_token": token, "email": email,
                                      "password": PASSWORD})
    reads, writes, errors = [], [], 0
    start.wait()
    deadline, turn = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        base = bases[turn % 2]
        turn += 1
        began = time.perf_counter()
        status, _body = client.send(f"{base}/contributions/{contribution_id}")
        reads.append(time.perf_counter() - began)
        errors += status != 200
        form = client.inputs(f"{base}/sections/{section_id}/edit")
        began = time.perf_counter()
        status, _body = client.send(f"{base}/sections/{section_id}/edit", {
            "csrf_token": form.get("csrf_token", ""),
            "expected_version": form.get("expected_version", ""),
            "text": f"Läget i området, omgång {turn}."})
        writes.append(time.perf_counter() - began)
        errors += status != 302
    results.append((reads, writes, errors))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    name = "lagesbild_bench_load"
    database_url = _create_database(args.postgres, name)
    env = _environment(database_url)
    servers = []
    try:
        subprocess.run([str(BIN / "flask"), "--app", "app", "db", "upgrade"], cwd=REPO,
                       env=env, check=True, capture_output=True)
        seeded = _seed(database_url, args.clients)
        log = tempfile.TemporaryFile("w+")
        bases = []
        for _ in range(2):
            port = _free_port()
            servers.append(subprocess.Popen(
                [str(BIN / "gunicorn"), "--workers", str(args.workers), "--bind",
                 f"127.0.0.1:{port}", "--timeout", "60", "app:create_app()"],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
            bases.append(f"http://127.0.0.1:{port}")
        for base in bases:
            for _ in range(300):
                try:
                    if Client().send(f"{base}/healthz")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.1)
        results: list = []
        start = threading.Barrier(args.clients)
        threads = [threading.Thread(target=_run_client, args=(bases, *client, args.seconds,
                                                              results, start))
                   for client in seeded]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
        _drop_database(args.postgres, name)

    reads = [r for result in results for r in result[0]]
    writes = [w for result in results for w in result[1]]
    errors = sum(result[2] for result in results)
    read_median, write_median = statistics.median(reads), statistics.median(writes)
    print(f"Two gunicorn servers x {args.workers} workers on PostgreSQL, {args.clients} "
          f"clients, {elapsed:.0f} s")
    print(f"reads  (contribution page): {len(reads)}, median {1000 * read_median:.0f} ms, "
          f"p95 {1000 * _percentile(reads, 0.95):.0f} ms")
    print(f"writes (section edit):      {len(writes)}, median {1000 * write_median:.0f} ms, "
          f"p95 {1000 * _percentile(writes, 0.95):.0f} ms")
    print(f"write/read median ratio: {write_median / read_median:.2f} (goal <= 2)")
    print(f"throughput: {(len(reads) + len(writes)) / elapsed:.1f} timed requests/s")
    print(f"errors: {errors} (goal 0)")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
