"""A workflow definition bound to what the application adds to it, and firing its triggers on
stored objects with refusals mapped to domain errors.

The definition (workflows/) names its guards; each domain implements them in its policy.py and
registers beside them what a trigger does besides changing state (its effect, effects.py).
`BoundWorkflow` checks at import that every guard the definition names is implemented, and
that every effect belongs to one of its triggers."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.core.access import deny
from app.core.actors import Actor
from app.core.errors import DomainError, InvalidInput, InvalidTransition, StaleVersion
from app.core.messages import N_, Label, Msg
from workflows import (
    DefinitionError,
    Editor,
    GuardCheck,
    GuardFailed,
    NotFromState,
    ReasonRequired,
    RemarksRequired,
    RoleNotPermitted,
    Transition,
    UnknownTrigger,
    Workflow,
    WorkflowRefusal,
)

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


def transition_from(workflow: Workflow, trigger: str, state: str) -> Transition | None:
    """The definition's transition for `trigger` from `state`, or None where there is none
    (firing it is refused with its own message)."""
    try:
        return workflow.transition(trigger, state)
    except WorkflowRefusal:
        return None


class CommentsNotConfirmed(InvalidInput):
    """Remarks came with an action that does not ask for them (an approval)."""


def require_confirmed_comments(workflow: Workflow, subject: Any, trigger: str,
                               remarks: Sequence[str], confirmed: bool) -> None:
    """Text typed in a remark box is never dropped and never saved unasked: with an action
    that does not require remarks (an approval) it is kept as comments only when the user
    chose that ("approve with comments"); otherwise the action is refused and the page asks."""
    if confirmed or not any(text and text.strip() for text in remarks):
        return
    transition = transition_from(workflow, trigger, subject.state)
    if transition is None or transition.remarks_required:
        return
    raise CommentsNotConfirmed(Msg(
        N_("You wrote remarks. Choose “{action} with comments” to save them with the action, "
           "or return with remarks; nothing has been done yet."),
        action=trigger_label(workflow, trigger)))


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


# A guard: None when it passes, else a message (an app.core.messages.Msg) saying why not.
Guard = Callable[[Actor, Any], str | None]
# An effect: what a trigger does besides changing state, run right after the state changed;
# it may return data for the trigger's audit event.
Effect = Callable[[Any, Actor, datetime], dict[str, Any] | None]


@dataclass(frozen=True)
class Fired:
    from_state: str
    to_state: str
    effect_data: dict[str, Any]


@dataclass(frozen=True)
class BoundWorkflow:
    """A workflow with each named guard's implementation and each trigger's effect."""

    workflow: Workflow
    guards: Mapping[str, Guard]
    effects: Mapping[str, Effect]

    def __post_init__(self) -> None:
        definition = self.workflow.definition
        named = ({g for t in definition.transitions for g in t.guards}
                 | {g for e in definition.editors for g in e.guards})
        if set(self.guards) != named:
            raise DefinitionError(
                f"workflow {definition.name!r}: guards named {sorted(named)}, implemented "
                f"{sorted(self.guards)}")
        unknown = set(self.effects) - {t.trigger for t in definition.transitions}
        if unknown:
            raise DefinitionError(
                f"workflow {definition.name!r}: effects for unknown triggers {sorted(unknown)}")

    def guard_check(self, actor: Actor) -> GuardCheck:
        def check(name: str, subject: object) -> str | None:
            return self.guards[name](actor, subject)

        return check

    def allowed_triggers(self, subject: Any, actor: Actor,
                         roles: Iterable[str]) -> list[Transition]:
        """What this actor may fire now: the page draws its buttons from this."""
        return self.workflow.allowed_triggers(subject, roles, self.guard_check(actor))

    def editor_for(self, subject: Any, actor: Actor, roles: Iterable[str]) -> Editor | None:
        return self.workflow.can_edit(subject, roles, self.guard_check(actor))

    def fire(
        self,
        subject: Any,
        trigger: str,
        actor: Actor,
        roles: Iterable[str],
        moment: datetime,
        *,
        object_type: str,
        remarks: Sequence[str] = (),
        reason: str | None = None,
        internal: bool = False,
    ) -> Fired:
        """Fire `trigger`, or raise the domain error that says why not; then run its effect."""
        try:
            from_state, to_state = self.workflow.fire(
                subject, trigger, set(roles), self.guard_check(actor),
                remarks=remarks, reason=reason, internal=internal,
            )
        except WorkflowRefusal as refusal:
            raise _domain_error(self.workflow, refusal, subject, trigger, object_type) \
                from refusal
        effect = self.effects.get(trigger)
        data = (effect(subject, actor, moment) if effect else None) or {}
        return Fired(from_state, to_state, data)


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
        # The field named, so the page shows the message at the remark box.
        return InvalidInput(Msg(N_("At least one remark is required.")), field="remarks",
                            **where)
    if isinstance(refusal, ReasonRequired):
        return InvalidInput(Msg(N_("A reason is required.")), field="reason", **where)
    if isinstance(refusal, UnknownTrigger):
        return InvalidInput(Msg(N_("Unknown action '{action}'."), action=trigger), **where)
    return InvalidTransition(refusal.message, **where)
