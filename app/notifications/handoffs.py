"""Who is told what at each handoff. Called by the operations inside their transaction,
after the change: each message says what happened, carries the essentials (remarks, reasons,
what changed) and links to the page. A message goes only to people who may read what it
says (the area's own drafters and reviewers, the city office's roles), never to the person
who acted, never to a deactivated user."""
from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    AuditEvent,
    Consolidation,
    Contribution,
    Membership,
    Remark,
    SectionRevision,
    User,
)
from app.notifications.outbox import enqueue
from workflows.roles import Role

# Past these states the police have reviewed an area's contribution.
REVIEWED_STATES = ("reviewed", "consolidated", "approved")


def members(role: Role, area_id: int | None = None) -> list[User]:
    """Active users holding `role` (in `area_id`, for the areas' roles)."""
    query = (select(User).join(Membership, Membership.user_id == User.id)
             .where(Membership.role == role.value, User.active).order_by(User.id))
    if area_id is not None:
        query = query.where(Membership.area_id == area_id)
    return list(db.session.scalars(query).unique())


def _others(users: list[User], actor) -> list[User]:
    return [user for user in users if user.id != getattr(actor, "id", None)]


def after_contribution_transition(contribution: Contribution, trigger: str, actor,
                                  remarks: list[Remark], reason: str | None) -> None:
    area_id = contribution.area_id
    context = {"contribution": contribution, "actor": actor,
               "path": f"/contributions/{contribution.id}"}
    kind = f"contribution.{trigger}"
    if trigger in ("submit", "resubmit"):
        enqueue(_others(members(Role.REVIEWER, area_id), actor), kind, "submitted",
                changed=_changed_since_return(contribution), **context)
    elif trigger == "return":
        enqueue(_others(members(Role.DRAFTER, area_id), actor), kind, "returned",
                remarks=remarks, **context)
    elif trigger == "approve":
        reviewed, total = _reviewed_count(contribution.period_id)
        enqueue(_others(members(Role.CONSOLIDATOR), actor), kind, "reviewed",
                reviewed=reviewed, total=total, **context)
    elif trigger == "reopen":
        enqueue(_others(members(Role.DRAFTER, area_id), actor), kind, "reopened",
                reason=reason, **context)


def after_exclusion(contribution: Contribution, actor, reason: str | None) -> None:
    """Excluded from the consolidation, or included again (reason None)."""
    people = members(Role.DRAFTER, contribution.area_id) + members(Role.REVIEWER,
                                                                  contribution.area_id)
    enqueue(_others(people, actor),
            "contribution.exclude" if reason else "contribution.include",
            "excluded" if reason else "included", contribution=contribution, actor=actor,
            reason=reason, path=f"/contributions/{contribution.id}")


def after_consolidation_transition(consolidation: Consolidation, trigger: str, actor,
                                   remarks: list[Remark]) -> None:
    period = consolidation.period
    context = {"period": period, "actor": actor,
               "path": f"/periods/{period.id}/consolidation"}
    kind = f"consolidation.{trigger}"
    if trigger == "submit_for_approval":
        enqueue(_others(members(Role.APPROVER), actor), kind, "consolidation_submitted",
                **context)
    elif trigger == "return":
        enqueue(_others(members(Role.CONSOLIDATOR), actor), kind, "consolidation_returned",
                remarks=remarks, **context)
    elif trigger == "approve":
        enqueue(_others(_took_part(period.id), actor), kind, "consolidation_approved",
                document_path=f"/periods/{period.id}/print", **context)


def _changed_since_return(contribution: Contribution) -> list[str]:
    """The titles of the sections edited since the contribution was last returned."""
    returned_at = db.session.scalar(select(func.max(Remark.created_at)).where(
        Remark.contribution_id == contribution.id, Remark.trigger == "return"))
    if returned_at is None:
        return []
    changed = set(db.session.scalars(select(SectionRevision.section_id).where(
        SectionRevision.section_id.in_([s.id for s in contribution.sections]),
        SectionRevision.created_at > returned_at)))
    return [s.topic.title for s in contribution.ordered_sections if s.id in changed]


def _reviewed_count(period_id: int) -> tuple[int, int]:
    states = list(db.session.scalars(select(Contribution.state).where(
        Contribution.period_id == period_id, Contribution.excluded_reason.is_(None))))
    return sum(state in REVIEWED_STATES for state in states), len(states)


def _took_part(period_id: int) -> list[User]:
    """Everyone who acted on the period's contributions or consolidation."""
    actor_ids = select(AuditEvent.actor_id).where(
        AuditEvent.period_id == period_id, AuditEvent.actor_id.is_not(None),
        AuditEvent.action.like("contribution.%") | AuditEvent.action.like("section.%")
        | AuditEvent.action.like("consolidation.%")).distinct()
    return list(db.session.scalars(select(User).where(User.id.in_(actor_ids), User.active)
                                   .order_by(User.id)))
