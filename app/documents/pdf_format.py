"""The lägesbild as an archival PDF (PDF/A-2u): the same document as the DOCX export (title,
approval line, the table of city-wide topics, the table of local topics; for a period, the
cover page with the areas' states, the summary per city-wide topic across the areas, then one
chapter per area), with the same footer, fingerprint and UTKAST mark.

Written with fpdf2, a pure-Python writer, and fonts shipped with the app (app/documents/fonts):
a city's server installed from pyproject/requirements alone can write it, with no LibreOffice,
Pango or other system library. PDF/A requires embedded fonts and a colour profile (fpdf2 adds
sRGB), and "u" requires every glyph to map to Unicode, which is what lets `documents verify`
and the importer read the texts back (app/documents/pdf_reader.py)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.documents.docx_format import (
    AREAS_HEADING,
    BULLET_PREFIX,
    CITY_HEADER,
    CITY_SUBTITLE,
    DRAFT_NOTICE,
    LOCAL_HEADER,
    SUMMARY_HEADER,
    TOPIC_HEADER,
    TOPIC_SUMMARY_HEADING,
    TOPIC_SUMMARY_INTRO,
    Chapter,
    DocumentContent,
    approval_line,
    footer_text,
)

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "LiberationSans"
# How a bullet line ("- " in a section's text) is printed, and read back.
PDF_BULLET = "•"
_DRAFT_RED = (0xA4, 0x00, 0x0F)
_PAGE_NUMBER_ALIAS = "{nb}"


def _pdf_class():
    from fpdf import FPDF

    class LagesbildPDF(FPDF):
        """Header and footer on every page, both in the margins: the UTKAST mark never covers
        the title or a table."""

        def __init__(self, notice: str | None, footer: str):
            super().__init__(format="A4", unit="mm", enforce_compliance="PDF/A-2U")
            self.notice, self.footer_line = notice, footer

        def header(self):
            if self.notice:
                self.set_xy(self.l_margin, 8)
                self.set_font(FONT, "B", 14)
                self.set_text_color(*_DRAFT_RED)
                self.cell(self.epw, 8, self.notice, align="C")
                self.set_text_color(0, 0, 0)
            self.set_y(self.t_margin)

        def footer(self):
            from fpdf.enums import XPos, YPos

            self.set_y(-21)
            self.set_font(FONT, "", 7)
            self.set_text_color(0x40, 0x40, 0x40)
            # Back to the left margin after the footer's lines: the page number under them,
            # not beyond the page's right edge.
            self.multi_cell(self.epw, 3.2, self.footer_line, align="L",
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.cell(self.epw, 4, f"Sida {self.page_no()} av {_PAGE_NUMBER_ALIAS}", align="R")
            self.set_text_color(0, 0, 0)

    return LagesbildPDF


def _shown_text(text: str) -> str:
    """A section's text as the PDF prints it: "- " lines as bullets."""
    return "\n".join(f"{PDF_BULLET} {line[len(BULLET_PREFIX):]}" if line.startswith(BULLET_PREFIX)
                     else line for line in text.split("\n"))


_LINE_HEIGHT = 4.6
_PADDING = 1.2
# A table row never splits across pages (fpdf2 moves it to the next page whole), so a text
# longer than a page goes on in rows of its own with empty number and title cells, which is
# how the reader (and a reader) sees a row continued.
_MAX_ROW_LINES = 40


def _row_chunks(pdf, text: str, width: float) -> list[str]:
    """A comment cell's text in pieces that each fit on a page: whole paragraphs where they
    can, a paragraph longer than a page split between its lines."""
    inner = width - 2 * _PADDING
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    for paragraph in text.split("\n"):
        lines = pdf.multi_cell(inner, _LINE_HEIGHT, paragraph or " ", dry_run=True,
                               output="LINES")
        if used and used + len(lines) > _MAX_ROW_LINES:
            chunks.append("\n".join(current))
            current, used = [], 0
        while len(lines) > _MAX_ROW_LINES:
            chunks.append(" ".join(lines[:_MAX_ROW_LINES]))
            lines = lines[_MAX_ROW_LINES:]
        current.append(" ".join(lines) if len(lines) > 1 else paragraph)
        used += len(lines)
    chunks.append("\n".join(current))
    return chunks


def _table(pdf, header: tuple[str, ...], widths: tuple[float, ...], rows) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font(FONT, "", 9.5)
    split_rows = []
    for cells in rows:
        *labels, text = cells
        for index, chunk in enumerate(_row_chunks(pdf, text, widths[-1])):
            split_rows.append((*labels, chunk) if index == 0 else ("",) * len(labels) + (chunk,))
    rows = split_rows
    with pdf.table(col_widths=widths, width=sum(widths), align="L", line_height=_LINE_HEIGHT,
                   headings_style=FontFace(emphasis="BOLD"), padding=_PADDING,
                   text_align="LEFT", v_align="TOP") as table:
        heading = table.row()
        for label in header:
            heading.cell(label)
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.ln(6)


