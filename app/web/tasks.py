"""What waits for a user: the contributions and consolidations they may act on now, with the
actions the workflow definitions allow them, grouped by what they must do, each with the
period's deadline for that step (read-only; the start page draws from this)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import joinedload

from app.contributions.loading import consolidation_options, contribution_options
from app.contributions.policy import CONTRIBUTIONS
from app.contributions.threads import open_remark_counts
from app.core.access import roles_for
from app.core.clock import STOCKHOLM, now
from app.core.messages import N_, Msg
from app.extensions import db
from app.models import AREA_ROLES, Consolidation, Contribution, Period, Role, User
from app.notifications.handoffs import members
from app.periods.policy import CONSOLIDATION_GUARDS_IN_SQL, CONSOLIDATIONS
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW, State, Transition


@dataclass
class Task:
    kind: str  # "contribution" or "consolidation"
    subject: Contribution | Consolidation
    title: str
    state: State
    actions: list[Transition] = field(default_factory=list)
    can_edit: bool = False
    blocked: list[str] = field(default_factory=list)  # why an action is not possible yet
    group: str = ""  # what the user must do: one of GROUPS
    deadline: date | None = None  # the period's deadline for that step
    overdue: bool = False
    open_remarks: int = 0  # a contribution's remarks not yet resolved (of every round)


@dataclass
class TaskGroup:
    key: str
    label: str  # an English msgid
    tasks: list[Task]


# What the user must do, in the order the start page lists it, and whose deadline applies.
GROUPS: dict[str, tuple[str, str]] = {
    "draft": (N_("To draft"), "drafting_deadline"),
    "returned": (N_("Returned to you"), "drafting_deadline"),
    "review": (N_("To review"), "review_deadline"),
    "submitted": (N_("With the police (you may withdraw)"), "review_deadline"),
    "consolidate": (N_("To consolidate"), "consolidation_deadline"),
    "approve": (N_("To approve"), "approval_deadline"),
}


def today() -> date:
    """Today's date in Stockholm, where the deadlines are meant."""
    return now().astimezone(STOCKHOLM).date()


def _group_of(task: Task) -> str:
    state = task.subject.state
    if task.kind == "consolidation":
        return "approve" if state == "awaiting_approval" else "consolidate"
    if state == "police_review":
        police = {"approve", "return"} & {action.trigger for action in task.actions}
        return "review" if police else "submitted"
    return {"draft": "draft", "returned": "returned"}.get(state, "consolidate")


def grouped_tasks(user: User, on: date | None = None,
                  tasks: list[Task] | None = None) -> list[TaskGroup]:
    """tasks_for(user) (or `tasks`, already found in this request) grouped by what must be
    done, each marked overdue once its deadline has passed (`on`: the day to compare with,
    today in Stockholm by default)."""
    on = on or today()
    groups = {key: TaskGroup(key, label, []) for key, (label, _deadline) in GROUPS.items()}
    for task in tasks_for(user) if tasks is None else tasks:
        task.group = _group_of(task)
        period = task.subject.period
        task.deadline = getattr(period, GROUPS[task.group][1])
        task.overdue = task.deadline < on
        groups[task.group].tasks.append(task)
    return [group for group in groups.values() if group.tasks]


def _may_act_on(user: User, workflow, column_state, column_area=None, guards_in_sql=None):
    """The SQL condition for the subjects in a state where one of the user's memberships may
    act or edit (in its area, or anywhere for a city-wide one), and whose guards for that
    (those in `guards_in_sql`: name -> the same rule as an SQL condition) can pass: the
    workflow says which states and guards; the guards still decide, for these only. Without
    it the start page read every open piece of work in the city, and all it holds."""
    guards_in_sql = guards_in_sql or {}
    clauses = []
    if user.active:
        for membership in user.memberships:
            if membership.area_id is not None and column_area is None:
                continue  # an area's role acts on no city-wide subject
            for state, ways in workflow.ways_to_act({membership.role}).items():
                passable = or_(*[and_(true(), *[guards_in_sql[guard] for guard in guards
                                                if guard in guards_in_sql])
                                 for guards in ways])
                clause = and_(column_state == state, passable)
                if membership.area_id is not None:
                    clause = and_(column_area == membership.area_id, clause)
                clauses.append(clause)
    return or_(*clauses) if clauses else false()


