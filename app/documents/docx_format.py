"""The lägesbild as a Word document: what a document holds (chapters of sections), writing it
into the city's Word template laid out like the documents the city files (title, the table of
city-wide topics, the table of local topics with bullet lists, a footer with page numbers and
the approval; for a period, a cover page and a summary per city-wide topic first), and reading
one back, checked first against zip bombs and XML entity tricks. Export, verify and import all
use this one format; in a section's text a line starting with "- " is a Word bullet."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.clock import shown_time
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.models import TopicScope

if TYPE_CHECKING:
    from app.documents.approval import Approval

CITY_HEADER = ("Nr", "Stadsövergripande prioriterade områden", "Kommentarer")
LOCAL_HEADER = ("Lokalt prioriterade områden", "Kommentar")
SUMMARY_HEADER = ("Område", "Status")
TOPIC_HEADER = ("Område", "Kommentar")
AREAS_HEADING = "Områden och status"
TOPIC_SUMMARY_HEADING = "Sammanfattning per stadsövergripande område"
TOPIC_SUMMARY_INTRO = ("Varje stadsövergripande prioriterat område med alla områdenas "
                       "kommentarer, sida vid sida. Områdenas hela lägesbilder följer.")
CITY_SUBTITLE = "Stadsövergripande lägesbild"
DRAFT_MARK = "UTKAST"
DRAFT_NOTICE = "UTKAST – ej fastställd"
BULLET_PREFIX = "- "
LANGUAGE = "sv-SE"  # Word spell-checks and hyphenates the document as Swedish
# The neutral template used when LAGESBILD_DOCX_TEMPLATE is unset (tools/docx_template.py).
DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "docx" / "lagesbild.docx"
# The columns' shares of the text width (the city table: number, topic, comment).
CITY_COLUMNS, LOCAL_COLUMNS, TWO_COLUMNS = (0.075, 0.3625, 0.5625), (0.3125, 0.6875), (0.5, 0.5)
TOPIC_COLUMNS = (0.25, 0.75)


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


# A city-wide topic across the areas: its heading and each area's (name, text).
TopicSummary = tuple[str, list[tuple[str, str]]]


@dataclass
class DocumentContent:
    title: str
    period: str
    area: str | None        # None: the period's consolidated lägesbild
    state_label: str        # Swedish label of the contribution's or consolidation's state
    approved: bool
    chapters: list[Chapter]
    summary: list[tuple[str, str]] = field(default_factory=list)  # (area, state label)
    approval: Approval | None = None  # who approved it, when, by which decision
    audit_head: tuple[int, str] | None = None  # the trail's (seq, hash) the export read

    @property
    def topics(self) -> list[TopicSummary]:
        """The consolidated document's summary: each city-wide topic with every area's text
        for it (the consolidation page's side-by-side view), from the chapters themselves.
        An area's document has none."""
        if self.area is not None:
            return []
        numbers: dict[str, int | None] = {}
        texts: dict[str, list[tuple[str, str]]] = {}
        for chapter in self.chapters:
            for section in chapter.city:
                numbers.setdefault(section.heading, section.number)
                texts.setdefault(section.heading, []).append((chapter.area, section.text))
        order = sorted(numbers, key=lambda h: (numbers[h] is None, numbers[h] or 0))
        return [(heading, texts[heading]) for heading in order]


def approval_line(content: DocumentContent) -> str:
    return content.approval.line() if content.approved and content.approval else ""


def footer_text(content: DocumentContent, moment: datetime, fingerprint: str) -> str:
    """The footer on every page: what the document is, when it was exported, its fingerprint;
    then the audit trail's head it was read at and, approved, who approved it (on a line of
    its own: the fingerprint is the only 64-digit hash in it)."""
    local_time = shown_time(moment)
    state = content.state_label if content.approved else f"{content.state_label} – {DRAFT_MARK}"
    text = (f"Period: {content.period} · Område: {content.area or 'alla områden'} · "
            f"Status: {state} · Exporterad {local_time} (Stockholm) · "
            f"Fingeravtryck (SHA-256): {fingerprint}")
    second = []
    if content.audit_head is not None:
        seq, head_hash = content.audit_head
        second.append(f"Granskningsloggen vid exporten: händelse {seq}, {head_hash[:16]}")
    if approval_line(content):
        second.append(approval_line(content))
    return f"{text}\n{' · '.join(second)}" if second else text


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


def _element(tag: str, **attributes):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for name, value in attributes.items():
        element.set(qn(f"w:{name}"), value)
    return element


def _run(paragraph, text: str):
    """A run marked Swedish itself, whatever the template's styles say."""
    run = paragraph.add_run(text)
    run._r.get_or_add_rPr().insert_element_before(
        _element("w:lang", val=LANGUAGE), "w:eastAsianLayout", "w:specVanish", "w:oMath")
    return run


def _text_run(paragraph_element, text: str):
    """A run appended to a paragraph's XML as `paragraph.add_run(text)` followed by `_run`'s
    language mark writes it, built with lxml directly: python-docx's element machinery
    (each child placed by searching its successors) was most of a whole-period render."""
    from docx.oxml.ns import qn
    from lxml import etree

    run = etree.SubElement(paragraph_element, qn("w:r"))
    properties = etree.SubElement(run, qn("w:rPr"))
    etree.SubElement(properties, qn("w:lang")).set(qn("w:val"), LANGUAGE)
    if not text:
        return run
    if "\t" in text or "\r" in text or "\n" in text:
        run.text = text  # python-docx's own tab and break elements (CT_R.text)
        return run
    text_element = etree.SubElement(run, qn("w:t"))
    text_element.text = text
    if len(text.strip()) < len(text):
        text_element.set(qn("xml:space"), "preserve")
    return run


def _write_text(cell_element, text: str, bullet_style: str | None) -> None:
    """A section's text as paragraphs in a cell's XML: lines starting with "- " become real
    Word bullets (the paragraph style `bullet_style`)."""
    from docx.oxml.ns import qn
    from lxml import etree

    for line in text.split("\n"):
        paragraph = etree.SubElement(cell_element, qn("w:p"))
        if line.startswith(BULLET_PREFIX):
            paragraph_properties = etree.SubElement(paragraph, qn("w:pPr"))
            if bullet_style is not None:
                etree.SubElement(paragraph_properties, qn("w:pStyle")).set(
                    qn("w:val"), bullet_style)
            line = line[len(BULLET_PREFIX):]
        _text_run(paragraph, line)


def _header_row(table, labels) -> None:
    row = table.rows[0]
    for cell, label in zip(row.cells, labels, strict=False):
        paragraph = cell.paragraphs[0]
        _run(paragraph, label).bold = True
        # The header never ends a page alone: it goes with the first row.
        paragraph.paragraph_format.keep_with_next = True
    # Repeat the header row on every page the table spans; and (as every row) never split.
    properties = row._tr.get_or_add_trPr()
    properties.append(_element("w:cantSplit", val="true"))
    properties.append(_element("w:tblHeader", val="true"))


def _column_widths(table, widths) -> None:
    # Word reads the cells' widths, LibreOffice the table grid's: set both (the rows after
    # the header are written with theirs, _body_row).
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=False):
        column.width = width
    for cell, width in zip(table.rows[0].cells, widths, strict=False):
        cell.width = width


