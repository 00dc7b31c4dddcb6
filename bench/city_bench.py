"""City benchmark: a whole-period export at a city's scale, and writers while it runs (a
benchmark, not a timed test).

    .venv/bin/python bench/city_bench.py [--areas 50] [--writers 4] [--seconds 10]
        [--database sqlite|postgres] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

Builds a city through the operations (--areas areas, each with its district office, police,
drafter and one local topic; the ten city-wide topics; one open period; every section filled
with a text of bullets by its drafter) in a fresh database (a SQLite file in a temporary
folder, or the PostgreSQL database lagesbild_bench_city, dropped at the end). Then prints:

- the whole-period DOCX: the median of 3 renders alone, and of 3 exports (read + render +
  audit event) with nothing else running;
- writers during exports: --writers drafters each save their own section over and over for
  --seconds without an export, then for --seconds while another process exports the whole
  period again and again: the p50 and p95 of a save each time, their ratio (goal: p95 during
  exports at most 2x without), the errors (goal: 0) and how many exports ran.

    .venv/bin/python bench/city_bench.py --pages 10,100,1000,1800 [--edits 1000]
        [--loads 5] [--database sqlite|postgres]

The pages instead (issue 17): for each size, a city of that many contributions in the city's
shape (up to 50 areas, as many periods as it takes: 1,800 = 50 areas x 36 periods; the newest
period's sections filled, one area's contribution submitted to the police, and one section
edited --edits times), then every period-wide and growing page loaded --loads times by the
role that uses it: its SQL statements, median ms and HTML size; and the ratio of the largest
size to 100 (goal: median within 1.5x, statements equal, no page over ~200 KB).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PASSWORD = "a benchmark password"
CITY_TOPICS = 10
BULLETS = "Läget i korthet.\n- Första punkten om läget\n- Andra punkten om åtgärder\n" \
          "- Tredje punkten\nSammanfattning."


def _app(url: str):
    from app import create_app

    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                       "SECRET_KEY": "benchmark-secret", "AUDIT_WITNESS_PATH": None})


def _create_postgres(server_url: str, name: str, drop_only: bool = False) -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def build_city(url: str, areas: int) -> dict:
    """Migrate and build the city through the operations; returns ids for the writers."""
    from flask_migrate import upgrade

    from app.admin import operations as admin
    from app.contributions import operations as contributions
    from app.core.actors import SystemActor
    from app.core.unit_of_work import operation
    from app.extensions import db
    from app.models import Contribution, User

    setup = SystemActor(name="benchmark set-up")
    app = _app(url)
    with app.app_context():
        upgrade()
        with operation(setup):
            admin.create_organisation(setup, "Stadsledningskontoret", "city_office")
            coordinator = admin.create_user(setup, email="samordnare@bench.se",
                                            name="Samordnare",
                                            organisation_name="Stadsledningskontoret",
                                            password=PASSWORD)
            admin.grant_role(setup, coordinator, "consolidator", None)
            for number in range(1, CITY_TOPICS + 1):
                admin.create_topic(setup, f"Stadsövergripande tema {number}", number=number)
            drafters = {}
            for index in range(areas):
                area, office, police = (f"Område {index:02d}", f"Förvaltning {index:02d}",
                                        f"Polisen {index:02d}")
                admin.create_organisation(setup, office, "district_office")
                admin.create_organisation(setup, police, "police")
                admin.create_area(setup, area, [office, police])
                admin.create_topic(setup, f"Lokalt tema i {area}", area_name=area)
                drafter = admin.create_user(setup, email=f"skribent{index}@bench.se",
                                            name=f"Skribent {index}", organisation_name=office,
                                            password=PASSWORD)
                admin.grant_role(setup, drafter, "drafter", area)
                drafters[area] = drafter.id
            period = admin.create_period(
                setup, "januari 2030", drafting_deadline=date(2030, 1, 10),
                review_deadline=date(2030, 1, 17), consolidation_deadline=date(2030, 1, 24),
                approval_deadline=date(2030, 1, 31))
            period_id = period.id
        writers = []
        for contribution in db.session.scalars(
                db.select(Contribution).where(Contribution.period_id == period_id)).all():
            drafter = db.session.get(User, drafters[contribution.area.name])
            sections = [(s.id, s.version) for s in contribution.ordered_sections]
            for section_id, version in sections:
                with operation(drafter):
                    contributions.edit_section(drafter, section_id, BULLETS, version)
            writers.append((drafter.id, sections[0][0]))
        coordinator_id = db.session.scalar(db.select(User.id).where(
            User.email == "samordnare@bench.se"))
        db.session.remove()
        db.engine.dispose()
    return {"period_id": period_id, "coordinator_id": coordinator_id, "writers": writers}


# -- pages at a size (issue 17: constant queries, bounded pages) ---------------------------

PAGE_AREAS = 50


def build_page_city(url: str, contributions: int, edits: int) -> dict:
    """A city of `contributions` contributions in the city's shape (see the module's doc)."""
    import math

    from flask_migrate import upgrade

    from app.admin import operations as admin
    from app.contributions import operations as contributions_ops
    from app.core.actors import SystemActor
    from app.core.unit_of_work import operation
    from app.extensions import db
    from app.models import Contribution, Section, User

    setup = SystemActor(name="benchmark set-up")
    areas = min(contributions, PAGE_AREAS)
    periods = math.ceil(contributions / areas)
    app = _app(url)
    with app.app_context():
        upgrade()
        with operation(setup):
            admin.create_organisation(setup, "Stadsledningskontoret", "city_office")
            for role in ("consolidator", "approver", "auditor"):
                user = admin.create_user(setup, email=f"{role}@bench.se", name=role.title(),
                                         organisation_name="Stadsledningskontoret",
                                         password=PASSWORD)
                admin.grant_role(setup, user, role, None)
            for number in range(1, CITY_TOPICS + 1):
                admin.create_topic(setup, f"Stadsövergripande tema {number}", number=number)
            for index in range(areas):
                area, office, police = (f"Område {index:02d}", f"Förvaltning {index:02d}",
                                        f"Polisen {index:02d}")
                admin.create_organisation(setup, office, "district_office")
                admin.create_organisation(setup, police, "police")
                admin.create_area(setup, area, [office, police])
                admin.create_topic(setup, f"Lokalt tema i {area}", area_name=area)
                drafter = admin.create_user(setup, email=f"skribent{index}@bench.se",
                                            name=f"Skribent {index}", organisation_name=office,
                                            password=PASSWORD)
                admin.grant_role(setup, drafter, "drafter", area)
                if index == 0:
                    reviewer = admin.create_user(setup, email="polis0@bench.se",
                                                 name="Polis 0", organisation_name=police,
                                                 password=PASSWORD)
                    admin.grant_role(setup, reviewer, "reviewer", area)
        for number in range(periods):
            year, month = 2030 + number // 12, number % 12 + 1
            with operation(setup):
                period_id = admin.create_period(
                    setup, f"period {number + 1:02d}", drafting_deadline=date(year, month, 10),
                    review_deadline=date(year, month, 17),
                    consolidation_deadline=date(year, month, 24),
                    approval_deadline=date(year, month, 28)).id
        newest = db.session.scalars(db.select(Contribution).where(
            Contribution.period_id == period_id)).all()
        drafters = {u.email: u.id for u in db.session.scalars(db.select(User))}
        for contribution in newest:
            index = int(contribution.area.name.split()[-1])
            drafter = db.session.get(User, drafters[f"skribent{index}@bench.se"])
            for section_id, version in [(s.id, s.version) for s in contribution.sections]:
                with operation(drafter):
                    contributions_ops.edit_section(drafter, section_id, BULLETS, version)
        first = min(newest, key=lambda c: c.area.name)
        drafter = db.session.get(User, drafters["skribent0@bench.se"])
        section_id = first.ordered_sections[0].id
        for number in range(edits):
            version = db.session.get(Section, section_id).version
            with operation(drafter):
                contributions_ops.edit_section(drafter, section_id,
                                               f"{BULLETS}\n- Ändring {number}", version)
        with operation(drafter):
            contributions_ops.transition(drafter, first.id, "submit")
        ids = {"period_id": period_id, "contribution_id": first.id}
        db.session.remove()
        db.engine.dispose()
    return ids


def _pages(ids: dict) -> list[tuple[str, str, str]]:
    """(page, who loads it, path) for every page measured."""
    period, contribution = ids["period_id"], ids["contribution_id"]
    return [
        ("start page (coordinator)", "consolidator@bench.se", "/"),
        ("start page (drafter)", "skribent0@bench.se", "/"),
        ("start page (police)", "polis0@bench.se", "/"),
        ("period overview", "consolidator@bench.se", f"/periods/{period}"),
        ("consolidation", "consolidator@bench.se", f"/periods/{period}/consolidation"),
        ("print view (period)", "consolidator@bench.se", f"/periods/{period}/print"),
        ("documents index", "consolidator@bench.se", "/documents/"),
        ("police reviewer's contribution page", "polis0@bench.se",
         f"/contributions/{contribution}"),
        ("history tab", "skribent0@bench.se", f"/contributions/{contribution}/history"),
        ("audit history", "auditor@bench.se", f"/audit/contributions/{contribution}"),
        ("audit as of now", "auditor@bench.se", f"/audit/contributions/{contribution}/as-of"),
        ("audit provenance", "auditor@bench.se",
         f"/audit/contributions/{contribution}/provenance"),
        ("audit log", "auditor@bench.se", "/audit/"),
    ]


def measure_pages(url: str, ids: dict, loads: int) -> dict[str, tuple[int, float, int]]:
    """page -> (statements, median ms, HTML bytes) of `loads` loads, each from a fresh
    session (nothing cached between loads)."""
    from sqlalchemy import event

    from app.extensions import db
    from tests.web_support import WebSession

    app = _app(url)
    found = {}
    with app.app_context():
        engine = db.engine
    # Each request opens its own app context and session, as under a server.
    for label, email, path in _pages(ids):
        web = WebSession(app.test_client())
        assert web.log_in(email, PASSWORD).status_code == 302, email
        times, statements, size = [], [], 0
        for _ in range(loads + 1):  # the first load warms the templates: not counted
            counted: list[str] = []

            def count(_connection, _cursor, statement, *_args, counted=counted):
                counted.append(statement)

            event.listen(engine, "before_cursor_execute", count)
            started = time.perf_counter()
            response = web.client.get(path)
            times.append(time.perf_counter() - started)
            event.remove(engine, "before_cursor_execute", count)
            assert response.status_code == 200, (path, response.status_code)
            statements.append(len(counted))
            size = len(response.get_data())
        found[label] = (statements[-1], statistics.median(times[1:]) * 1000, size)
    engine.dispose()
    return found


def run_pages(arguments) -> int:
    import logging

    logging.disable(logging.INFO)  # the request log would drown the figures
    sizes = [int(size) for size in arguments.pages.split(",")]
    results = {}
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            if arguments.database == "sqlite":
                url = f"sqlite:///{Path(folder) / 'city.sqlite'}"
            else:
                url = _create_postgres(arguments.postgres, "lagesbild_bench_city")
            try:
                started = time.perf_counter()
                ids = build_page_city(url, size, arguments.edits)
                print(f"{arguments.database}: {size} contributions built in "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
                results[size] = measure_pages(url, ids, arguments.loads)
            finally:
                if arguments.database == "postgres":
                    _create_postgres(arguments.postgres, "lagesbild_bench_city", drop_only=True)
    largest, base = sizes[-1], 100 if 100 in sizes else sizes[0]
    print(f"\n{arguments.database}, {arguments.edits} edits in one section's history, "
          f"medians of {arguments.loads} loads:")
    header = " | ".join(f"{size}: stmts / ms / KB" for size in sizes)
    print(f"| page | {header} | {largest}:{base} ms | statements equal |")
    print("|---|" + "---|" * len(sizes) + "---|---|")
    over = []
    for label in results[sizes[0]]:
        cells = []
        for size in sizes:
            statements, median, html = results[size][label]
            cells.append(f"{statements} / {median:.0f} / {html / 1024:.0f}")
            if html > 200 * 1024:
                over.append(f"{label} at {size}")
        ratio = results[largest][label][1] / results[base][label][1]
        same = results[largest][label][0] == results[base][label][0]
        print(f"| {label} | " + " | ".join(cells) + f" | {ratio:.2f} | "
              f"{'yes' if same else 'no'} |")
    print("pages over 200 KB: " + (", ".join(over) if over else "none"))
    return 0


def _export(actor, period_id: int):
    """export_period as the page calls it. (Before 2026-12-02 the page wrapped it in the write
    operation, render and all; run from a checkout of then, this does the same, so the
    benchmark measures both.)"""
    import app.core.unit_of_work as unit_of_work
    from app.documents import export as documents_export

    if hasattr(unit_of_work, "consistent_read"):
        return documents_export.export_period(actor, period_id)
    with unit_of_work.operation(actor):
        return documents_export.export_period(actor, period_id)


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in kB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(field)


def time_exports(url: str, city: dict, runs: int = 3) -> tuple[float, float, int, int]:
    """Median seconds of the render alone and of the whole export, the file's size, and how
    far one more render raised the process's resident memory above what it held before (its
    peak, VmHWM, reset first: lxml's memory counts too, which tracemalloc would not see)."""
    from app.documents import export as documents_export
    from app.documents.docx_format import render_docx
    from app.extensions import db
    from app.models import Period, User

    app = _app(url)
    with app.app_context():
        coordinator = db.session.get(User, city["coordinator_id"])
        content = documents_export.period_content(db.session.get(Period, city["period_id"]))
        renders, exports, size = [], [], 0
        for _ in range(runs):
            started = time.perf_counter()
            render_docx(content, documents_export.now(), "0" * 64)
            renders.append(time.perf_counter() - started)
        for _ in range(runs):
            started = time.perf_counter()
            size = len(_export(coordinator, city["period_id"]).data)
            exports.append(time.perf_counter() - started)
        before = _status_kb("VmRSS")
        Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from now
        render_docx(content, documents_export.now(), "0" * 64)
        peak = (_status_kb("VmHWM") - before) * 1024
        db.session.remove()
        db.engine.dispose()
    return statistics.median(renders), statistics.median(exports), size, peak


