"""What waits for a user: the contributions and consolidations they may act on now, with the
actions the workflow definitions allow them (read-only; the start page draws from this)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW, State, Transition

from app.extensions import db
from app.i18n import N_, Msg
from app.models import Consolidation, Contribution, Period, User
from app.services.access import roles_for
from app.services.guards import guard_check_for


@dataclass
class Task:
    kind: str  # "contribution" or "consolidation"
    subject: Contribution | Consolidation
    title: str
    state: State
    actions: list[Transition] = field(default_factory=list)
    can_edit: bool = False
    blocked: list[str] = field(default_factory=list)  # why an action is not possible yet


def tasks_for(user: User) -> list[Task]:
    check = guard_check_for(user)
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
        actions = CONTRIBUTION_WORKFLOW.allowed_triggers(contribution, roles, check)
        editor = CONTRIBUTION_WORKFLOW.can_edit(contribution, roles, check)
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
            actions = CONSOLIDATION_WORKFLOW.allowed_triggers(consolidation, city_roles, check)
            if actions:
                tasks.append(Task(
                    "consolidation", consolidation,
                    Msg(N_("Consolidated situation report {period}"),
                        period=consolidation.period.name),
                    CONSOLIDATION_WORKFLOW.state(consolidation.state), actions,
                ))
    return tasks