def _body_row(values, widths: list[str], bullet_style: str | None):
    """A row's XML: a row that never splits across pages (a topic's heading stays beside its
    text, no lone line of a comment under the repeated header on the next page), plain text
    cells, the last one a section's text with its bullets."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from lxml import etree

    row = OxmlElement("w:tr")
    etree.SubElement(etree.SubElement(row, qn("w:trPr")), qn("w:cantSplit")).set(
        qn("w:val"), "true")
    last = len(values) - 1
    for index, (value, width) in enumerate(zip(values, widths, strict=False)):
        cell = etree.SubElement(row, qn("w:tc"))
        cell_width = etree.SubElement(etree.SubElement(cell, qn("w:tcPr")), qn("w:tcW"))
        cell_width.set(qn("w:type"), "dxa")
        cell_width.set(qn("w:w"), width)
        if index == last:
            _write_text(cell, value, bullet_style)
        else:
            _text_run(etree.SubElement(cell, qn("w:p")), value)
    return row


def _table(document, styles: _Styles, header, rows, shares, text_width) -> None:
    """A table with a repeated header and one row per (cells...): plain text cells, the last
    one a section's text with its bullets."""
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.simpletypes import ST_TwipsMeasure

    table = document.add_table(rows=1, cols=len(header))
    styles.table(table, "Table Grid")
    _header_row(table, header)
    widths = [int(text_width * share) for share in shares]
    _column_widths(table, widths)
    shown_widths = [ST_TwipsMeasure.convert_to_xml(width) for width in widths]
    bullet_style = styles._id("List Bullet", WD_STYLE_TYPE.PARAGRAPH)
    for values in rows:
        table._tbl.append(_body_row(values, shown_widths, bullet_style))