def export_loop(url: str, period_id: int, coordinator_id: int) -> None:
    """The child process: export the whole period until stdin closes; one line per export."""
    from app.extensions import db
    from app.models import User

    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    app = _app(url)
    with app.app_context():
        print("ready", flush=True)
        while not stop.is_set():
            started = time.perf_counter()
            _export(db.session.get(User, coordinator_id), period_id)
            print(f"{time.perf_counter() - started:.3f}", flush=True)


def run_writers(url: str, city: dict, writers: int, seconds: float) -> tuple[list, list]:
    """Each writer saves its own section over and over for `seconds`: (latencies, errors)."""
    from app.contributions import operations as contributions
    from app.core.unit_of_work import operation
    from app.extensions import db
    from app.models import Section, User

    app = _app(url)
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds

    def write(user_id: int, section_id: int) -> None:
        with app.app_context():
            round_number = 0
            while time.perf_counter() < deadline:
                round_number += 1
                try:
                    user = db.session.get(User, user_id)
                    version = db.session.get(Section, section_id).version
                    started = time.perf_counter()
                    with operation(user):
                        contributions.edit_section(user, section_id,
                                                   f"- Sparning {round_number} {started}", version)
                    latencies.append(time.perf_counter() - started)
                except Exception as error:  # counted and shown
                    errors.append(f"{type(error).__name__}: {str(error)[:120]}")
            db.session.remove()

    threads = [threading.Thread(target=write, args=pair) for pair in city["writers"][:writers]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        db.engine.dispose()
    return latencies, errors


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _describe(label: str, latencies: list[float], errors: list[str]) -> tuple[float, float]:
    p50, p95 = _percentile(latencies, 0.5), _percentile(latencies, 0.95)
    print(f"  {label}: {len(latencies)} saves, p50 {p50 * 1000:.0f} ms, p95 "
          f"{p95 * 1000:.0f} ms, errors {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    return p50, p95


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--areas", type=int, default=50)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--pages", help="measure the pages at these numbers of "
                        "contributions, e.g. 10,100,1000,1800")
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--export-loop", nargs=3, metavar=("URL", "PERIOD", "USER"),
                        help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.export_loop:
        url, period_id, user_id = arguments.export_loop
        export_loop(url, int(period_id), int(user_id))
        return 0
    if arguments.pages:
        return run_pages(arguments)
    with tempfile.TemporaryDirectory() as folder:
        if arguments.database == "sqlite":
            url = f"sqlite:///{Path(folder) / 'city.sqlite'}"
        else:
            url = _create_postgres(arguments.postgres, "lagesbild_bench_city")
        try:
            return _measure(url, arguments)
        finally:
            if arguments.database == "postgres":
                _create_postgres(arguments.postgres, "lagesbild_bench_city", drop_only=True)


def _measure(url: str, arguments) -> int:
    started = time.perf_counter()
    city = build_city(url, arguments.areas)
    print(f"{arguments.database}: a city of {arguments.areas} areas × {CITY_TOPICS + 1} "
          f"sections built in {time.perf_counter() - started:.1f} s")
    render, export, size, peak = time_exports(url, city)
    print(f"whole-period DOCX ({size // 1024} KB): render median {render * 1000:.0f} ms, "
          f"export (read + render + audit event) median {export * 1000:.0f} ms, "
          f"a render's peak memory {peak / 2**20:.1f} MB above the process's")
    print(f"{arguments.writers} writers, {arguments.seconds:.0f} s each way:")
    quiet = _describe("without an export", *run_writers(url, city, arguments.writers,
                                                      arguments.seconds))
    exporter = subprocess.Popen(
        [sys.executable, __file__, "--export-loop", url, str(city["period_id"]),
         str(city["coordinator_id"])], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert exporter.stdout.readline().strip() == "ready"
    time.sleep(0.5)  # its first export under way
    try:
        latencies, errors = run_writers(url, city, arguments.writers, arguments.seconds)
    finally:
        exporter.stdin.close()
        exports = [float(line) for line in exporter.stdout.read().split()]
        exporter.wait()
    busy = _describe("during exports", latencies, errors)
    print(f"  p95 during : without = {busy[1] / quiet[1]:.2f} (goal ≤ 2); {len(exports)} "
          f"exports ran, median {statistics.median(exports) * 1000:.0f} ms"
          if exports else "  no export finished")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
