"""Verify an exported file (DOCX or PDF): read it back, recompute the content hash from its
texts, and say whether it is untouched, which version it shows, and who approved that version
when, or what differs in words a registrar understands: the title, the period, the area, a
draft, a missing or added section, a section's text (with the words)."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from app.contributions.snapshot import snapshot_intact
from app.core.clock import STOCKHOLM
from app.core.diff import Segment, word_diff
from app.core.errors import InvalidInput
from app.core.messages import N_, Label, Msg
from app.documents.approval import approval_of_contribution, approval_of_period
from app.documents.docx_format import (
    TOPIC_SUMMARY_HEADING,
    DocumentContent,
    Layout,
    load_docx,
    read_docx_layout,
)
from app.documents.export import (
    FINGERPRINT_RE,
    canonical_content,
    content_hash,
    contribution_content,
    fingerprint_of,
    period_content,
    visible,
    visible_hash,
    visible_key,
)
from app.documents.pdf_reader import read_pdf
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
    findings: list[Msg] = field(default_factory=list)   # what differs, in words
    exported_from: tuple[str, int] | None = None        # ("contribution" | "period", id)


APPROVED = Label("approved", sv="fastställd")
IMPORTED = Label("imported", sv="importerad")


def _approval_message(approval) -> Msg | None:
    """Who approved (or imported) it and when (app/documents/approval.py), in the reader's
    language."""
    if approval is None:
        return None
    return Msg(N_("{how} by {name} on {moment} (audit event {seq}, {action})"),
               how=IMPORTED if approval.imported else APPROVED, name=approval.by,
               moment=f"{approval.at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M}",
               seq=approval.event_seq, action=approval.action)


def _approval_of_contribution(contribution: Contribution) -> Msg | None:
    return _approval_message(approval_of_contribution(contribution))


def _approval_of_period(period: Period) -> Msg | None:
    return _approval_message(approval_of_period(period))


def _matching_chapter(index: int, title: str, found_chapters: list, expected_titles: set[str]):
    """The file's chapter for one of the system's: by title, else the one at the same place
    (a changed title is then reported as such, not as every section missing)."""
    by_title = {c.title: c for c in found_chapters}
    if title in by_title:
        return by_title[title]
    if index < len(found_chapters) and found_chapters[index].title not in expected_titles:
        return found_chapters[index]
    return None


def _exact(text: str) -> str:
    return text


def _differences(expected: DocumentContent, found, shown=_exact, key=_exact
                 ) -> list[SectionDifference]:
    """Section by section. `key` is what a format keeps of a text, to compare (a PDF: its
    characters, not where its lines break); `shown` is how a difference is shown."""
    differences = []
    expected_titles = {c.title for c in expected.chapters}
    for index, chapter in enumerate(expected.chapters):
        found_chapter = _matching_chapter(index, chapter.title, found.chapters, expected_titles)
        found_sections = ({key(h): (shown(h), t) for h, t in found_chapter.sections}
                          if found_chapter else {})
        expected_keys = {key(s.heading) for s in chapter.sections}
        for section in chapter.sections:
            _heading, other = found_sections.get(key(section.heading), (None, None))
            if other is None or key(other) != key(section.text):
                differences.append(SectionDifference(
                    chapter.title, shown(section.heading), section.text, other,
                    word_diff(shown(section.text), shown(other or ""))))
        for heading_key, (heading, other) in found_sections.items():
            if heading_key not in expected_keys:
                differences.append(SectionDifference(
                    chapter.title, heading, None, other, word_diff("", shown(other))))
    if found.topics:  # a consolidated document from before the summary has none
        differences.extend(_topic_differences(expected.topics, found.topics, shown, key))
    return differences


def _topic_differences(expected, found, shown=_exact, key=_exact) -> list[SectionDifference]:
    """The period's summary per city-wide topic: each area's text under each topic (compared
    by `key` and shown by `shown`, as the sections are)."""
    differences = []
    found_topics = {key(heading): (heading, {key(area): (area, text) for area, text in texts})
                    for heading, texts in found}
    for heading, texts in expected:
        chapter = f"{TOPIC_SUMMARY_HEADING}: {heading}"
        _found_heading, found_texts = found_topics.pop(key(heading), (heading, {}))
        for area, text in texts:
            _area, other = found_texts.pop(key(area), (area, None))
            if other is None or key(other) != key(text):
                differences.append(SectionDifference(chapter, area, text, other,
                                                     word_diff(shown(text), shown(other or ""))))
        for area, other in found_texts.values():
            differences.append(SectionDifference(chapter, shown(area), None, other,
                                                 word_diff("", shown(other))))
    for heading, texts in found_topics.values():
        for area, other in texts.values():
            differences.append(SectionDifference(f"{TOPIC_SUMMARY_HEADING}: {shown(heading)}",
                                                 shown(area), None, other,
                                                 word_diff("", shown(other))))
    return differences


# Within the footer's one line (a period document's cover has a "Period: ..." line of its own).
_FOOTER = re.compile(r"Period: (?P<period>(?:(?!Period: )[^·])+?) · Område: (?P<area>[^·]+?) · "
                     r"Status:")


def _quoted(segments: list[Segment], op: str) -> str:
    return ", ".join(f"“{s.text.strip()}”" for s in segments if s.op == op and s.text.strip())


def _section_findings(differences: list[SectionDifference]) -> list[Msg]:
    findings = []
    missing = [d for d in differences if d.found is None]
    added = [d for d in differences if d.expected is None]
    renamed = set()
    for lost in missing:  # a heading that changed, the text the same
        twin = next((d for d in added if id(d) not in renamed
                     and " ".join(d.found.split()) == " ".join(lost.expected.split())), None)
        if twin is not None:
            renamed.update({id(lost), id(twin)})
            findings.append(Msg(N_("The heading '{expected}' reads '{found}' in the file."),
                                expected=lost.heading, found=twin.heading))
    for difference in differences:
        if id(difference) in renamed:
            continue
        if difference.found is None:
            findings.append(Msg(N_("The section '{heading}' is missing from the file."),
                                heading=difference.heading))
        elif difference.expected is None:
            findings.append(Msg(N_("The file has a section '{heading}' that the system does "
                                   "not have."), heading=difference.heading))
        else:
            removed = _quoted(difference.segments, "delete") or "–"
            inserted = _quoted(difference.segments, "insert") or "–"
            findings.append(Msg(N_("The text of '{heading}' differs: the file lacks {removed} "
                                   "and has {inserted} instead."),
                                heading=difference.heading, removed=removed, inserted=inserted))
    return findings


def _findings(exported: dict, current: DocumentContent, layout, differences,
              shown, key) -> list[Msg]:
    """What differs, in a registrar's words: title, period, area, draft, each section."""
    findings = []
    if key(layout.title) != key(current.title):
        findings.append(Msg(N_("The title differs: the file says '{found}', the system "
                               "'{expected}'."), found=shown(layout.title) or "–",
                            expected=current.title))
    footer = _FOOTER.search(" ".join(layout.footer.split()))
    if footer:
        expected_area = exported.get("area") or "alla områden"
        if footer["period"] != exported.get("period"):
            findings.append(Msg(N_("The period differs: the file's footer says '{found}', the "
                                   "export was of '{expected}'."),
                                found=footer["period"], expected=exported.get("period")))
        if footer["area"] != expected_area:
            findings.append(Msg(N_("The area differs: the file's footer says '{found}', the "
                                   "export was of '{expected}'."),
                                found=footer["area"], expected=expected_area))
    if current.area is None:  # a period's document: a chapter per area
        expected_titles = {c.title for c in current.chapters}
        for index, chapter in enumerate(current.chapters):
            found = _matching_chapter(index, chapter.title, layout.chapters, expected_titles)
            if found is None:
                findings.append(Msg(N_("The chapter '{expected}' is missing from the file."),
                                    expected=chapter.title))
            elif key(found.title) != key(chapter.title):
                findings.append(Msg(N_("The chapter '{expected}' is titled '{found}' in the "
                                       "file."), expected=chapter.title, found=found.title))
    if not exported.get("approved"):
        findings.append(Msg(N_("The file is an export of a draft (UTKAST), not of an approved "
                               "version.")))
    return findings + _section_findings(differences)