def _add_chapter_tables(document, chapter: Chapter, styles: _Styles, text_width) -> None:
    _table(document, styles, CITY_HEADER,
           [(f"{s.number}.", s.title, s.text) for s in chapter.city], CITY_COLUMNS, text_width)
    document.add_paragraph()
    _table(document, styles, LOCAL_HEADER, [(s.title, s.text) for s in chapter.local],
           LOCAL_COLUMNS, text_width)


def _heading(document, styles: _Styles, text: str, level: int, new_page: bool = False):
    heading = document.add_paragraph()
    _run(heading, text)
    styles.paragraph(heading, f"Heading {level}")
    heading.paragraph_format.keep_with_next = True  # a heading never ends a page
    if new_page:
        heading.paragraph_format.page_break_before = True
    return heading


def _cover(document, content: DocumentContent, styles: _Styles, text_width) -> None:
    """The consolidated document's first page: what it is, its state and approval, and the
    areas with the state of each; the summary starts on the next page."""
    from docx.shared import Pt

    subtitle = document.add_paragraph()
    _run(subtitle, CITY_SUBTITLE).font.size = Pt(16)
    for line in (f"Period: {content.period}", f"Status: {content.state_label}",
                 approval_line(content)):
        if line:
            _run(document.add_paragraph(), line)
    _heading(document, styles, AREAS_HEADING, 1)
    _table(document, styles, SUMMARY_HEADER, content.summary, TWO_COLUMNS, text_width)
    _heading(document, styles, TOPIC_SUMMARY_HEADING, 1, new_page=True)
    _run(document.add_paragraph(), TOPIC_SUMMARY_INTRO)
    for heading, texts in content.topics:
        _heading(document, styles, heading, 2)
        _table(document, styles, TOPIC_HEADER, texts, TOPIC_COLUMNS, text_width)


def _marks(document, content: DocumentContent, moment: datetime, fingerprint: str) -> None:
    """UTKAST in the header of a draft, the footer with its page numbers: on every page, below
    whatever the template's header and footer hold (a logo, the city's address)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    even_pages = document.settings.odd_and_even_pages_header_footer
    for section in document.sections:
        # A template with its own first page or even pages has a header and footer for each.
        variants = [(section.header, section.footer)]
        if section.different_first_page_header_footer:
            variants.append((section.first_page_header, section.first_page_footer))
        if even_pages:
            variants.append((section.even_page_header, section.even_page_footer))
        for header_part, footer_part in variants:
            if not content.approved:
                header = _free_paragraph(header_part)
                header.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run = _run(header, DRAFT_NOTICE)
                run.bold = True
                run.font.size = Pt(16)
                run.font.color.rgb = RGBColor(0xA4, 0x00, 0x0F)
            footer = _free_paragraph(footer_part)
            _run(footer, footer_text(content, moment, fingerprint)).font.size = Pt(7.5)
            _add_page_numbers(footer_part.add_paragraph(), Pt(7.5))


def _free_paragraph(part):
    """The header's or footer's paragraph to write in: its only one if empty (a template
    without a header), else a new one after what the template put there."""
    paragraphs = part.paragraphs
    if len(paragraphs) == 1 and not paragraphs[0].text and not paragraphs[0]._p.xpath(
            ".//w:drawing|.//w:pict"):
        return paragraphs[0]
    return part.add_paragraph()


def _add_page_numbers(paragraph, size) -> None:
    """"Sida N av M", right-aligned: Word and LibreOffice fill in the fields as they lay out
    the pages (the 1 written here is what a reader that lays out nothing shows)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for text, field_code in (("Sida ", "PAGE"), (" av ", "NUMPAGES")):
        _run(paragraph, text).font.size = size
        simple_field = _element("w:fldSimple", instr=f" {field_code} ")
        placeholder = _run(paragraph, "1")
        placeholder.font.size = size
        simple_field.append(placeholder._r)  # the field's shown result, moved inside it
        paragraph._p.append(simple_field)


