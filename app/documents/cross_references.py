"""Cross-references: a city-wide section says its topic is handled within one or two of the
area's local topics ("Arbetet hanteras inom ramen för det lokalt prioriterade området X, se
nedan", "… för de lokalt prioriterade områdena X och Y, se nedan").

The links are stored (Section.handled_in_topic_id, and also_handled_in_topic_id for the second
topic) and the sentence is computed from them when the lägesbild is shown or exported, so a
draft's sentence follows a rename of a local topic; an approved lägesbild's sentence names the
titles it was approved with (Section.reference_titles). `find_reference` is the one recogniser
of the sentence as people wrote it (hard-wrapped, "det … området" or "de … områdena"), used by
the importer and the demo data alike.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.audit.trail import record_event, scope_of
from app.contributions.operations import get_section
from app.contributions.policy import require_editor
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.core.transitions import check_version
from app.extensions import db
from app.models import Section, Topic, TopicScope

SENTENCE_PREFIX = "Arbetet hanteras inom ramen för det lokalt prioriterade området "
TWO_TOPICS_PREFIX = "Arbetet hanteras inom ramen för de lokalt prioriterade områdena "
SENTENCE_SUFFIX = ", se nedan."
# The sentence as written in old documents: any whitespace (a hard wrap included) between its
# words, "Arbetet" optional, singular or plural, then the topics' names up to ", se nedan".
_WRITTEN_SENTENCE = re.compile(
    r"^\s*(?:arbetet\s+)?hanteras\s+inom\s+ramen\s+för\s+(?:det|de|dem)\s+lokalt\s+"
    r"prioriterade\s+område(?:t|na|n)?\s+(?P<names>.+?)\s*,\s*se\s+nedan\s*\.?",
    re.IGNORECASE | re.DOTALL,
)
# Between two names in "X, Y och Z".
_NAME_SEPARATOR = re.compile(r",\s*|\s+och\s+|\s+samt\s+", re.IGNORECASE)
MAX_LINKS = 2


@dataclass(frozen=True)
class FoundReference:
    names: list[str]      # the referenced topics' names as written (whitespace normalised)
    rest: str             # the text after the sentence


def _names(written: str, known: list[str]) -> list[str] | None:
    """Split "x och y" (or "x, y och z") into known titles; a title containing "och" itself
    stays whole. None when the names are not all known titles."""
    written = " ".join(written.split())
    folded_known = {title.casefold(): title for title in known}
    if written.casefold() in folded_known:
        return [folded_known[written.casefold()]]
    for separator in _NAME_SEPARATOR.finditer(written):
        head = written[:separator.start()].casefold()
        if head in folded_known:
            tail = _names(written[separator.end():], known)
            if tail is not None:
                return [folded_known[head], *tail]
    return None


def find_reference(text: str, local_titles: list[str]) -> FoundReference | None:
    """The cross-reference sentence at the start of `text` naming only topics in
    `local_titles` (case-insensitive), with the text after it; else None."""
    match = _WRITTEN_SENTENCE.match(text or "")
    if match is None:
        return None
    names = _names(match.group("names"), local_titles)
    if not names or len(set(n.casefold() for n in names)) != len(names):
        return None
    return FoundReference(names, text[match.end():].strip())


def written_reference_names(text: str) -> str | None:
    """The names as written in a cross-reference sentence opening `text`, known or not."""
    match = _WRITTEN_SENTENCE.match(text or "")
    return " ".join(match.group("names").split()) if match else None


def sentence_for(titles: list[str]) -> str:
    """The seed document's sentence for one or two local topics, names in lower case."""
    names = [title.lower() for title in titles]
    if len(names) == 1:
        return f"{SENTENCE_PREFIX}{names[0]}{SENTENCE_SUFFIX}"
    return f"{TWO_TOPICS_PREFIX}{', '.join(names[:-1])} och {names[-1]}{SENTENCE_SUFFIX}"


def cross_reference_sentence(local_topic: Topic, second_topic: Topic | None = None) -> str:
    """The sentence with the local topics' current titles."""
    return sentence_for([t.title for t in (local_topic, second_topic) if t is not None])


def linked_topics(section: Section) -> list[Topic]:
    return [t for t in (section.handled_in_topic, section.also_handled_in_topic)
            if t is not None]


def rendered_text(section: Section) -> str:
    """A section's text as the lägesbild shows it: the cross-reference sentence first (when the
    section has a link), then the section's own text."""
    titles = section.reference_titles
    if not titles:
        return section.text
    sentence = sentence_for(titles)
    return f"{sentence}\n{section.text}" if section.text.strip() else sentence


def split_sentence(text: str) -> tuple[str | None, str]:
    """If `text` starts with the one-topic sentence as the system writes it, return the
    referenced title as written and the rest of the text; else (None, text)."""
    first, _, rest = text.partition("\n")
    match = _SENTENCE.match(" ".join(first.split()))
    if match is None:
        return None, text
    return match.group("title").strip(), rest


_SENTENCE = re.compile(
    r"^Arbetet hanteras inom ramen för det lokalt prioriterade området\s+(?P<title>.+?),"
    r"\s*se nedan\.$",
    re.IGNORECASE | re.DOTALL,
)


def set_cross_reference(actor: Actor, section_id: int, local_topic_id: int | None,
                        expected_version: int | None,
                        second_topic_id: int | None = None) -> Section:
    """Link a city-wide section to one or two of the contribution's local topics (None:
    unlink)."""
    section = get_section(section_id)
    contribution = section.contribution
    where = {"action": "section.cross_reference", "object_type": "section",
             "object_id": section.id}
    require_editor(actor, contribution, section.id, action="section.cross_reference")
    if section.topic.scope != TopicScope.CITY:
        raise InvalidInput(Msg(N_("Only a city-wide topic can refer to a local topic.")),
                           **where)
    check_version(section, expected_version, "section")
    if local_topic_id is None and second_topic_id is not None:
        local_topic_id, second_topic_id = second_topic_id, None
    if second_topic_id is not None and second_topic_id == local_topic_id:
        raise InvalidInput(Msg(N_("Choose two different local topics, or only one.")),
                           **where)
    local_ids = {s.topic_id for s in contribution.sections if s.topic.scope == TopicScope.LOCAL}
    targets = []
    for topic_id in (local_topic_id, second_topic_id):
        if topic_id is None:
            continue
        target = db.session.get(Topic, topic_id)
        if target is None or target.id not in local_ids:
            raise InvalidInput(
                Msg(N_("The chosen topic is not one of this contribution's local topics.")),
                **where)
        targets.append(target)
    before = (section.handled_in_topic_id, section.also_handled_in_topic_id)
    after = tuple([t.id for t in targets] + [None] * (MAX_LINKS - len(targets)))
    if before == after:
        return section  # nothing changed: no event
    section.handled_in_topic_id, section.also_handled_in_topic_id = after
    section.updated_by_id = getattr(actor, "id", None)
    section.updated_at = now()
    db.session.flush()
    record_event(
        "section.cross_reference", actor=actor, object_type="section", object_id=section.id,
        **scope_of(contribution),
        data={"contribution_id": contribution.id, "topic": section.topic.heading,
              "handled_in_topic_id": section.handled_in_topic_id,
              "handled_in_topic": targets[0].title if targets else None,
              "also_handled_in_topic_id": section.also_handled_in_topic_id,
              "also_handled_in_topic": targets[1].title if len(targets) > 1 else None,
              "previous_handled_in_topic_id": before[0],
              "previous_also_handled_in_topic_id": before[1],
              "section_version": section.version},
    )
    return section
