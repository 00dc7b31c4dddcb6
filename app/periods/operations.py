"""Operations on a period's consolidation: submit for approval, approve (locking every
consolidated contribution: effects.approve_contributions), or return with remarks."""
from __future__ import annotations

from collections.abc import Sequence

from app.audit.trail import record_event
from app.core.access import roles_for
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import NotFound
from app.core.messages import N_, Msg
from app.core.text_rules import validate_section_text
from app.core.transitions import (
    check_version,
    require_confirmed_comments,
    require_trigger_role,
)
from app.extensions import db
from app.models import Consolidation, Remark
from app.notifications import handoffs
from app.periods.policy import CONSOLIDATIONS


def get_consolidation(consolidation_id: int) -> Consolidation:
    consolidation = db.session.get(Consolidation, consolidation_id)
    if consolidation is None:
        raise NotFound(Msg(N_("There is no consolidation {consolidation_id}."),
                           consolidation_id=consolidation_id))
    return consolidation


def transition(actor: Actor, consolidation_id: int, trigger: str, *,
               expected_version: int | None = None,
               remarks: Sequence[str] = (), comments_confirmed: bool = False) -> Consolidation:
    """Fire a trigger on the consolidation. Remarks with an approval are saved as comments
    only with `comments_confirmed`."""
    consolidation = get_consolidation(consolidation_id)
    roles = roles_for(actor, None)
    require_trigger_role(CONSOLIDATIONS.workflow, consolidation, trigger, roles,
                         object_type="consolidation")
    check_version(consolidation, expected_version, "consolidation")
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
