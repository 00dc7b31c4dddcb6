"""The whole period's documents (the print view and the DOCX export) and the documents index
cost the same number of SQL statements at 10 and at 100 contributions: areas, sections and
topics are loaded with the contributions, not one query per row. Counted with an engine event
listener (tests/queries.py)."""
from __future__ import annotations

from app.documents.export import export_period
from app.extensions import db
from tests.queries import counted_statements, period_with_areas, statements_of


def test_the_print_view_and_export_of_a_period_do_not_grow_with_its_areas(world, web):
    small, large = period_with_areas(10), period_with_areas(100)
    web.log_in_as("consolidator")
    printed, exported = {}, {}
    for period_id in (small, large):
        printed[period_id] = len(statements_of(
            lambda period_id=period_id: web.client.get(f"/periods/{period_id}/print")))
        db.session.remove()
        with counted_statements() as statements:
            export_period(world.user("consolidator"), period_id)
        exported[period_id] = len(statements)
    assert printed[small] == printed[large], printed
    assert exported[small] == exported[large], exported


def test_the_documents_index_does_not_grow_with_the_areas(world, web):
    counts = {}
    for key in ("consolidator", "drafter", "reviewer"):
        web.log_in_as(key)
        counts[key] = []
        web.log_out()
    for areas in (10, 100):
        period_with_areas(areas)
        for key in counts:
            web.log_in_as(key)
            counts[key].append(len(statements_of(lambda: web.client.get("/documents/"))))
            web.log_out()
    assert all(small == large for small, large in counts.values()), counts
