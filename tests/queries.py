"""Counting SQL statements per request: a page over a period costs the same number of
statements at 10 and at 100 contributions (issue 17). The helpers the page tests share."""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

from sqlalchemy import event, func, select

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Area
from tests.factories import SETUP


def period_with_areas(areas: int, name: str | None = None) -> int:
    """Add areas (each with a local topic) up to `areas`, then open a period for all."""
    with operation(SETUP):
        existing = db.session.scalar(select(func.count()).select_from(Area))
        for index in range(existing, areas):
            admin.create_area(SETUP, f"Område {index:03d}")
            admin.create_topic(SETUP, f"Lokalt tema {index:03d}", area_name=f"Område {index:03d}")
        period = admin.create_period(
            SETUP, name or f"period med {areas} områden", drafting_deadline=date(2031, 1, 10),
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


def statements_of(request: Callable[[], object]) -> list[str]:
    """The statements one request issues, from a fresh session (nothing cached)."""
    db.session.remove()
    with counted_statements() as statements:
        response = request()
    status = getattr(response, "status_code", 200)
    assert status == 200, status
    return statements


def many_edits(world, count: int, area: str = "Norr", key: str = "drafter") -> int:
    """`count` saves of the area's first section by its drafter (each its own operation, with
    its revision and audit event, as through the page); returns the contribution's id."""
    from app.contributions import operations as contributions
    from app.models import Section

    section_id = world.sections(area)[0].id
    user = world.user(key)
    for number in range(1, count + 1):
        version = db.session.get(Section, section_id).version
        with operation(user):
            contributions.edit_section(user, section_id, f"- Läget, ändring {number}.",
                                       version)
    return world.contribution(area).id
