"""Export the lägesbild as DOCX (laid out like the seed document), with a fingerprint, and
verify an exported file against the approved versions in the system.

The document's content is a list of chapters (one per area), each an ordered list of
(heading, text) pairs. Its canonical JSON, hashed, is the *content hash*; the *fingerprint*
printed in the footer is SHA-256 over the content hash and the audit chain's head hash at
export time. The export is an audit event carrying both, so `verify` can read a file back,
recompute the content hash from its texts and find out whether it is untouched, which
version it shows, and who approved that version when.
"""
from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW

from app.core.clock import STOCKHOLM
from app.core.clock import now
from app.extensions import db
from app.models import GENESIS_HASH, AuditEvent, Contribution, Period, TopicScope
from app.core.actors import Actor
from app.audit.trail import canonical_json, record_event, scope_of
from app.documents.cross_references import rendered_text
from app.core.diff import Segment, word_diff
from app.documents.policy import readable_contribution, readable_period

CITY_HEADER = ("Nr", "Stadsövergripande prioriterade områden", "Kommentarer")
LOCAL_HEADER = ("Lokalt prioriterade områden", "Kommentar")
SUMMARY_HEADER = ("Område", "Status")
DRAFT_MARK = "UTKAST"
DRAFT_NOTICE = "UTKAST – ej fastställd"
BULLET_PREFIX = "- "
FINGERPRINT_RE = re.compile(r"\b([0-9a-f]{64})\b")


# --------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------

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


def chapter_for(contribution: Contribution, title: str | None = None) -> Chapter:
    sections = [
        SectionContent(scope=s.topic.scope, number=s.topic.number, title=s.topic.title,
                       text=rendered_text(s))
        for s in contribution.ordered_sections
    ]
    return Chapter(title=title or f"Lägesbild {contribution.period.name} {contribution.area.name}",
                   area=contribution.area.name, state=contribution.state,
                   approved=contribution.state == "approved", sections=sections,
                   excluded=contribution.excluded_reason is not None)


def contribution_content(contribution: Contribution) -> DocumentContent:
    chapter = chapter_for(contribution)
    return DocumentContent(
        title=chapter.title, period=contribution.period.name, area=contribution.area.name,
        state_label=CONTRIBUTION_WORKFLOW.state(contribution.state).label("sv"),
        approved=chapter.approved, chapters=[chapter])


def period_content(period: Period) -> DocumentContent:
    contributions = sorted(period.contributions, key=lambda c: c.area.name)
    consolidation_state = period.consolidation.state if period.consolidation else "open"
    summary = []
    for contribution in contributions:
        label = CONTRIBUTION_WORKFLOW.state(contribution.state).label("sv")
        if contribution.excluded_reason is not None:
            label = f"{label} (undantaget)"
        summary.append((contribution.area.name, label))
    return DocumentContent(
        title=f"Lägesbild {period.name}", period=period.name, area=None,
        state_label=CONSOLIDATION_WORKFLOW.state(consolidation_state).label("sv"),
        approved=consolidation_state == "approved",
        chapters=[chapter_for(c) for c in contributions if c.excluded_reason is None],
        summary=summary)


