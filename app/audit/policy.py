"""Who may read the audit trail: auditors only (an administrator too only if also an auditor)."""
from __future__ import annotations

from typing import Any

from app.core.access import all_roles, deny
from app.core.actors import Actor
from app.core.messages import N_, Msg
from app.models import Role, User


def is_auditor(actor: Any) -> bool:
    return isinstance(actor, User) and actor.active and Role.AUDITOR in all_roles(actor)


def require_auditor(actor: Actor | None, action: str = "audit.view") -> None:
    """Auditors only. An administrator is refused unless they also hold the auditor role."""
    if not is_auditor(actor):
        raise deny(Msg(N_("Only auditors may read the audit trail.")), action=action)
