"""Reading a lägesbild from a PDF: ours (app/documents/pdf_format.py), one Word or LibreOffice
printed, or an old one that is only lines of text, like the seed.

pdfplumber (on pdfminer.six, pure Python) rather than pdfminer.six alone: its table finder
turns a ruled table into rows of cells, so a PDF printed from a DOCX laid out like ours reads
as the same rows the DOCX reader gives (a topic's title and its comment stay apart even where
the lines of the two columns interleave). A PDF without such tables is handed back as text, in
reading order, for the text parser (importer.parse_text), whose repairs are those a PDF
extraction needs: the seed document is a PDF's text."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from app.core.messages import N_
from app.documents.docx_format import (
    BULLET_CHARS,
    CITY_HEADER_START,
    DRAFT_NOTICE,
    LOCAL_HEADER_START,
    TOPIC_HEADER,
    TOPIC_SUMMARY_HEADING,
    ColumnPlan,
    Layout,
    LayoutChapter,
    Row,
    clean_line,
    column_plan,
    planned_cells,
    refusal,
)
from app.models import TopicScope

MAX_PAGES = 200
_NUMBER = re.compile(r"^\s*(\d{1,2})\s*\.?\s*$")
_NUMBERED_TITLE = re.compile(r"^\s*(\d{1,2})\s*\.?\s+(.*)$", re.DOTALL)
# A cell's line break: words whose tops differ by at most this many points are on one line; a
# space is about this share of a line's height; a line must end this many points short of
# where the next one's first word would have ended to count as broken, not wrapped.
_SAME_LINE = 3.0
_SPACE_PER_HEIGHT = 0.3
_SLACK = 2.0


@dataclass
class PdfReading:
    text: str                  # every line a reader sees, page by page
    layout: Layout | None      # the tables' rows, when the PDF has the lägesbild's tables
    metadata: str = ""         # the document's properties (title, author, ...), a line each
    bold_lines: list[str] = field(default_factory=list)  # outside the tables: headings

    @property
    def everything(self) -> str:
        """What the identity-number guard reads: the pages and the properties."""
        return f"{self.text}\n{self.metadata}"


def _open(data: bytes):
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = len(pdf.pages)
    except Exception as error:  # pdfminer raises many kinds for malformed files
        # pdfplumber wraps pdfminer's errors: the password one is among the arguments.
        if any(isinstance(cause, PDFPasswordIncorrect | PDFEncryptionError)
               for cause in (error, *error.args)):
            raise refusal(N_("The PDF file is encrypted or password protected.")) from None
        raise refusal(N_("The PDF file is damaged and cannot be read.")) from None
    if pages > MAX_PAGES:
        pdf.close()
        raise refusal(N_("The PDF file has {count} pages; a lägesbild has at most {limit}."),
                      count=pages, limit=MAX_PAGES)
    return pdf


def _cell_lines(cell: str | None) -> list[str]:
    return [clean_line(line) for line in (cell or "").split("\n") if clean_line(line)]


def _cell_text(cell: str | None) -> str:
    """A comment cell as a section's text: a line opening with a bullet starts a "- " item;
    a line after a blank one (the writer's own line break, see _table_rows) starts a line of
    its own; any other line continues the line before (a PDF wraps lines where the column
    ends)."""
    items: list[str] = []
    broken = True
    for raw in (cell or "").split("\n"):
        line = clean_line(raw)
        if not line:
            broken = True
        elif line[0] in BULLET_CHARS:
            items.append("- " + line[1:].strip())
        elif items and not broken:
            items[-1] = f"{items[-1]} {line}"
        else:
            items.append(line)
        broken = broken and not line
    return "\n".join(items)


def _char_in(char: dict, box: tuple[float, float, float, float]) -> bool:
    """pdfplumber's own rule for a table cell's characters: the character's middle inside."""
    x0, top, x1, bottom = box
    middle, height = (char["x0"] + char["x1"]) / 2, (char["top"] + char["bottom"]) / 2
    return x0 <= middle < x1 and top <= height < bottom


def _marked_cell(chars: list[dict], box: tuple[float, float, float, float]) -> str:
    """A cell's lines, with a blank line after each the writer broke: one that ends where the
    next line's first word would still have fitted (a wrap ends where it would not). The right
    edge is the cell's, less the padding its text keeps from the left edge."""
    from pdfplumber.utils import extract_words  # imported with the reader, as in _open

    words = extract_words(chars)
    lines: list[list[dict]] = []
    for word in sorted(words, key=lambda w: w["top"]):  # lines top down, then words by x
        if lines and word["top"] - lines[-1][0]["top"] <= _SAME_LINE:
            lines[-1].append(word)
        else:
            lines.append([word])
    lines = [sorted(line, key=lambda w: w["x0"]) for line in lines]
    if not lines:
        return ""
    right = box[2] - max(0.0, min(line[0]["x0"] for line in lines) - box[0])
    marked: list[str] = []
    for index, line in enumerate(lines):
        marked.append(" ".join(word["text"] for word in line))
        if index + 1 < len(lines):
            first = lines[index + 1][0]
            space = (first["bottom"] - first["top"]) * _SPACE_PER_HEIGHT
            if line[-1]["x1"] + space + (first["x1"] - first["x0"]) < right - _SLACK:
                marked.append("")
    return "\n".join(marked)


def _table_rows(page, table) -> list[list[str | None]]:
    """The table's rows as pdfplumber extracts them, each cell's lines marked where the writer
    broke a line (_marked_cell), so that a paragraph of a cell is not joined to the next."""
    rows = []
    for row in table.rows:
        row_chars = [char for char in page.chars if _char_in(char, row.bbox)]
        rows.append([None if cell is None else
                     _marked_cell([char for char in row_chars if _char_in(char, cell)], cell)
                     for cell in row.cells])
    return rows


def _table_kind(rows: list[list[str | None]]) -> str | None:
    header = " ".join(clean_line(c or "") for c in rows[0]).casefold() if rows else ""
    if CITY_HEADER_START in header:
        return "city"
    if LOCAL_HEADER_START in header:
        return "local"
    return None


def _joined(first: str, more: str) -> str:
    return "\n".join(part for part in (first, more) if part)


def _add_rows(chapter: LayoutChapter, kind: str, rows: list[list[str | None]],
              plan: ColumnPlan | None) -> None:
    """A table's rows (the header left out), the columns its header names (`plan`). A row
    with neither number nor title continues the row before: Word and LibreOffice split a long
    row over two pages."""
    for cells in rows:
        if plan is not None:
            cells = planned_cells(cells, plan)
        cells = [c for c in cells if c is not None] or [""]
        if kind == "local":
            title = " ".join(_cell_lines(cells[0]))
            text = _cell_text(cells[-1]) if len(cells) > 1 else ""
            previous = chapter.rows[-1] if chapter.rows else None
            if not title and previous is not None and previous.scope == TopicScope.LOCAL:
                chapter.rows[-1] = Row(TopicScope.LOCAL, None, previous.title,
                                       _joined(previous.text, text))
            elif title or text:
                chapter.rows.append(Row(TopicScope.LOCAL, None, title, text))
            continue
        if len(cells) >= 3:
            number_match = _NUMBER.match(cells[0] or "")
            number = int(number_match.group(1)) if number_match else None
            title = " ".join(_cell_lines(cells[1]))
        else:
            match = _NUMBERED_TITLE.match(" ".join(_cell_lines(cells[0])))
            number, title = ((int(match.group(1)), match.group(2)) if match
                             else (None, " ".join(_cell_lines(cells[0]))))
        text = _cell_text(cells[-1]) if len(cells) > 1 else ""
        previous = chapter.rows[-1] if chapter.rows else None
        if number is None and not title:
            if previous is not None and previous.scope == TopicScope.CITY:
                chapter.rows[-1] = Row(TopicScope.CITY, previous.number, previous.title,
                                       _joined(previous.text, text))
            continue
        chapter.rows.append(Row(TopicScope.CITY, number, title, text))


def _is_bold(line: dict) -> bool:
    return bool(line.get("chars")) and "bold" in str(line["chars"][0].get("fontname", "")).lower()


def _add_topic_rows(texts: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    """A summary table's rows (area, text); a row without an area continues the row before
    (a text longer than a page goes on in a row of its own)."""
    for cells in rows:
        cells = [c for c in cells if c is not None] or [""]
        area = " ".join(_cell_lines(cells[0]))
        text = _cell_text(cells[-1]) if len(cells) > 1 else ""
        if not area and texts:
            texts[-1] = (texts[-1][0], _joined(texts[-1][1], text))
        elif area or text:
            texts.append((area, text))


def _inside(line: dict, boxes: list[tuple[float, float, float, float]]) -> bool:
    middle = (line["top"] + line["bottom"]) / 2
    return any(top <= middle <= bottom and x0 - 1 <= line["x0"] <= x1 for x0, top, x1, bottom
               in boxes)


def _decoded(value) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _hidden_text(pdf) -> list[str]:
    """What a reader can find in the file beside its pages: the document's properties, its
    XMP metadata (where PDF/A keeps them) and the annotations' texts (comments, links)."""
    from pdfminer.pdftypes import resolve1

    lines = [_decoded(v) for v in (pdf.metadata or {}).values() if isinstance(v, str | bytes)]
    xmp = resolve1(pdf.doc.catalog.get("Metadata"))
    if xmp is not None and hasattr(xmp, "get_data"):
        lines.append(_decoded(xmp.get_data()))
    for page in pdf.pages:
        for annotation in page.annots or []:
            lines.extend(_decoded(annotation[key]) for key in ("contents", "title", "uri")
                         if annotation.get(key))
    return lines


def read_pdf(data: bytes) -> PdfReading:
    """The PDF's text and, when it has the lägesbild's tables, its rows chapter by chapter
    (a line "Lägesbild ..." outside the tables opens a chapter of a period's document)."""
    pdf = _open(data)
    try:
        text_lines: list[str] = []
        title: str | None = None
        chapters: list[LayoutChapter] = []
        current: LayoutChapter | None = None
        kind: str | None = None     # the table kind a table continued from a page before has
        plan: ColumnPlan | None = None  # and its columns
        ignored: list[str] = []     # the headers of columns not read
        outside: list[str] = []     # the lines outside the tables: title, headings, footers
        bold_lines: list[str] = []
        # A period's summary per city-wide topic: from its heading to the first chapter, each
        # topic a bold heading (on one line or wrapped over several) and its table.
        topics: list[tuple[str, list[tuple[str, str]]]] = []
        in_summary = False
        heading_lines: list[str] = []
        for page in pdf.pages:
            text_lines.extend((page.extract_text() or "").split("\n"))
            tables = page.find_tables()
            boxes = [t.bbox for t in tables]
            items = [(line["top"], "line", line) for line in page.extract_text_lines()
                     if not _inside(line, boxes)]
            items += [(t.bbox[1], "table", t) for t in tables]
            for _top, what, item in sorted(items, key=lambda i: i[0]):
                if what == "line":
                    line = clean_line(item["text"])
                    outside.append(line)
                    if line and _is_bold(item):
                        bold_lines.append(line)
                    if line == TOPIC_SUMMARY_HEADING:
                        in_summary, heading_lines = True, []
                        continue
                    if (in_summary and _is_bold(item) and line != DRAFT_NOTICE
                            and not line.casefold().startswith("lägesbild")):
                        heading_lines.append(line)
                        continue
                    if not line.casefold().startswith("lägesbild"):
                        continue
                    in_summary = False
                    if title is None:
                        title = line
                    elif chapters or current is None:
                        current = LayoutChapter(line)
                        chapters.append(current)
                        kind = None
                    continue
                rows = _table_rows(page, item)
                if not rows:
                    continue
                if in_summary:
                    header = tuple(clean_line(c or "") for c in rows[0])
                    if header == TOPIC_HEADER:
                        rows = rows[1:]
                        if heading_lines:  # a new topic; none: its table goes on a new page
                            topics.append((" ".join(heading_lines), []))
                            heading_lines = []
                    if topics:
                        _add_topic_rows(topics[-1][1], rows)
                    continue
                # Two tables one under the other may be found as one: a header row inside
                # starts the next.
                starts = [i for i, row in enumerate(rows) if _table_kind([row])] or [0]
                for start, end in zip([0, *starts], [*starts, len(rows)], strict=True):
                    part = rows[start:end]
                    if not part:
                        continue
                    table_kind = _table_kind(part)
                    if table_kind is None and kind is None:
                        continue
                    if table_kind is not None:
                        plan = column_plan(part[0], table_kind)
                        ignored.extend(c for c in (plan.ignored if plan else ())
                                       if c not in ignored)
                        kind, part = table_kind, part[1:]
                    if current is None:
                        current = LayoutChapter(title or "")
                        chapters.append(current)
                    _add_rows(current, kind, part, plan)
        metadata = _hidden_text(pdf)
    except Exception:  # pdfminer raises many kinds for malformed content streams
        raise refusal(N_("The PDF file is damaged and cannot be read.")) from None
    finally:
        pdf.close()
    layout = (Layout(title or "", chapters, "\n".join(outside), "pdf", topics, ignored)
              if chapters
              else None)
    return PdfReading("\n".join(text_lines), layout, "\n".join(metadata), bold_lines)