def canonical_content(title: str, chapters: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """What the fingerprint covers: the title and, chapter by chapter, the ordered topics
    with their texts (as the document shows them)."""
    return canonical_json({
        "title": title,
        "chapters": [{"title": chapter_title, "sections": [[h, t] for h, t in sections]}
                     for chapter_title, sections in chapters],
    })


def content_hash(content: DocumentContent) -> str:
    canonical = canonical_content(
        content.title,
        [(c.title, [(s.heading, s.text) for s in c.sections]) for c in content.chapters])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def fingerprint_of(content_sha256: str, audit_head_hash: str) -> str:
    return hashlib.sha256(f"{content_sha256}\n{audit_head_hash}".encode("ascii")).hexdigest()


def audit_head() -> tuple[int, str]:
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


# --------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportedDocument:
    data: bytes
    filename: str
    fingerprint: str
    content_sha256: str
    content: DocumentContent
    exported_at: datetime


def file_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "lagesbild"


def footer_text(content: DocumentContent, moment: datetime, fingerprint: str) -> str:
    local_time = moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
    state = content.state_label if content.approved else f"{content.state_label} – {DRAFT_MARK}"
    return (f"Period: {content.period} · Område: {content.area or 'alla områden'} · "
            f"Status: {state} · Exporterad {local_time} (Stockholm) · "
            f"Fingeravtryck (SHA-256): {fingerprint}")


def _write_text(cell, text: str) -> None:
    """A section's text as paragraphs: lines starting with "- " become real Word bullets."""
    paragraph = cell.paragraphs[0]
    for index, line in enumerate(text.split("\n")):
        if index:
            paragraph = cell.add_paragraph()
        if line.startswith(BULLET_PREFIX):
            paragraph.style = "List Bullet"
            paragraph.add_run(line[len(BULLET_PREFIX):])
        else:
            paragraph.add_run(line)


def _header_row(table, labels) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    row = table.rows[0]
    for cell, label in zip(row.cells, labels):
        cell.paragraphs[0].add_run(label).bold = True
    # Repeat the header row on every page the table spans.
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _column_widths(table, widths) -> None:
    # Word reads the cells' widths, LibreOffice the table grid's: set both.
    table.autofit = False
    for column, width in zip(table.columns, widths):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = width


def _add_chapter_tables(document, chapter: Chapter) -> None:
    from docx.shared import Cm

    city = document.add_table(rows=1, cols=3)
    city.style = "Table Grid"
    _header_row(city, CITY_HEADER)
    for section in chapter.city:
        cells = city.add_row().cells
        cells[0].paragraphs[0].add_run(f"{section.number}.")
        cells[1].paragraphs[0].add_run(section.title)
        _write_text(cells[2], section.text)
    _column_widths(city, (Cm(1.2), Cm(5.8), Cm(9.0)))
    document.add_paragraph()
    local = document.add_table(rows=1, cols=2)
    local.style = "Table Grid"
    _header_row(local, LOCAL_HEADER)
    for section in chapter.local:
        cells = local.add_row().cells
        cells[0].paragraphs[0].add_run(section.title)
        _write_text(cells[1], section.text)
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
    for text, field in (("Sida ", "PAGE"), (" av ", "NUMPAGES")):
        paragraph.add_run(text).font.size = size
        simple_field = OxmlElement("w:fldSimple")
        simple_field.set(qn("w:instr"), f" {field} ")
        placeholder = paragraph.add_run("1")
        placeholder.font.size = size
        simple_field.append(placeholder._r)  # the field's shown result, moved inside it
        paragraph._p.append(simple_field)


def render_docx(content: DocumentContent, moment: datetime, fingerprint: str) -> bytes:
    from docx import Document
    from docx.shared import Cm

    document = Document()
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
        summary.style = "Table Grid"
        _header_row(summary, SUMMARY_HEADER)
        for area, state in content.summary:
            cells = summary.add_row().cells
            cells[0].paragraphs[0].add_run(area)
            cells[1].paragraphs[0].add_run(state)
        _column_widths(summary, (Cm(8.0), Cm(8.0)))
        for chapter in content.chapters:
            heading = document.add_paragraph(chapter.title, style="Heading 1")
            heading.paragraph_format.page_break_before = True  # one chapter per area
            _add_chapter_tables(document, chapter)
    else:
        _add_chapter_tables(document, content.chapters[0])
    _page_setup_and_marks(document, content, moment, fingerprint)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _export(actor: Actor, content: DocumentContent, scope: dict, object_type: str,
            object_id: int) -> ExportedDocument:
    head_seq, head_hash = audit_head()
    content_sha = content_hash(content)
    fingerprint = fingerprint_of(content_sha, head_hash)
    moment = now()
    data = render_docx(content, moment, fingerprint)
    record_event(
        "document.export", actor=actor, object_type=object_type, object_id=object_id, **scope,
        data={"format": "docx", "title": content.title, "period": content.period,
              "area": content.area, "state": content.state_label,
              "approved": content.approved, "fingerprint": fingerprint,
              "content_sha256": content_sha, "audit_head_seq": head_seq,
              "audit_head_hash": head_hash,
              "file_sha256": hashlib.sha256(data).hexdigest()},
    )
    name = f"lagesbild-{file_slug(content.period)}"
    if content.area:
        name += f"-{file_slug(content.area)}"
    if not content.approved:
        name += "-utkast"
    return ExportedDocument(data, f"{name}.docx", fingerprint, content_sha, content, moment)


def export_contribution(actor: Actor, contribution_id: int) -> ExportedDocument:
    """One area's lägesbild as DOCX. Writes a document.export audit event."""
    contribution = readable_contribution(actor, contribution_id, "document.export")
    return _export(actor, contribution_content(contribution), scope_of(contribution),
                   "contribution", contribution.id)


def export_period(actor: Actor, period_id: int) -> ExportedDocument:
    """The period's consolidated lägesbild as DOCX: a summary, then one chapter per area."""
    period = readable_period(actor, period_id, "document.export")
    return _export(actor, period_content(period), {"period_id": period.id}, "period",
                   period.id)


# --------------------------------------------------------------------------------------------
# Verify
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SectionDifference:
    chapter: str
    heading: str
    expected: str | None   # the system's text (None: the file has a topic the system lacks)
    found: str | None      # the file's text (None: the file lacks the topic)
    segments: list[Segment]


@dataclass
class VerifyReport:
    matches: bool
    summary: str
    details: list[str] = field(default_factory=list)
    differences: list[SectionDifference] = field(default_factory=list)
    fingerprint: str | None = None


def _approval(scope_filter, approving_action: str) -> str | None:
    """Who approved (or imported) what the filter selects, and when, from the audit trail."""
    event = db.session.scalar(
        select(AuditEvent).where(
            scope_filter, AuditEvent.action.in_((approving_action, "document.import")),
        ).order_by(AuditEvent.seq.desc()).limit(1))
    if event is None:
        return None
    how = "imported" if event.action == "document.import" else "approved"
    return (f"{how} by {event.actor_name} on "
            f"{event.occurred_at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M} "
            f"(audit event {event.seq}, {event.action})")


def _approval_of_contribution(contribution: Contribution) -> str | None:
    return _approval(AuditEvent.contribution_id == contribution.id, "contribution.finalize")


def _approval_of_period(period: Period) -> str | None:
    return _approval(AuditEvent.period_id == period.id, "consolidation.approve")


def _differences(expected: DocumentContent, found) -> list[SectionDifference]:
    differences = []
    found_chapters = {c.title: c for c in found.chapters}
    for chapter in expected.chapters:
        found_chapter = found_chapters.get(chapter.title)
        found_sections = dict(found_chapter.sections) if found_chapter else {}
        expected_sections = {s.heading: s.text for s in chapter.sections}
        for heading, text in expected_sections.items():
            other = found_sections.get(heading)
            if other != text:
                differences.append(SectionDifference(
                    chapter.title, heading, text, other, word_diff(text, other or "")))
        for heading, other in found_sections.items():
            if heading not in expected_sections:
                differences.append(SectionDifference(
                    chapter.title, heading, None, other, word_diff("", other)))
    return differences


def verify_document(data: bytes) -> VerifyReport:
    """Does this DOCX match an approved version in the system? If not, how does it differ?"""
    from app.documents.importer import load_docx, read_docx_layout

    document = load_docx(data)
    layout = read_docx_layout(document)
    fingerprint_match = FINGERPRINT_RE.search(layout.footer)
    found_sha = hashlib.sha256(canonical_content(
        layout.title, [(c.title, c.sections) for c in layout.chapters]).encode()).hexdigest()
    if fingerprint_match is None:
        return VerifyReport(False, "The file carries no fingerprint in its footer: it is not an "
                                   "export of this system, or its footer was removed.")
    fingerprint = fingerprint_match.group(1)
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "document.export",
                                 AuditEvent.data.contains(fingerprint))
        .order_by(AuditEvent.seq).limit(1))
    if event is None:
        return VerifyReport(False, f"The fingerprint {fingerprint} was not issued by this system.",
                            fingerprint=fingerprint)
    import json

    exported = json.loads(event.data)
    exported_at = event.occurred_at.astimezone(STOCKHOLM)
    details = [f"Exported by {event.actor_name} on {exported_at:%Y-%m-%d %H:%M} "
               f"(audit event {event.seq}); state then: {exported.get('state')}."]
    untouched = (found_sha == exported["content_sha256"]
                 and fingerprint_of(found_sha, exported["audit_head_hash"]) == fingerprint)
    if event.object_type == "contribution":
        contribution = db.session.get(Contribution, event.contribution_id)
        current = contribution_content(contribution)
        approved, approval = current.approved, _approval_of_contribution(contribution)
    else:
        period = db.session.get(Period, event.period_id)
        current = period_content(period)
        approved, approval = current.approved, _approval_of_period(period)
    differences = _differences(current, layout)
    if untouched and approved and not differences and exported.get("approved"):
        return VerifyReport(
            True, f"The file matches the approved version of '{current.title}', "
                  f"{approval or 'approved'}.", details, [], fingerprint)
    if not untouched:
        summary = (f"The file's texts were changed after the export: they do not match its "
                   f"fingerprint. {len(differences)} section(s) differ from "
                   + ("the approved version." if approved else "the version in the system."))
    elif not exported.get("approved"):
        summary = ("The file is an unchanged export of a draft (UTKAST), not of an approved "
                   "version.")
        if differences:
            summary += f" The texts have changed since: {len(differences)} section(s) differ."
    else:
        summary = f"{len(differences)} section(s) differ from the version in the system."
    return VerifyReport(False, summary, details, differences, fingerprint)


def render_differences(differences: list[SectionDifference]) -> str:
    """Plain-text diff for the command line: [-deleted-] {+inserted+}."""
    lines = []
    for difference in differences:
        lines.append(f"--- {difference.chapter} / {difference.heading}")
        if difference.found is None:
            lines.append("    (missing from the file)")
        elif difference.expected is None:
            lines.append("    (not in the system)")
        marked = "".join(
            s.text if s.op == "equal" else (f"[-{s.text}-]" if s.op == "delete"
                                            else f"{{+{s.text}+}}")
            for s in difference.segments)
        lines.extend("    " + line for line in marked.split("\n"))
    return "\n".join(lines)
