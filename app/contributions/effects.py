"""What a contribution's triggers do besides changing its state, registered by trigger name
(policy.CONTRIBUTIONS binds them to the definition beside the guards)."""
from __future__ import annotations

from datetime import datetime

from app.core.actors import Actor
from app.models import Contribution


def record_submitter(contribution: Contribution, actor: Actor, moment: datetime) -> None:
    contribution.submitted_by_id, contribution.submitted_at = actor.id, moment


def record_reviewer(contribution: Contribution, actor: Actor, moment: datetime) -> None:
    contribution.reviewed_by_id = actor.id


def record_consolidator(contribution: Contribution, actor: Actor, moment: datetime) -> None:
    contribution.consolidated_by_id = actor.id


def start_new_round(contribution: Contribution, actor: Actor, moment: datetime) -> None:
    """Back to the drafters: separation of duties looks only at the new round."""
    contribution.round += 1
    contribution.reviewed_by_id = contribution.consolidated_by_id = None


EFFECTS = {
    "submit": record_submitter,
    "resubmit": record_submitter,
    "approve": record_reviewer,
    "consolidate": record_consolidator,
    "return": start_new_round,
    "reopen": start_new_round,
}
