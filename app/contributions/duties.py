"""Separation of duties: what one person did to a contribution in its current round, or in a
period's consolidation. Both guards (contributions.policy, periods.policy) ask here, so the
page that draws a button and the operation that enforces it see the same acts.

The acts are read from the audit trail, the one record that keeps every one of them: a later
submission overwrites `submitted_by`, an inclusion clears `excluded_by`, and a cross-reference
writes no revision, but each wrote its event in the same transaction as the change. The
section revisions (append-only too) and the rows' own columns are asked as well, so a text
written or a step taken counts even before (or without) its event.
"""
from __future__ import annotations

import enum
from typing import Final

from sqlalchemy import exists, func, select

from app.core.actors import Actor
from app.extensions import db
from app.models import (
    AuditEvent,
    Consolidation,
    Contribution,
    Section,
    SectionRevision,
    User,
)

EVENTS = AuditEvent.__table__


class Act(enum.StrEnum):
    SUBMITTED = "submitted"                  # a contribution to the police
    EDITED = "edited"                        # a section's text or cross-reference
    CONSOLIDATED = "consolidated"
    EXCLUDED = "excluded"                    # or included again: either changes the whole
    SUBMITTED_FOR_APPROVAL = "submitted_for_approval"


# Every action that changes what a contribution says or moves it on, and the act it is.
ACTS: Final[dict[str, Act]] = {
    "contribution.submit": Act.SUBMITTED,
    "contribution.resubmit": Act.SUBMITTED,
    "section.edit": Act.EDITED,
    "section.consolidation_edit": Act.EDITED,
    "section.cross_reference": Act.EDITED,
    "contribution.carry_forward": Act.EDITED,
    "contribution.consolidate": Act.CONSOLIDATED,
    "contribution.exclude": Act.EXCLUDED,
    "contribution.include": Act.EXCLUDED,
    "consolidation.submit_for_approval": Act.SUBMITTED_FOR_APPROVAL,
}
# A return or a reopen sends a contribution back to its drafters: a new round begins.
ROUND_STARTS: Final = ("contribution.return", "contribution.reopen")


def _acts(conditions: list) -> set[Act]:
    actions = db.session.scalars(
        select(EVENTS.c.action).distinct().where(*conditions,
                                                 EVENTS.c.action.in_(tuple(ACTS))))
    return {ACTS[action] for action in actions}


def acts_in_round(actor: Actor, contribution: Contribution) -> set[Act]:
    """What `actor` did to the contribution since its current round began (submitting it,
    withdrawn or not; editing a text or a cross-reference; carrying texts forward into it)."""
    if not isinstance(actor, User):
        return set()
    acts = {Act.SUBMITTED} if contribution.submitted_by_id == actor.id else set()
    round_began = (
        select(func.coalesce(func.max(EVENTS.c.seq), 0))
        .where(EVENTS.c.contribution_id == contribution.id,
               EVENTS.c.action.in_(ROUND_STARTS))
        .scalar_subquery())
    acts |= _acts([EVENTS.c.contribution_id == contribution.id,
                   EVENTS.c.actor_id == actor.id, EVENTS.c.seq > round_began])
    if _wrote_revision(actor, SectionRevision.round == contribution.round,
                       Section.contribution_id == contribution.id):
        acts.add(Act.EDITED)
    return acts & {Act.SUBMITTED, Act.EDITED}


def acts_in_consolidation(actor: Actor, consolidation: Consolidation) -> set[Act]:
    """What `actor` did in the period's consolidation, over its whole life: consolidating,
    editing (any text or cross-reference of the period's contributions), excluding or
    including, submitting a contribution or the consolidation."""
    if not isinstance(actor, User):
        return set()
    acts = set()
    if consolidation.submitted_by_id == actor.id:
        acts.add(Act.SUBMITTED_FOR_APPROVAL)
    for contribution in consolidation.period.contributions:
        if contribution.consolidated_by_id == actor.id:
            acts.add(Act.CONSOLIDATED)
        if contribution.excluded_by_id == actor.id:
            acts.add(Act.EXCLUDED)
    if _wrote_revision(actor, Section.contribution_id == Contribution.id,
                       Contribution.period_id == consolidation.period_id):
        acts.add(Act.EDITED)
    return acts | _acts([EVENTS.c.period_id == consolidation.period_id,
                         EVENTS.c.actor_id == actor.id])


def _wrote_revision(actor: User, *conditions) -> bool:
    return bool(db.session.scalar(select(exists().where(
        SectionRevision.section_id == Section.id, SectionRevision.author_id == actor.id,
        *conditions))))
