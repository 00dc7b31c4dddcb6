"""The DOCX writer sets styles by the ids it looked up once (docx_format._Styles) instead of
python-docx's `paragraph.style = name` per paragraph: the file must be exactly the one the
documented setters write, part for part, for a whole period with bullets in every section."""
from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from app.documents import docx_format
from app.documents.docx_format import Chapter, DocumentContent, SectionContent, render_docx

MOMENT = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
FINGERPRINT = "ab" * 32


class StylesByName:
    """The documented way: python-docx's style setters, by name, on every call."""

    def __init__(self, document):
        pass

    def paragraph(self, paragraph, name: str) -> None:
        paragraph.style = name

    def table(self, table, name: str) -> None:
        table.style = name


def period(areas: int = 3, approved: bool = True) -> DocumentContent:
    chapters = []
    for area in range(areas):
        sections = [SectionContent("city", number, f"Stadstema {number}",
                                   "Inledning om läget.\n- Första punkten åäö\n- Andra punkten\n"
                                   "\nAvslutning.")
                    for number in range(1, 4)]
        sections += [SectionContent("local", None, f"Lokalt tema {area}",
                                    "- Lokal punkt\n- Ännu en lokal punkt"),
                     SectionContent("local", None, "Utan punkter", "Bara text.")]
        chapters.append(Chapter(f"Lägesbild januari 2030 Område {area}", f"Område {area}",
                                "approved" if approved else "reviewed", approved, sections))
    return DocumentContent("Lägesbild januari 2030", "januari 2030", None,
                           "Fastställd" if approved else "Öppen", approved, chapters,
                           [(f"Område {area}", "Fastställd") for area in range(areas)])


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_file_is_byte_for_byte_what_the_style_setters_write(monkeypatch):
    for content in (period(), period(approved=False)):
        fast = parts(render_docx(content, MOMENT, FINGERPRINT))
        with monkeypatch.context() as patch:
            patch.setattr(docx_format, "_Styles", StylesByName)
            documented = parts(render_docx(content, MOMENT, FINGERPRINT))
        assert fast.keys() == documented.keys()
        for name in documented:
            assert fast[name] == documented[name], name
        assert b'w:pStyle w:val="ListBullet"' in fast["word/document.xml"]
        assert b'w:tblStyle w:val="TableGrid"' in fast["word/document.xml"]
        assert b'w:pStyle w:val="Heading1"' in fast["word/document.xml"]


def test_one_area_is_byte_for_byte_what_the_style_setters_write(monkeypatch):
    content = period(areas=1)
    content.area = "Område 0"
    fast = parts(render_docx(content, MOMENT, FINGERPRINT))
    monkeypatch.setattr(docx_format, "_Styles", StylesByName)
    assert parts(render_docx(content, MOMENT, FINGERPRINT)) == fast


def test_a_word_auto_numbered_city_table_maps_its_rows(world):
    """Numbers drawn by Word's list numbering (w:numPr), not typed: every row still gets its
    number, so it maps to its topic."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from app.documents.docx_format import load_docx, read_docx_layout

    document = Document()
    document.add_paragraph("Lägesbild december 2022 Järva")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Stadsövergripande prioriterade områden"
    table.rows[0].cells[1].text = "Kommentarer"
    for title in ("Unga i risk för kriminalitet", "Otillåten påverkan", "Ordningsvakter"):
        cells = table.add_row().cells
        cells[0].text = title
        properties = cells[0].paragraphs[0]._p.get_or_add_pPr()
        numbering = OxmlElement("w:numPr")
        for tag, value in (("w:ilvl", "0"), ("w:numId", "1")):
            element = OxmlElement(tag)
            element.set(qn("w:val"), value)
            numbering.append(element)
        properties.append(numbering)
        cells[1].text = f"Kommentar om {title.lower()}."
    buffer = io.BytesIO()
    document.save(buffer)
    rows = read_docx_layout(load_docx(buffer.getvalue()), exact=False).chapters[0].rows
    assert [(r.number, r.title) for r in rows] == [
        (1, "Unga i risk för kriminalitet"), (2, "Otillåten påverkan"), (3, "Ordningsvakter")]
    assert rows[2].text == "Kommentar om ordningsvakter."
