"""Every (state x trigger x role) combination of both workflows, against a hand-written table.

The expected tables below are written out from the design, not derived from the engine or the
definitions, so a wrong definition (a missing role, an extra source) fails here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from workflows import (
    CONSOLIDATION_WORKFLOW,
    CONTRIBUTION_WORKFLOW,
    NotFromState,
    RoleNotPermitted,
    UnknownTrigger,
)

ALL_ROLES = ("drafter", "reviewer", "consolidator", "approver", "auditor", "admin")


@dataclass(frozen=True)
class Expected:
    sources: frozenset[str]
    dest: str
    roles: frozenset[str]  # empty for an internal (system-only) transition


def exp(sources: str, dest: str, roles: str = "") -> Expected:
    return Expected(frozenset(sources.split()), dest, frozenset(roles.split()))


CONTRIBUTION_STATES = ("draft", "police_review", "returned", "reviewed", "consolidated", "approved")
CONTRIBUTION_TABLE: dict[str, Expected] = {
    "submit": exp("draft", "police_review", "drafter"),
    "withdraw": exp("police_review", "draft", "drafter"),
    "approve": exp("police_review", "reviewed", "reviewer"),
    "return": exp("police_review", "returned", "reviewer"),
    "resubmit": exp("returned", "police_review", "drafter"),
    "consolidate": exp("reviewed", "consolidated", "consolidator"),
    "reopen": exp("reviewed consolidated", "returned", "consolidator"),
    "finalize": exp("consolidated", "approved"),  # internal
    "import_approved": exp("draft", "approved"),  # internal: an old lägesbild imported
}

CONSOLIDATION_STATES = ("open", "awaiting_approval", "approved")
CONSOLIDATION_TABLE: dict[str, Expected] = {
    "submit_for_approval": exp("open", "awaiting_approval", "consolidator"),
    "approve": exp("awaiting_approval", "approved", "approver"),
    "return": exp("awaiting_approval", "open", "approver"),
}

CASES = {
    "contribution": (CONTRIBUTION_WORKFLOW, CONTRIBUTION_STATES, CONTRIBUTION_TABLE),
    "consolidation": (CONSOLIDATION_WORKFLOW, CONSOLIDATION_STATES, CONSOLIDATION_TABLE),
}


class Subject:
    def __init__(self, state: str) -> None:
        self.state = state


def passing(guard: str, subject: object) -> str | None:
    return None


def combos() -> list[Any]:
    params: list[Any] = []
    for wf_name, (_, states, table) in CASES.items():
        for state, trigger, role in itertools.product(states, table, ALL_ROLES):
            params.append(
                pytest.param(
                    wf_name, state, trigger, role, id=f"{wf_name}-{state}-{trigger}-{role}"
                )
            )
    return params


@pytest.mark.parametrize(("wf_name", "state", "trigger", "role"), combos())
def test_state_trigger_role(wf_name: str, state: str, trigger: str, role: str) -> None:
    workflow, _, table = CASES[wf_name]
    expected = table[trigger]
    subject = Subject(state)
    allowed_now = [t.trigger for t in workflow.allowed_triggers(subject, [role], passing)]

    if state not in expected.sources:
        with pytest.raises(NotFromState) as not_from:
            workflow.fire(subject, trigger, [role], passing, remarks=["ok"], reason="ok")
        assert not_from.value.trigger == trigger
        assert trigger in not_from.value.message and state in not_from.value.message
    elif role not in expected.roles:  # includes every user against an internal transition
        with pytest.raises(RoleNotPermitted) as info:
            workflow.fire(subject, trigger, [role], passing, remarks=["ok"], reason="ok")
        assert info.value.trigger == trigger
    else:
        assert workflow.fire(subject, trigger, [role], passing, remarks=["ok"], reason="ok") == (
            state,
            expected.dest,
        )
        assert subject.state == expected.dest
        assert trigger in allowed_now
        return

    assert subject.state == state  # a refusal changes nothing
    assert trigger not in allowed_now


@pytest.mark.parametrize("wf_name", CASES)
def test_definition_has_exactly_the_expected_states_and_transitions(wf_name: str) -> None:
    workflow, states, table = CASES[wf_name]
    assert [s.name for s in workflow.definition.states] == list(states)
    actual = {
        t.trigger: Expected(frozenset(t.sources), t.dest, t.roles)
        for t in workflow.definition.transitions
    }
    assert actual == table
    # Only the internal transition lacks roles, and only it is internal.
    for t in workflow.definition.transitions:
        assert t.internal == (not table[t.trigger].roles)


@pytest.mark.parametrize("wf_name", CASES)
def test_internal_transitions_fire_for_the_system(wf_name: str) -> None:
    workflow, _, table = CASES[wf_name]
    for trigger, expected in table.items():
        if expected.roles:
            continue
        for source in expected.sources:
            subject = Subject(source)
            assert workflow.fire(subject, trigger, [], passing, internal=True) == (
                source,
                expected.dest,
            )


@pytest.mark.parametrize("wf_name", CASES)
@pytest.mark.parametrize("role", ALL_ROLES)
def test_unknown_trigger(wf_name: str, role: str) -> None:
    workflow, states, _ = CASES[wf_name]
    subject = Subject(states[0])
    with pytest.raises(UnknownTrigger) as info:
        workflow.fire(subject, "to_approved", [role], passing)
    assert info.value.trigger == "to_approved"
    assert "to_approved" in info.value.message
    assert subject.state == states[0]


@pytest.mark.parametrize("wf_name", CASES)
def test_no_roles_may_fire_nothing(wf_name: str) -> None:
    workflow, states, table = CASES[wf_name]
    for state in states:
        subject = Subject(state)
        assert workflow.allowed_triggers(subject, [], passing) == []
        for trigger, expected in table.items():
            if state in expected.sources:
                with pytest.raises(RoleNotPermitted):
                    workflow.check(subject, trigger, [], passing, remarks=["x"], reason="x")
