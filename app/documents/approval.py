"""Who approved (or imported) a contribution or a period's consolidation, when, and by which
decision, as the audit trail holds it: the approval line of an exported document and the
"approved by" of `documents verify` both read it here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.core.clock import shown_time
from app.extensions import db
from app.models import AuditEvent, Contribution, Period

IMPORT_ACTION = "document.import"
CONTRIBUTION_APPROVAL = "contribution.finalize"
CONSOLIDATION_APPROVAL = "consolidation.approve"


# How the approval line opens (Approval.line): an import reads it as ours, not as lost text.
APPROVED_BY, IMPORTED_BY = "Fastställd av", "Importerad av"


@dataclass(frozen=True)
class Approval:
    action: str           # the approving event's action
    by: str               # the actor's name as the trail recorded it
    at: datetime
    event_seq: int
    decision_seq: int     # the consolidation's approval, the decision a contribution's follows

    @property
    def imported(self) -> bool:
        return self.action == IMPORT_ACTION

    def line(self) -> str:
        """The document's approval line, in Swedish like the rest of the document."""
        if self.imported:
            return (f"{IMPORTED_BY} {self.by} {shown_time(self.at)} från ett tidigare "
                    f"fastställt dokument (granskningsloggens händelse {self.event_seq})")
        return (f"{APPROVED_BY} {self.by} {shown_time(self.at)} genom beslutet att fastställa "
                f"periodens sammanställning (granskningsloggens händelse {self.decision_seq})")



def _latest(scope_filter, approving_action: str) -> AuditEvent | None:
    return db.session.scalar(
        select(AuditEvent).where(
            scope_filter, AuditEvent.action.in_((approving_action, IMPORT_ACTION)),
        ).order_by(AuditEvent.seq.desc()).limit(1))


def _approval(event: AuditEvent | None, decision_seq: int | None = None) -> Approval | None:
    if event is None:
        return None
    return Approval(event.action, event.actor_name, event.occurred_at, event.seq,
                    decision_seq or event.seq)


def approval_of_contribution(contribution: Contribution) -> Approval | None:
    event = _latest(AuditEvent.contribution_id == contribution.id, CONTRIBUTION_APPROVAL)
    if event is None or event.action == IMPORT_ACTION:
        return _approval(event)
    # A contribution is approved with its period's consolidation: that approval is the
    # decision, recorded in the same operation right after the contributions'.
    decision = db.session.scalar(
        select(AuditEvent.seq).where(AuditEvent.period_id == contribution.period_id,
                                     AuditEvent.action == CONSOLIDATION_APPROVAL,
                                     AuditEvent.seq > event.seq)
        .order_by(AuditEvent.seq).limit(1))
    return _approval(event, decision)


def approval_of_period(period: Period) -> Approval | None:
    return _approval(_latest(AuditEvent.period_id == period.id, CONSOLIDATION_APPROVAL))
