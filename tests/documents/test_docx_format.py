"""The DOCX writer sets styles by the ids it looked up once (docx_format._Styles) instead of
python-docx's `paragraph.style = name` per paragraph, and builds the tables' rows as XML
instead of through python-docx's `add_row`/`add_run`: the file must be exactly the one the
documented API writes, part for part, for a whole period with bullets in every section and for
any text people paste.
And what makes it a document the city would sign, checked in its XML: Swedish, the template's
fonts, rows that never split, headings kept with their text, the approval line and the audit
head in the footer, the consolidated summary."""
from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from app.documents import docx_format
from app.documents.approval import Approval
from app.documents.docx_format import (
    Chapter,
    DocumentContent,
    SectionContent,
    read_docx_layout,
    render_docx,
)
from app.documents.export import FINGERPRINT_RE
from tests.documents.support import read_docx

MOMENT = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
FINGERPRINT = "ab" * 32


class DocumentedTables:
    """The documented way to write the tables, as the writer did before it built rows' XML
    itself: python-docx's `add_row`, `cell.paragraphs`, `add_run`, the style setters by name
    on every call, and every row's and cell's properties through its setters."""

    @staticmethod
    def run(paragraph, text: str):
        run = paragraph.add_run(text)
        run._r.get_or_add_rPr().insert_element_before(
            docx_format._element("w:lang", val=docx_format.LANGUAGE),
            "w:eastAsianLayout", "w:specVanish", "w:oMath")
        return run

    @classmethod
    def write_text(cls, cell, text: str) -> None:
        paragraph = cell.paragraphs[0]
        for index, line in enumerate(text.split("\n")):
            if index:
                paragraph = cell.add_paragraph()
            if line.startswith(docx_format.BULLET_PREFIX):
                paragraph.style = "List Bullet"
                cls.run(paragraph, line[len(docx_format.BULLET_PREFIX):])
            else:
                cls.run(paragraph, line)

    @classmethod
    def table(cls, document, styles, header, rows, shares, text_width) -> None:
        table = document.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, label in zip(table.rows[0].cells, header, strict=False):
            cls.run(cell.paragraphs[0], label).bold = True
            cell.paragraphs[0].paragraph_format.keep_with_next = True
        table.rows[0]._tr.get_or_add_trPr().append(
            docx_format._element("w:tblHeader", val="true"))
        for values in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells[:-1], values[:-1], strict=False):
                cls.run(cell.paragraphs[0], value)
            cls.write_text(cells[-1], values[-1])
        widths = [int(text_width * share) for share in shares]
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=False):
            column.width = width
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = width
            row._tr.get_or_add_trPr().insert(0, docx_format._element("w:cantSplit", val="true"))


class StylesByName:
    """The documented way for the other paragraphs: python-docx's style setters, by name."""

    def __init__(self, document):
        pass

    def paragraph(self, paragraph, name: str) -> None:
        paragraph.style = name

    def table(self, table, name: str) -> None:
        table.style = name


def documented(monkeypatch):
    monkeypatch.setattr(docx_format, "_Styles", StylesByName)
    monkeypatch.setattr(docx_format, "_table", DocumentedTables.table)


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
            documented(patch)
            written = parts(render_docx(content, MOMENT, FINGERPRINT))
        assert fast.keys() == written.keys()
        for name in written:
            assert fast[name] == written[name], name
        assert b'w:pStyle w:val="ListBullet"' in fast["word/document.xml"]
        assert b'w:tblStyle w:val="TableGrid"' in fast["word/document.xml"]
        assert b'w:pStyle w:val="Heading1"' in fast["word/document.xml"]


def test_one_area_is_byte_for_byte_what_the_style_setters_write(monkeypatch):
    content = period(areas=1)
    content.area = "Område 0"
    fast = parts(render_docx(content, MOMENT, FINGERPRINT))
    documented(monkeypatch)
    assert parts(render_docx(content, MOMENT, FINGERPRINT)) == fast


# Tabs, breaks, spaces at either end, empty lines, bullets with nothing after the dash, a
# lone dash, Swedish letters: the pieces of texts people paste.
PIECES = ("- ", "  ", "\t", "\n", "\r\n", "ord", "Åäö", " - ", "-", "\n- ", " x ", "\n\n")


def test_any_text_is_written_as_the_documented_api_writes_it(monkeypatch):
    import dataclasses
    import random

    generator = random.Random(17)

    def text() -> str:
        return "".join(generator.choice(PIECES) for _ in range(generator.randint(0, 12)))

    for _ in range(20):
        content = period(areas=2, approved=generator.random() < 0.5)
        content.chapters = [
            dataclasses.replace(chapter, sections=[
                dataclasses.replace(section, title=text().replace("\n", " "), text=text())
                for section in chapter.sections])
            for chapter in content.chapters]
        content.summary = [(text(), text()) for _ in range(2)]
        for area in (None, "Område 0"):
            content.area = area
            fast = parts(render_docx(content, MOMENT, FINGERPRINT))
            with monkeypatch.context() as patch:
                documented(patch)
                assert parts(render_docx(content, MOMENT, FINGERPRINT)) == fast