def _swedish_styles(document) -> None:
    """Swedish as the language of the document's defaults and of every style that names one,
    whatever language the template was made in."""
    from docx.oxml.ns import qn

    styles = document.styles.element
    for language in styles.iter(qn("w:lang")):
        language.set(qn("w:val"), LANGUAGE)
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = _element("w:docDefaults")
        styles.insert(0, defaults)
    run_defaults = defaults.find(qn("w:rPrDefault"))
    if run_defaults is None:
        run_defaults = _element("w:rPrDefault")
        defaults.insert(0, run_defaults)
    properties = run_defaults.find(qn("w:rPr"))
    if properties is None:
        properties = _element("w:rPr")
        run_defaults.append(properties)
    if properties.find(qn("w:lang")) is None:
        properties.append(_element("w:lang", val=LANGUAGE))
    theme_language = document.settings.element.find(qn("w:themeFontLang"))
    if theme_language is not None:
        theme_language.set(qn("w:val"), LANGUAGE)


def _empty_body(document) -> None:
    """The template's own text goes; its page set-up (the body's last sectPr) stays."""
    from docx.oxml.ns import qn

    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def render_docx(content: DocumentContent, moment: datetime, fingerprint: str,
                template: bytes | None = None) -> bytes:
    """The document written into the template (a DOCX file's bytes; None: the package's
    neutral one): its fonts, styles, header and page set-up; Swedish throughout."""
    from docx import Document

    document = Document(io.BytesIO(template) if template else str(DEFAULT_TEMPLATE))
    _empty_body(document)
    _swedish_styles(document)
    styles = _Styles(document)
    properties = document.core_properties
    properties.title = content.title
    properties.subject = "Lägesbild"
    properties.author = "Lägesbild"
    properties.last_modified_by = "Lägesbild"
    properties.keywords = fingerprint
    # The footer's first line (core properties hold at most 255 characters).
    properties.comments = footer_text(content, moment, fingerprint).split("\n")[0][:255]
    properties.language = LANGUAGE
    properties.created = properties.modified = moment.replace(tzinfo=None)
    properties.revision = 1
    page = document.sections[-1]
    text_width = page.page_width - page.left_margin - page.right_margin

    title = document.add_paragraph()
    _run(title, content.title)
    styles.paragraph(title, "Title")
    if content.area is None:
        _cover(document, content, styles, text_width)
        for chapter in content.chapters:
            # One chapter per area, each from a new page.
            _heading(document, styles, chapter.title, 1, new_page=True)
            _add_chapter_tables(document, chapter, styles, text_width)
    else:
        if approval_line(content):
            _run(document.add_paragraph(), approval_line(content))
        _add_chapter_tables(document, content.chapters[0], styles, text_width)
    _marks(document, content, moment, fingerprint)
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
    topics: list[TopicSummary] = field(default_factory=list)  # a period's summary per topic
    ignored_columns: list[str] = field(default_factory=list)  # headed columns not imported
    # An import's lines that belong to no topic (a letterhead, an introduction): not imported,
    # and the preview says so.
    outside_text: list[str] = field(default_factory=list)


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


@dataclass(frozen=True)
class ColumnPlan:
    """Which of a table's grid columns hold the number, the title and the comment, by their
    headers ("Kommentar(er)"), so a column the lägesbild does not have ("Ansvarig") is left
    out, not read as the comment; and the headers of the columns left out."""

    keep: tuple[int, ...]   # (number,) title, comment
    ignored: tuple[str, ...]


_NUMBER_HEADERS = {"nr", "nr.", "#"}


