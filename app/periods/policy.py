"""Who may do what with a period and its consolidation: see the periods, see the consolidation,
fire the consolidation's triggers. The consolidation workflow's guards are implemented here
by the names the definition gives them, and bound with the triggers' effects (CONSOLIDATIONS).
"""
from __future__ import annotations

from sqlalchemy import and_, exists
from sqlalchemy.orm import aliased

from app.contributions.duties import Act, acts_in_consolidation
from app.core.access import all_roles, deny, roles_for
from app.core.actors import Actor
from app.core.messages import N_, Msg
from app.core.transitions import BoundWorkflow
from app.models import Consolidation, Contribution, Role, User
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


# The first act found says why (the consolidation's own submission first).
_WHY_NOT_APPROVE = (
    (Act.SUBMITTED_FOR_APPROVAL,
     N_("You submitted this consolidation, so someone else must approve it.")),
    (Act.CONSOLIDATED,
     N_("You consolidated contributions in this period, so someone else must approve it.")),
    (Act.EXCLUDED,
     N_("You excluded or included contributions in this consolidation, so someone else must "
        "approve it.")),
    (Act.EDITED,
     N_("You edited texts or cross-references in this consolidation, so someone else must "
        "approve it.")),
    (Act.SUBMITTED,
     N_("You submitted a contribution in this period, so someone else must approve it.")),
)


def not_consolidator(actor: Actor, consolidation: Consolidation) -> str | None:
    """Whoever consolidated, edited, excluded or submitted in the consolidation may neither
    approve it nor return it."""
    if not isinstance(actor, User):
        return Msg(N_("Only a person may approve."))
    acts = acts_in_consolidation(actor, consolidation)
    for act, message in _WHY_NOT_APPROVE:
        if act in acts:
            return Msg(message)
    return None


def contributions_settled_in_sql():
    """all_contributions_settled as an SQL condition on a consolidation (the same rule: none
    unsettled, at least one consolidated), so a list of consolidations reads only those whose
    guard can pass instead of every contribution of every open period."""
    contribution = aliased(Contribution)
    in_period = and_(contribution.period_id == Consolidation.period_id,
                     contribution.excluded_reason.is_(None))
    unsettled = exists().where(in_period, contribution.state != "consolidated")
    consolidated = exists().where(in_period, contribution.state == "consolidated")
    return and_(~unsettled, consolidated)


# The guards a list can check in SQL first (tasks: the start page), by the definition's names.
CONSOLIDATION_GUARDS_IN_SQL = {"all_contributions_settled": contributions_settled_in_sql()}

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


def require_bulk_consolidator(actor: Actor, period_id: int) -> None:
    """Only the coordinator consolidates, alone or all at once: the confirmation page and the
    operation both ask here."""
    if Role.CONSOLIDATOR not in roles_for(actor, None):
        raise deny(Msg(N_("Only the coordinator may consolidate contributions.")),
                   action="contribution.consolidate_all", object_type="period",
                   object_id=period_id)
