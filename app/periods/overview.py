"""Read-only views of a period for the overview and consolidation pages: which area's
contribution is where in the flow, how far each step has come, and every area's text per topic.

Nothing here changes data; who may open what is decided here so the pages stay thin.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.contributions.loading import period_contributions
from app.contributions.policy import CONTRIBUTIONS, may_read
from app.core.access import deny, roles_for
from app.core.errors import InvalidInput, NotFound
from app.core.messages import N_, Msg
from app.core.unit_of_work import refuse
from app.extensions import db
from app.models import Contribution, Period, Section, Topic, TopicScope, User
from app.periods.policy import CONSOLIDATIONS, may_see_consolidation, may_see_periods
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW, State, Transition

# Who may open the consolidation page: the city's coordinator, approver and auditor.
# How far a contribution has come: states at or past each step.
STEPS: tuple[tuple[str, frozenset[str]], ...] = (
    ("submitted", frozenset({"police_review", "reviewed", "consolidated", "approved"})),
    ("reviewed", frozenset({"reviewed", "consolidated", "approved"})),
    ("consolidated", frozenset({"consolidated", "approved"})),
    ("approved", frozenset({"approved"})),
)


@dataclass
class Progress:
    step: str
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class AreaRow:
    contribution: Contribution
    state: State
    readable: bool  # may this user open the contribution?

    @property
    def area(self):
        return self.contribution.area

    @property
    def excluded(self) -> bool:
        return self.contribution.excluded_reason is not None


@dataclass
class PeriodOverview:
    period: Period
    consolidation_state: State | None
    states: tuple[State, ...]
    rows: list[AreaRow]
    counts: dict[str, int]
    progress: list[Progress]
    excluded: int
    may_see_consolidation: bool


@dataclass
class PeriodSummary:
    period: Period
    consolidation_state: State | None
    counts: dict[str, int]
    total: int
    excluded: int


def _require_period_reader(user: User, period_id: int | None = None) -> None:
    if not may_see_periods(user):
        refuse(user, deny(Msg(N_("You have no role that may see the periods.")),
                           action="period.view", object_type="period", object_id=period_id))


def get_period(period_id: int) -> Period:
    period = db.session.get(Period, period_id)
    if period is None:
        raise NotFound(Msg(N_("There is no period {period}."), period=period_id))
    return period


def _counts(contributions: list[Contribution]) -> dict[str, int]:
    counts = {state.name: 0 for state in CONTRIBUTION_WORKFLOW.definition.states}
    for contribution in contributions:
        counts[contribution.state] += 1
    return counts


def _consolidation_state(period: Period) -> State | None:
    consolidation = period.consolidation
    return CONSOLIDATION_WORKFLOW.state(consolidation.state) if consolidation else None


def periods_newest_first(user: User) -> list[PeriodSummary]:
    _require_period_reader(user)
    periods = db.session.scalars(
        select(Period).options(selectinload(Period.contributions),
                               selectinload(Period.consolidation))
        .order_by(Period.drafting_deadline.desc(), Period.id.desc())
    ).all()
    return [
        PeriodSummary(
            period, _consolidation_state(period), _counts(period.contributions),
            len(period.contributions),
            sum(1 for c in period.contributions if c.excluded_reason is not None),
        )
        for period in periods
    ]


def period_overview(user: User, period_id: int) -> PeriodOverview:
    _require_period_reader(user, period_id)
    period = get_period(period_id)
    contributions = period_contributions(period.id)
    rows = [AreaRow(c, CONTRIBUTION_WORKFLOW.state(c.state), may_read(user, c))
            for c in contributions]
    included = [c for c in contributions if c.excluded_reason is None]
    progress = [Progress(step, sum(1 for c in included if c.state in states), len(included))
                for step, states in STEPS]
    return PeriodOverview(
        period=period,
        consolidation_state=_consolidation_state(period),
        states=CONTRIBUTION_WORKFLOW.definition.states,
        rows=rows,
        counts=_counts(contributions),
        progress=progress,
        excluded=len(contributions) - len(included),
        may_see_consolidation=may_see_consolidation(user),
    )


# -- the consolidation page -------------------------------------------------------------------


@dataclass
class AreaText:
    contribution: Contribution
    section: Section | None  # None: the area has no section for this topic


@dataclass
class TopicBlock:
    topic: Topic
    texts: list[AreaText]

    @property
    def heading(self) -> str:
        """As the lägesbild shows it: as approved once approved (a later rename changes
        only what is not approved yet)."""
        frozen = next((t.section for t in self.texts
                       if t.section is not None and t.section.frozen), None)
        return frozen.heading if frozen is not None else self.topic.heading


@dataclass
class AreaBlock:
    """One area's contribution: its state, the actions the user may take, its local topics."""

    contribution: Contribution
    state: State
    actions: list[Transition]
    can_edit: bool
    local_topics: list[TopicBlock] = field(default_factory=list)

    @property
    def area(self):
        return self.contribution.area