def _read(data: bytes):
    """The file's layout, how its texts are shown and what of them is compared: a PDF gives
    back its words and characters, not its spaces and line breaks."""
    if data.startswith(b"%PDF"):
        reading = read_pdf(data)
        layout = reading.layout or Layout("", [], reading.text, "pdf")
        return layout, visible, visible_key
    return read_docx_layout(load_docx(data)), _exact, _exact


def _export_event(fingerprint: str) -> AuditEvent | None:
    """The export that issued this fingerprint (a file's or a print's)."""
    return db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "document.export",
                                 AuditEvent.data.contains(fingerprint))
        .order_by(AuditEvent.seq).limit(1))


def _exported_details(event: AuditEvent, exported: dict) -> list[Msg]:
    exported_at = event.occurred_at.astimezone(STOCKHOLM)
    return [Msg(N_("Exported by {name} on {moment} (audit event {seq}); state then: "
                   "{state}."), name=event.actor_name,
                moment=f"{exported_at:%Y-%m-%d %H:%M}", seq=event.seq,
                state=exported.get("state"))]


def verify_fingerprint(typed: str) -> VerifyReport:
    """A fingerprint read off paper (a print with a fingerprint, or a file's footer) and typed
    in: which document it binds, exported or printed by whom and when, and whether the texts
    in the system are still the ones it was issued for. (The paper's own words cannot be read
    here: the report says what to compare them with.)"""
    fingerprint = "".join((typed or "").split()).lower()
    if not FINGERPRINT_RE.fullmatch(fingerprint):
        raise InvalidInput(Msg(N_("A fingerprint is 64 characters, the digits 0–9 and the "
                                  "letters a–f (spaces and line breaks are left out).")))
    event = _export_event(fingerprint)
    exported = json.loads(event.data) if event is not None else {}
    if event is None or exported.get("fingerprint") != fingerprint:
        return VerifyReport(False, Msg(N_("The fingerprint {fingerprint} was not issued by this "
                                          "system."), fingerprint=fingerprint),
                            fingerprint=fingerprint)
    if event.object_type == "contribution":
        contribution = db.session.get(Contribution, event.contribution_id)
        current, approval = contribution_content(contribution), _approval_of_contribution(
            contribution)
    else:
        period = db.session.get(Period, event.period_id)
        current, approval = period_content(period), _approval_of_period(period)
    details = _exported_details(event, exported)
    details.append(Msg(N_("Issued for: {format}."), format=_FORMAT_NAMES.get(
        exported.get("format"), exported.get("format"))))
    same = fingerprint_of(content_hash(current), exported["audit_head_hash"]) == fingerprint
    exported_from = (event.object_type, event.object_id)
    if same and exported.get("approved") and current.approved:
        summary = Msg(N_("The fingerprint belongs to the approved version of '{title}', "
                         "{approval}: the texts in the system are still the ones it was issued "
                         "for. Compare the paper with the print view or an export of it."),
                      title=current.title, approval=approval or APPROVED)
        return VerifyReport(True, summary, details, fingerprint=fingerprint,
                            exported_from=exported_from)
    if same:
        summary = Msg(N_("The fingerprint belongs to a draft (UTKAST) of '{title}', not to an "
                         "approved version."), title=current.title)
    else:
        summary = Msg(N_("The fingerprint belongs to '{title}' as it was then; the texts in the "
                         "system have changed since, so the paper is not the current version."),
                      title=current.title)
    return VerifyReport(False, summary, details, fingerprint=fingerprint,
                        exported_from=exported_from)


