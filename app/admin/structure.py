"""Administration of the lägesbild's structure: topics (rename, reorder, retire, reinstate) and
periods (open with deadlines and, if asked, last period's texts; move deadlines). Each change is
one audit event with what it was before and after. The same operations serve the pages
(app.admin.structure_routes) and the command line (app.admin.cli).

Retiring a topic changes what future periods hold, never what exists: a retired topic gets no
section in a period opened later, and every contribution that has its section keeps it (an
approved lägesbild as approved, a draft being written with the section still in it). Renames
and reorders likewise change only what is not approved yet: an approved lägesbild shows the
titles and order it was approved with (app.contributions.snapshot).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from app.admin import operations as admin
from app.audit.trail import record_event
from app.core.access import require_admin
from app.core.actors import Actor
from app.core.errors import InvalidInput, InvalidTransition, NotFound
from app.core.messages import N_, Label, Msg
from app.core.text_rules import find_identity_numbers, validate_section_text
from app.core.transitions import check_version
from app.documents.carry_forward import CarryForwardResult, carry_forward_at_opening
from app.extensions import db
from app.models import Contribution, Period, Section, Topic, TopicScope

DEADLINE_FIELDS = ("drafting_deadline", "review_deadline", "consolidation_deadline",
                   "approval_deadline")
TOPIC_TITLE = Label("topic title", sv="det prioriterade områdets rubrik")
PERIOD_NAME = Label("period name", sv="periodens namn")


# -- reading -------------------------------------------------------------------------------

def get_topic(topic_id: int) -> Topic:
    topic = db.session.get(Topic, topic_id)
    if topic is None:
        raise NotFound(Msg(N_("There is no topic {id}."), id=topic_id))
    return topic


def get_period(period_id: int) -> Period:
    period = db.session.get(Period, period_id)
    if period is None:
        raise NotFound(Msg(N_("There is no period {id}."), id=period_id))
    return period


def find_topic(title: str, area_name: str | None = None) -> Topic:
    """A topic by its title (city-wide, or one area's local topic); for the command line."""
    query = select(Topic).where(Topic.title == " ".join((title or "").split()))
    if area_name:
        query = query.where(Topic.area_id == admin.find_area(area_name).id)
    else:
        query = query.where(Topic.scope == TopicScope.CITY)
    topic = db.session.scalar(query)
    if topic is None:
        raise InvalidInput(Msg(N_("There is no topic '{title}' there."), title=title))
    return topic


@dataclass(frozen=True)
class OpenSection:
    """A section of a topic in a contribution that is not approved yet."""

    contribution_id: int
    period: str
    area: str
    state: str
    written: bool


def sections_in_progress(topic: Topic) -> list[OpenSection]:
    """The contributions not yet approved that hold this topic's section: what retiring it
    leaves in place (shown to the admin before retiring, and recorded in the event)."""
    rows = db.session.execute(
        select(Section, Contribution).join(Contribution, Section.contribution_id == Contribution.id)
        .where(Section.topic_id == topic.id, Contribution.state != "approved")
        .order_by(Contribution.period_id, Contribution.id)).all()
    return [OpenSection(contribution.id, contribution.period.name, contribution.area.name,
                        contribution.state,
                        bool(section.text.strip() or section.handled_in_topic_id))
            for section, contribution in rows]


def approved_use_count(topic: Topic) -> int:
    """How many approved lägesbilder hold a section of this topic."""
    return len(db.session.scalars(
        select(Contribution.id).join(Section, Section.contribution_id == Contribution.id)
        .where(Section.topic_id == topic.id, Contribution.state == "approved")).all())


def area_topics(area_id: int) -> list[Topic]:
    """An area's local topics in document order (retired ones too: they keep their place)."""
    return sorted(db.session.scalars(select(Topic).where(Topic.area_id == area_id)),
                  key=lambda t: t.sort_key)


# -- topics --------------------------------------------------------------------------------

def _clean_title(title: str | None, what: Label, limit: int, field: str) -> str:
    """A one-line title: spaces collapsed, not empty, within `limit`, no personal identity
    number, and no character the text rules refuse (control, hiding, U+FFFD)."""
    try:
        cleaned = admin._clean_name(title, what, limit)
    except InvalidInput as error:
        raise InvalidInput(Msg(error.template, **error.params), field=field) from error
    if find_identity_numbers(cleaned):
        # Never echoed: the number must not reach the page, the log or the trail.
        raise InvalidInput(Msg(N_("The {what} contains what looks like a personal identity "
                                  "number. Remove it."), what=what), field=field)
    return validate_section_text(cleaned, field=field)


def rename_topic(actor: Actor, topic_id: int, title: str, *,
                 expected_version: int | None = None) -> Topic:
    """Give a topic a new title. What is not approved yet (drafts, the next period) shows it;
    an approved lägesbild keeps the title it was approved with (app.contributions.snapshot)."""
    require_admin(actor, "topic.rename")
    topic = get_topic(topic_id)
    check_version(topic, expected_version, "topic")
    title = _clean_title(title, TOPIC_TITLE, 300, "title")
    if title == topic.title:
        raise InvalidInput(Msg(N_("The topic is already called '{title}'."), title=title),
                           field="title")
    clash = select(Topic).where(Topic.title == title, Topic.id != topic.id)
    clash = clash.where(Topic.area_id == topic.area_id) if topic.area_id is not None \
        else clash.where(Topic.scope == TopicScope.CITY)
    if db.session.scalar(clash) is not None:
        raise InvalidInput(Msg(N_("There is already a topic '{title}' there."), title=title),
                           field="title")
    before = topic.title
    topic.title = title
    db.session.flush()
    record_event("topic.rename", actor=actor, object_type="topic", object_id=topic.id,
                 area_id=topic.area_id,
                 data={"scope": topic.scope, "number": topic.number,
                       "area": topic.area.name if topic.area else None,
                       "before": {"title": before}, "after": {"title": title}})
    return topic


def city_topics() -> list[Topic]:
    """The city-wide topics in number order (retired ones too: they keep their number)."""
    return list(db.session.scalars(select(Topic).where(Topic.scope == TopicScope.CITY)
                                   .order_by(Topic.number)))


def move_topic(actor: Actor, topic_id: int, direction: str, *,
               expected_version: int | None = None) -> Topic:
    """Move a topic one place up or down: a local topic among its area's local topics, a
    city-wide one among the city-wide topics (it swaps numbers with its neighbour, and every
    heading shows the new number, as a rename shows the new title)."""
    require_admin(actor, "topic.reorder")
    topic = get_topic(topic_id)
    check_version(topic, expected_version, "topic")
    if direction not in ("up", "down"):
        raise InvalidInput(Msg(N_("Move a topic 'up' or 'down'.")))
    city = topic.scope == TopicScope.CITY
    siblings = city_topics() if city else area_topics(topic.area_id)
    before = [t.heading for t in siblings]
    index = siblings.index(topic)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(siblings):
        raise InvalidInput(Msg(N_("'{title}' is already first.") if direction == "up"
                               else N_("'{title}' is already last."), title=topic.title))
    if city:
        _swap_numbers(topic, siblings[target])
        siblings = city_topics()
    else:
        siblings[index], siblings[target] = siblings[target], siblings[index]
        # Positions renumbered 1..n: older topics may share a position.
        for position, sibling in enumerate(siblings, start=1):
            sibling.position = position
    db.session.flush()
    record_event("topic.reorder", actor=actor, object_type="topic", object_id=topic.id,
                 area_id=topic.area_id,
                 data={"scope": topic.scope, "area": topic.area.name if topic.area else None,
                       "title": topic.title, "direction": direction,
                       "before": {"order": before},
                       "after": {"order": [t.heading for t in siblings]}})
    return topic


def _swap_numbers(topic: Topic, neighbour: Topic) -> None:
    """Through a free number: two city-wide topics may never share one, not even between
    the two updates (the unique constraint is checked at each)."""
    free = max(t.number for t in city_topics()) + 1
    mine, theirs = topic.number, neighbour.number
    topic.number = free
    db.session.flush()
    neighbour.number = mine
    db.session.flush()
    topic.number = theirs


def retire_topic(actor: Actor, topic_id: int, *,
                 expected_version: int | None = None) -> list[OpenSection]:
    """Retire a topic: periods opened from now on get no section for it. Contributions that
    have its section keep it — approved ones as approved, and one being drafted with the
    section still to be written (or left as written) until the period is approved. Returns
    those contributions not yet approved."""
    require_admin(actor, "topic.retire")
    topic = get_topic(topic_id)
    check_version(topic, expected_version, "topic")
    if not topic.active:
        raise InvalidTransition(Msg(N_("'{title}' is already retired."), title=topic.heading))
    in_progress = sections_in_progress(topic)
    topic.active = False
    db.session.flush()
    record_event("topic.retire", actor=actor, object_type="topic", object_id=topic.id,
                 area_id=topic.area_id,
                 data={"title": topic.title, "scope": topic.scope, "number": topic.number,
                       "area": topic.area.name if topic.area else None,
                       "before": {"active": True}, "after": {"active": False},
                       "sections_kept_in": [
                           {"contribution_id": s.contribution_id, "period": s.period,
                            "area": s.area, "state": s.state} for s in in_progress]})
    return in_progress


def reinstate_topic(actor: Actor, topic_id: int, *,
                    expected_version: int | None = None) -> Topic:
    """Undo a retirement: periods opened from now on get the topic's section again."""
    require_admin(actor, "topic.reinstate")
    topic = get_topic(topic_id)
    check_version(topic, expected_version, "topic")
    if topic.active:
        raise InvalidTransition(Msg(N_("'{title}' is not retired."), title=topic.heading))
    topic.active = True
    db.session.flush()
    record_event("topic.reinstate", actor=actor, object_type="topic", object_id=topic.id,
                 area_id=topic.area_id,
                 data={"title": topic.title, "area": topic.area.name if topic.area else None,
                       "before": {"active": False}, "after": {"active": True}})
    return topic


# -- periods -------------------------------------------------------------------------------

@dataclass
class OpenedPeriod:
    period: Period
    carried: CarryForwardResult | None


def open_period(actor: Actor, name: str, *, drafting_deadline: date, review_deadline: date,
                consolidation_deadline: date, approval_deadline: date,
                carry_forward: bool = False) -> OpenedPeriod:
    """The admin's one action that starts a round: the period with its deadlines, a draft
    contribution for every area (a section per active topic), its consolidation, and, if
    asked, every area's last approved texts carried into the empty drafts."""
    require_admin(actor, "period.create")
    name = _clean_title(name, PERIOD_NAME, 100, "name")
    deadlines = dict(zip(DEADLINE_FIELDS, (drafting_deadline, review_deadline,
                                           consolidation_deadline, approval_deadline),
                         strict=True))
    admin.check_deadline_order(deadlines)
    period = admin.create_period(actor, name, **deadlines,
                                 extra_data={"carry_forward": carry_forward})
    carried = carry_forward_at_opening(actor, period.id) if carry_forward else None
    return OpenedPeriod(period, carried)


def move_deadlines(actor: Actor, period_id: int, *, drafting_deadline: date,
                   review_deadline: date, consolidation_deadline: date,
                   approval_deadline: date, expected_version: int | None = None) -> Period:
    """Change a period's deadlines (they stay in order). An approved period is closed: its
    deadlines are history."""
    require_admin(actor, "period.move_deadlines")
    period = get_period(period_id)
    check_version(period, expected_version, "period")
    if period.consolidation is not None and period.consolidation.state == "approved":
        raise InvalidTransition(Msg(N_("The lägesbild for {period} is approved; its deadlines "
                                       "can no longer be moved."), period=period.name))
    after = dict(zip(DEADLINE_FIELDS, (drafting_deadline, review_deadline,
                                       consolidation_deadline, approval_deadline), strict=True))
    admin.check_deadline_order(after)
    before = {name: getattr(period, name) for name in DEADLINE_FIELDS}
    if before == after:
        raise InvalidInput(Msg(N_("The deadlines are the same as before: nothing to change.")))
    for name, day in after.items():
        setattr(period, name, day)
    db.session.flush()
    record_event("period.move_deadlines", actor=actor, object_type="period",
                 object_id=period.id, period_id=period.id,
                 data={"name": period.name,
                       "before": {k: v.isoformat() for k, v in before.items()},
                       "after": {k: v.isoformat() for k, v in after.items()}})
    return period
