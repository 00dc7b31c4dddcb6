"""The runtime of a small, pure workflow engine: a validated definition (loading.py) run on
pytransitions.

Nothing here knows about Flask or the database. The caller supplies the subject (any object with
a string ``state`` attribute), the actor's roles and a ``GuardCheck`` that evaluates the named
guards; the engine decides, and only after every check has passed does it change ``state``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from transitions import Machine
from transitions import State as _MachineState

from .guards import GuardSpec
from .loading import Editor, State, Transition, WorkflowDefinition
from .refusals import (
    GuardFailed,
    NotFromState,
    ReasonRequired,
    RemarksRequired,
    RoleNotPermitted,
    UnknownTrigger,
)
from .roles import ROLES

__all__ = ["GuardCheck", "Workflow"]

# (guard_name, subject) -> None if the guard passes, else a user-facing message saying why not.
GuardCheck = Callable[[str, Any], str | None]


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


class Workflow:
    """Runs one definition. Thread-safe; build one per definition and share it."""

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        self._states = {s.name: s for s in definition.states}
        self._by_trigger: dict[str, list[Transition]] = {}
        for t in definition.transitions:
            self._by_trigger.setdefault(t.trigger, []).append(t)
        # load_definition checked every guard name and kept the spec of each one used.
        self._guard_specs: dict[str, GuardSpec] = {g.name: g for g in definition.guard_specs}
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

    def ways_to_act(self, roles: Iterable[str]) -> dict[str, list[tuple[str, ...]]]:
        """For each state in which these roles may fire a (user) transition or edit, the
        guards of each such way (an empty tuple: none): where a list of someone's work need
        look at all. The start page asks the database for these only (with what it can check
        of the guards in SQL), not for everything open in the city; the guards still decide."""
        role_set = _role_set(roles)
        ways: dict[str, list[tuple[str, ...]]] = {}
        for t in self.definition.transitions:
            if not t.internal and t.roles & role_set:
                for source in t.sources:
                    ways.setdefault(source, []).append(tuple(t.guards))
        for editor in self.definition.editors:
            if editor.role in role_set:
                for state in editor.states:
                    ways.setdefault(state, []).append(tuple(editor.guards))
        return ways

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
