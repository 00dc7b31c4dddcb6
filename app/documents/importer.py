"""Import an existing lägesbild (a text file like the seed document, or a DOCX laid out like
our export) as the history of one area and period.

An imported lägesbild was approved outside the system. It is final (state "approved", so it
can be read, exported and carried forward), but marked imported (`imported_at`) on the
contribution and, for a period the import creates, on its consolidation, which then names no
submitter and no approver: every page, print view and DOCX says "imported", never that
someone approved it here. The mark rather than a second person's confirmation: the system
cannot attest an approval it did not see, and a confirmation by a second person would only
put two names under a copy nobody reviewed in the system.

Three steps, so that a person confirms which text belongs to which topic before anything is
stored (old documents get that wrong; the seed's local comments slid one row):

1. `read_upload(data, filename)` checks the file (size, format, DOCX zip bombs, XML entity
   tricks) and parses it into a `Layout`: title, numbered city-wide rows, local rows.
2. `propose(data, area, period_name, splits)` turns it into text blocks with a proposed
   target topic each, and warnings: a title naming another area or period, a row's title
   differing from the system's topic. City-wide rows are recognised by the city's standard
   titles even before those topics exist (the import then creates them).
3. `import_document(actor, data, filename, area_name, period_name, choices)` stores it, the
   choices (`Choices`) being the person's corrections: a target per block, blocks split or
   discarded, the area's existing local topics to include although the document lacks them.

A mapping file (`flask documents import --mapping FILE`) is JSON:

    {"format": "lagesbild-import-mapping/1",
     "source_sha256": "<optional: the file's SHA-256, checked when present>",
     "blocks": {"city-1": "city:1", "local-2": "local:Nyrekrytering", "local-3": "discard"},
     "include_topics": ["local:<an existing topic the document lacks>"],
     "splits": {"local-1": [3]}}

Block ids are those the proposal prints ("local-1.3": row local-1 from its line 3, once split);
a target is "city:<number>" for a city-wide topic, "local:<title>" for one of the area's local
topics or a local topic the document names (which the import creates), or "discard". Every
block must be placed or discarded; several blocks may go to one topic (their texts are joined
in document order). The contribution gets the city-wide topics and exactly the local topics
the document has, plus those included: an import never adds rows the source lacks. A city-wide
text opening with "… hanteras inom ramen för det/de lokalt prioriterade området/områdena X
(och Y), se nedan." is stored as links to X (and Y) (`reference_warnings` says in the preview
when such a sentence points at a topic that gets no text).
"""
from __future__ import annotations

import calendar
import difflib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from app.audit.trail import record_event, scope_of
from app.contributions.operations import add_revision, text_fingerprint
from app.contributions.policy import CONTRIBUTIONS
from app.contributions.snapshot import freeze
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import InvalidInput
from app.core.messages import N_, Label, Msg
from app.core.text_rules import refuse_identity_numbers, validate_section_text
from app.documents.cross_references import (
    MAX_LINKS,
    find_reference,
    written_reference_names,
)
from app.documents.docx_format import (
    BULLET_CHARS,
    CITY_HEADER_START,
    LOCAL_HEADER_START,
    MAX_FILE_BYTES,
    Layout,
    LayoutChapter,
    Row,
    clean_line,
    docx_text,
    load_docx,
    read_docx_layout,
    reader_text,
    refusal,
)
from app.documents.pdf_reader import read_pdf
from app.documents.policy import require_importer
from app.extensions import db
from app.models import (
    Area,
    Consolidation,
    Contribution,
    Period,
    Section,
    Topic,
    TopicScope,
    User,
)

MAPPING_FORMAT = "lagesbild-import-mapping/1"
# How many lines of a letterhead may stand above a text's title line.
MAX_LETTERHEAD = 3
# A line this short under the title, right above the first table, is the title wrapped.
WRAPPED_TITLE_CHARS = 40
# How alike (difflib's ratio) a new local topic's title and an existing one are to be named
# in the preview as perhaps the same topic.
SIMILAR_TOPIC_RATIO = 0.8
# Where an identity number was found, for the refusal (never the number itself).
FILE_TEXT = Label("file's text", sv="filens text")
DOCX_TEXT = Label("document's text (a line per paragraph)", sv="dokumentets text (en rad per "
                  "stycke)")
PDF_TEXT = Label("PDF's text", sv="PDF-filens text")
FILE_NAME = Label("file name", sv="filnamnet")
PERIOD_NAME = Label("period name", sv="periodens namn")

MONTHS_SV = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december"]
# Typical first words of a city-wide comment, to split "title comment" rows whose title
# the system does not know.
_COMMENT_OPENERS = re.compile(r"\s(Arbetet|Se |Inga |Ingen |Det |Frågan |Området )")