@dataclass
class ConsolidationView:
    period: Period
    state: State
    actions: list[Transition]  # what this user may do with the consolidation now
    blocked: list[tuple[Transition, str]]  # what they could do but for a guard, and why not
    areas: list[AreaBlock]
    city_topics: list[TopicBlock]
    unsettled: list[str]  # areas neither consolidated nor excluded
    is_consolidator: bool
    remarks: list
    shown: str = ""  # whose texts the page shows: a city topic's id, or LOCAL_TOPICS


# The consolidation page shows the texts of one topic at a time (every area's text for a
# city-wide topic, or every area's local topics), so it stays a bounded page at a city of 50
# areas (issue 17: every area's every text at once was over 500 KB).
LOCAL_TOPICS = "local"


def shown_topic(view: ConsolidationView, asked: str | None) -> str:
    """Which texts to show: the topic asked for (a city topic's id, or LOCAL_TOPICS), else
    the first city topic. Anything else is refused with a message."""
    asked = (asked or "").strip()
    city = [str(block.topic.id) for block in view.city_topics]
    if not asked:
        return city[0] if city else LOCAL_TOPICS
    if asked == LOCAL_TOPICS or asked in city:
        return asked
    raise InvalidInput(Msg(N_("This consolidation has no topic {topic}. Choose one of the "
                              "topics listed on the page."), topic=asked[:20]))


def consolidation_view(user: User, period_id: int, shown: str | None = None
                       ) -> ConsolidationView:
    """The consolidation page's data; `shown`: whose texts to show (shown_topic)."""
    period = get_period(period_id)
    if not may_see_consolidation(user):
        refuse(user, deny(Msg(N_("Only the coordinator, the approver and auditors may see "
                                  "the consolidation.")),
                           action="consolidation.view", object_type="period",
                           object_id=period_id))
    consolidation = period.consolidation
    if consolidation is None:
        raise NotFound(Msg(N_("Period {period} has no consolidation."), period=period_id))
    city_roles = roles_for(user, None)
    contributions = period_contributions(period.id, sections=True)
    sections = {(s.contribution_id, s.topic_id): s for c in contributions for s in c.sections}

    areas = []
    city_topic_ids: dict[int, Topic] = {}
    for contribution in contributions:
        block = AreaBlock(
            contribution, CONTRIBUTION_WORKFLOW.state(contribution.state),
            CONTRIBUTIONS.allowed_triggers(contribution, user, city_roles),
            CONTRIBUTIONS.editor_for(contribution, user, city_roles) is not None,
        )
        for section in contribution.ordered_sections:
            topic = section.topic
            if topic.scope == TopicScope.CITY:
                city_topic_ids[topic.id] = topic
            else:
                block.local_topics.append(TopicBlock(topic, [AreaText(contribution, section)]))
        areas.append(block)

    city_topics = [
        TopicBlock(topic, [AreaText(c, sections.get((c.id, topic.id))) for c in contributions])
        for topic in sorted(city_topic_ids.values(), key=lambda t: t.sort_key)
    ]
    blocked = []
    for transition in CONSOLIDATION_WORKFLOW.transitions_from(consolidation.state):
        if transition.internal or not transition.roles & city_roles:
            continue
        for guard in transition.guards:
            if CONSOLIDATIONS.guards[guard](user, consolidation) is not None:
                blocked.append((transition, guard))
                break
    view = ConsolidationView(
        period=period,
        state=CONSOLIDATION_WORKFLOW.state(consolidation.state),
        actions=CONSOLIDATIONS.allowed_triggers(consolidation, user, city_roles),
        blocked=blocked,
        areas=areas,
        city_topics=city_topics,
        unsettled=[c.area.name for c in contributions
                   if c.state != "consolidated" and c.excluded_reason is None],
        is_consolidator="consolidator" in city_roles,
        remarks=list(consolidation.remarks),
    )
    view.shown = shown_topic(view, shown)
    return view
