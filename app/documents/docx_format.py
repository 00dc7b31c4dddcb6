"""The lägesbild as a Word document: what a document holds (chapters of sections), writing it
laid out like the documents the city files (title, the table of city-wide topics, the table of
local topics with bullet lists, a footer with page numbers), and reading one back, checked
first against zip bombs and XML entity tricks. Export, verify and import all use this one
format; in a section's text a line starting with "- " is a Word bullet."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from app.core.clock import shown_time
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.models import TopicScope

CITY_HEADER = ("Nr", "Stadsövergripande prioriterade områden", "Kommentarer")
LOCAL_HEADER = ("Lokalt prioriterade områden", "Kommentar")
SUMMARY_HEADER = ("Område", "Status")
DRAFT_MARK = "UTKAST"
DRAFT_NOTICE = "UTKAST – ej fastställd"
BULLET_PREFIX = "- "


@dataclass(frozen=True)
class SectionContent:
    scope: str            # "city" or "local"
    number: int | None
    title: str
    text: str

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}" if self.scope == TopicScope.CITY else self.title


@dataclass
class Chapter:
    title: str
    area: str
    state: str              # a contribution state
    approved: bool
    sections: list[SectionContent] = field(default_factory=list)
    excluded: bool = False

    @property
    def city(self) -> list[SectionContent]:
        return [s for s in self.sections if s.scope == TopicScope.CITY]

    @property
    def local(self) -> list[SectionContent]:
        return [s for s in self.sections if s.scope == TopicScope.LOCAL]


@dataclass
class DocumentContent:
    title: str
    period: str
    area: str | None        # None: the period's consolidated lägesbild
    state_label: str        # Swedish label of the contribution's or consolidation's state
    approved: bool
    chapters: list[Chapter]
    summary: list[tuple[str, str]] = field(default_factory=list)  # (area, state label)


def footer_text(content: DocumentContent, moment: datetime, fingerprint: str) -> str:
    local_time = shown_time(moment)
    state = content.state_label if content.approved else f"{content.state_label} – {DRAFT_MARK}"
    return (f"Period: {content.period} · Område: {content.area or 'alla områden'} · "
            f"Status: {state} · Exporterad {local_time} (Stockholm) · "
            f"Fingeravtryck (SHA-256): {fingerprint}")


class _Styles:
    """The document's style ids, each looked up once. python-docx's `paragraph.style = name`
    (and a table's) looks the name up, and the style type's default among every style, on each
    call: that was most of a whole-period export's time. Setting the id it would have found
    writes the same XML."""

    def __init__(self, document):
        self._part = document.part
        self._ids: dict[tuple[str, int], str | None] = {}

    def _id(self, name: str, style_type) -> str | None:
        key = (name, style_type)
        if key not in self._ids:
            self._ids[key] = self._part.get_style_id(name, style_type)
        return self._ids[key]

    def paragraph(self, paragraph, name: str) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        paragraph._p.style = self._id(name, WD_STYLE_TYPE.PARAGRAPH)

    def table(self, table, name: str) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        table._tbl.tblStyle_val = self._id(name, WD_STYLE_TYPE.TABLE)


def _write_text(cell, text: str, styles: _Styles) -> None:
    """A section's text as paragraphs: lines starting with "- " become real Word bullets."""
    paragraph = cell.paragraphs[0]
    for index, line in enumerate(text.split("\n")):
        if index:
            paragraph = cell.add_paragraph()
        if line.startswith(BULLET_PREFIX):
            styles.paragraph(paragraph, "List Bullet")
            paragraph.add_run(line[len(BULLET_PREFIX):])
        else:
            paragraph.add_run(line)


def _header_row(table, labels) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    row = table.rows[0]
    for cell, label in zip(row.cells, labels, strict=False):
        cell.paragraphs[0].add_run(label).bold = True
    # Repeat the header row on every page the table spans.
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _column_widths(table, widths) -> None:
    # Word reads the cells' widths, LibreOffice the table grid's: set both.
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=False):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=False):
            cell.width = width