_CITY_WIDTHS, _LOCAL_WIDTHS = (12, 58, 90), (50, 110)
_AREA_WIDTHS, _TOPIC_WIDTHS = (80, 80), (40, 120)


def _chapter(pdf, chapter: Chapter) -> None:
    _table(pdf, CITY_HEADER, _CITY_WIDTHS,
           [(f"{s.number}.", s.title, _shown_text(s.text)) for s in chapter.city])
    _table(pdf, LOCAL_HEADER, _LOCAL_WIDTHS,
           [(s.title, _shown_text(s.text)) for s in chapter.local])


def _first_rows_height(pdf, widths: tuple[float, ...], first_row) -> float:
    """How tall a table's header and first row are printed (its first piece, if its text is
    cut over pages): what a heading needs below it on its page."""
    pdf.set_font(FONT, "", 9.5)
    *labels, text = first_row
    cells = (*labels, _row_chunks(pdf, text, widths[-1])[0])
    lines = max(len(pdf.multi_cell(width - 2 * _PADDING, _LINE_HEIGHT, cell or " ",
                                   dry_run=True, output="LINES"))
                for width, cell in zip(widths, cells, strict=False))
    return 2 * (_LINE_HEIGHT + 2 * _PADDING) + (lines - 1) * _LINE_HEIGHT


def _heading(pdf, text: str, size: float, new_page: bool = False, keep: float = 12) -> None:
    """A heading that never ends a page: unless `keep` mm (what follows it: a table's header
    and first row) fit below it, it starts the next page (as keep-with-next in the DOCX)."""
    pdf.set_font(FONT, "B", size)
    height = len(pdf.multi_cell(pdf.epw, size * 0.5, text, dry_run=True, output="LINES")) \
        * size * 0.5 + 2
    if new_page or pdf.will_page_break(height + keep):
        pdf.add_page()
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(pdf.epw, size * 0.5, text, align="L")
    pdf.ln(2)


def _line(pdf, text: str, size: float = 10.5, style: str = "") -> None:
    pdf.set_font(FONT, style, size)
    pdf.multi_cell(pdf.epw, size * 0.5, text, align="L")
    pdf.ln(1)


def _cover(pdf, content: DocumentContent) -> None:
    """The consolidated document's first page, as in the DOCX: what it is, its state and
    approval, the areas with the state of each; then the summary per city-wide topic (each
    area's text side by side, the consolidation page as a document) from the next page."""
    _line(pdf, CITY_SUBTITLE, 14)
    pdf.ln(2)
    for text in (f"Period: {content.period}", f"Status: {content.state_label}",
                 approval_line(content)):
        if text:
            _line(pdf, text)
    pdf.ln(3)
    _heading(pdf, AREAS_HEADING, 13)
    _table(pdf, SUMMARY_HEADER, _AREA_WIDTHS, content.summary)
    _heading(pdf, TOPIC_SUMMARY_HEADING, 13, new_page=True)
    _line(pdf, TOPIC_SUMMARY_INTRO)
    pdf.ln(2)
    for heading, texts in content.topics:
        rows = [(area, _shown_text(text)) for area, text in texts]
        _heading(pdf, heading, 11, keep=_first_rows_height(pdf, _TOPIC_WIDTHS, rows[0]))
        _table(pdf, TOPIC_HEADER, _TOPIC_WIDTHS, rows)


def render_pdf(content: DocumentContent, moment: datetime, fingerprint: str) -> bytes:
    pdf = _pdf_class()(None if content.approved else DRAFT_NOTICE,
                       footer_text(content, moment, fingerprint))
    pdf.add_font(FONT, "", FONT_DIR / "LiberationSans-Regular.ttf")
    pdf.add_font(FONT, "B", FONT_DIR / "LiberationSans-Bold.ttf")
    pdf.set_margins(25, 22, 25)
    pdf.set_auto_page_break(True, margin=24)
    pdf.set_lang("sv")
    pdf.set_title(content.title)
    pdf.set_subject("Lägesbild")
    pdf.set_author("Lägesbild")
    pdf.set_creator("Lägesbild")
    pdf.set_keywords(fingerprint)
    pdf.set_creation_date(moment)
    pdf.alias_nb_pages(_PAGE_NUMBER_ALIAS)
    pdf.add_page()
    pdf.set_font(FONT, "B", 18)
    pdf.multi_cell(pdf.epw, 9, content.title, align="L")
    pdf.ln(4)
    if content.area is None:
        _cover(pdf, content)
        for chapter in content.chapters:
            # One chapter per area, each from a new page, as in the DOCX.
            _heading(pdf, chapter.title, 14, new_page=True)
            _chapter(pdf, chapter)
    else:
        if approval_line(content):
            _line(pdf, approval_line(content))
            pdf.ln(2)
        _chapter(pdf, content.chapters[0])
    return bytes(pdf.output())
