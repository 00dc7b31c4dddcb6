"""Workflow definitions as data, validated at load and frozen into dataclasses.

``load_definition`` rejects, naming the culprit: unknown keys, missing labels, bad or duplicate
names, unknown states/roles/guards, duplicate (trigger, source) pairs, internal transitions with
roles or user transitions without, states unreachable from the initial state, dead ends, states
that can never reach a final state, and editors in a final state.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .guards import KNOWN_GUARDS, GuardSpec
from .roles import ROLES

__all__ = [
    "DefinitionError",
    "Editor",
    "State",
    "Transition",
    "WorkflowDefinition",
    "load_definition",
]


class DefinitionError(ValueError):
    """A workflow definition is malformed; the message names the offending part."""


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
