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
