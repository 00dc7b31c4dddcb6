"""What the consolidation's triggers do besides changing its state, registered by trigger name
(policy.CONSOLIDATIONS binds them to the definition beside the guards)."""
from __future__ import annotations

from datetime import datetime

from app.audit.trail import record_event, scope_of
from app.contributions.policy import CONTRIBUTIONS
from app.contributions.snapshot import freeze
from app.core.actors import Actor
from app.extensions import db
from app.models import Consolidation


def record_submitter(consolidation: Consolidation, actor: Actor, moment: datetime) -> None:
    consolidation.submitted_by_id, consolidation.submitted_at = actor.id, moment


def approve_contributions(consolidation: Consolidation, actor: Actor,
                          moment: datetime) -> dict[str, list[int]]:
    """Approving the consolidation approves and locks every contribution taken into it, and
    freezes what each shows (headings, order, cross-references): the event records the
    snapshot's digest."""
    consolidation.approved_by_id, consolidation.approved_at = actor.id, moment
    finalized = []
    for contribution in consolidation.period.contributions:
        if contribution.state != "consolidated" or contribution.excluded_reason is not None:
            continue
        fired = CONTRIBUTIONS.fire(contribution, "finalize", actor, (), moment,
                                   object_type="contribution", internal=True)
        db.session.flush()
        snapshot_sha256 = freeze(contribution)
        record_event(
            "contribution.finalize", actor=actor, object_type="contribution",
            object_id=contribution.id, from_state=fired.from_state, to_state=fired.to_state,
            **scope_of(contribution),
            data={"area": contribution.area.name, "period": contribution.period.name,
                  "consolidation_id": consolidation.id, "version": contribution.version,
                  "sections": {str(s.id): s.version for s in contribution.ordered_sections},
                  "snapshot_sha256": snapshot_sha256},
        )
        finalized.append(contribution.id)
    return {"approved_contributions": finalized}


EFFECTS = {
    "submit_for_approval": record_submitter,
    "approve": approve_contributions,
}