def _add_chapter_tables(document, chapter: Chapter, styles: _Styles) -> None:
    from docx.shared import Cm

    city = document.add_table(rows=1, cols=3)
    styles.table(city, "Table Grid")
    _header_row(city, CITY_HEADER)
    for section in chapter.city:
        cells = city.add_row().cells
        cells[0].paragraphs[0].add_run(f"{section.number}.")
        cells[1].paragraphs[0].add_run(section.title)
        _write_text(cells[2], section.text, styles)
    _column_widths(city, (Cm(1.2), Cm(5.8), Cm(9.0)))
    document.add_paragraph()
    local = document.add_table(rows=1, cols=2)
    styles.table(local, "Table Grid")
    _header_row(local, LOCAL_HEADER)
    for section in chapter.local:
        cells = local.add_row().cells
        cells[0].paragraphs[0].add_run(section.title)
        _write_text(cells[1], section.text, styles)
    _column_widths(local, (Cm(5.0), Cm(11.0)))


def _page_setup_and_marks(document, content: DocumentContent, moment: datetime,
                          fingerprint: str) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt, RGBColor

    for section in document.sections:
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.2)
        if not content.approved:
            header = section.header.paragraphs[0]
            header.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = header.add_run(DRAFT_NOTICE)
            run.bold = True
            run.font.size = Pt(16)
            run.font.color.rgb = RGBColor(0xA4, 0x00, 0x0F)
        footer = section.footer.paragraphs[0]
        run = footer.add_run(footer_text(content, moment, fingerprint))
        run.font.size = Pt(7.5)
        _add_page_numbers(section.footer.add_paragraph(), Pt(7.5))


