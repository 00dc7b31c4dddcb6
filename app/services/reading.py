"""Who may read a contribution, for pages that only show it.

Reads open no write transaction. A refused read is still a security event: the refusal is
raised inside unit_of_work.operation, which rolls back (nothing to undo) and records
`security.permission_denied` in its own small transaction, as for refused writes.
"""
from __future__ import annotations

from app.i18n import N_, Msg
from app.models import Contribution, Role
from app.services.access import deny, roles_for
from app.services.actors import Actor
from app.services.contributions import get_contribution, get_section
from app.services.unit_of_work import operation

# Roles that may read a contribution's content when they cover its area. The administrator
# manages people and structure, never content, so that role alone gives no access.
READER_ROLES = frozenset({Role.DRAFTER, Role.REVIEWER, Role.CONSOLIDATOR, Role.APPROVER,
                          Role.AUDITOR})


# One loader each, shared with the write operations.
load_contribution = get_contribution
load_section = get_section


def may_read(actor: Actor, contribution: Contribution) -> bool:
    return bool(roles_for(actor, contribution.area_id) & READER_ROLES)


def require_read_access(actor: Actor, contribution: Contribution, *,
                        action: str = "contribution.view") -> None:
    """Raise NotAllowed (logged as a security event) unless the actor may read it."""
    if may_read(actor, contribution):
        return
    refusal = deny(
        Msg(N_("You do not have a role that lets you read this contribution.")),
        action=action, object_type="contribution", object_id=contribution.id,
    )
    with operation(actor):  # rolls back nothing, records the refusal, re-raises
        raise refusal
