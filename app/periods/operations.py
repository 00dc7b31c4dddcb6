"""Operations on a period's consolidation: submit for approval, approve (locking every
consolidated contribution: effects.approve_contributions), or return with remarks."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.audit.trail import record_event
from app.contributions import operations as contributions
from app.core.access import roles_for
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import InvalidInput, InvalidTransition, NotFound, StaleVersion
from app.core.messages import N_, Msg
from app.core.text_rules import validate_section_text
from app.core.transitions import (
    check_version,
    require_confirmed_comments,
    require_trigger_role,
    transition_from,
)
from app.extensions import db
from app.models import Area, Consolidation, Contribution, Remark
from app.notifications import handoffs
from app.periods.policy import CONSOLIDATIONS, require_bulk_consolidator


class LockNotConfirmed(InvalidInput):
    """The approval of the consolidation was asked for without confirming what it locks."""


def _ends_the_period(trigger: str, consolidation: Consolidation) -> bool:
    """Whether the trigger takes the consolidation to a final state (approve): it makes every
    consolidated contribution final."""
    workflow = CONSOLIDATIONS.workflow
    transition = transition_from(workflow, trigger, consolidation.state)
    return transition is not None and transition.dest in workflow.definition.final


def get_consolidation(consolidation_id: int) -> Consolidation:
    consolidation = db.session.get(Consolidation, consolidation_id)
    if consolidation is None:
        raise NotFound(Msg(N_("There is no consolidation {consolidation_id}."),
                           consolidation_id=consolidation_id))
    return consolidation


def transition(actor: Actor, consolidation_id: int, trigger: str, *,
               expected_version: int | None = None,
               remarks: Sequence[str] = (), comments_confirmed: bool = False,
               lock_confirmed: bool = True) -> Consolidation:
    """Fire a trigger on the consolidation. Remarks with an approval are saved as comments
    only with `comments_confirmed`. The page asks the approver to confirm what approving
    locks (`lock_confirmed` from its checkbox); a caller of the service confirms by calling."""
    consolidation = get_consolidation(consolidation_id)
    roles = roles_for(actor, None)
    require_trigger_role(CONSOLIDATIONS.workflow, consolidation, trigger, roles,
                         object_type="consolidation")
    check_version(consolidation, expected_version, "consolidation")
    if not lock_confirmed and _ends_the_period(trigger, consolidation):
        raise LockNotConfirmed(Msg(N_("Tick the box to confirm that you approve the "
                                      "consolidation: it cannot be undone.")))
    cleaned = [validate_section_text(r, field="remark") for r in remarks if r and r.strip()]
    require_confirmed_comments(CONSOLIDATIONS.workflow, consolidation, trigger, cleaned,
                               comments_confirmed)
    moment = now()
    fired = CONSOLIDATIONS.fire(consolidation, trigger, actor, roles, moment,
                                object_type="consolidation", remarks=cleaned)
    stored = [Remark(consolidation_id=consolidation.id, trigger=trigger, text=text,
                     author_id=actor.id, created_at=moment) for text in cleaned]
    db.session.add_all(stored)
    db.session.flush()
    record_event(
        f"consolidation.{trigger}", actor=actor, object_type="consolidation",
        object_id=consolidation.id, from_state=fired.from_state, to_state=fired.to_state,
        period_id=consolidation.period_id,
        data={
            "period": consolidation.period.name,
            "version": consolidation.version,
            "remarks": [{"remark_id": r.id, "text": r.text} for r in stored],
            "approved_contributions": fired.effect_data.get("approved_contributions", []),
        },
    )
    handoffs.after_consolidation_transition(consolidation, trigger, actor, stored)
    return consolidation


@dataclass(frozen=True)
class BulkConsolidation:
    """What "consolidate every reviewed contribution" did: the contributions it consolidated,
    and those it left (each with why), by area name."""
    consolidated: list[str]
    changed: list[str]  # changed since the page was opened: the coordinator looks again
    not_listed: list[str]  # reviewed after the page was opened: not confirmed, left alone


def reviewed_contributions(period_id: int) -> list[Contribution]:
    """The period's contributions the coordinator may consolidate now (police-reviewed and
    not excluded), by area name: what the confirmation lists."""
    found = db.session.scalars(
        select(Contribution).join(Area).where(
            Contribution.period_id == period_id, Contribution.state == "reviewed",
            Contribution.excluded_reason.is_(None)).order_by(Area.name))
    return list(found)


def consolidate_all_reviewed(actor: Actor, period_id: int,
                             expected_versions: Mapping[int, int]) -> BulkConsolidation:
    """Consolidate every contribution the coordinator confirmed (id -> version seen), each
    through the same transition as one at a time, with its own audit event. A contribution
    that changed since (another version) is skipped and reported, not failing the batch."""
    require_bulk_consolidator(actor, period_id)
    candidates = reviewed_contributions(period_id)
    if not expected_versions:
        raise InvalidInput(Msg(N_("No contributions were chosen to consolidate.")))
    consolidated, changed, not_listed = [], [], []
    for contribution in candidates:
        expected = expected_versions.get(contribution.id)
        if expected is None:
            not_listed.append(contribution.area.name)
            continue
        try:
            with db.session.begin_nested():
                contributions.transition(actor, contribution.id, "consolidate",
                                         expected_version=expected)
        except StaleVersion:
            changed.append(contribution.area.name)
            continue
        consolidated.append(contribution.area.name)
    # Confirmed ones that are no longer reviewed (reopened, excluded, consolidated by someone
    # else) changed too.
    still_reviewed = {c.id for c in candidates}
    for contribution_id in expected_versions:
        if contribution_id not in still_reviewed:
            other = db.session.get(Contribution, contribution_id)
            if other is not None and other.period_id == period_id:
                changed.append(other.area.name)
    if not consolidated:
        raise InvalidTransition(Msg(
            N_("Nothing was consolidated: every chosen contribution changed since you opened "
               "the page ({areas}). Look at them again."),
            areas=", ".join(sorted(changed)) or "–"))
    return BulkConsolidation(consolidated, sorted(changed), not_listed)