def column_plan(headers: list[str | None], kind: str) -> ColumnPlan | None:
    """The plan for a table whose header row has these texts per grid column (a merged
    header repeated, or None where it spans, as pdfplumber gives it); None when the headers
    name no comment column (the columns are then taken by position)."""
    filled: list[str] = []
    for header in headers:
        filled.append(clean_line(header) if header is not None else
                      (filled[-1] if filled else ""))
    folded = [header.casefold() for header in filled]
    start = CITY_HEADER_START if kind == "city" else LOCAL_HEADER_START
    comment = next((i for i, h in enumerate(folded) if h.startswith("kommentar")), None)
    title = next((i for i, h in enumerate(folded) if start in h), None)
    if comment is None or title is None or comment <= title:
        return None
    number = None
    if kind == "city":
        number = next((i for i, h in enumerate(folded[:title]) if h in _NUMBER_HEADERS), None)
        if number is None and title + 1 < comment and folded[title + 1] == folded[title]:
            number, title = title, title + 1  # one header over the number and title columns
    keep = tuple(i for i in (number, title, comment) if i is not None)
    kept = {folded[i] for i in keep}
    ignored = tuple(dict.fromkeys(filled[i] for i, h in enumerate(folded)
                                  if i not in keep and h and h not in kept))
    return ColumnPlan(keep, ignored)


def planned_cells(cells: list, plan: ColumnPlan | None, same=lambda a, b: False) -> list:
    """A row's cells per grid column, those of the plan in its order (a cell merged over two
    planned columns once; a spanned column, None, is the cell on its left)."""
    if plan is None:
        return cells
    picked: dict[int, object] = {}
    for index in plan.keep:
        source = next((i for i in range(min(index, len(cells) - 1), -1, -1)
                       if cells[i] is not None), None)
        if source is not None and source not in picked and \
                not any(same(cells[source], other) for other in picked.values()):
            picked[source] = cells[source]
    return list(picked.values())


def _table_rows(table, kind: str, exact: bool,
                plan: ColumnPlan | None = None) -> list[Row]:
    rows = []
    last_number = 0
    for row in table.rows[1:]:
        cells = (planned_cells(list(row.cells), plan, lambda a, b: a._tc is b._tc) if plan
                 else _unique_cells(row))
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


def _topic_rows(table, exact: bool) -> list[tuple[str, str]]:
    rows = []
    for row in table.rows[1:]:
        cells = _unique_cells(row)
        if len(cells) >= 2:
            area = cells[0].text if exact else clean_line(cells[0].text)
            rows.append((area, _cell_text(cells[-1], exact)))
    return rows


def _header_title(document) -> str | None:
    """A title "Lägesbild ..." written in a page header instead of the body."""
    return next((p.text.strip() for s in document.sections for p in s.header.paragraphs
                 if p.text.strip().casefold().startswith("lägesbild")), None)


def _ours_outside_the_tables(text: str) -> bool:
    """A line our own exports write beside the tables (the approval or import line, the draft
    mark, a period document's cover), or a heading naming a table: nothing lost on import."""
    from app.documents.approval import APPROVED_BY, IMPORTED_BY  # it reads the trail: not at import

    folded = text.casefold()
    return (text == DRAFT_NOTICE or folded.startswith(
        (APPROVED_BY.casefold(), IMPORTED_BY.casefold(), "period:", "status:",
         CITY_HEADER_START, LOCAL_HEADER_START)))


