"""A small, pure workflow engine: definitions as data, validated at load, run on pytransitions.

Nothing here knows about Flask or the database. The caller supplies the subject (any object with
a string ``state`` attribute), the actor's roles and a ``GuardCheck`` that evaluates the named
guards; the engine decides, and only after every check has passed does it change ``state``.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from transitions import Machine
from transitions import State as _MachineState

from .guards import KNOWN_GUARDS, PERMISSION, GuardSpec
from .roles import ROLES

__all__ = [
    "DefinitionError",
    "Editor",
    "GuardCheck",
    "GuardFailed",
    "NotFromState",
    "ReasonRequired",
    "RemarksRequired",
    "RoleNotPermitted",
    "State",
    "Transition",
    "UnknownTrigger",
    "Workflow",
    "WorkflowDefinition",
    "WorkflowRefusal",
    "load_definition",
]

# (guard_name, subject) -> None if the guard passes, else a user-facing message saying why not.
GuardCheck = Callable[[str, Any], str | None]


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class DefinitionError(ValueError):
    """A workflow definition is malformed; the message names the offending part."""


class WorkflowRefusal(Exception):
    """The engine refused a transition. Nothing has changed when this is raised.

    ``category`` lets one error handler map every refusal: ``"not_allowed"`` (403),
    ``"conflict"`` (409: not possible in the subject's current state) or ``"bad_input"`` (400).
    """

    category: str = "conflict"

    def __init__(self, message: str, *, trigger: str, state: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.trigger = trigger
        self.state = state


class UnknownTrigger(WorkflowRefusal):
    """The trigger does not exist in the workflow at all."""

    category = "bad_input"


class NotFromState(WorkflowRefusal):
    """The trigger exists but cannot be fired from the subject's current state."""

    category = "conflict"


class RoleNotPermitted(WorkflowRefusal):
    """None of the actor's roles may fire the trigger (or it is fired by the system only)."""

    category = "not_allowed"


class GuardFailed(WorkflowRefusal):
    """A named guard refused; ``kind`` says whether it is a precondition or a permission."""

    def __init__(
        self, message: str, *, trigger: str, state: str | None, guard: str, kind: str
    ) -> None:
        super().__init__(message, trigger=trigger, state=state)
        self.guard = guard
        self.kind = kind
        # A failed permission guard (separation of duties) is a 403, a precondition a 409.
        self.category = "not_allowed" if kind == PERMISSION else "conflict"


class RemarksRequired(WorkflowRefusal):
    """The transition needs at least one non-blank remark."""

    category = "bad_input"


class ReasonRequired(WorkflowRefusal):
    """The transition needs a non-blank reason."""

    category = "bad_input"


# --------------------------------------------------------------------------------------------
# The loaded definition
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    name: str
    label_sv: str
    label_en: str

    def label(self, lang: str = "sv") -> str:
        return self.label_en if lang == "en" else self.label_sv


@dataclass(frozen=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    guards: tuple[str, ...]
    remarks_required: bool
    reason_required: bool
    internal: bool
    label_sv: str
    label_en: str
    done_sv: str | None = None
    done_en: str | None = None
    # When the system fires it (internal transitions), for the workflow page.
    when_sv: str | None = None
    when_en: str | None = None

    def label(self, lang: str = "sv") -> str:
        return self.label_en if lang == "en" else self.label_sv

    def when(self, lang: str = "sv") -> str | None:
        return self.when_en if lang == "en" else self.when_sv

    def done(self, lang: str = "sv") -> str:
        """Past tense for history lists; falls back to the button label."""
        text = self.done_en if lang == "en" else self.done_sv
        return text or self.label(lang)


@dataclass(frozen=True)
class Editor:
    role: str
    states: frozenset[str]
    cause: str
    guards: tuple[str, ...]


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    states: tuple[State, ...]
    initial: str
    final: frozenset[str]
    transitions: tuple[Transition, ...]
    editors: tuple[Editor, ...]
    # The specs of the guards this definition names, so a refusal can report the guard's kind
    # even when the definition was loaded against a custom guard table.
    guard_specs: tuple[GuardSpec, ...] = ()


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------

# Names become Mermaid ids and pytransitions event names: keep them plain.
_NAME_RE: Final = re.compile(r"^[a-z_][a-z0-9_]*$")
# pytransitions refuses a trigger named like the model attribute it writes.
_RESERVED_TRIGGERS: Final = frozenset({"state"})

_TOP_KEYS: Final = frozenset({"name", "states", "initial", "final", "transitions", "editors"})
_STATE_KEYS: Final = frozenset({"name", "label_sv", "label_en"})
_TRANSITION_KEYS: Final = frozenset(
    {
        "trigger",
        "source",
        "dest",
        "roles",
        "guards",
        "remarks_required",
        "reason_required",
        "internal",
        "label_sv",
        "label_en",
        "done_sv",
        "done_en",
        "when_sv",
        "when_en",
    }
)
_EDITOR_KEYS: Final = frozenset({"states", "cause", "guards"})


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DefinitionError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _no_unknown_keys(data: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    # A misspelt key ("guard" for "guards") would otherwise silently drop a check.
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DefinitionError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{where}: missing or empty {key!r}")
    return value


def _required_text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(data, key, where)
    assert value is not None  # _text raises when required
    return value


def _names(value: object, key: str, where: str) -> tuple[str, ...]:
    """A list of names; a lone string is accepted as a list of one."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) and v for v in value
    ):
        raise DefinitionError(f"{where}: {key!r} must be a list of names")
    return tuple(value)


def _flag(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise DefinitionError(f"{where}: {key!r} must be true or false")
    return value


def _plain_name(name: str, what: str, where: str) -> None:
    if not _NAME_RE.match(name):
        raise DefinitionError(f"{where}: {what} {name!r} must match {_NAME_RE.pattern}")


def _reachable(start: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    queue = deque(seen)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def load_definition(
    data: Mapping[str, Any],
    *,
    known_roles: Iterable[str] = ROLES,
    known_guards: Mapping[str, GuardSpec] = KNOWN_GUARDS,
) -> WorkflowDefinition:
    """Validate a definition given as plain data and freeze it.

    Raises DefinitionError naming the culprit for: unknown keys, missing labels, bad or duplicate
    names, unknown states/roles/guards, duplicate (trigger, source) pairs, internal transitions
    with roles or user transitions without, states unreachable from the initial state, dead ends,
    states that can never reach a final state, and editors in a final state.
    """
    data = _mapping(data, "workflow definition")
    wf = data.get("name")
    if not isinstance(wf, str) or not wf.strip():
        raise DefinitionError("workflow definition: missing or empty 'name'")
    where_wf = f"workflow {wf!r}"
    _no_unknown_keys(data, _TOP_KEYS, where_wf)
    roles_known = frozenset(known_roles)

    # States
    raw_states = data.get("states")
    if not isinstance(raw_states, (list, tuple)) or not raw_states:
        raise DefinitionError(f"{where_wf}: 'states' must be a non-empty list")
    states: list[State] = []
    for i, raw in enumerate(raw_states):
        raw = _mapping(raw, f"{where_wf}: state #{i + 1}")
        name = _required_text(raw, "name", f"{where_wf}: state #{i + 1}")
        where = f"{where_wf}: state {name!r}"
        _no_unknown_keys(raw, _STATE_KEYS, where)
        _plain_name(name, "state name", where)
        if any(s.name == name for s in states):
            raise DefinitionError(f"{where_wf}: duplicate state {name!r}")
        states.append(
            State(
                name,
                _required_text(raw, "label_sv", where),
                _required_text(raw, "label_en", where),
            )
        )
    state_names = {s.name for s in states}

    def known_state(name: str, where: str, what: str) -> str:
        if name not in state_names:
            raise DefinitionError(f"{where}: unknown state {name!r} in {what}")
        return name

    initial_raw = data.get("initial")
    if not isinstance(initial_raw, str) or not initial_raw:
        raise DefinitionError(f"{where_wf}: missing 'initial'")
    initial = known_state(initial_raw, where_wf, "'initial'")
    final_names = _names(data.get("final"), "final", where_wf)
    if not final_names:
        raise DefinitionError(f"{where_wf}: needs at least one 'final' state")
    final = frozenset(known_state(f, where_wf, "'final'") for f in final_names)

    used_guards: dict[str, GuardSpec] = {}

    def check_guards(names: tuple[str, ...], where: str) -> tuple[str, ...]:
        for g in names:
            if g not in known_guards:
                raise DefinitionError(f"{where}: unknown guard {g!r}")
            used_guards.setdefault(g, known_guards[g])
        if len(set(names)) != len(names):
            raise DefinitionError(f"{where}: a guard is listed twice")
        return names

    def check_roles(names: tuple[str, ...], where: str) -> frozenset[str]:
        for r in names:
            if r not in roles_known:
                raise DefinitionError(f"{where}: unknown role {r!r}")
        return frozenset(names)

    # Transitions
    raw_transitions = data.get("transitions")
    if not isinstance(raw_transitions, (list, tuple)) or not raw_transitions:
        raise DefinitionError(f"{where_wf}: 'transitions' must be a non-empty list")
    transitions: list[Transition] = []
    pairs: set[tuple[str, str]] = set()
    for i, raw in enumerate(raw_transitions):
        raw = _mapping(raw, f"{where_wf}: transition #{i + 1}")
        trigger = _required_text(raw, "trigger", f"{where_wf}: transition #{i + 1}")
        where = f"{where_wf}: transition {trigger!r}"
        _no_unknown_keys(raw, _TRANSITION_KEYS, where)
        _plain_name(trigger, "trigger", where)
        if trigger in _RESERVED_TRIGGERS:
            raise DefinitionError(f"{where}: {trigger!r} is a reserved name")
        sources = _names(raw.get("source"), "source", where)
        if not sources:
            raise DefinitionError(f"{where}: needs at least one 'source' state")
        for src in sources:
            known_state(src, where, "'source'")
            if (trigger, src) in pairs:
                raise DefinitionError(
                    f"{where}: duplicate transition {trigger!r} from state {src!r}"
                )
            pairs.add((trigger, src))
        dest_raw = raw.get("dest")
        if not isinstance(dest_raw, str) or not dest_raw:
            raise DefinitionError(f"{where}: missing 'dest'")
        dest = known_state(dest_raw, where, "'dest'")
        roles = check_roles(_names(raw.get("roles"), "roles", where), where)
        internal = _flag(raw, "internal", where)
        if internal and roles:
            raise DefinitionError(
                f"{where}: an internal transition is fired by the system and must list no roles"
            )
        if not internal and not roles:
            raise DefinitionError(
                f"{where}: lists no roles (mark it internal if only the system fires it)"
            )
        transitions.append(
            Transition(
                trigger=trigger,
                sources=sources,
                dest=dest,
                roles=roles,
                guards=check_guards(_names(raw.get("guards"), "guards", where), where),
                remarks_required=_flag(raw, "remarks_required", where),
                reason_required=_flag(raw, "reason_required", where),
                internal=internal,
                label_sv=_required_text(raw, "label_sv", where),
                label_en=_required_text(raw, "label_en", where),
                done_sv=_text(raw, "done_sv", where, required=False),
                done_en=_text(raw, "done_en", where, required=False),
                when_sv=_text(raw, "when_sv", where, required=False),
                when_en=_text(raw, "when_en", where, required=False),
            )
        )

    # Editors: who may change content in which states
    raw_editors = _mapping(data.get("editors") or {}, f"{where_wf}: 'editors'")
    editors: list[Editor] = []
    for role, raw in raw_editors.items():
        where = f"{where_wf}: editor {role!r}"
        raw = _mapping(raw, where)
        _no_unknown_keys(raw, _EDITOR_KEYS, where)
        check_roles((role,), where)
        ed_states = _names(raw.get("states"), "states", where)
        if not ed_states:
            raise DefinitionError(f"{where}: needs at least one state")
        for ed_state in ed_states:
            known_state(ed_state, where, "'states'")
            # Reaching a final state locks the content; an editor there would unlock it.
            if ed_state in final:
                raise DefinitionError(f"{where}: may not edit in final state {ed_state!r}")
        editors.append(
            Editor(
                role=role,
                states=frozenset(ed_states),
                cause=_required_text(raw, "cause", where),
                guards=check_guards(_names(raw.get("guards"), "guards", where), where),
            )
        )

    # The graph: everything reachable, and from everything a way on to a final state.
    edges: dict[str, set[str]] = {}
    back: dict[str, set[str]] = {}
    for t in transitions:
        for src in t.sources:
            edges.setdefault(src, set()).add(t.dest)
            back.setdefault(t.dest, set()).add(src)
    reachable = _reachable([initial], edges)
    for s in states:
        if s.name not in reachable:
            raise DefinitionError(f"{where_wf}: state {s.name!r} is unreachable from {initial!r}")
    for s in states:
        if s.name not in final and not edges.get(s.name):
            raise DefinitionError(
                f"{where_wf}: state {s.name!r} is a dead end (not final, no outgoing transition)"
            )
    can_finish = _reachable(final, back)
    for s in states:
        if s.name not in can_finish:
            raise DefinitionError(f"{where_wf}: state {s.name!r} can never reach a final state")

    return WorkflowDefinition(
        name=wf,
        states=tuple(states),
        initial=initial,
        final=final,
        transitions=tuple(transitions),
        editors=tuple(editors),
        guard_specs=tuple(used_guards.values()),
    )


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


class _InertState(_MachineState):
    # pytransitions would otherwise attach a model's on_enter_<state>/on_exit_<state> methods to
    # the shared State for good, and every later subject lacking them would fail mid-transition.
    dynamic_methods: list[str] = []


class _SharedMachine(Machine):
    """One machine per workflow, shared by every subject.

    The engine dispatches through ``machine.events[trigger]``, so subjects need none of the
    convenience attributes pytransitions normally sets on a model (``submit``, ``may_submit``,
    ``is_draft``, ``trigger``...). Not setting them keeps subjects clean after ``remove_model``
    (no leftover methods holding the machine, no skipped-binding warnings the second time, no
    clash with a model's own ``is_approved``) and lets ``__slots__`` objects be bound too.
    """

    state_cls = _InertState

    def _checked_assignment(self, model: object, name: str, func: Any) -> None:
        return None


def _role_set(roles: Iterable[str]) -> frozenset[str]:
    # frozenset("drafter") would be a set of letters.
    if isinstance(roles, str):
        return frozenset((roles,))
    return frozenset(roles)


def _has_remark(remarks: Iterable[str] | str) -> bool:
    if isinstance(remarks, str):
        remarks = (remarks,)
    return any(isinstance(r, str) and r.strip() for r in remarks)


def _mermaid_text(text: str) -> str:
    # Quotes, colons and semicolons are syntax in Mermaid state diagrams.
    return (
        " ".join(text.split())
        .replace('"', "#quot;")
        .replace(":", "#58;")
        .replace(";", "#59;")
    )


class Workflow:
    """Runs one definition. Thread-safe; build one per definition and share it."""

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        self._states = {s.name: s for s in definition.states}
        self._by_trigger: dict[str, list[Transition]] = {}
        for t in definition.transitions:
            self._by_trigger.setdefault(t.trigger, []).append(t)
        self._guard_specs: dict[str, GuardSpec] = {g.name: g for g in definition.guard_specs}
        for g in {*(g for t in definition.transitions for g in t.guards),
                  *(g for e in definition.editors for g in e.guards)}:
            spec = self._guard_specs.get(g) or KNOWN_GUARDS.get(g)
            if spec is None:
                raise DefinitionError(f"workflow {definition.name!r}: unknown guard {g!r}")
            self._guard_specs[g] = spec
        self._machine = _SharedMachine(
            model=None,
            states=[s.name for s in definition.states],
            initial=definition.initial,
            transitions=[
                {"trigger": t.trigger, "source": list(t.sources), "dest": t.dest}
                for t in definition.transitions
            ],
            auto_transitions=False,  # no to_<state>(): nobody skips review
            send_event=False,
            name=definition.name,  # pytransitions prefixes its log lines with it
        )
        # The machine's model list is shared; bind/trigger/unbind must not interleave.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Workflow {self.definition.name!r}>"

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def machine(self) -> Machine:
        """The shared pytransitions machine (for diagnostics; bind nothing to it yourself)."""
        return self._machine

    # -- lookups -------------------------------------------------------------------------------

    def state(self, name: str) -> State:
        try:
            return self._states[name]
        except KeyError:
            raise KeyError(f"workflow {self.name!r} has no state {name!r}") from None

    def transition(self, trigger: str, source: str | None = None) -> Transition:
        """The transition for ``trigger`` (from ``source`` if given; else its first entry)."""
        entries = self._by_trigger.get(trigger)
        if not entries:
            raise UnknownTrigger(
                f"The {self.name} workflow has no action {trigger!r}.",
                trigger=trigger,
                state=source,
            )
        if source is None:
            return entries[0]
        for t in entries:
            if source in t.sources:
                return t
        raise NotFromState(
            f"Action {trigger!r} is not possible from state {source!r}.",
            trigger=trigger,
            state=source,
        )

    def transitions_from(self, state: str) -> list[Transition]:
        """Every transition leaving ``state``, internal ones included, in definition order."""
        return [t for t in self.definition.transitions if state in t.sources]

    def guard_spec(self, guard: str) -> GuardSpec:
        return self._guard_specs[guard]

    # -- decisions -----------------------------------------------------------------------------

    def _first_failing_guard(
        self, guards: Sequence[str], subject: Any, guard_check: GuardCheck
    ) -> tuple[str, str] | None:
        for guard in guards:
            message = guard_check(guard, subject)
            if message is not None:
                return guard, message
        return None

    def allowed_triggers(
        self, subject: Any, roles: Iterable[str], guard_check: GuardCheck
    ) -> list[Transition]:
        """What this actor may fire now (state, role and every guard), in definition order.

        Internal transitions are never offered. The UI draws its buttons from this.
        """
        role_set = _role_set(roles)
        allowed: list[Transition] = []
        for t in self.transitions_from(subject.state):
            # Roles first: guards may cost a query, and are pointless for the wrong role.
            if t.internal or not (t.roles & role_set):
                continue
            if self._first_failing_guard(t.guards, subject, guard_check) is None:
                allowed.append(t)
        return allowed

    def check(
        self,
        subject: Any,
        trigger: str,
        roles: Iterable[str],
        guard_check: GuardCheck,
        *,
        remarks: Iterable[str] | str = (),
        reason: str | None = None,
        internal: bool = False,
    ) -> Transition:
        """Decide without changing anything; raise the first refusal that applies.

        Order: UnknownTrigger, NotFromState, RoleNotPermitted, GuardFailed (first failing guard),
        RemarksRequired, ReasonRequired. ``internal=True`` means the system fires it: it unlocks
        internal transitions only and never bypasses the roles of a user transition.
        """
        state = subject.state
        t = self.transition(trigger, state)  # UnknownTrigger / NotFromState

        if t.internal:
            if not internal:
                raise RoleNotPermitted(
                    f"Action {trigger!r} is carried out by the system only.",
                    trigger=trigger,
                    state=state,
                )
        elif not (t.roles & _role_set(roles)):
            needed = ", ".join(sorted(t.roles))
            raise RoleNotPermitted(
                f"Your roles do not allow {trigger!r} in state {state!r} (needs: {needed}).",
                trigger=trigger,
                state=state,
            )

        failing = self._first_failing_guard(t.guards, subject, guard_check)
        if failing is not None:
            guard, message = failing
            spec = self._guard_specs[guard]
            raise GuardFailed(
                # Not message.strip(): that would drop a str subclass (a translatable message).
                message if message.strip() else spec.description_en,
                trigger=trigger,
                state=state,
                guard=guard,
                kind=spec.kind,
            )

        if t.remarks_required and not _has_remark(remarks):
            raise RemarksRequired(
                f"Action {trigger!r} needs at least one remark.", trigger=trigger, state=state
            )
        if t.reason_required and not (isinstance(reason, str) and reason.strip()):
            raise ReasonRequired(
                f"Action {trigger!r} needs a reason.", trigger=trigger, state=state
            )
        return t

    def fire(
        self,
        subject: Any,
        trigger: str,
        roles: Iterable[str],
        guard_check: GuardCheck,
        *,
        remarks: Iterable[str] | str = (),
        reason: str | None = None,
        internal: bool = False,
    ) -> tuple[str, str]:
        """Check, then move ``subject.state`` through pytransitions; return (from, to).

        Every check runs before the change because pytransitions does not roll back.
        """
        t = self.check(
            subject, trigger, roles, guard_check, remarks=remarks, reason=reason, internal=internal
        )
        from_state: str = subject.state
        with self._lock:
            # initial= keeps the stored state (add_model would otherwise reset it to the initial).
            self._machine.add_model(subject, initial=from_state)
            try:
                # Through the event, not getattr(subject, trigger): "return" is a keyword and a
                # model may have its own attribute of that name.
                done = self._machine.events[trigger].trigger(subject)
            finally:
                # Always unbind, or the shared machine grows with every subject ever fired.
                self._machine.remove_model(subject)
        to_state: str = subject.state
        if not done or to_state != t.dest:  # cannot happen without conditions; be loud if it does
            raise RuntimeError(
                f"{self.name}: {trigger!r} from {from_state!r} ended in {to_state!r}, "
                f"expected {t.dest!r}"
            )
        return from_state, to_state

    def can_edit(
        self, subject: Any, roles: Iterable[str], guard_check: GuardCheck
    ) -> Editor | None:
        """The editor entry letting this actor edit now (first matching role whose guards pass)."""
        role_set = _role_set(roles)
        state = subject.state
        for editor in self.definition.editors:
            if editor.role in role_set and state in editor.states:
                if self._first_failing_guard(editor.guards, subject, guard_check) is None:
                    return editor
        return None

    # -- descriptions --------------------------------------------------------------------------

    def triggers_by_role(self) -> dict[str, list[Transition]]:
        """Who may do what, for the text alternative to the diagram.

        Every role in ROLES is a key (auditor and admin map to an empty list), followed by any
        other role the definition uses; internal transitions are left out.
        """
        used = {r for t in self.definition.transitions for r in t.roles}
        order = [*ROLES, *sorted(used - set(ROLES))]
        return {
            role: [t for t in self.definition.transitions if not t.internal and role in t.roles]
            for role in order
        }

    def mermaid(self, lang: str = "sv", role_labels: Mapping[str, str] | None = None) -> str:
        """A Mermaid stateDiagram-v2: states by label, arrows by action label and roles."""
        role_labels = role_labels or {}
        rank = {r: i for i, r in enumerate(ROLES)}
        system = "system" if lang == "en" else "systemet"
        lines = ["stateDiagram-v2"]
        for s in self.definition.states:
            lines.append(f'    state "{_mermaid_text(s.label(lang))}" as {s.name}')
        lines.append(f"    [*] --> {self.definition.initial}")
        for t in self.definition.transitions:
            roles = sorted(t.roles, key=lambda r: (rank.get(r, len(rank)), r))
            who = ", ".join(role_labels.get(r, r) for r in roles) if roles else system
            text = _mermaid_text(f"{t.label(lang)} ({who})")
            for src in t.sources:
                lines.append(f"    {src} --> {t.dest} : {text}")
        for s in self.definition.states:
            if s.name in self.definition.final:
                lines.append(f"    {s.name} --> [*]")
        return "\n".join(lines) + "\n"