_FORMAT_NAMES = {"print": Label("a print from the print view", sv="en utskrift från "
                                "utskriftsvyn"),
                 "docx": Label("a DOCX file", sv="en DOCX-fil"),
                 "pdf": Label("a PDF file (PDF/A)", sv="en PDF-fil (PDF/A)")}


def verify_document(data: bytes) -> VerifyReport:
    """Does this DOCX or PDF match an approved version in the system? If not, what differs?"""
    layout, shown, key = _read(data)
    fingerprint_match = FINGERPRINT_RE.search(layout.footer)
    if fingerprint_match is None:
        return VerifyReport(False, Msg(N_(
            "The file carries no fingerprint in its footer: it is not an export of this system, "
            "or its footer was removed.")))
    fingerprint = fingerprint_match.group(1)
    event = _export_event(fingerprint)
    if event is None:
        return VerifyReport(False, Msg(N_("The fingerprint {fingerprint} was not issued by this "
                                          "system."), fingerprint=fingerprint),
                            fingerprint=fingerprint)
    exported = json.loads(event.data)
    exported_from = (event.object_type, event.object_id)
    details = _exported_details(event, exported)
    chapters = [(c.title, c.sections) for c in layout.chapters]
    if layout.format == "pdf":
        untouched = (visible_hash(layout.title, chapters, layout.topics)
                     == exported.get("visible_sha256"))
    else:
        found_sha = hashlib.sha256(canonical_content(layout.title, chapters,
                                                     layout.topics).encode()).hexdigest()
        untouched = (found_sha == exported["content_sha256"]
                     and fingerprint_of(found_sha, exported["audit_head_hash"]) == fingerprint)
    if event.object_type == "contribution":
        contribution = db.session.get(Contribution, event.contribution_id)
        current = contribution_content(contribution)
        approved, approval = current.approved, _approval_of_contribution(contribution)
        frozen = [contribution]
    else:
        period = db.session.get(Period, event.period_id)
        current = period_content(period)
        approved, approval = current.approved, _approval_of_period(period)
        frozen = [c for c in period.contributions if c.excluded_reason is None]
    rewritten = sorted(c.area.name for c in frozen if snapshot_intact(c) is False)
    if rewritten:
        # The frozen headings in the database are not what the trail says was approved.
        return VerifyReport(
            False, Msg(N_("The approved lägesbild of {areas} was changed in the database after "
                          "its approval: its headings, order or cross-references no longer "
                          "match the digest its approval recorded in the audit trail."),
                       areas=", ".join(rewritten)),
            details, [], fingerprint)
    differences = _differences(current, layout, shown, key)
    findings = _findings(exported, current, layout, differences, shown, key)
    if untouched and approved and not findings and exported.get("approved"):
        return VerifyReport(
            True, Msg(N_("The file matches the approved version of '{title}', {approval}."),
                      title=current.title, approval=approval or APPROVED),
            details, [], fingerprint, [], exported_from)
    if not untouched:
        summary = (Msg(N_("The file's texts were changed after the export: they do not match "
                          "its fingerprint. {count} section(s) differ from the approved "
                          "version."), count=len(differences)) if approved else
                   Msg(N_("The file's texts were changed after the export: they do not match "
                          "its fingerprint. {count} section(s) differ from the version in the "
                          "system."), count=len(differences)))
    elif not exported.get("approved"):
        summary = (Msg(N_("The file is an unchanged export of a draft (UTKAST), not of an "
                          "approved version. The texts have changed since: {count} section(s) "
                          "differ."), count=len(differences)) if differences else
                   Msg(N_("The file is an unchanged export of a draft (UTKAST), not of an "
                          "approved version.")))
    else:
        summary = Msg(N_("{count} section(s) differ from the version in the system."),
                      count=len(differences))
    return VerifyReport(False, summary, details, differences, fingerprint, findings,
                        exported_from)


def render_differences(differences: list[SectionDifference]) -> str:
    """Plain-text diff for the command line: [-deleted-] {+inserted+}."""
    lines = []
    for difference in differences:
        lines.append(f"--- {difference.chapter} / {difference.heading}")
        if difference.found is None:
            lines.append("    (" + Msg(N_("Missing from the file.")).translated() + ")")
        elif difference.expected is None:
            lines.append("    (" + Msg(N_("Not in the system.")).translated() + ")")
        marked = "".join(
            s.text if s.op == "equal" else (f"[-{s.text}-]" if s.op == "delete"
                                            else f"{{+{s.text}+}}")
            for s in difference.segments)
        lines.extend("    " + line for line in marked.split("\n"))
    return "\n".join(lines)