# -- what a document the city would sign holds, read in its XML ------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
APPROVAL = Approval("consolidation.approve", "Anna Andersson",
                    datetime(2030, 2, 3, 9, 30, tzinfo=UTC), 57, 57)


def xml(data: bytes, name: str):
    from lxml import etree

    return etree.fromstring(parts(data)[name])


def attribute(element, name: str) -> str | None:
    return element.get(f"{{{W}}}{name}")


def approved_period() -> DocumentContent:
    content = period()
    content.approval = APPROVAL
    content.audit_head = (58, "c0ffee" * 10 + "beef")
    return content


def test_the_document_is_swedish_in_its_styles_its_runs_and_its_properties():
    data = render_docx(approved_period(), MOMENT, FINGERPRINT)
    styles = xml(data, "word/styles.xml")
    default = styles.find("w:docDefaults/w:rPrDefault/w:rPr/w:lang", NS)
    assert attribute(default, "val") == "sv-SE"
    assert {attribute(lang, "val") for lang in styles.iterfind(".//w:lang", NS)} == {"sv-SE"}
    settings = xml(data, "word/settings.xml")
    assert attribute(settings.find("w:themeFontLang", NS), "val") == "sv-SE"
    for part in ("word/document.xml", "word/footer1.xml"):
        runs = xml(data, part).findall(".//w:r", NS)
        assert runs and all(attribute(r.find("w:rPr/w:lang", NS), "val") == "sv-SE"
                            for r in runs), part
    assert b"en-US" not in parts(data)["word/styles.xml"]
    assert read_docx(data).core_properties.language == "sv-SE"


def test_the_fonts_are_the_templates_not_python_docx_defaults():
    data = render_docx(approved_period(), MOMENT, FINGERPRINT)
    styles = parts(data)["word/styles.xml"]
    assert b"Cambria" not in styles and b"Calibri" not in styles
    assert b"majorHAnsi" not in styles and b"minorHAnsi" not in styles
    defaults = xml(data, "word/styles.xml").find("w:docDefaults/w:rPrDefault/w:rPr/w:rFonts", NS)
    assert {attribute(defaults, n) for n in ("ascii", "hAnsi", "cs", "eastAsia")} == {"Arial"}
    document = read_docx(data)
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet"):
        style = document.styles[name]
        font = style.font.name
        while font is None and style.base_style is not None:
            style = style.base_style
            font = style.font.name
        assert (name, font or attribute(defaults, "ascii")) == (name, "Arial")
    paragraph_defaults = xml(data, "word/styles.xml").find(
        "w:docDefaults/w:pPrDefault/w:pPr", NS)
    assert paragraph_defaults.find("w:widowControl", NS) is not None  # no lone lines
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21, 29.7)


def test_no_table_row_splits_across_pages_and_headers_repeat_with_their_first_row():
    document = xml(render_docx(approved_period(), MOMENT, FINGERPRINT), "word/document.xml")
    tables = document.findall(".//w:tbl", NS)
    assert len(tables) == 1 + 3 + 3 * 2  # areas, one per city-wide topic, two per area
    for table in tables:
        rows = table.findall("w:tr", NS)
        for row in rows:
            properties = row.find("w:trPr", NS)
            assert attribute(properties.find("w:cantSplit", NS), "val") == "true"
            # cantSplit before tblHeader: the order the schema (and Word) wants
            assert [child.tag.rsplit("}")[1] for child in properties][0] == "cantSplit"
        header = rows[0]
        assert attribute(header.find("w:trPr/w:tblHeader", NS), "val") == "true"
        assert all(p.find("w:pPr/w:keepNext", NS) is not None
                   for p in header.iterfind(".//w:p", NS))
        assert all(row.find("w:trPr/w:tblHeader", NS) is None for row in rows[1:])


