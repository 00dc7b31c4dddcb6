"""The whole period's documents (the print view and the DOCX export) cost the same number of
SQL statements at 10 and at 100 contributions: areas, sections and topics are loaded with
the contributions, not one query per row. Counted with an engine event listener."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date

from sqlalchemy import event, func, select

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.documents.export import export_period
from app.extensions import db
from app.models import Area
from tests.factories import SETUP


def period_with_areas(areas: int) -> int:
    """Add areas (each with a local topic) up to `areas`, then open a period for all."""
    with operation(SETUP):
        existing = db.session.scalar(select(func.count()).select_from(Area))
        for index in range(existing, areas):
            admin.create_area(SETUP, f"Område {index:03d}")
            admin.create_topic(SETUP, f"Lokalt tema {index:03d}", area_name=f"Område {index:03d}")
        period = admin.create_period(
            SETUP, f"period med {areas} områden", drafting_deadline=date(2031, 1, 10),
            review_deadline=date(2031, 1, 17), consolidation_deadline=date(2031, 1, 24),
            approval_deadline=date(2031, 1, 31))
        return period.id


@contextmanager
def counted_statements():
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_print_view_and_export_of_a_period_do_not_grow_with_its_areas(world, web):
    small, large = period_with_areas(10), period_with_areas(100)
    web.log_in_as("consolidator")
    printed, exported = {}, {}
    for period_id in (small, large):
        db.session.remove()
        with counted_statements() as statements:
            response = web.client.get(f"/periods/{period_id}/print")
        assert response.status_code == 200
        printed[period_id] = len(statements)
        db.session.remove()
        with counted_statements() as statements:
            export_period(world.user("consolidator"), period_id)
        exported[period_id] = len(statements)
    assert printed[small] == printed[large], printed
    assert exported[small] == exported[large], exported
