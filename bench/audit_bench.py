"""Benchmark of the audit trail at a million events (a benchmark, not a timed test).

    .venv/bin/python bench/audit_bench.py [--events 1000000] [--small 10000] [--repeat 15]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds two SQLite databases in a temporary directory, migrated like the real one, holding
--small and --events audit events inserted directly (executemany, the real hash recipe of
app/audit/trail.py, a valid chain), and prints:

1. verify throughput (events/s) as a fraction of a plain hashlib SHA-256 loop over the same
   bytes the verifier hashes (prev_hash + "\\n" + the stored canonical JSON of each event);
2. the latency of the first and of a deep page (90 % of the way to the oldest event) of
   filtered logs (one area; a six-hour window) at --events vs --small events, as ratios (the
   median of three rounds, small and large alternately, each the median of --repeat runs);
3. peak memory (tracemalloc) of verify at both sizes: flat means it streams.

On SQLite the verifier hashes each batch in Python (hashlib); on PostgreSQL the server hashes.

With --postgres, the same events are copied into two PostgreSQL databases (created on that
server as lagesbild_bench_small / lagesbild_bench_large, migrated like the real one, and
dropped at the end) and the three measures are printed for PostgreSQL too, against the same
hashlib baseline.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.audit.trail import canonical_json, format_time, hash_of_record  # noqa: E402

GENESIS = "0" * 64
ACTIONS = ["section.edit", "section.edit", "section.edit", "contribution.submit",
           "contribution.approve", "contribution.return", "contribution.resubmit",
           "contribution.consolidate", "auth.login", "auth.login", "audit.view"]
ORGANISATIONS = [f"Organisation {n}" for n in range(12)]
# The table's own columns: the database derives the others from `canonical`.
COLUMNS = ("seq", "canonical", "prev_hash", "hash")
AREAS = 5
START = datetime(2020, 1, 1, tzinfo=UTC)  # event n happens about n * 7 s after this


def make_app(database: Path | str):
    """The application on an SQLite file (a Path) or a database URL."""
    from app import create_app

    os.environ.setdefault("FLASK_DEBUG", "0")
    url = f"sqlite:///{database}" if isinstance(database, Path) else database
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})


def build(path: Path, count: int, seed: int = 4) -> None:
    """A migrated database with `count` chained events (a valid chain)."""
    from flask_migrate import upgrade

    from app.extensions import db

    app = make_app(path)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    rng = random.Random(seed)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")
    insert = (f"INSERT INTO audit_events ({', '.join(COLUMNS)}) "
              f"VALUES ({', '.join('?' for _ in COLUMNS)})")
    prev_hash, seq = GENESIS, 0
    batch_size = 20_000
    while seq < count:
        rows = []
        for _ in range(min(batch_size, count - seq)):
            seq += 1
            moment = START + timedelta(seconds=seq * 7, microseconds=rng.randrange(1_000_000))
            area = rng.randrange(1, AREAS + 1)
            contribution = (area - 1) * 40 + rng.randrange(1, 41)
            actor = rng.randrange(1, 200)
            action = rng.choice(ACTIONS)
            payload = {
                "seq": seq, "occurred_at": format_time(moment), "actor_id": actor,
                "actor_name": f"Användare {actor}",
                "actor_organisation": ORGANISATIONS[actor % len(ORGANISATIONS)],
                "action": action, "object_type": "contribution",
                "object_id": str(contribution), "period_id": contribution % 40 + 1,
                "area_id": area, "contribution_id": contribution,
                "from_state": "draft", "to_state": "police_review",
                "data": canonical_json({"revision_id": seq, "text_sha256": "ab" * 32,
                                        "topic": "Otrygga brottsutsatta platser",
                                        "remarks": [{"text": "Komplettera texten."}]}),
                "request_id": f"{seq:016x}", "client_address": "127.0.0.1",
                "prev_hash": prev_hash,
            }
            canonical = canonical_json(payload)
            digest = hash_of_record(prev_hash, canonical)
            rows.append((seq, canonical, prev_hash, digest))
            prev_hash = digest
        connection.executemany(insert, rows)
        connection.commit()
    connection.execute("ANALYZE")
    connection.commit()
    connection.close()


def hashlib_seconds(path: Path, batch_size: int = 20_000) -> tuple[float, int]:
    """The baseline: a plain hashlib SHA-256 loop over exactly the bytes the verifier hashes
    (prev_hash + "\\n" + the stored canonical JSON of each event), read and encoded untimed,
    batch by batch; only the hashing loop is timed. Returns (seconds, bytes hashed)."""
    connection = sqlite3.connect(path)
    seconds, total, last = 0.0, 0, 0
    while True:
        rows = connection.execute("SELECT seq, prev_hash, canonical FROM audit_events "
                                  "WHERE seq > ? ORDER BY seq LIMIT ?",
                                  (last, batch_size)).fetchall()
        if not rows:
            break
        encoded = [f"{prev_hash}\n{canonical}".encode() for _s, prev_hash, canonical in rows]
        total += sum(len(item) for item in encoded)
        began = time.perf_counter()
        for item in encoded:
            hashlib.sha256(item).hexdigest()
        seconds += time.perf_counter() - began
        last = rows[-1][0]
    connection.close()
    return seconds, total


def on_server(server_url: str, *statements: str) -> None:
    """Run statements outside a transaction, as CREATE and DROP DATABASE must be."""
    from sqlalchemy import create_engine, text

    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        for statement in statements:
            connection.execute(text(statement))
    server.dispose()


def copy_to_postgres(path: Path, server_url: str, name: str) -> str:
    """A fresh, migrated PostgreSQL database `name` holding the SQLite file's events (the
    database derives their columns, as in use). Returns its URL."""
    from flask_migrate import upgrade
    from sqlalchemy.engine import make_url

    from app.extensions import db

    on_server(server_url, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    import psycopg

    source = sqlite3.connect(path)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as target:
        # The bench's actors are not users of this database: no foreign-key checks here.
        target.execute("SET session_replication_role = replica")
        with target.cursor().copy(f"COPY audit_events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in source.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_events "
                                      "ORDER BY seq"):
                copy.write_row(row)
        target.commit()
        target.autocommit = True
        target.execute("VACUUM ANALYZE audit_events")
    source.close()
    return url


def verify_run(database: Path | str, trace: bool = False) -> tuple[float, int, int]:
    """(seconds, events verified, peak traced bytes) of one verify_chain() over the database."""
    from app.audit.verify import verify_chain
    from app.extensions import db

    app = make_app(database)
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))  # connect first: not part of the measure
        if trace:
            tracemalloc.start()
        began = time.perf_counter()
        result = verify_chain()
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
        assert result.ok, result
        db.session.remove()
        db.engine.dispose()
    return seconds, result.count, peak


def filters_for(count: int) -> dict[str, dict]:
    """The filters measured: one area (a fifth of the log, so it grows with the log) and a
    six-hour window in the middle of the log (the same number of events at any log size)."""
    middle = START + timedelta(seconds=count // 2 * 7)
    return {"area": {"area_id": 3},
            "six hours": {"since": middle, "until": middle + timedelta(hours=6)}}


def page_latency(database: Path | str, count: int,
                 repeat: int) -> dict[tuple[str, str], float]:
    """Median seconds of the first page and of a deep page (90 % of the way back) of each
    filtered log."""
    from sqlalchemy import func, select

    from app.audit.query import EventFilter, events_page
    from app.extensions import db
    from app.models import AuditEvent

    app = make_app(database)
    medians = {}
    with app.app_context():
        for name, criteria in filters_for(count).items():
            event_filter = EventFilter(**criteria)
            conditions = event_filter.conditions()
            matching = db.session.scalar(select(func.count()).select_from(AuditEvent)
                                         .where(*conditions))
            # The cursor of the page 90 % of the way back: what "older" links lead to.
            deep_cursor = db.session.scalar(
                select(AuditEvent.seq).where(*conditions)
                .order_by(AuditEvent.seq.desc()).offset(int(matching * 0.9)).limit(1))
            for page, cursor in (("first", None), ("deep", deep_cursor)):
                events_page(event_filter, before_seq=cursor)  # warm the cache, as in use
                times = []
                for _ in range(repeat):
                    began = time.perf_counter()
                    result = events_page(event_filter, before_seq=cursor)
                    times.append(time.perf_counter() - began)
                    assert len(result.events) == 50
                medians[name, page] = statistics.median(times)
        db.session.remove()
        db.engine.dispose()
    return medians


def report(label: str, databases: dict[str, tuple[Path | str, int]], sqlite_large: Path,
           repeat: int) -> None:
    """Print the three measures on one kind of database (small and large)."""
    print(f"\n== {label} ==")
    database, count = databases["large"]
    verify_times, hash_times = [], []
    for _ in range(5):  # alternate, so both see the same machine load
        verify_times.append(verify_run(database)[0])
        seconds, hashed_bytes = hashlib_seconds(sqlite_large)
        hash_times.append(seconds)
    seconds, baseline = statistics.median(verify_times), statistics.median(hash_times)
    verify_rate, hash_rate = count / seconds, count / baseline
    print(f"1. verify, {count:,} events (median of 5): {seconds:.2f} s = "
          f"{verify_rate:,.0f} events/s")
    print(f"   plain hashlib SHA-256 loop over the same {hashed_bytes / 2**20:.0f} MiB: "
          f"{baseline:.2f} s = {hash_rate:,.0f} events/s")
    print(f"   verify throughput / hashlib throughput = {verify_rate / hash_rate:.2f} "
          f"(goal >= 0.5)", flush=True)

    # Three rounds, small and large alternately, so both sizes see the same machine load; the
    # figure is the median of the rounds' medians.
    rounds = [{name: page_latency(database, n, repeat)
               for name, (database, n) in databases.items()} for _ in range(3)]
    latency = {name: {key: statistics.median(each[name][key] for each in rounds)
                      for key in rounds[0][name]} for name in databases}
    small_count = databases["small"][1]
    print(f"2. filtered log, median of 3 rounds of {repeat}:")
    for key in latency["small"]:
        small, large = latency["small"][key], latency["large"][key]
        print(f"   {key[0]:9} {key[1]:5} page: {small * 1000:.2f} ms at {small_count:,}, "
              f"{large * 1000:.2f} ms at {count:,}: ratio {large / small:.2f} (goal <= 1.5)")

    peaks = {name: verify_run(database, trace=True)[2]
             for name, (database, _n) in databases.items()}
    print("3. peak memory of verify (tracemalloc):")
    print(f"   {small_count:,} events: {peaks['small'] / 2**20:.1f} MiB; "
          f"{count:,} events: {peaks['large'] / 2**20:.1f} MiB; "
          f"ratio {peaks['large'] / peaks['small']:.2f} (goal: flat)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help="also measure on PostgreSQL: a server URL (postgresql+psycopg://"
                             "...) where the bench may create lagesbild_bench_* databases")
    args = parser.parse_args()
    import logging
    logging.disable(logging.INFO)

    with tempfile.TemporaryDirectory(prefix="audit-bench-") as folder:
        files = {"small": (Path(folder) / "small.sqlite", args.small),
                 "large": (Path(folder) / "large.sqlite", args.events)}
        for path, count in files.values():
            began = time.perf_counter()
            build(path, count)
            print(f"built {count:,} events in {time.perf_counter() - began:.1f} s "
                  f"({path.stat().st_size / 2**20:.0f} MiB)", flush=True)
        report("SQLite", files, files["large"][0], args.repeat)
        if args.postgres:
            servers = {}
            for name, (path, count) in files.items():
                began = time.perf_counter()
                servers[name] = (copy_to_postgres(path, args.postgres,
                                                  f"lagesbild_bench_{name}"), count)
                print(f"copied {count:,} events to PostgreSQL in "
                      f"{time.perf_counter() - began:.1f} s", flush=True)
            try:
                report("PostgreSQL", servers, files["large"][0], args.repeat)
            finally:  # a million events take 1.7 GB on the server: do not leave them there
                on_server(args.postgres, *(f'DROP DATABASE IF EXISTS "lagesbild_bench_{name}"'
                                           for name in files))


if __name__ == "__main__":
    main()