def test_every_heading_keeps_with_the_text_after_it():
    document = read_docx(render_docx(approved_period(), MOMENT, FINGERPRINT))
    headings = [p for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert [p.text for p in headings if p.style.name == "Heading 2"] == [
        "1. Stadstema 1", "2. Stadstema 2", "3. Stadstema 3"]
    assert all(p.paragraph_format.keep_with_next for p in headings)
    # A topic's heading is followed directly by its table, an area's by its first table.
    for heading in headings:
        if heading.style.name == "Heading 2" or heading.text.startswith("Lägesbild"):
            assert heading._p.getnext().tag == f"{{{W}}}tbl", heading.text


def test_the_approval_line_says_who_approved_when_and_by_which_decision():
    data = render_docx(approved_period(), MOMENT, FINGERPRINT)
    document = read_docx(data)
    line = ("Fastställd av Anna Andersson 2030-02-03 10:30 genom beslutet att fastställa "
            "periodens sammanställning (granskningsloggens händelse 57)")
    assert [p.text for p in document.paragraphs[:5]] == [  # the cover
        "Lägesbild januari 2030", "Stadsövergripande lägesbild", "Period: januari 2030",
        "Status: Fastställd", line]
    one_area = approved_period()
    one_area.area, one_area.chapters = "Område 0", one_area.chapters[:1]
    area_document = read_docx(render_docx(one_area, MOMENT, FINGERPRINT))
    assert area_document.paragraphs[1].text == line  # under the title
    footer = document.sections[0].footer.paragraphs[0].text
    first, second = footer.split("\n")
    assert first.endswith(f"Fingeravtryck (SHA-256): {FINGERPRINT}")
    assert second == ("Granskningsloggen vid exporten: händelse 58, c0ffeec0ffeec0ff · " + line)
    assert document.core_properties.comments == first


def test_an_imported_documents_line_says_imported_and_a_draft_has_none():
    content = approved_period()
    content.approval = Approval("document.import", "Ingrid Import",
                                datetime(2030, 2, 3, 9, 30, tzinfo=UTC), 12, 12)
    document = read_docx(render_docx(content, MOMENT, FINGERPRINT))
    assert document.paragraphs[4].text == (
        "Importerad av Ingrid Import 2030-02-03 10:30 från ett tidigare fastställt dokument "
        "(granskningsloggens händelse 12)")
    draft = period(approved=False)
    draft.audit_head = (7, "ab" * 32)
    document = read_docx(render_docx(draft, MOMENT, FINGERPRINT))
    footer = document.sections[0].footer.paragraphs[0].text
    assert footer.split("\n")[1] == "Granskningsloggen vid exporten: händelse 7, abababababababab"
    assert "Fastställd av" not in footer
    assert document.paragraphs[1].text == "Stadsövergripande lägesbild"


def test_the_footer_holds_one_64_digit_hash_the_fingerprint():
    data = render_docx(approved_period(), MOMENT, FINGERPRINT)
    footer = "\n".join(p.text for p in read_docx(data).sections[0].footer.paragraphs)
    assert FINGERPRINT_RE.findall(footer) == [FINGERPRINT]


def test_the_consolidated_summary_reads_back_as_it_was_written():
    content = approved_period()
    layout = read_docx_layout(read_docx(render_docx(content, MOMENT, FINGERPRINT)))
    assert layout.topics == content.topics
    assert [heading for heading, _ in layout.topics] == [
        "1. Stadstema 1", "2. Stadstema 2", "3. Stadstema 3"]
    assert [area for area, _ in layout.topics[0][1]] == ["Område 0", "Område 1", "Område 2"]
    assert [c.title for c in layout.chapters] == [c.title for c in content.chapters]


def test_the_shipped_template_is_the_one_its_script_makes():
    """tools/docx_template.py is how the default template is made: the file in the package is
    its output (the same parts, the same styles)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "docx_template", docx_format.DEFAULT_TEMPLATE.parents[3] / "tools" / "docx_template.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    built, shipped = parts(script.build()), parts(docx_format.DEFAULT_TEMPLATE.read_bytes())
    assert built.keys() == shipped.keys()
    for name in ("word/styles.xml", "word/settings.xml", "word/document.xml"):
        assert built[name] == shipped[name], name


def test_a_row_longer_than_a_page_still_prints_whole(tmp_path):
    """cantSplit keeps rows together; a comment taller than a page is the one row a word
    processor must break anyway, and LibreOffice does: no line of it is lost."""
    import shutil
    import subprocess

    import pytest

    from tests.documents.support import pdf_pages

    soffice, pdftotext = shutil.which("soffice"), shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        pytest.skip("LibreOffice (soffice) or pdftotext (poppler-utils) is not installed")
    content = approved_period()
    long_text = "\n".join(f"- Rad {number} i en mycket lång kommentar" for number in range(1, 121))
    first = content.chapters[0].sections[0]
    content.chapters[0].sections[0] = SectionContent(first.scope, first.number, first.title,
                                                     long_text)
    source = tmp_path / "long.docx"
    source.write_bytes(render_docx(content, MOMENT, FINGERPRINT))
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                   check=True, timeout=180, capture_output=True)
    text = "\n".join(pdf_pages(tmp_path / "long.pdf", pdftotext))
    for number in range(1, 121):  # in the summary and in the area's own table
        assert text.count(f"Rad {number} i en mycket lång kommentar") == 2, number


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
