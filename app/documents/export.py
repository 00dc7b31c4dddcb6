"""Export the lägesbild as DOCX (laid out like the seed document) or as an archival PDF, with
a fingerprint, and verify an exported file against the approved versions in the system.

The document's content is a list of chapters (one per area), each an ordered list of
(heading, text) pairs. Its canonical JSON, hashed, is the *content hash*; the *fingerprint*
printed in the footer is SHA-256 over the content hash and the audit chain's head hash at
export time. The export is an audit event carrying both, so `verify` can read a file back,
recompute the content hash from its texts and find out whether it is untouched, which
version it shows, and who approved that version when. A PDF cannot give back a text's exact
line breaks and spaces (it wraps lines where the column ends), so its export event also carries
the *visible hash*: the same content with each text's whitespace left out, which is what a
PDF read back can be checked against.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.audit.trail import canonical_json, record_event, scope_of
from app.contributions import loading as contributions_loading
from app.contributions.presenters import status_label
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import NotAllowed
from app.core.unit_of_work import consistent_read, operation, refuse
from app.documents.approval import approval_of_contribution, approval_of_period
from app.documents.cross_references import rendered_text
from app.documents.docx_format import Chapter, DocumentContent, SectionContent, render_docx
from app.documents.pdf_format import render_pdf
from app.documents.policy import readable_contribution, readable_period
from app.documents.template import configured_template
from app.extensions import db
from app.models import GENESIS_HASH, AuditEvent, Contribution, Period
from workflows import CONSOLIDATION_WORKFLOW

FINGERPRINT_RE = re.compile(r"\b([0-9a-f]{64})\b")


# --------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------


def chapter_for(contribution: Contribution, title: str | None = None) -> Chapter:
    sections = [
        # Section.title and the order: as approved once approved (app.contributions.snapshot).
        SectionContent(scope=s.topic.scope, number=s.topic.number, title=s.title,
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
        state_label=status_label(contribution),
        approved=chapter.approved, chapters=[chapter],
        approval=approval_of_contribution(contribution) if chapter.approved else None)


def period_contributions(period: Period) -> list[Contribution]:
    """The period's contributions with their areas, sections and topics, in a fixed number of
    queries whatever the number of areas (not one per area and per contribution)."""
    return contributions_loading.period_contributions(period.id, sections=True)


def period_content(period: Period) -> DocumentContent:
    contributions = sorted(period_contributions(period), key=lambda c: c.area.name)
    consolidation_state = period.consolidation.state if period.consolidation else "open"
    summary = []
    for contribution in contributions:
        label = status_label(contribution)
        if contribution.excluded_reason is not None:
            label = f"{label} (undantaget)"
        summary.append((contribution.area.name, label))
    return DocumentContent(
        title=f"Lägesbild {period.name}", period=period.name, area=None,
        state_label=(status_label(period.consolidation) if period.consolidation
                     else CONSOLIDATION_WORKFLOW.state("open").label("sv")),
        approved=consolidation_state == "approved",
        chapters=[chapter_for(c) for c in contributions if c.excluded_reason is None],
        summary=summary,
        approval=approval_of_period(period) if consolidation_state == "approved" else None)


def canonical_content(title: str, chapters: list[tuple[str, list[tuple[str, str]]]],
                      topics: list[tuple[str, list[tuple[str, str]]]] = ()) -> str:
    """What the fingerprint covers: the title and, chapter by chapter, the ordered topics
    with their texts (as the document shows them); a period's document's summary per
    city-wide topic too (each area's text again), so an edit there is found as well. Without
    a summary the JSON is what it always was: earlier exports keep verifying."""
    canonical = {
        "title": title,
        "chapters": [{"title": chapter_title, "sections": [[h, t] for h, t in sections]}
                     for chapter_title, sections in chapters],
    }
    if topics:
        canonical["topics"] = [{"heading": heading, "areas": [[a, t] for a, t in texts]}
                               for heading, texts in topics]
    return canonical_json(canonical)


def content_hash(content: DocumentContent) -> str:
    canonical = canonical_content(
        content.title,
        [(c.title, [(s.heading, s.text) for s in c.sections]) for c in content.chapters],
        content.topics)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def visible(text: str) -> str:
    """A text as any reader of the printed page sees it: words, not where the lines break."""
    return " ".join(text.split())


def visible_key(text: str) -> str:
    """What a PDF read back can be checked on: its characters without any whitespace (a word
    too long for its column is broken where it meets the edge, and reads back as two)."""
    return "".join(text.split())


def visible_hash(title: str, chapters: list[tuple[str, list[tuple[str, str]]]],
                 topics: list[tuple[str, list[tuple[str, str]]]] = ()) -> str:
    """The content hash of what a PDF shows, its whitespace left out; a period's summary per
    city-wide topic too (the PDFs from before it had none, and their hash stays as it was)."""
    canonical = canonical_content(
        visible_key(title), [(visible_key(chapter_title),
                              [(visible_key(h), visible_key(t)) for h, t in sections])
                             for chapter_title, sections in chapters],
        [(visible_key(heading), [(visible_key(a), visible_key(t)) for a, t in texts])
         for heading, texts in topics])
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def visible_hash_of(content: DocumentContent) -> str:
    return visible_hash(content.title, [(c.title, [(s.heading, s.text) for s in c.sections])
                                        for c in content.chapters], content.topics)


def fingerprint_of(content_sha256: str, audit_head_hash: str) -> str:
    return hashlib.sha256(f"{content_sha256}\n{audit_head_hash}".encode("ascii")).hexdigest()


def audit_head() -> tuple[int, str]:
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return (head.seq, head.hash) if head else (0, GENESIS_HASH)


# --------------------------------------------------------------------------------------------
# DOCX and PDF
# --------------------------------------------------------------------------------------------

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The formats a lägesbild is exported in, with their media types.
FORMATS = {"docx": DOCX_MIMETYPE, "pdf": "application/pdf"}
# A print from the browser: no file, but an export event like a file's, whose fingerprint the
# printed pages carry (printed_export finds it again for the print view).
PRINT_FORMAT = "print"


@dataclass(frozen=True)
class ExportedDocument:
    data: bytes
    filename: str
    fingerprint: str
    content_sha256: str
    content: DocumentContent
    exported_at: datetime

    @property
    def mimetype(self) -> str:
        return FORMATS[self.filename.rsplit(".", 1)[-1]]


def file_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    ascii_text = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "lagesbild"


def _export(actor: Actor, read: Callable[[], tuple[DocumentContent, dict, str, int]],
            document_format: str = "docx") -> ExportedDocument:
    """Read the texts and the audit head in one read transaction (so the fingerprint binds the
    texts to the head they were read at), render the file outside any transaction, and only
    then append the export's audit event in a short operation: no writer waits for a render.
    Call it outside an operation."""
    try:
        with consistent_read():
            content, scope, object_type, object_id = read()
            head_seq, head_hash = audit_head()
    except NotAllowed as refusal:
        refuse(actor, refusal)  # recorded as a security event, as a refused write is
    content.audit_head = (head_seq, head_hash)
    content_sha = content_hash(content)
    fingerprint = fingerprint_of(content_sha, head_hash)
    moment = now()
    if document_format == PRINT_FORMAT:
        data = b""  # the browser prints the page; the event binds what it shows
    elif document_format == "pdf":
        data = render_pdf(content, moment, fingerprint)
    else:
        # A template that went missing since the start refuses here, before anything is
        # recorded.
        data = render_docx(content, moment, fingerprint, configured_template())
    with operation(actor):
        record_event(
            "document.export", actor=actor, object_type=object_type, object_id=object_id,
            **scope,
            data={"format": document_format, "title": content.title, "period": content.period,
                  "area": content.area, "state": content.state_label,
                  "approved": content.approved, "fingerprint": fingerprint,
                  "content_sha256": content_sha, "audit_head_seq": head_seq,
                  "audit_head_hash": head_hash, "visible_sha256": visible_hash_of(content),
                  **({"file_sha256": hashlib.sha256(data).hexdigest()} if data else {})},
        )
    name = f"lagesbild-{file_slug(content.period)}"
    if content.area:
        name += f"-{file_slug(content.area)}"
    if not content.approved:
        name += "-utkast"
    return ExportedDocument(data, f"{name}.{document_format}", fingerprint, content_sha, content,
                            moment)


def export_contribution(actor: Actor, contribution_id: int,
                        document_format: str = "docx") -> ExportedDocument:
    """One area's lägesbild as DOCX or PDF. Writes a document.export audit event (its own
    operation: call it outside one)."""
    def read():
        contribution = readable_contribution(actor, contribution_id, "document.export")
        return (contribution_content(contribution), scope_of(contribution), "contribution",
                contribution.id)
    return _export(actor, read, document_format)


def export_period(actor: Actor, period_id: int, document_format: str = "docx"
                  ) -> ExportedDocument:
    """The period's consolidated lägesbild as DOCX or PDF: (in the DOCX) a cover page with the
    areas' states and a summary per city-wide topic across the areas, then one chapter per area.
    Writes a document.export audit event (its own operation: call it outside one)."""
    def read():
        period = readable_period(actor, period_id, "document.export")
        return period_content(period), {"period_id": period.id}, "period", period.id
    return _export(actor, read, document_format)


def printed_export(content: DocumentContent, object_type: str, object_id: int,
                   fingerprint: str) -> tuple[AuditEvent | None, bool]:
    """The print export of this object with this fingerprint, and whether the content shown
    now is still what it bound (its content hash with the audit head it was read at): only
    then does the print view print the fingerprint. (None, False) for an unknown one."""
    if not FINGERPRINT_RE.fullmatch(fingerprint or ""):
        return None, False
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "document.export",
                                 AuditEvent.object_type == object_type,
                                 AuditEvent.object_id == str(object_id),
                                 AuditEvent.data.contains(fingerprint))
        .order_by(AuditEvent.seq).limit(1))
    if event is None:
        return None, False
    exported = json.loads(event.data)
    if exported.get("format") != PRINT_FORMAT or exported.get("fingerprint") != fingerprint:
        return None, False
    content.audit_head = (exported["audit_head_seq"], exported["audit_head_hash"])
    current = content_hash(content)
    return event, fingerprint_of(current, exported["audit_head_hash"]) == fingerprint


# --------------------------------------------------------------------------------------------
# Verify
# --------------------------------------------------------------------------------------------


