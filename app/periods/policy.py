"""Who may do what with a period and its consolidation: see the periods, see the consolidation,
fire the consolidation's triggers. The consolidation workflow's guards are implemented here
by the names the definition gives them, and bound with the triggers' effects (CONSOLIDATIONS).
"""
from __future__ import annotations

from sqlalchemy import exists, select

from app.core.access import all_roles, roles_for
from app.core.actors import Actor
from app.core.messages import N_, Msg
from app.core.transitions import BoundWorkflow
from app.extensions import db
from app.models import (
    Consolidation,
    Contribution,
    RevisionCause,
    Role,
    Section,
    SectionRevision,
    User,
)
from app.periods.effects import EFFECTS
from workflows import CONSOLIDATION_WORKFLOW

CONSOLIDATION_READERS = frozenset({Role.CONSOLIDATOR, Role.APPROVER, Role.AUDITOR})


# -- the workflow's guards -------------------------------------------------------------------

def all_contributions_settled(actor: Actor, consolidation: Consolidation) -> str | None:
    contributions = consolidation.period.contributions
    unsettled = sorted(
        c.area.name for c in contributions
        if c.state != "consolidated" and c.excluded_reason is None
    )
    if unsettled:
        return Msg(N_("Every contribution must be consolidated or excluded with a reason "
                      "first. Not yet: {areas}"), areas=", ".join(unsettled))
    if not any(c.state == "consolidated" and c.excluded_reason is None for c in contributions):
        return Msg(N_("At least one contribution must be consolidated."))
    return None


def not_consolidator(actor: Actor, consolidation: Consolidation) -> str | None:
    if not isinstance(actor, User):
        return Msg(N_("Only a person may approve."))
    if consolidation.submitted_by_id == actor.id:
        return Msg(N_("You submitted this consolidation, so someone else must approve it."))
    contributions = consolidation.period.contributions
    if any(c.consolidated_by_id == actor.id for c in contributions):
        return Msg(N_("You consolidated contributions in this period, so someone else must "
                      "approve it."))
    edited = db.session.scalar(
        select(
            exists().where(
                SectionRevision.section_id == Section.id,
                Section.contribution_id == Contribution.id,
                Contribution.period_id == consolidation.period_id,
                SectionRevision.cause == RevisionCause.CONSOLIDATION_EDIT,
                SectionRevision.author_id == actor.id,
            )
        )
    )
    if edited:
        return Msg(N_("You edited wording in this consolidation, so someone else must "
                      "approve it."))
    return None


CONSOLIDATIONS = BoundWorkflow(CONSOLIDATION_WORKFLOW, guards={
    "all_contributions_settled": all_contributions_settled,
    "not_consolidator": not_consolidator,
}, effects=EFFECTS)


# -- reading ---------------------------------------------------------------------------------

def may_see_periods(user: User) -> bool:
    """Anyone with a role sees the overview (states only; the texts need a reader's role)."""
    return bool(all_roles(user))


def may_see_consolidation(user: User) -> bool:
    return bool(roles_for(user, None) & CONSOLIDATION_READERS)