# --------------------------------------------------------------------------------------------
# Layout: what a document holds
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Checking the file
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Reading a DOCX laid out like the export
# --------------------------------------------------------------------------------------------


# --------------------------------------------------------------------------------------------
# Reading a text file like the seed
# --------------------------------------------------------------------------------------------

def _split_city_title(content: str, number: int, known_titles: dict[int, str]) -> tuple[str, str]:
    known = known_titles.get(number)
    if known:
        words = known.split()
        pattern = r"^\s*" + r"\s+".join(re.escape(w) for w in words) + r"(?:\s+|$)"
        match = re.match(pattern, content, re.IGNORECASE)
        if match:
            return content[:match.end()].strip(), content[match.end():].strip()
    opener = _COMMENT_OPENERS.search(content)
    if opener:
        return content[:opener.start()].strip(), content[opener.start():].strip()
    return "", content.strip()


def _known_title_at_start(line: str, known_folded: list[str]) -> str | None:
    """A known local topic's title opening a row: capitalised as a title, alone on the line
    or followed by a capitalised comment ("otillåten påverkan gentemot ..." is a wrapped
    continuation, not a row)."""
    if not line[:1].isupper():
        return None
    folded = line.casefold()
    for title in known_folded:
        if folded == title:
            return title
        rest = line[len(title):]
        if folded.startswith(title + " ") and rest.strip()[:1].isupper():
            return title
    return None


def _add_line(items: list[str], line: str) -> None:
    """A line of a comment: a bullet starts a "- " item, any other line continues the one
    before (a hard wrap), the first starts the text."""
    if line[0] in BULLET_CHARS:
        items.append("- " + line[1:].strip())
    elif items:
        items[-1] = f"{items[-1]} {line}"
    else:
        items.append(line)