def read_docx_layout(document, exact: bool = True) -> Layout:
    """The title, chapters (one per area; a period's document has several), the period's
    summary per city-wide topic, and the footer."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    title = None
    chapters: list[LayoutChapter] = []
    topics: list[TopicSummary] = []
    current = None
    in_summary = False  # between the summary's heading and the first chapter
    ignored: list[str] = []  # the headers of columns not read
    outside: list[str] = []  # the body's other paragraphs
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text.strip()
            style = paragraph.style.name if paragraph.style is not None else ""
            if style.startswith("Heading") and text == TOPIC_SUMMARY_HEADING:
                in_summary = True
                continue
            if in_summary and style == "Heading 2":
                topics.append((paragraph.text, []))
                continue
            if not text.casefold().startswith("lägesbild"):
                if not exact and text and not _ours_outside_the_tables(text):
                    outside.append(clean_line(text))
                continue
            if title is None:
                title = text
            elif style.startswith("Heading"):
                in_summary = False
                current = LayoutChapter(text)
                chapters.append(current)
        elif tag == "tbl":
            table = Table(child, document)
            if in_summary:
                if topics and table.rows and tuple(
                        c.text for c in _unique_cells(table.rows[0])) == TOPIC_HEADER:
                    topics[-1][1].extend(_topic_rows(table, exact))
                continue
            kind = _table_kind(table)
            if kind is None:
                continue
            if current is None:
                current = LayoutChapter(title or "")
                chapters.append(current)
            plan = None if exact else column_plan([c.text for c in table.rows[0].cells], kind)
            ignored.extend(c for c in (plan.ignored if plan else ()) if c not in ignored)
            current.rows.extend(_table_rows(table, kind, exact, plan))
    footer = "\n".join(p.text for s in document.sections for p in s.footer.paragraphs)
    if title is None:  # a title in the page header, not the body
        title = _header_title(document)
    return Layout(title or "", chapters, footer, "docx", topics, ignored, outside)


def _list_kind(paragraph, numbering) -> str | None:
    """"bullet" or "number" for a paragraph of a Word list (its own w:numPr, looked up in the
    numbering part, or a List Bullet / List Number style), None for any other paragraph."""
    style = paragraph.style.name if paragraph.style is not None else ""
    p_pr = paragraph._p.pPr
    if p_pr is None or p_pr.numPr is None or p_pr.numPr.numId is None:
        if style.startswith("List Bullet"):
            return "bullet"
        return "number" if style.startswith("List Number") else None
    if numbering is None:
        return "bullet"
    level = p_pr.numPr.ilvl.val if p_pr.numPr.ilvl is not None else 0
    found = numbering.xpath(
        f'w:abstractNum[@w:abstractNumId=string(//w:num[@w:numId="{p_pr.numPr.numId.val}"]'
        f'/w:abstractNumId/@w:val)]/w:lvl[@w:ilvl="{level}"]/w:numFmt/@w:val')
    return "number" if found and found[0] not in ("bullet", "none") else "bullet"


def _all_bold(paragraph) -> bool:
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold for run in runs)


def docx_text(document) -> tuple[str, list[str]]:
    """A DOCX without the lägesbild's tables, as the text parser reads a PDF's text: its body
    paragraphs (and any table's, cell by cell) a line each, a bulleted paragraph opening with
    "•", a Word-numbered one with its number as Word draws it. Also the titles of the local
    topics: the headings (or wholly bold lines) after the local topics' heading, each a row's
    title whatever its words."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError):
        numbering = None
    counters: dict[str, int] = {}
    lines: list[str] = []
    local_titles: list[str] = []
    in_local = False

    def add(paragraph) -> None:
        nonlocal in_local
        text = paragraph.text.translate(NO_BREAK_SPACES).strip()
        if not text:
            return
        kind = _list_kind(paragraph, numbering)
        style = paragraph.style.name if paragraph.style is not None else ""
        if text.casefold().startswith(LOCAL_HEADER_START):
            in_local = True
        elif in_local and kind is None and (style.startswith("Heading") or _all_bold(paragraph)):
            local_titles.append(clean_line(text))
        if kind == "bullet" and text[0] not in BULLET_CHARS:
            text = f"• {text}"
        elif kind == "number" and not text[0].isdigit():
            num_pr = paragraph._p.pPr.numPr if paragraph._p.pPr is not None else None
            key = str(num_pr.numId.val) if num_pr is not None and num_pr.numId is not None \
                else style
            counters[key] = counters.get(key, 0) + 1
            text = f"{counters[key]}. {text}"
        lines.append(text)

    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            add(Paragraph(child, document))
        elif tag == "tbl":
            for row in Table(child, document).rows:
                for cell in _unique_cells(row):
                    for paragraph in cell.paragraphs:
                        add(paragraph)
    header_title = None if any(line.casefold().startswith("lägesbild") for line in lines) \
        else _header_title(document)
    return "\n".join([header_title, *lines] if header_title else lines), local_titles


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
