"""What waits for a user: the contributions and consolidations they may act on now, with the
actions the workflow definitions allow them, grouped by what they must do, each with the
period's deadline for that step (read-only; the start page draws from this)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from app.contributions.policy import CONTRIBUTIONS
from app.core.access import roles_for
from app.core.clock import STOCKHOLM, now
from app.core.messages import N_, Msg
from app.extensions import db
from app.models import Consolidation, Contribution, Period, User
from app.periods.policy import CONSOLIDATIONS
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


def grouped_tasks(user: User, on: date | None = None) -> list[TaskGroup]:
    """tasks_for(user) grouped by what must be done, each marked overdue once its deadline
    has passed (`on`: the day to compare with, today in Stockholm by default)."""
    on = on or today()
    groups = {key: TaskGroup(key, label, []) for key, (label, _deadline) in GROUPS.items()}
    for task in tasks_for(user):
        task.group = _group_of(task)
        period = task.subject.period
        task.deadline = getattr(period, GROUPS[task.group][1])
        task.overdue = task.deadline < on
        groups[task.group].tasks.append(task)
    return [group for group in groups.values() if group.tasks]


def tasks_for(user: User) -> list[Task]:
    tasks: list[Task] = []
    contributions = db.session.scalars(
        select(Contribution).join(Period).join(Consolidation)
        .where(Consolidation.state != "approved")
        .order_by(Period.id.desc(), Contribution.id)
    ).all()
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
    city_roles = roles_for(user, None)
    if city_roles:
        consolidations = db.session.scalars(
            select(Consolidation).where(Consolidation.state != "approved")
            .order_by(Consolidation.id.desc())
        ).all()
        for consolidation in consolidations:
            actions = CONSOLIDATIONS.allowed_triggers(consolidation, user, city_roles)
            if actions:
                tasks.append(Task(
                    "consolidation", consolidation,
                    Msg(N_("Consolidated situation report {period}"),
                        period=consolidation.period.name),
                    CONSOLIDATION_WORKFLOW.state(consolidation.state), actions,
                ))
    return tasks
