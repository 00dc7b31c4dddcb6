"""Helpers for the document tests: an approved period through the real flow, the seed
document and its corrected mapping, DOCX files read back with python-docx, and PDFs read back
with pdftotext."""
from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

from docx import Document
from sqlalchemy import select

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.demo.texts import CITY_TOPICS
from app.extensions import db
from app.models import Topic, TopicScope
from tests import flow
from tests.factories import SETUP, World, advance, run

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "tests" / "fixtures" / "000_1dce9511288ad7b6.txt"
DATA = Path(__file__).resolve().parent / "data"


def seed_bytes() -> bytes:
    return SEED.read_bytes()


def seed_mapping() -> dict[str, str]:
    """The seed's mapping, corrected by a person: its local comments slid one row down
    (see tests/fixtures/README.md)."""
    return json.loads((DATA / "seed_mapping.json").read_text(encoding="utf-8"))["blocks"]


def approve_period(world: World) -> None:
    """Both areas consolidated, the consolidation submitted and approved: every contribution
    approved through the real services."""
    advance(world, "Norr", "consolidated")
    advance(world, "Söder", "consolidated")
    consolidation_id = world.period().consolidation.id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    run(world, "approver", flow.approve_consolidation, consolidation_id)


def use_seed_city_topics() -> None:
    """The seed's ten city-wide topics (the world has three, with other titles)."""
    with operation(SETUP):
        existing = {t.number: t for t in db.session.scalars(
            select(Topic).where(Topic.scope == TopicScope.CITY))}
        for number, title in enumerate(CITY_TOPICS, start=1):
            if number in existing:
                existing[number].title = title
            else:
                admin.create_topic(SETUP, title, number=number)


def add_area(name: str = "Järva") -> int:
    with operation(SETUP):
        return admin.create_area(SETUP, name, []).id


def read_docx(data: bytes):
    return Document(io.BytesIO(data))


def pdf_pages(pdf: Path, pdftotext: str) -> list[str]:
    """The text of each page of a PDF file, as pdftotext lays it out."""
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, timeout=60,
                          capture_output=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def docx_with_headings() -> bytes:
    """A lägesbild written as headings and paragraphs, no tables: the city-wide topics as a
    Word-numbered list (no digits typed), bullets from Word's list style, a local topic the
    area does not have yet as a heading, another as a wholly bold line."""
    document = Document()
    document.add_paragraph("Lägesbild september 2023 Järva", style="Title")
    document.add_heading("Stadsövergripande prioriterade områden", 1)
    document.add_paragraph(CITY_TOPICS[0], style="List Number")
    document.add_paragraph("Arbetet hanteras inom ramen för det lokalt prioriterade området "
                           "trygghet i centrum, se nedan.")
    document.add_paragraph(CITY_TOPICS[1], style="List Number")
    document.add_paragraph("Samverkan med skolorna.", style="List Bullet")
    document.add_paragraph("Sommarjobb för unga.", style="List Bullet")
    document.add_heading("Lokalt prioriterade områden", 1)
    document.add_heading("Trygghet i centrum", 2)
    document.add_paragraph("Trygghetsvandringar varje månad.")
    document.add_paragraph().add_run("Nyrekrytering").bold = True
    document.add_paragraph("Inga nya fall.", style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def docx_with_extra_columns() -> bytes:
    """A lägesbild whose title is in the page header and whose tables have a column more,
    "Ansvarig", after the comments; the city-wide table's first header is merged over its
    number and title columns (as Word users lay it out)."""
    document = Document()
    document.sections[0].header.paragraphs[0].text = "Lägesbild oktober 2023 Järva"
    document.add_paragraph("Stockholms stad, Järva stadsdelsförvaltning")
    city = document.add_table(rows=1, cols=4)
    city.style = "Table Grid"
    merged = city.rows[0].cells[0].merge(city.rows[0].cells[1])
    merged.text = "Stadsövergripande prioriterade områden"
    city.rows[0].cells[2].text, city.rows[0].cells[3].text = "Kommentarer", "Ansvarig"
    for number, (title, comment, responsible) in enumerate([
            (CITY_TOPICS[0], "Arbetet hanteras inom ramen för det lokalt prioriterade området "
                             "nyrekrytering, se nedan.", "Polisen"),
            (CITY_TOPICS[1], "Fältgruppen arbetar kvällstid.", "Stadsdelsförvaltningen")], 1):
        cells = city.add_row().cells
        cells[0].text, cells[1].text, cells[2].text, cells[3].text = (
            f"{number}.", title, comment, responsible)
    local = document.add_table(rows=1, cols=3)
    local.style = "Table Grid"
    for cell, header in zip(local.rows[0].cells, ["Lokalt prioriterade områden", "Kommentar",
                                                  "Ansvarig"], strict=True):
        cell.text = header
    cells = local.add_row().cells
    cells[0].text, cells[1].text, cells[2].text = ("Nyrekrytering", "Samverkan med skolan.",
                                                   "Stadsdelsförvaltningen")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
