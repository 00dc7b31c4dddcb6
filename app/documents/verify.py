"""Verify an exported file: read it back, recompute the content hash from its texts, and say
whether it is untouched, which version it shows, and who approved that version when (or which
sections differ, word by word)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select

from app.contributions.snapshot import snapshot_intact
from app.core.clock import STOCKHOLM
from app.core.diff import Segment, word_diff
from app.documents.approval import approval_of_contribution, approval_of_period
from app.documents.docx_format import (
    TOPIC_SUMMARY_HEADING,
    DocumentContent,
    load_docx,
    read_docx_layout,
)
from app.documents.export import (
    FINGERPRINT_RE,
    canonical_content,
    contribution_content,
    fingerprint_of,
    period_content,
)
from app.extensions import db
from app.models import AuditEvent, Contribution, Period


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


def _approval_of_contribution(contribution: Contribution) -> str | None:
    approval = approval_of_contribution(contribution)
    return approval.english() if approval else None


def _approval_of_period(period: Period) -> str | None:
    approval = approval_of_period(period)
    return approval.english() if approval else None


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
    if found.topics:  # a consolidated document from before the summary has none
        differences.extend(_topic_differences(expected.topics, found.topics))
    return differences


def _topic_differences(expected, found) -> list[SectionDifference]:
    """The period's summary per city-wide topic: each area's text under each topic."""
    differences = []
    found_topics = {heading: dict(texts) for heading, texts in found}
    for heading, texts in expected:
        chapter = f"{TOPIC_SUMMARY_HEADING}: {heading}"
        found_texts = found_topics.pop(heading, {})
        for area, text in texts:
            other = found_texts.pop(area, None)
            if other != text:
                differences.append(SectionDifference(chapter, area, text, other,
                                                     word_diff(text, other or "")))
        for area, other in found_texts.items():
            differences.append(SectionDifference(chapter, area, None, other,
                                                 word_diff("", other)))
    for heading, texts in found_topics.items():
        for area, other in texts.items():
            differences.append(SectionDifference(f"{TOPIC_SUMMARY_HEADING}: {heading}", area,
                                                 None, other, word_diff("", other)))
    return differences


def verify_document(data: bytes) -> VerifyReport:
    """Does this DOCX match an approved version in the system? If not, how does it differ?"""
    document = load_docx(data)
    layout = read_docx_layout(document)
    fingerprint_match = FINGERPRINT_RE.search(layout.footer)
    found_sha = hashlib.sha256(canonical_content(
        layout.title, [(c.title, c.sections) for c in layout.chapters],
        layout.topics).encode()).hexdigest()
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
        shown = [contribution]
    else:
        period = db.session.get(Period, event.period_id)
        current = period_content(period)
        approved, approval = current.approved, _approval_of_period(period)
        shown = [c for c in period.contributions if c.excluded_reason is None]
    rewritten = sorted(c.area.name for c in shown if snapshot_intact(c) is False)
    if rewritten:
        # The frozen headings in the database are not what the trail says was approved.
        return VerifyReport(
            False, "The approved lägesbild of " + ", ".join(rewritten) + " was changed in "
                   "the database after its approval: its headings, order or cross-references "
                   "no longer match the digest its approval recorded in the audit trail.",
            details, [], fingerprint)
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