def parse_text(text: str, known_city: dict[int, str] | None = None,
               known_local: list[str] | None = None) -> Layout:
    """Parse plain text extracted from a lägesbild (the seed's defects included): numbers split
    over lines ("10" / "."), U+F0FC bullets, hard-wrapped lines, no-break spaces."""
    known_city = known_city or {}
    known_local_folded = sorted((t.casefold() for t in known_local or []), key=len, reverse=True)
    lines = [clean_line(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    city_start = next((i for i, line in enumerate(lines)
                       if line.casefold().startswith(CITY_HEADER_START)), None)
    local_start = next((i for i, line in enumerate(lines)
                        if line.casefold().startswith(LOCAL_HEADER_START)), None)
    first_table = min((i for i in (city_start, local_start) if i is not None),
                      default=len(lines))
    # The title: the first line, or after a letterhead ("Stockholms stad") of a few lines.
    title_at = next((i for i, line in enumerate(lines[:min(first_table, MAX_LETTERHEAD + 1)])
                     if line.casefold().startswith("lägesbild")), None)
    if title_at is None:
        raise refusal(N_("The file does not look like a lägesbild: its first line should be the "
                         "title \"Lägesbild <period> <area>\"."))
    title = lines[title_at]
    if city_start is None and local_start is None:
        raise refusal(N_("The file does not look like a lägesbild: it has neither the table of "
                         "city-wide topics nor the table of local topics."))
    between = lines[title_at + 1:first_table]
    if len(between) == 1 and len(between[0]) <= WRAPPED_TITLE_CHARS and \
            not between[0].endswith((".", ":", "!", "?")):  # a title wrapped: "Lägesbild …" / area
        title, between = f"{title} {between[0]}", []
    chapter = LayoutChapter(title)
    if city_start is not None:
        end = local_start if local_start is not None and local_start > city_start else len(lines)
        expected, current = 1, None
        city_rows: list[tuple[int, list[str]]] = []
        for line in lines[city_start + 1:end]:
            match = re.match(r"^(\d{1,2})\s*(\.?)\s*(.*)$", line)
            if match and int(match.group(1)) == expected:
                current = (expected, [match.group(3)] if match.group(3) else [])
                city_rows.append(current)
                expected += 1
            elif current is not None:
                if line == "." and not current[1]:
                    continue  # the "." of a number split over lines
                current[1].append(line)
        for number, parts in city_rows:
            # The title and the comment's first lines up to a bullet; bullets are items.
            first_bullet = next((i for i, part in enumerate(parts)
                                 if part[0] in BULLET_CHARS), len(parts))
            title_part, comment = _split_city_title(" ".join(parts[:first_bullet]), number,
                                                    known_city)
            items = [comment] if comment else []
            for part in parts[first_bullet:]:
                _add_line(items, part)
            chapter.rows.append(Row(TopicScope.CITY, number, title_part, "\n".join(items)))
    if local_start is not None:
        items: list[str] = []
        row_title = None

        def close_row():
            if row_title is not None:
                chapter.rows.append(Row(TopicScope.LOCAL, None, row_title, "\n".join(items)))

        for line in lines[local_start + 1:]:
            bullet_at = next((i for i, ch in enumerate(line) if ch in BULLET_CHARS), None)
            known = _known_title_at_start(line, known_local_folded)
            if bullet_at is not None and bullet_at > 0:
                close_row()
                row_title, items = line[:bullet_at].strip(), []
                line = line[bullet_at:]
            elif bullet_at is None and known is not None:
                close_row()
                row_title, items = line[:len(known)].strip(), []
                line = line[len(known):].strip()
                if not line:
                    continue
            if row_title is None:  # text before the first title: a row without one, for
                row_title, items = "", []  # the person to place (never left out unseen)
            _add_line(items, line)
        close_row()
    return Layout(title, [chapter], "", "text", outside_text=[*lines[:title_at], *between])


# --------------------------------------------------------------------------------------------
# The upload
# --------------------------------------------------------------------------------------------

def _decode_text(data: bytes) -> str:
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise refusal(N_("The file is neither a DOCX document nor a text file."))
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # Windows' own ("ANSI") encoding, what Notepad saves in a Swedish Windows by default
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise refusal(N_("The text file is not UTF-8 encoded. Save it as UTF-8 text (or as "
                         "DOCX) and try again.")) from None


def read_upload(data: bytes, known_city: dict[int, str] | None = None,
                known_local: list[str] | None = None) -> Layout:
    """Check the file and parse it, whichever format it is."""
    if not data:
        raise refusal(N_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise refusal(N_("The file is larger than {limit} MB."), limit=MAX_FILE_BYTES // 2**20)
    if data.startswith(b"%PDF"):
        reading = read_pdf(data)
        refuse_identity_numbers(reading.everything, field="file", what=PDF_TEXT)
        # Its bold lines may be local topics' titles (headings), as a DOCX's headings are.
        layout = reading.layout or parse_text(reading.text, known_city,
                                              [*(known_local or []), *reading.bold_lines])
        layout.format = "pdf"
        return layout
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise refusal(N_("The old Word format (.doc) cannot be imported. Save the document as "
                         "DOCX and try again."))
    if data.startswith(b"PK"):
        document = load_docx(data)
        # The whole file, not only the rows read from it: the upload is kept until confirmed.
        refuse_identity_numbers(reader_text(data), field="file", what=DOCX_TEXT)
        layout = read_docx_layout(document, exact=False)
        if not layout.chapters:  # headings and paragraphs, not tables: read as a PDF's text
            text, local_titles = docx_text(document)
            layout = parse_text(text, known_city, [*(known_local or []), *local_titles])
            layout.format = "docx"
        return layout
    text = _decode_text(data)
    refuse_identity_numbers(text, field="file", what=FILE_TEXT)
    return parse_text(text, known_city, known_local)


# --------------------------------------------------------------------------------------------
# The proposal
# --------------------------------------------------------------------------------------------

# The city's ten city-wide topics, as every lägesbild names them: rows are recognised by
# these before the topics exist in the database, and an import proposes creating them.
STANDARD_CITY_TOPICS = {
    1: "Riktat arbete mot avgränsade platser och utsatta områden",
    2: "Unga i risk för kriminalitet",
    3: "Avhopparverksamhet för kriminella",
    4: "Särskilt utsatta och sårbara brottsoffer",
    5: "Otillåten påverkan",
    6: "Skolan som brottsplats",
    7: "Arbete mot våldsbejakande extremism",
    8: "Otillåtna bosättningar",
    9: "Ordningsvakter",
    10: "Kameraövervakning",
}
DISCARD = "discard"  # the target of a block the person leaves out of the import
_PERIOD_IN_TITLE = re.compile(r"(?P<month>[^\W\d_]+)\s+(?P<year>\d{4})", re.IGNORECASE)
_TITLE_PLACEHOLDER = re.compile(r"^\[.*\]$")


@dataclass(frozen=True)
class Block:
    id: str
    scope: str
    label: str
    text: str
    # The line of the row's text this part starts at (1 unless the person split the row).
    first_line: int = 1


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    scope: str
    exists: bool


@dataclass
class Choices:
    """What the person decided in the preview: a target (or DISCARD) per block, the area's
    existing local topics to include although no text goes there, and where rows are split
    (block id of the whole row -> the line numbers each further part starts at)."""
    blocks: dict[str, str | None] = field(default_factory=dict)
    include: list[str] = field(default_factory=list)
    splits: dict[str, list[int]] = field(default_factory=dict)
    source_sha256: str | None = None

    @classmethod
    def of(cls, mapping: Choices | dict[str, str | None]) -> Choices:
        if isinstance(mapping, Choices):
            return mapping
        blocks = {k: v for k, v in mapping.items() if not k.startswith("__")}
        return cls(blocks, source_sha256=mapping.get("__source_sha256__"))


@dataclass
class Proposal:
    title: str
    format: str
    source_sha256: str
    blocks: list[Block]
    targets: list[Target]
    proposed: dict[str, str | None]
    new_topics: list[str]
    warnings: list[Msg] = field(default_factory=list)
    # City-wide topics the database lacks, created by the import: (number, title).
    new_city_topics: list[tuple[int, str]] = field(default_factory=list)
    # The area's local topics the document does not name: included only when chosen.
    optional_topics: list[Target] = field(default_factory=list)
    splits: dict[str, list[int]] = field(default_factory=dict)

    def mapping_document(self) -> dict:
        return {"format": MAPPING_FORMAT, "source_sha256": self.source_sha256,
                "blocks": dict(self.proposed), "include_topics": [],
                "splits": {k: v for k, v in self.splits.items() if v}}

    def named_topics(self) -> set[str]:
        """The local topics the document has a row for (each row's first block proposes it)."""
        return {self.proposed[b.id] for b in self.blocks
                if b.scope == TopicScope.LOCAL and b.first_line == 1 and self.proposed[b.id]}

    def label_of(self, target_key: str) -> str:
        return next((t.label for t in self.targets if t.key == target_key), target_key)


def city_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).where(Topic.scope == TopicScope.CITY,
                                                       Topic.active).order_by(Topic.number)))


def _validated(block_label: str, text: str) -> str:
    try:
        return validate_section_text(text)
    except InvalidInput as error:
        details = error.details
        if "kind" in details:
            raise refusal(N_("The text for '{block}' contains what looks like a personal "
                             "identity number (line {line}, column {column} of that text). "
                             "Remove it from the file: such numbers must not be stored."),
                          block=block_label, line=details["line"],
                          column=details["column"]) from None
        raise refusal(N_("The text for '{block}' cannot be stored: {problem}"),
                      block=block_label, problem=error.message) from None


def title_parts(title: str) -> tuple[str | None, str | None]:
    """The period and the area a document's title names ("Lägesbild december 2022 Järva",
    or our export's "Lägesbild december 2022 — Järva"); None for a part it does not name
    (the seed's "[Ange område här]" is a placeholder, not an area)."""
    rest = " ".join(title.split())[len("lägesbild"):].strip()
    period = area = None
    for dash in (" — ", " – ", " - "):
        if dash in rest:
            period, area = (part.strip() for part in rest.split(dash, 1))
            break
    else:
        match = _PERIOD_IN_TITLE.match(rest)
        if match and match.group("month").casefold() in MONTHS_SV:
            period, area = match.group(0), rest[match.end():].strip()
        else:
            area = rest
    area = (area or "").strip(" :—–-") or None
    if area is not None and _TITLE_PLACEHOLDER.match(area):
        area = None
    return period or None, area


def _title_warnings(title: str, area: Area, period_name: str | None) -> list[Msg]:
    titled_period, titled_area = title_parts(title)
    warnings = []
    if titled_area is not None and area.name.casefold() not in titled_area.casefold():
        warnings.append(Msg(N_("The document's title names the area '{titled}', but it is to "
                               "be imported into {area}. Check that this is the right file "
                               "and area."), titled=titled_area, area=area.name))
    if titled_period is not None and period_name and \
            " ".join(titled_period.split()).casefold() != \
            " ".join(period_name.split()).casefold():
        warnings.append(Msg(N_("The document's title names the period '{titled}', but it is "
                               "to be imported as {period}. Check that this is the right file "
                               "and period."), titled=titled_period, period=period_name))
    return warnings


def _split_rows(rows, splits: dict[str, list[int]]) -> tuple[list[Block], dict[str, str]]:
    """Each row as a block (ids "city-<n>" and "local-<n>" in document order), rows the person
    split as several blocks ("local-1", "local-1.3" from line 3 on); block id -> row id."""
    blocks, row_of = [], {}
    for row_id, row in zip(_row_ids(rows), rows, strict=True):
        if row.scope == TopicScope.CITY:
            label = row.heading if row.number is not None else (row.title or row_id)
        else:
            label = row.title or row_id
        lines = row.text.split("\n") if row.text else []
        starts = sorted({n for n in splits.get(row_id, []) if 1 < n <= len(lines)})
        bounds = [1, *starts, max(len(lines), 1) + 1]
        for start, end in zip(bounds, bounds[1:], strict=False):
            block_id = row_id if start == 1 else f"{row_id}.{start}"
            text = "\n".join(lines[start - 1:end - 1])
            blocks.append(Block(block_id, row.scope, label, _validated(label, text), start))
            row_of[block_id] = row_id
    return blocks, row_of


def _similar_topic(title: str, topics: list[Topic]) -> str | None:
    """The area's local topic whose title is nearly the document's (a word changed, "i" for
    "kring"), so that an old document's wording does not quietly add a second topic."""
    folded = " ".join(title.split()).casefold()
    scored = [(difflib.SequenceMatcher(None, folded, topic.title.casefold()).ratio(), topic.title)
              for topic in topics]
    best = max(scored, default=(0.0, None))
    return best[1] if best[0] >= SIMILAR_TOPIC_RATIO else None


def propose(data: bytes, area: Area, period_name: str | None = None,
            splits: dict[str, list[int]] | None = None) -> Proposal:
    """Read the file and propose a topic for each of its text blocks."""
    cities = city_topics()
    numbers_taken = set(db.session.scalars(
        select(Topic.number).where(Topic.scope == TopicScope.CITY)))
    missing_city = {n: t for n, t in STANDARD_CITY_TOPICS.items() if n not in numbers_taken}
    local_topics = [t for t in area.local_topics if t.active]
    known_city = {**missing_city, **{t.number: t.title for t in cities}}
    layout = read_upload(data, known_city, [t.title for t in local_topics])
    if len(layout.chapters) != 1:
        raise refusal(N_("The file holds {count} areas' chapters; import one area's lägesbild "
                         "at a time."), count=len(layout.chapters))
    rows = layout.chapters[0].rows
    warnings = _title_warnings(layout.title, area, period_name)
    if layout.outside_text:
        first = layout.outside_text[0]
        warnings.append(Msg(N_("Not imported: {count} line(s) outside the topics, the first "
                               "\"{first}\". A lägesbild has no text there."),
                            count=len(layout.outside_text),
                            first=first if len(first) <= 80 else first[:79] + "…"))
    if layout.ignored_columns:
        warnings.append(Msg(N_("Not imported: the column(s) {columns} of the document's tables "
                               "(a lägesbild keeps each topic's comment only)."),
                            columns=", ".join(f"'{c}'" for c in layout.ignored_columns)))
    targets = [Target(f"city:{t.number}", t.heading, TopicScope.CITY, True) for t in cities]
    city_numbers = {r.number for r in rows if r.scope == TopicScope.CITY}
    # Created only on a database without city-wide topics: where the city has set up its own,
    # one area's old document does not add to them (its unknown rows are left to the person).
    new_city = [] if numbers_taken else \
        [(n, missing_city[n]) for n in sorted(missing_city) if n in city_numbers]
    targets += [Target(f"city:{n}", f"{n}. {title}", TopicScope.CITY, False)
                for n, title in new_city]
    targets.sort(key=lambda t: int(t.key.split(":")[1]))
    targets += [Target(f"local:{t.title}", t.title, TopicScope.LOCAL, True) for t in local_topics]
    by_folded = {t.title.casefold(): f"local:{t.title}" for t in local_topics}
    new_topics = []
    for row in rows:
        if row.scope == TopicScope.LOCAL and row.title:
            folded = row.title.casefold()
            if folded not in by_folded:
                title = row.title[:300]
                new_topics.append(title)
                by_folded[folded] = f"local:{title}"
                targets.append(Target(f"local:{title}", title, TopicScope.LOCAL, False))
                similar = _similar_topic(title, local_topics)
                if similar is not None:
                    warnings.append(Msg(N_("'{title}' is not one of the area's local topics and "
                                           "would be created; the area has '{similar}'. Choose "
                                           "it in the mapping if it is the same topic."),
                                        title=title, similar=similar))
    titles = {**{t.number: t.title for t in cities}, **dict(new_city)}
    splits = {k: v for k, v in (splits or {}).items() if v}
    blocks, row_of = _split_rows(rows, splits)
    row_by_id = dict(zip(_row_ids(rows), rows, strict=True))
    proposed = {}
    for block in blocks:
        row = row_by_id[row_of[block.id]]
        if row.scope == TopicScope.CITY:
            target = f"city:{row.number}" if row.number in titles else None
            if block.id == row_of[block.id] and row.number in titles and row.title and \
                    " ".join(row.title.split()).casefold() != titles[row.number].casefold():
                warnings.append(Msg(N_("Row {label}: the document's title differs from the "
                                       "system's topic '{topic}'. Check the mapping."),
                                    label=block.label,
                                    topic=f"{row.number}. {titles[row.number]}"))
        else:
            target = by_folded.get(row.title.casefold()) if row.title else None
        if target is None and block.id == row_of[block.id]:
            warnings.append(Msg(N_("No topic was found for '{label}': choose one."),
                                label=block.label))
        proposed[block.id] = target
    if not blocks:
        raise refusal(N_("The file has no texts to import."))
    named = {key for key in proposed.values() if key}
    optional = [t for t in targets if t.scope == TopicScope.LOCAL and t.exists
                and t.key not in named]
    return Proposal(layout.title, layout.format, hashlib.sha256(data).hexdigest(), blocks,
                    targets, proposed, new_topics, warnings, new_city, optional, splits)


def _row_ids(rows) -> list[str]:
    ids, counts = [], {TopicScope.CITY: 0, TopicScope.LOCAL: 0}
    for row in rows:
        counts[row.scope] += 1
        ids.append(f"{'city' if row.scope == TopicScope.CITY else 'local'}-{counts[row.scope]}")
    return ids


def reference_warnings(proposal: Proposal, chosen: dict[str, str | None]) -> list[Msg]:
    """A city-wide text saying "…, se nedan" about a local topic that, as the texts are now
    placed, gets no text (or is no local topic of this import at all)."""
    local_labels = [t.label for t in proposal.targets if t.scope == TopicScope.LOCAL]
    filled = {chosen.get(b.id) for b in proposal.blocks if b.text.strip()}
    warnings = []
    for block in proposal.blocks:
        if block.scope != TopicScope.CITY or chosen.get(block.id) == DISCARD:
            continue
        written = written_reference_names(block.text)
        if written is None:
            continue
        found = find_reference(block.text, local_labels)
        if found is None:
            warnings.append(Msg(N_("'{label}' says it is handled within \"{names}\", see "
                                   "below, but no local topic of this import has that name: "
                                   "the sentence is kept as text."),
                                label=block.label, names=written))
            continue
        for name in found.names:
            if f"local:{name}" not in filled:
                warnings.append(Msg(N_("'{label}' says \"see below\" for the local topic "
                                       "'{topic}', but no text is placed under that topic."),
                                    label=block.label, topic=name))
    return warnings


def parse_mapping_file(raw: bytes | str) -> Choices:
    """Read a mapping file (format in the module's docstring)."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise refusal(N_("The mapping file is not valid JSON.")) from None
    if not isinstance(document, dict) or not isinstance(document.get("blocks"), dict):
        raise refusal(N_("The mapping file must be a JSON object with a \"blocks\" object "
                         "(block id -> target topic)."))
    if document.get("format", MAPPING_FORMAT) != MAPPING_FORMAT:
        raise refusal(N_("Unknown mapping format '{format}'."), format=document.get("format"))
    choices = Choices()
    for key, value in document["blocks"].items():
        if value is not None and not isinstance(value, str):
            raise refusal(N_("The target of block '{block}' must be a text like \"city:3\", "
                             "\"local:<title>\" or \"discard\"."), block=key)
        choices.blocks[str(key)] = value
    include = document.get("include_topics", [])
    if not isinstance(include, list) or not all(isinstance(k, str) for k in include):
        raise refusal(N_("\"include_topics\" must be a list of topics like \"local:<title>\"."))
    choices.include = list(include)
    splits = document.get("splits", {})
    if not isinstance(splits, dict) or not all(
            isinstance(lines, list) and all(isinstance(n, int) and not isinstance(n, bool)
                                            for n in lines) for lines in splits.values()):
        raise refusal(N_("\"splits\" must map a block id to the line numbers where its "
                         "further parts start, e.g. {\"local-1\": [3]}."))
    choices.splits = {str(k): list(v) for k, v in splits.items()}
    if document.get("source_sha256") is not None:
        choices.source_sha256 = str(document["source_sha256"])
    return choices


def check_mapping(proposal: Proposal, mapping: Choices | dict[str, str | None]
                  ) -> dict[str, str]:
    """Every block placed on a known topic or discarded; nothing else."""
    choices = Choices.of(mapping)
    if choices.source_sha256 is not None and choices.source_sha256 != proposal.source_sha256:
        raise refusal(N_("The mapping was made for another file (its source_sha256 differs)."))
    block_ids = [b.id for b in proposal.blocks]
    unknown_blocks = sorted(set(choices.blocks) - set(block_ids))
    if unknown_blocks:
        raise refusal(N_("The mapping names text blocks the file does not have: {blocks}."),
                      blocks=", ".join(unknown_blocks))
    labels = {b.id: b.label for b in proposal.blocks}
    unplaced = [labels[b] for b in block_ids if not choices.blocks.get(b)]
    if unplaced:
        raise refusal(N_("Every text must be placed under a topic or discarded. Not placed: "
                         "{blocks}."), blocks="; ".join(unplaced))
    keys = {t.key for t in proposal.targets}
    unknown = sorted({v for v in choices.blocks.values() if v not in keys and v != DISCARD})
    if unknown:
        raise refusal(N_("The mapping names topics that do not exist: {topics}."),
                      topics=", ".join(unknown))
    optional = {t.key for t in proposal.optional_topics}
    not_optional = sorted(set(choices.include) - optional - set(choices.blocks.values()))
    if not_optional:
        raise refusal(N_("Only the area's existing local topics can be included without a "
                         "text: {topics}."), topics=", ".join(not_optional))
    if all(choices.blocks[b] == DISCARD for b in block_ids):
        raise refusal(N_("Every text is discarded: there is nothing to import."))
    return {b: choices.blocks[b] for b in block_ids}


# --------------------------------------------------------------------------------------------
# Storing it
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    contribution: Contribution
    created_period: bool
    created_topics: list[str]
    created_city_topics: list[str] = field(default_factory=list)


def find_area(name: str) -> Area:
    area = db.session.scalar(select(Area).where(Area.name == " ".join((name or "").split())))
    if area is None:
        known = ", ".join(db.session.scalars(select(Area.name).order_by(Area.name)))
        raise refusal(N_("Unknown area '{name}'. Known: {known}."), name=name,
                      known=known or "-")
    return area


def _past_deadline(name: str) -> date:
    """A past period's deadlines: the end of the month its name gives ("december 2022")."""
    match = re.fullmatch(r"\s*(\w+)\s+(\d{4})\s*", name.casefold())
    if match and match.group(1) in MONTHS_SV:
        year, month = int(match.group(2)), MONTHS_SV.index(match.group(1)) + 1
        return date(year, month, calendar.monthrange(year, month)[1])
    return now().date()


def _period_for_import(actor: Actor, name: str) -> tuple[Period, bool]:
    name = " ".join((name or "").split())
    if not name or len(name) > 100:
        raise refusal(N_("Give the period's name (at most 100 characters)."))
    refuse_identity_numbers(name, field="period", what=PERIOD_NAME)
    period = db.session.scalar(select(Period).where(Period.name == name))
    if period is not None:
        if period.consolidation is None or period.consolidation.state != "approved":
            raise refusal(N_("The period '{name}' is still in progress: documents can be "
                             "imported only into past (approved) periods."), name=name)
        return period, False
    deadline = _past_deadline(name)
    moment = now()
    period = Period(name=name, drafting_deadline=deadline, review_deadline=deadline,
                    consolidation_deadline=deadline, approval_deadline=deadline,
                    created_at=moment)
    db.session.add(period)
    db.session.flush()
    # Final, so nothing more is done in it, but marked imported: nobody submitted or approved
    # it in the system, and one person's import must not read as an approval signed by them.
    db.session.add(Consolidation(period_id=period.id, state="approved", imported_at=moment))
    db.session.flush()
    record_event("period.create", actor=actor, object_type="period", object_id=period.id,
                 period_id=period.id,
                 data={"name": name, "source": "import", "past": True,
                       "deadlines": [deadline.isoformat()] * 4, "areas": []})
    return period, True


def _create_local_topic(actor: Actor, area: Area, title: str) -> Topic:
    position = (db.session.scalar(
        select(func.max(Topic.position)).where(Topic.area_id == area.id)) or 0) + 1
    topic = Topic(scope=TopicScope.LOCAL, area_id=area.id, title=title, position=position)
    db.session.add(topic)
    db.session.flush()
    record_event("topic.create", actor=actor, object_type="topic", object_id=topic.id,
                 data={"title": title, "scope": "local", "number": None, "area": area.name,
                       "source": "import"})
    return topic


def _contribution_for_import(area: Area, period: Period) -> tuple[Contribution, str | None]:
    contribution = db.session.scalar(select(Contribution).where(
        Contribution.area_id == area.id, Contribution.period_id == period.id))
    if contribution is None:
        contribution = Contribution(area_id=area.id, period_id=period.id, state="draft")
        db.session.add(contribution)
        db.session.flush()
        return contribution, None
    if contribution.state != "draft" or any(s.text.strip() for s in contribution.sections):
        raise refusal(N_("{area} already has a lägesbild for {period}: nothing was imported."),
                      area=area.name, period=period.name)
    return contribution, contribution.state


def _create_city_topic(actor: Actor, number: int, title: str) -> Topic:
    topic = Topic(scope=TopicScope.CITY, number=number, title=title, position=number)
    db.session.add(topic)
    db.session.flush()
    record_event("topic.create", actor=actor, object_type="topic", object_id=topic.id,
                 data={"title": title, "scope": "city", "number": number, "area": None,
                       "source": "import"})
    return topic


def _link_cross_references(contribution: Contribution, texts: dict[int, str]) -> None:
    """A city-wide text opening with "… hanteras inom ramen för det/de lokalt prioriterade
    området/områdena X (och Y), se nedan." becomes links to X (and Y), so the sentence stays
    right when they are renamed; the text after it stays the section's own."""
    local = [s.topic for s in contribution.sections if s.topic.scope == TopicScope.LOCAL]
    by_folded = {t.title.casefold(): t for t in local}
    for section in contribution.sections:
        if section.topic.scope != TopicScope.CITY:
            continue
        found = find_reference(texts.get(section.topic_id, ""), [t.title for t in local])
        if found is None or len(found.names) > MAX_LINKS:
            continue
        linked = [by_folded[name.casefold()] for name in found.names]
        section.handled_in_topic_id = linked[0].id
        section.also_handled_in_topic_id = linked[1].id if len(linked) > 1 else None
        texts[section.topic_id] = found.rest


def import_document(actor: Actor, data: bytes, filename: str, area_name: str,
                    period_name: str, mapping: Choices | dict[str, str | None]
                    ) -> ImportResult:
    """Store the document as the approved lägesbild of the area and period: the city-wide
    topics and exactly the local topics that get a text or that the person included."""
    require_importer(actor)
    refuse_identity_numbers(filename or "", field="filename", what=FILE_NAME)
    choices = Choices.of(mapping)
    area = find_area(area_name)
    proposal = propose(data, area, period_name, choices.splits)
    placed = check_mapping(proposal, choices)
    period, created_period = _period_for_import(actor, period_name)
    created_city = [_create_city_topic(actor, number, title).heading
                    for number, title in proposal.new_city_topics]
    created_topics = [_create_local_topic(actor, area, title).title
                      for title in proposal.new_topics]
    db.session.refresh(area)
    contribution, previous_state = _contribution_for_import(area, period)
    wanted_local = set(placed.values()) | set(choices.include) | proposal.named_topics()
    topics = city_topics() + [t for t in area.local_topics
                              if t.active and f"local:{t.title}" in wanted_local]
    wanted_ids = {t.id for t in topics}
    for section in list(contribution.sections):
        # An existing empty draft's rows the source lacks go: nothing is added it lacks.
        if section.topic_id not in wanted_ids and section.topic.scope == TopicScope.LOCAL \
                and not section.revisions and not section.text.strip():
            db.session.delete(section)
    present = {s.topic_id for s in contribution.sections}
    for topic in topics:
        if topic.id not in present:
            db.session.add(Section(contribution_id=contribution.id, topic_id=topic.id))
    db.session.flush()
    db.session.refresh(contribution)
    by_key = {(f"city:{t.number}" if t.scope == TopicScope.CITY else f"local:{t.title}"): t
              for t in topics}
    joined: dict[int, list[str]] = {}
    for block in proposal.blocks:
        if placed[block.id] != DISCARD:
            joined.setdefault(by_key[placed[block.id]].id, []).append(block.text)
    texts = {topic_id: "\n".join(parts) for topic_id, parts in joined.items()}
    _link_cross_references(contribution, texts)
    author = actor if isinstance(actor, User) else None
    stored = {}
    for section in contribution.ordered_sections:
        text = _validated(section.topic.heading, texts.get(section.topic_id, ""))
        revision = add_revision(section, text, "import", author)
        stored[section.topic.heading] = {
            "revision_id": revision.id, "text_sha256": text_fingerprint(text),
            "handled_in_topic_id": section.handled_in_topic_id,
            "also_handled_in_topic_id": section.also_handled_in_topic_id}
    # The definition's internal transition (in the diagram), not a state written here; the
    # mark says the approval happened outside the system.
    moment = now()
    fired = CONTRIBUTIONS.fire(contribution, "import_approved", actor, (), moment,
                               object_type="contribution", internal=True)
    contribution.imported_at = moment
    db.session.flush()
    # Frozen as imported: a later rename or reorder leaves the approved document as it was.
    snapshot_sha256 = freeze(contribution)
    record_event(
        "document.import", actor=actor, object_type="contribution", object_id=contribution.id,
        from_state=previous_state, to_state=fired.to_state, **scope_of(contribution),
        data={"source_sha256": proposal.source_sha256, "filename": (filename or "")[:200],
              "format": proposal.format, "title": proposal.title, "area": area.name,
              "period": period.name, "created_period": created_period,
              "created_topics": created_topics, "created_city_topics": created_city,
              "mapping": placed, "included_topics": sorted(choices.include),
              "splits": proposal.splits, "sections": stored,
              "snapshot_sha256": snapshot_sha256},
    )
    return ImportResult(contribution, created_period, created_topics, created_city)
