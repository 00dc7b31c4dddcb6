"""Benchmark of the notifications (a benchmark, not a timed test).

    .venv/bin/python bench/notifications_bench.py [--areas 50] [--rounds 3]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds a period of --areas areas (each with two drafters and two police reviewers, and two
coordinators) in a temporary SQLite file, or in a database created on the given PostgreSQL
server (lagesbild_bench_notify, dropped at the end), and fires every handoff at once: each
area's submit, then each police approval. It does so twice per round, once with the
notifications queued and once with them switched off, alternately, and prints:

1. the median time of a transition with and without queuing its messages, and the added
   share (goal: at most 10 %);
2. the time to deliver the whole queue to a local SMTP server (aiosmtpd) and the messages
   per second.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "a benchmark password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database(url: str | None, folder: Path) -> tuple[str, callable]:
    if url is None:
        return f"sqlite:///{folder / 'bench.sqlite'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(url)
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text('DROP DATABASE IF EXISTS "lagesbild_bench_notify" WITH (FORCE)'))
        connection.execute(text('CREATE DATABASE "lagesbild_bench_notify"'))

    def drop():
        with engine.connect() as connection:
            connection.execute(text('DROP DATABASE IF EXISTS "lagesbild_bench_notify" '
                                    'WITH (FORCE)'))
        engine.dispose()
    return server.set(database="lagesbild_bench_notify").render_as_string(False), drop


def _period(areas: int, name: str) -> list[int]:
    """A period over every area (created the first time): its contributions' ids, filled."""
    from app.admin import operations as admin
    from app.contributions import operations as contributions
    from app.core.actors import SystemActor
    from app.core.unit_of_work import operation
    from app.extensions import db
    from app.models import Area, Contribution, Period

    actor = SystemActor(name="benchmark set-up")
    with operation(actor):
        if db.session.scalar(db.select(db.func.count()).select_from(Area)) == 0:
            admin.create_organisation(actor, "Stadsledningskontoret", "city_office")
            for n in (1, 2):
                user = admin.create_user(actor, email=f"samordnare{n}@bench.se",
                                         name=f"Samordnare {n}",
                                         organisation_name="Stadsledningskontoret",
                                         password=PASSWORD)
                admin.grant_role(actor, user, "consolidator")
            for number, title in enumerate(["Unga i risk", "Otillåten påverkan"], 1):
                admin.create_topic(actor, title, number=number)
            for n in range(areas):
                office, police = f"Förvaltning {n}", f"Polisen {n}"
                admin.create_organisation(actor, office, "district_office")
                admin.create_organisation(actor, police, "police")
                admin.create_area(actor, f"Område {n}", [office, police])
                for role, organisation, key in (("drafter", office, "skribent"),
                                                ("reviewer", police, "polis")):
                    for m in (1, 2):
                        user = admin.create_user(actor, email=f"{key}{n}-{m}@bench.se",
                                                 name=f"{key} {n}-{m}",
                                                 organisation_name=organisation,
                                                 password=PASSWORD)
                        admin.grant_role(actor, user, role, f"Område {n}")
        year = 2030 + db.session.scalar(db.select(db.func.count()).select_from(Period))
        admin.create_period(actor, name, drafting_deadline=date(year, 1, 10),
                            review_deadline=date(year, 1, 17),
                            consolidation_deadline=date(year, 1, 24),
                            approval_deadline=date(year, 1, 31))
    ids = []
    for contribution in db.session.scalars(db.select(Contribution).join(Period)
                                           .where(Period.name == name)):
        ids.append(contribution.id)
        for section in contribution.sections:
            with operation(actor):
                contributions.add_revision(section, "Läget i området.", "edit", None)
                section.text = "Läget i området."
    return ids


def _handoffs(ids: list[int]) -> list[float]:
    from app.contributions import operations as contributions
    from app.core.unit_of_work import operation
    from app.extensions import db
    from app.models import Contribution, User

    timings = []
    for trigger, key in (("submit", "skribent"), ("approve", "polis")):
        for contribution_id in ids:
            contribution = db.session.get(Contribution, contribution_id)
            number = contribution.area.name.split()[-1]
            actor = db.session.scalar(db.select(User).where(
                User.email == f"{key}{number}-1@bench.se"))
            began = time.perf_counter()
            with operation(actor):
                contributions.transition(actor, contribution_id, trigger)
            timings.append(time.perf_counter() - began)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--areas", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    os.environ.setdefault("FLASK_DEBUG", "0")

    from aiosmtpd.controller import Controller

    from app import create_app
    from app.extensions import db
    from app.notifications import handoffs, sender

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            return "250 OK"

    with tempfile.TemporaryDirectory() as folder:
        url, drop = _database(args.database, Path(folder))
        port = _free_port()
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_STARTTLS": False})
        controller = Controller(Sink(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            with app.app_context():
                from flask_migrate import upgrade
                upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))
                with_queue, without_queue, deliveries = [], [], []
                for round_number in range(args.rounds):
                    for queued in (round_number % 2 == 0, round_number % 2 == 1):
                        ids = _period(args.areas, f"omgång {round_number}-{queued}")
                        if queued:
                            with_queue.extend(_handoffs(ids))
                            before = Sink.count
                            began = time.perf_counter()
                            while sender.deliver_due().sent:
                                pass
                            deliveries.append((time.perf_counter() - began,
                                               Sink.count - before))
                        else:
                            with mock.patch.object(handoffs, "enqueue", lambda *a, **k: 0):
                                without_queue.extend(_handoffs(ids))
                db.session.remove()
        finally:
            controller.stop()
            drop()

    on, off = statistics.median(with_queue), statistics.median(without_queue)
    seconds = statistics.median(d[0] for d in deliveries)
    messages = statistics.median(d[1] for d in deliveries)
    print(f"{args.areas} areas, {args.rounds} rounds, {url.split(':')[0]}")
    print(f"transition median: {1000 * on:.1f} ms with the messages queued, {1000 * off:.1f} ms "
          f"without: {100 * (on / off - 1):+.0f} % (goal <= 10 %)")
    print(f"delivering the queue: {messages:.0f} messages in {seconds:.2f} s "
          f"({messages / seconds:.0f}/s) to a local SMTP server")
    return 0


if __name__ == "__main__":
    sys.exit(main())
