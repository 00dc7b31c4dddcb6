"""Firing a workflow trigger on a stored object, with refusals mapped to domain errors."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from workflows import (
    GuardFailed,
    NotFromState,
    ReasonRequired,
    RemarksRequired,
    RoleNotPermitted,
    UnknownTrigger,
    Workflow,
    WorkflowRefusal,
)

from app.services.access import deny
from app.services.actors import Actor
from app.services.errors import DomainError, InvalidInput, InvalidTransition, StaleVersion
from app.services.guards import guard_check_for


def check_version(subject: Any, expected_version: int | None, what: str) -> None:
    if expected_version is not None and subject.version != expected_version:
        raise StaleVersion(
            f"The {what} has changed since you opened it (you had version {expected_version}, "
            f"it is now version {subject.version}). Reload to see the changes.",
            expected_version=expected_version,
            current_version=subject.version,
        )


def require_trigger_role(workflow: Workflow, subject: Any, trigger: str, roles: Iterable[str],
                         *, object_type: str) -> None:
    """Refuse an actor who holds no role that may ever fire `trigger` here, before anything
    else is looked at: an outsider learns nothing about versions or states, and the attempt
    is logged as a permission denial."""
    entries = [t for t in workflow.definition.transitions if t.trigger == trigger]
    where = {"action": f"{object_type}.{trigger}", "object_type": object_type,
             "object_id": subject.id}
    if not entries:
        raise InvalidInput(f"Unknown action '{trigger}'.", **where)
    if not any(t.roles & set(roles) for t in entries if not t.internal):
        raise deny(
            f"You do not have a role that may '{trigger}' this {object_type.replace('_', ' ')}.",
            **where,
        )


def fire(
    workflow: Workflow,
    subject: Any,
    trigger: str,
    actor: Actor,
    roles: Iterable[str],
    *,
    object_type: str,
    remarks: Sequence[str] = (),
    reason: str | None = None,
    internal: bool = False,
) -> tuple[str, str]:
    """Fire `trigger`, or raise the domain error that says why not. Changes only subject.state."""
    try:
        return workflow.fire(
            subject, trigger, set(roles), guard_check_for(actor),
            remarks=remarks, reason=reason, internal=internal,
        )
    except WorkflowRefusal as refusal:
        raise _domain_error(refusal, subject, trigger, object_type) from refusal


def _domain_error(refusal: WorkflowRefusal, subject: Any, trigger: str,
                  object_type: str) -> DomainError:
    action = f"{object_type}.{trigger}"
    where = {"action": action, "object_type": object_type, "object_id": subject.id}
    if isinstance(refusal, RoleNotPermitted):
        return deny(
            f"You do not have a role that may '{trigger}' this {object_type.replace('_', ' ')}.",
            **where,
        )
    if isinstance(refusal, GuardFailed):
        if refusal.kind == "permission":
            return deny(refusal.message, **where)
        return InvalidTransition(refusal.message, **where)
    if isinstance(refusal, NotFromState):
        return InvalidTransition(
            f"This cannot be done now: the {object_type.replace('_', ' ')} is in state "
            f"'{subject.state}'. Reload to see its current state.",
            log_refusal=True, **where,
        )
    if isinstance(refusal, RemarksRequired):
        return InvalidInput("At least one remark is required.", **where)
    if isinstance(refusal, ReasonRequired):
        return InvalidInput("A reason is required.", **where)
    if isinstance(refusal, UnknownTrigger):
        return InvalidInput(f"Unknown action '{trigger}'.", **where)
    return InvalidTransition(refusal.message, **where)
