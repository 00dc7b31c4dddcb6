"""Operations on a period's consolidation: submit for approval, approve (locking every
consolidated contribution), or return with remarks."""
from __future__ import annotations

from collections.abc import Sequence

from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW

from app.clock import now
from app.extensions import db
from app.i18n import N_, Msg
from app.models import Consolidation, Remark
from app.services.access import roles_for
from app.services.actors import Actor
from app.services.audit import record_event, scope_of
from app.services.errors import NotFound
from app.services.text_rules import validate_section_text
from app.services.transitions import check_version, fire, require_trigger_role


def get_consolidation(consolidation_id: int) -> Consolidation:
    consolidation = db.session.get(Consolidation, consolidation_id)
    if consolidation is None:
        raise NotFound(Msg(N_("There is no consolidation {consolidation_id}."),
                           consolidation_id=consolidation_id))
    return consolidation


def transition(actor: Actor, consolidation_id: int, trigger: str, *,
               expected_version: int | None = None,
               remarks: Sequence[str] = ()) -> Consolidation:
    consolidation = get_consolidation(consolidation_id)
    roles = roles_for(actor, None)
    require_trigger_role(CONSOLIDATION_WORKFLOW, consolidation, trigger, roles,
                         object_type="consolidation")
    check_version(consolidation, expected_version, "consolidation")
    cleaned = [validate_section_text(r, field="remark") for r in remarks if r and r.strip()]
    from_state, to_state = fire(
        CONSOLIDATION_WORKFLOW, consolidation, trigger, actor, roles,
        object_type="consolidation", remarks=cleaned,
    )
    moment = now()
    finalized = []
    if trigger == "submit_for_approval":
        consolidation.submitted_by_id, consolidation.submitted_at = actor.id, moment
    elif trigger == "approve":
        consolidation.approved_by_id, consolidation.approved_at = actor.id, moment
        finalized = _finalize_contributions(actor, consolidation)
    stored = [Remark(consolidation_id=consolidation.id, trigger=trigger, text=text,
                     author_id=actor.id, created_at=moment) for text in cleaned]
    db.session.add_all(stored)
    db.session.flush()
    record_event(
        f"consolidation.{trigger}", actor=actor, object_type="consolidation",
        object_id=consolidation.id, from_state=from_state, to_state=to_state,
        period_id=consolidation.period_id,
        data={
            "period": consolidation.period.name,
            "version": consolidation.version,
            "remarks": [{"remark_id": r.id, "text": r.text} for r in stored],
            "approved_contributions": finalized,
        },
    )
    return consolidation


def _finalize_contributions(actor: Actor, consolidation: Consolidation) -> list[int]:
    """Approving the consolidation approves and locks every contribution taken into it."""
    finalized = []
    for contribution in consolidation.period.contributions:
        if contribution.state != "consolidated" or contribution.excluded_reason is not None:
            continue
        from_state, to_state = fire(
            CONTRIBUTION_WORKFLOW, contribution, "finalize", actor, (),
            object_type="contribution", internal=True,
        )
        db.session.flush()
        record_event(
            "contribution.finalize", actor=actor, object_type="contribution",
            object_id=contribution.id, from_state=from_state, to_state=to_state,
            **scope_of(contribution),
            data={"area": contribution.area.name, "period": contribution.period.name,
                  "consolidation_id": consolidation.id, "version": contribution.version,
                  "sections": {str(s.id): s.version for s in contribution.ordered_sections}},
        )
        finalized.append(contribution.id)
    return finalized


def submit_for_approval(actor: Actor, consolidation_id: int, **kw) -> Consolidation:
    return transition(actor, consolidation_id, "submit_for_approval", **kw)


def approve(actor: Actor, consolidation_id: int, **kw) -> Consolidation:
    return transition(actor, consolidation_id, "approve", **kw)


def return_with_remarks(actor: Actor, consolidation_id: int, remarks: Sequence[str],
                        **kw) -> Consolidation:
    return transition(actor, consolidation_id, "return", remarks=remarks, **kw)