def _add_page_numbers(paragraph, size) -> None:
    """"Sida N av M", right-aligned: Word and LibreOffice fill in the fields as they lay out
    the pages (the 1 written here is what a reader that lays out nothing shows)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for text, field_code in (("Sida ", "PAGE"), (" av ", "NUMPAGES")):
        paragraph.add_run(text).font.size = size
        simple_field = OxmlElement("w:fldSimple")
        simple_field.set(qn("w:instr"), f" {field_code} ")
        placeholder = paragraph.add_run("1")
        placeholder.font.size = size
        simple_field.append(placeholder._r)  # the field's shown result, moved inside it
        paragraph._p.append(simple_field)


def render_docx(content: DocumentContent, moment: datetime, fingerprint: str) -> bytes:
    from docx import Document
    from docx.shared import Cm

    document = Document()
    styles = _Styles(document)
    properties = document.core_properties
    properties.title = content.title
    properties.subject = "Lägesbild"
    properties.author = "Lägesbild"
    properties.last_modified_by = "Lägesbild"
    properties.keywords = fingerprint
    properties.comments = footer_text(content, moment, fingerprint)
    properties.created = properties.modified = moment.replace(tzinfo=None)
    properties.revision = 1

    document.add_paragraph(content.title, style="Title")
    if content.area is None:
        document.add_paragraph("Sammanfattning", style="Heading 1")
        summary = document.add_table(rows=1, cols=2)
        styles.table(summary, "Table Grid")
        _header_row(summary, SUMMARY_HEADER)
        for area, state in content.summary:
            cells = summary.add_row().cells
            cells[0].paragraphs[0].add_run(area)
            cells[1].paragraphs[0].add_run(state)
        _column_widths(summary, (Cm(8.0), Cm(8.0)))
        for chapter in content.chapters:
            heading = document.add_paragraph(chapter.title)
            styles.paragraph(heading, "Heading 1")
            heading.paragraph_format.page_break_before = True  # one chapter per area
            _add_chapter_tables(document, chapter, styles)
    else:
        _add_chapter_tables(document, content.chapters[0], styles)
    _page_setup_and_marks(document, content, moment, fingerprint)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# A DOCX is a zip: cap what it may unpack to before anything parses it (zip bombs).
MAX_ZIP_MEMBERS = 500
MAX_MEMBER_BYTES = 25 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 60 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100


# A row read from a document has the shape of a section the export writes.
Row = SectionContent


@dataclass
class LayoutChapter:
    title: str
    rows: list[Row] = field(default_factory=list)

    @property
    def sections(self) -> list[tuple[str, str]]:
        return [(r.heading, r.text) for r in self.rows]


@dataclass
class Layout:
    title: str
    chapters: list[LayoutChapter]
    footer: str = ""
    format: str = "docx"


def _check_xml_part(name: str, raw: bytes) -> None:
    probe = raw
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        probe = raw.decode("utf-16", errors="ignore").encode("utf-8")
    upper = probe.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise refusal(N_("The DOCX file is refused: its part {part} declares a DOCTYPE or XML "
                         "entities, which Word never writes."), part=name)


def load_docx(data: bytes):
    """Open a DOCX safely: size caps on the zip's declared sizes before anything is unpacked,
    no DOCTYPE or entity declarations in any XML part, then python-docx (lxml without entity
    resolution)."""
    if not data:
        raise refusal(N_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise refusal(N_("The file is larger than {limit} MB."), limit=MAX_FILE_BYTES // 2**20)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise refusal(N_("The file is not a readable DOCX file (it is not a valid zip "
                         "archive).")) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise refusal(N_("The DOCX file is refused: it holds too many parts ({count})."),
                      count=len(members))
    total = 0
    for member in members:
        total += member.file_size
        if member.flag_bits & 0x1:
            raise refusal(N_("The DOCX file is encrypted or password protected."))
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > MAX_MEMBER_BYTES or total > MAX_UNCOMPRESSED_BYTES or (
                member.file_size > 1024 * 1024 and ratio > MAX_COMPRESSION_RATIO):
            raise refusal(N_("The DOCX file is refused: it would unpack to far more than its "
                             "size (a zip bomb?)."))
    names = {m.filename for m in members}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise refusal(N_("The file is a zip archive but not a DOCX document."))
    try:
        for member in members:
            if member.filename.endswith((".xml", ".rels")):
                _check_xml_part(member.filename, archive.read(member))
    except InvalidInput:
        raise
    except Exception:  # CRC errors, truncated members, unsupported compression
        raise refusal(N_("The DOCX file is damaged and cannot be read.")) from None
    from docx import Document

    try:
        return Document(io.BytesIO(data))
    except Exception:  # python-docx/lxml raise many kinds for malformed parts
        raise refusal(N_("The DOCX file is damaged and cannot be read.")) from None


def clean_line(text: str) -> str:
    return " ".join(text.translate(NO_BREAK_SPACES).split())


def _unique_cells(row) -> list:
    cells, seen = [], set()
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def _is_bullet(paragraph) -> bool:
    style = paragraph.style.name if paragraph.style is not None else ""
    if style.startswith("List Bullet"):
        return True
    p_pr = paragraph._p.pPr
    return p_pr is not None and p_pr.numPr is not None


def _cell_text(cell, exact: bool) -> str:
    """A comment cell as text: bullet paragraphs as "- " lines. `exact` keeps every character
    (to verify our own exports); otherwise the text is normalised for import."""
    lines = []
    for paragraph in cell.paragraphs:
        text = paragraph.text
        bullet = _is_bullet(paragraph)
        if not exact:
            # Keep the writer's spacing (tabs included); only no-break spaces and the ends go.
            text = text.translate(NO_BREAK_SPACES).strip()
            if text and text[0] in BULLET_CHARS:
                bullet, text = True, text[1:].strip()
            if not text:
                continue
        lines.append(f"- {text}" if bullet else text)
    return "\n".join(lines)


def _table_kind(table) -> str | None:
    if not table.rows:
        return None
    header = " ".join(c.text for c in _unique_cells(table.rows[0])).casefold()
    if CITY_HEADER_START in header:
        return "city"
    if LOCAL_HEADER_START in header:
        return "local"
    return None


_NUMBERED = re.compile(r"^\s*(\d{1,2})\s*\.?\s*(.*)$", re.DOTALL)


def _list_numbered(cell) -> bool:
    """The cell's first paragraph takes its number from Word's list numbering (w:numPr), not
    typed: the text holds no digits, the number is drawn by Word."""
    paragraphs = [p for p in cell.paragraphs if p.text.strip()] or cell.paragraphs[:1]
    p_pr = paragraphs[0]._p.pPr if paragraphs else None
    return p_pr is not None and p_pr.numPr is not None


def _table_rows(table, kind: str, exact: bool) -> list[Row]:
    rows = []
    last_number = 0
    for row in table.rows[1:]:
        cells = _unique_cells(row)
        if not cells:
            continue
        if kind == "local":
            title = cells[0].text if exact else clean_line(cells[0].text)
            text = _cell_text(cells[-1], exact) if len(cells) > 1 else ""
            if title or text:
                rows.append(Row(TopicScope.LOCAL, None, title, text))
            continue
        if len(cells) >= 3:
            number_text, title = cells[0].text, cells[1].text
        else:
            match = _NUMBERED.match(cells[0].text)
            number_text, title = (match.group(1), match.group(2)) if match else ("", cells[0].text)
        if not exact:
            title = clean_line(title)
        digits = re.search(r"\d+", number_text)
        text = _cell_text(cells[-1], exact) if len(cells) > 1 else ""
        if digits is None and not title and not text:
            continue
        number = int(digits.group()) if digits else None
        if number is None and not exact and _list_numbered(cells[0]):
            number = last_number + 1  # an auto-numbered list counts on from the last row
        last_number = number or last_number
        rows.append(Row(TopicScope.CITY, number, title, text))
    return rows


def read_docx_layout(document, exact: bool = True) -> Layout:
    """The title, chapters (one per area; a period's document has several) and footer."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    title = None
    chapters: list[LayoutChapter] = []
    current = None
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text.strip()
            style = paragraph.style.name if paragraph.style is not None else ""
            if not text.casefold().startswith("lägesbild"):
                continue
            if title is None:
                title = text
            elif style.startswith("Heading"):
                current = LayoutChapter(text)
                chapters.append(current)
        elif tag == "tbl":
            table = Table(child, document)
            kind = _table_kind(table)
            if kind is None:
                continue
            if current is None:
                current = LayoutChapter(title or "")
                chapters.append(current)
            current.rows.extend(_table_rows(table, kind, exact))
    footer = "\n".join(p.text for s in document.sections for p in s.footer.paragraphs)
    return Layout(title or "", chapters, footer, "docx")


MAX_FILE_BYTES = 10 * 1024 * 1024
BULLET_CHARS = "\uf0fc\uf0b7\uf0a7\uf076\uf0d8•▪◦●■‣⁃"
NO_BREAK_SPACES = {0x00A0: " ", 0x202F: " ", 0x2007: " "}
CITY_HEADER_START = "stadsövergripande prioriterade områden"
LOCAL_HEADER_START = "lokalt prioriterade områden"


def refusal(template: str, **params) -> InvalidInput:
    return InvalidInput(Msg(template, **params))


_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT_TAGS = {f"{_WORD}t", f"{_WORD}delText", f"{_WORD}instrText"}
_BREAK_TAGS = {f"{_WORD}tab": "\t", f"{_WORD}br": "\n", f"{_WORD}cr": "\n"}


def reader_text(data: bytes) -> str:
    """Everything a reader of the (already checked) DOCX can see or find in it, a line per
    paragraph: the body with its tables first, then headers, footers, notes and comments, then
    the document's properties and any other part's text and attribute values. The
    identity-number guard reads it before any of the file is kept."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    archive = zipfile.ZipFile(io.BytesIO(data))
    # Every XML part (custom XML too): the whole file is what a pending upload keeps.
    names = sorted((n for n in archive.namelist() if n.endswith((".xml", ".rels"))),
                   key=lambda n: (n != "word/document.xml", not n.startswith("word/"), n))
    lines: list[str] = []
    for name in names:
        try:
            root = etree.fromstring(archive.read(name), parser)
        except etree.XMLSyntaxError:
            raise refusal(N_("The DOCX file is damaged and cannot be read.")) from None
        if not name.startswith("word/") or name.endswith(".rels"):
            lines.extend(text for text in root.itertext() if text.strip())
            lines.extend(value for node in root.iter() for value in node.attrib.values()
                         if any(ch.isdigit() for ch in value))
            continue
        for paragraph in root.iter(f"{_WORD}p"):
            parts = [node.text or "" if node.tag in _TEXT_TAGS else _BREAK_TAGS[node.tag]
                     for node in paragraph.iter(*_TEXT_TAGS, *_BREAK_TAGS)]
            lines.append("".join(parts))
    return "\n".join(lines)
