"""Cross-references: a city-wide section says its topic is handled within one of the area's
local topics ("Arbetet hanteras inom ramen för det lokalt prioriterade området …, se nedan").

The link is stored (Section.handled_in_topic_id) and the sentence is computed from it when the
lägesbild is shown or exported, so a draft's sentence follows a rename of the local topic; an
approved lägesbild's sentence names the title it was approved with (Section.reference_title).
"""
from __future__ import annotations

import re

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
SENTENCE_SUFFIX = ", se nedan."
_SENTENCE = re.compile(
    r"^Arbetet hanteras inom ramen för det lokalt prioriterade området\s+(?P<title>.+?),"
    r"\s*se nedan\.$",
    re.IGNORECASE | re.DOTALL,
)


def sentence_for(title: str) -> str:
    """The seed document's sentence, with the local topic's title in lower case."""
    return f"{SENTENCE_PREFIX}{title.lower()}{SENTENCE_SUFFIX}"


def cross_reference_sentence(local_topic: Topic) -> str:
    """The sentence for a local topic's current title."""
    return sentence_for(local_topic.title)


def rendered_text(section: Section) -> str:
    """A section's text as the lägesbild shows it: the cross-reference sentence first (when the
    section has a link), then the section's own text."""
    title = section.reference_title
    if title is None:
        return section.text
    sentence = sentence_for(title)
    return f"{sentence}\n{section.text}" if section.text.strip() else sentence


def split_sentence(text: str) -> tuple[str | None, str]:
    """If `text` starts with the cross-reference sentence (on its own first line), return the
    referenced title as written and the rest of the text; else (None, text)."""
    first, _, rest = text.partition("\n")
    match = _SENTENCE.match(" ".join(first.split()))
    if match is None:
        return None, text
    return match.group("title").strip(), rest


def set_cross_reference(actor: Actor, section_id: int, local_topic_id: int | None,
                        expected_version: int | None) -> Section:
    """Link a city-wide section to one of the contribution's local topics (None: unlink)."""
    section = get_section(section_id)
    contribution = section.contribution
    where = {"action": "section.cross_reference", "object_type": "section",
             "object_id": section.id}
    require_editor(actor, contribution, section.id, action="section.cross_reference")
    if section.topic.scope != TopicScope.CITY:
        raise InvalidInput(Msg(N_("Only a city-wide topic can refer to a local topic.")),
                           **where)
    check_version(section, expected_version, "section")
    target = None
    if local_topic_id is not None:
        local_ids = {s.topic_id for s in contribution.sections
                     if s.topic.scope == TopicScope.LOCAL}
        target = db.session.get(Topic, local_topic_id)
        if target is None or target.id not in local_ids:
            raise InvalidInput(
                Msg(N_("The chosen topic is not one of this contribution's local topics.")),
                **where)
    before = section.handled_in_topic_id
    if before == (target.id if target else None):
        return section  # nothing changed: no event
    section.handled_in_topic_id = target.id if target else None
    section.updated_by_id = getattr(actor, "id", None)
    section.updated_at = now()
    db.session.flush()
    record_event(
        "section.cross_reference", actor=actor, object_type="section", object_id=section.id,
        **scope_of(contribution),
        data={"contribution_id": contribution.id, "topic": section.topic.heading,
              "handled_in_topic_id": section.handled_in_topic_id,
              "handled_in_topic": target.title if target else None,
              "previous_handled_in_topic_id": before,
              "section_version": section.version},
    )
    return section
