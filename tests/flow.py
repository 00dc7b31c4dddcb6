"""Each workflow trigger as a verb, for tests: `flow.approve(actor, contribution_id)` reads
better in a test than `transition(actor, contribution_id, "approve")`. The application fires
triggers by name only (contributions.operations.transition, periods.operations.transition)."""
from __future__ import annotations

from collections.abc import Sequence

from app.contributions import operations as contributions
from app.periods import operations as consolidations


def submit(actor, contribution_id: int, **kw):
    return contributions.transition(actor, contribution_id, "submit", **kw)


def withdraw(actor, contribution_id: int, **kw):
    return contributions.transition(actor, contribution_id, "withdraw", **kw)


def approve(actor, contribution_id: int, **kw):
    return contributions.transition(actor, contribution_id, "approve", **kw)


def return_with_remarks(actor, contribution_id: int,
                        remarks: Sequence[contributions.RemarkInput], **kw):
    return contributions.transition(actor, contribution_id, "return", remarks=remarks, **kw)


def resubmit(actor, contribution_id: int, **kw):
    """As a drafter who ticked "resubmit without answering" the open remarks (the tests of
    that confirmation, tests/contributions/test_threads.py, call transition themselves)."""
    kw.setdefault("unanswered_confirmed", True)
    return contributions.transition(actor, contribution_id, "resubmit", **kw)


def consolidate(actor, contribution_id: int, **kw):
    return contributions.transition(actor, contribution_id, "consolidate", **kw)


def reopen(actor, contribution_id: int, reason: str, **kw):
    return contributions.transition(actor, contribution_id, "reopen", reason=reason, **kw)


def submit_for_approval(actor, consolidation_id: int, **kw):
    return consolidations.transition(actor, consolidation_id, "submit_for_approval", **kw)


def approve_consolidation(actor, consolidation_id: int, **kw):
    return consolidations.transition(actor, consolidation_id, "approve", **kw)


def return_consolidation(actor, consolidation_id: int, remarks: Sequence[str], **kw):
    return consolidations.transition(actor, consolidation_id, "return", remarks=remarks, **kw)