def tasks_for(user: User) -> list[Task]:
    tasks: list[Task] = []
    contributions = db.session.scalars(
        select(Contribution).join(Period).join(Consolidation)
        .where(Consolidation.state != "approved",
               _may_act_on(user, CONTRIBUTION_WORKFLOW, Contribution.state,
                           Contribution.area_id))
        # The sections: the guards read them (every section filled before a submit).
        .options(*contribution_options(sections=True))
        .order_by(Period.id.desc(), Contribution.id)
    ).unique().all()
    for contribution in contributions:
        roles = roles_for(user, contribution.area_id)
        if not roles:
            continue
        actions = CONTRIBUTIONS.allowed_triggers(contribution, user, roles)
        editor = CONTRIBUTIONS.editor_for(contribution, user, roles)
        if actions or editor:
            tasks.append(Task(
                "contribution", contribution, contribution.title,
                CONTRIBUTION_WORKFLOW.state(contribution.state),
                actions, editor is not None,
            ))
    counts = open_remark_counts(task.subject.id for task in tasks)
    for task in tasks:
        task.open_remarks = counts.get(task.subject.id, 0)
    city_roles = roles_for(user, None)
    if city_roles:
        consolidations = db.session.scalars(
            select(Consolidation).where(
                Consolidation.state != "approved",
                _may_act_on(user, CONSOLIDATION_WORKFLOW, Consolidation.state,
                            guards_in_sql=CONSOLIDATION_GUARDS_IN_SQL))
            .options(*consolidation_options())
            .order_by(Consolidation.id.desc())
        ).all()
        for consolidation in consolidations:
            actions = CONSOLIDATIONS.allowed_triggers(consolidation, user, city_roles)
            if actions:
                tasks.append(Task(
                    "consolidation", consolidation,
                    Msg(N_("The consolidation for {period}"),
                        period=consolidation.period.name),
                    CONSOLIDATION_WORKFLOW.state(consolidation.state), actions,
                ))
    return tasks


# Who holds a piece of work in each state: the start page's "waiting on others" names them.
# A consolidated contribution waits with the consolidation (see _consolidation_holders).
CONTRIBUTION_HOLDERS: dict[str, Role] = {
    "draft": Role.DRAFTER, "returned": Role.DRAFTER, "police_review": Role.REVIEWER,
    "reviewed": Role.CONSOLIDATOR,
}
CONSOLIDATION_HOLDERS: dict[str, Role] = {
    "open": Role.CONSOLIDATOR, "awaiting_approval": Role.APPROVER,
}


@dataclass
class Waiting:
    kind: str  # "contribution" or "consolidation"
    subject: Contribution | Consolidation
    title: str
    state: State
    holders: list[User]


def holders_of(subject: Contribution | Consolidation,
               known: dict[tuple, list[User]] | None = None) -> list[User]:
    """The active users who hold the work now (may act on it in its state). `known`: the
    holders already looked up by (role, area) in this request, so a list of many pieces of
    work asks once per role and area, not once per piece."""
    if isinstance(subject, Consolidation):
        role, area_id = CONSOLIDATION_HOLDERS.get(subject.state), None
    elif subject.state == "consolidated":
        return holders_of(subject.period.consolidation, known)
    else:
        role = CONTRIBUTION_HOLDERS.get(subject.state)
        area_id = subject.area_id if role in AREA_ROLES else None
    if role is None:
        return []
    known = {} if known is None else known
    if (role, area_id) not in known:
        known[role, area_id] = sorted(members(role, area_id), key=lambda user: user.name)
    return known[role, area_id]


def waiting_on_others(user: User, tasks: list[Task] | None = None) -> list[Waiting]:
    """The user's own work now with someone else: her areas' contributions and, for the city
    office's roles, the consolidations, in open periods, that she cannot act on now (`tasks`:
    tasks_for(user) if already found in this request)."""
    mine = {(task.kind, task.subject.id)
            for task in (tasks_for(user) if tasks is None else tasks)}
    known: dict[tuple, list[User]] = {}
    waiting: list[Waiting] = []
    area_ids = {m.area_id for m in user.memberships if m.area_id is not None}
    if area_ids:
        contributions = db.session.scalars(
            select(Contribution).join(Period).join(Consolidation)
            .where(Consolidation.state != "approved", Contribution.area_id.in_(area_ids),
                   Contribution.excluded_reason.is_(None))
            .options(*contribution_options())
            .order_by(Period.id.desc(), Contribution.id)).unique().all()
        for contribution in contributions:
            if ("contribution", contribution.id) not in mine:
                waiting.append(Waiting("contribution", contribution, contribution.title,
                                       CONTRIBUTION_WORKFLOW.state(contribution.state),
                                       holders_of(contribution, known)))
    if {Role.CONSOLIDATOR.value, Role.APPROVER.value} & {m.role for m in user.memberships}:
        for consolidation in db.session.scalars(
                select(Consolidation).where(Consolidation.state != "approved")
                # Its state and period's name: no guard runs here, so not its contributions.
                .options(joinedload(Consolidation.period))
                .order_by(Consolidation.id.desc())):
            if ("consolidation", consolidation.id) not in mine:
                waiting.append(Waiting(
                    "consolidation", consolidation,
                    Msg(N_("The consolidation for {period}"),
                        period=consolidation.period.name),
                    CONSOLIDATION_WORKFLOW.state(consolidation.state),
                    holders_of(consolidation, known)))
    # Work she holds herself, even if she cannot act on it yet, is not waiting on others.
    return [item for item in waiting
            if item.holders and user.id not in {holder.id for holder in item.holders}]


def handed_over(tasks: list[Task]) -> list[Waiting]:
    """The work in `tasks` (what someone held before a role was revoked or the account
    deactivated) with whoever holds it now: empty holders mean nobody can act on it."""
    return [Waiting(task.kind, task.subject, task.title, task.state, holders_of(task.subject))
            for task in tasks]
