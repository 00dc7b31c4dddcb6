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

from app.i18n import N_, Label, Msg
from app.services.access import deny
from app.services.actors import Actor
from app.services.errors import DomainError, InvalidInput, InvalidTransition, StaleVersion
from app.services.guards import guard_check_for


# What refusals call the objects: English as the messages always said, Swedish in the
# definite form the Swedish messages put them in ("bidraget har status ...").
OBJECT_NAMES: dict[str, Label] = {
    "contribution": Label("contribution", sv="bidraget"),
    "consolidation": Label("consolidation", sv="sammanställningen"),
    "section": Label("section", sv="avsnittet"),
    "period": Label("period", sv="perioden"),
    "area": Label("area", sv="området"),
    "topic": Label("topic", sv="det prioriterade området"),
    "remark": Label("remark", sv="anmärkningen"),
    "user": Label("user", sv="användaren"),
    "organisation": Label("organisation", sv="organisationen"),
}


def object_name(object_type: str) -> Label:
    """The object type as a message parameter. Pass a Label for a type not listed above."""
    if isinstance(object_type, Label):
        return object_type
    text = object_type.replace("_", " ")
    return OBJECT_NAMES.get(object_type, Label(text, sv=text))


def state_label(workflow: Workflow, name: str) -> Label:
    """A state as a message parameter: its name in English messages (as they always said),
    the definition's label when shown translated."""
    try:
        state = workflow.state(name)
    except KeyError:
        return Label(name, sv=name)
    return Label(name, sv=state.label_sv, en=state.label_en)


def trigger_label(workflow: Workflow, trigger: str) -> Label:
    """A trigger as a message parameter: the label of the button that fires it."""
    for entry in workflow.definition.transitions:
        if entry.trigger == trigger and not entry.internal:
            return Label(trigger, sv=entry.label_sv, en=entry.label_en)
    return Label(trigger, sv=trigger)


def check_version(subject: Any, expected_version: int | None, what: str) -> None:
    if expected_version is not None and subject.version != expected_version:
        raise StaleVersion(
            Msg(N_("The {what} has changed since you opened it (you had version "
                   "{expected_version}, it is now version {current_version}). Reload to see "
                   "the changes."),
                what=object_name(what), expected_version=expected_version,
                current_version=subject.version),
            expected_version=expected_version,
            current_version=subject.version,
        )


def _no_role_for(workflow: Workflow, trigger: str, object_type: str) -> Msg:
    return Msg(N_("You do not have a role that may '{action}' this {object}."),
               action=trigger_label(workflow, trigger), object=object_name(object_type))


def require_trigger_role(workflow: Workflow, subject: Any, trigger: str, roles: Iterable[str],
                         *, object_type: str) -> None:
    """Refuse an actor who holds no role that may ever fire `trigger` here, before anything
    else is looked at: an outsider learns nothing about versions or states, and the attempt
    is logged as a permission denial."""
    entries = [t for t in workflow.definition.transitions if t.trigger == trigger]
    where = {"action": f"{object_type}.{trigger}", "object_type": object_type,
             "object_id": subject.id}
    if not entries:
        raise InvalidInput(Msg(N_("Unknown action '{action}'."), action=trigger), **where)
    if not any(t.roles & set(roles) for t in entries if not t.internal):
        raise deny(_no_role_for(workflow, trigger, object_type), **where)


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
        raise _domain_error(workflow, refusal, subject, trigger, object_type) from refusal


def _domain_error(workflow: Workflow, refusal: WorkflowRefusal, subject: Any, trigger: str,
                  object_type: str) -> DomainError:
    action = f"{object_type}.{trigger}"
    where = {"action": action, "object_type": object_type, "object_id": subject.id}
    if isinstance(refusal, RoleNotPermitted):
        return deny(_no_role_for(workflow, trigger, object_type), **where)
    if isinstance(refusal, GuardFailed):
        # The guard's message is a Msg: pass it on as it is, so it can be shown translated.
        if refusal.kind == "permission":
            return deny(refusal.message, **where)
        return InvalidTransition(refusal.message, **where)
    if isinstance(refusal, NotFromState):
        return InvalidTransition(
            Msg(N_("This cannot be done now: the {object} is in state '{state}'. Reload to see "
                   "its current state."),
                object=object_name(object_type), state=state_label(workflow, subject.state)),
            log_refusal=True, **where,
        )
    if isinstance(refusal, RemarksRequired):
        return InvalidInput(Msg(N_("At least one remark is required.")), **where)
    if isinstance(refusal, ReasonRequired):
        return InvalidInput(Msg(N_("A reason is required.")), **where)
    if isinstance(refusal, UnknownTrigger):
        return InvalidInput(Msg(N_("Unknown action '{action}'."), action=trigger), **where)
    return InvalidTransition(refusal.message, **where)
