"""A workflow bound to its guards and effects: every guard the definition names is implemented,
every effect belongs to a trigger (checked when the binding is made, as at import), an effect
runs only after its trigger fired, and a refusal changes nothing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.contributions.effects import EFFECTS as CONTRIBUTION_EFFECTS
from app.contributions.policy import CONTRIBUTIONS
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed
from app.core.transitions import BoundWorkflow
from app.periods.effects import EFFECTS as CONSOLIDATION_EFFECTS
from app.periods.policy import CONSOLIDATIONS
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW, DefinitionError

MOMENT = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)


def passing(actor, subject):
    return None


class Subject:
    def __init__(self, state: str) -> None:
        self.id = 7
        self.state = state
        self.effects: list[str] = []


def test_the_applications_bindings_implement_every_named_guard():
    assert CONTRIBUTIONS.workflow is CONTRIBUTION_WORKFLOW
    assert CONSOLIDATIONS.workflow is CONSOLIDATION_WORKFLOW
    for binding in (CONTRIBUTIONS, CONSOLIDATIONS):
        definition = binding.workflow.definition
        named = ({g for t in definition.transitions for g in t.guards}
                 | {g for e in definition.editors for g in e.guards})
        assert set(binding.guards) == named
        assert set(binding.effects) <= {t.trigger for t in definition.transitions}


def test_the_effects_are_registered_by_trigger():
    assert set(CONTRIBUTION_EFFECTS) == {"submit", "resubmit", "approve", "consolidate",
                                         "return", "reopen"}
    assert set(CONSOLIDATION_EFFECTS) == {"submit_for_approval", "approve"}


def test_a_guard_the_definition_names_must_be_implemented():
    guards = dict(CONTRIBUTIONS.guards)
    del guards["is_submitter"]
    with pytest.raises(DefinitionError, match="is_submitter"):
        BoundWorkflow(CONTRIBUTION_WORKFLOW, guards=guards, effects={})


def test_a_guard_the_definition_does_not_name_is_refused():
    guards = {**CONTRIBUTIONS.guards, "moon_is_full": passing}
    with pytest.raises(DefinitionError, match="moon_is_full"):
        BoundWorkflow(CONTRIBUTION_WORKFLOW, guards=guards, effects={})


def test_an_effect_for_an_unknown_trigger_is_refused():
    with pytest.raises(DefinitionError, match="publish"):
        BoundWorkflow(CONSOLIDATION_WORKFLOW, guards=CONSOLIDATIONS.guards,
                      effects={"publish": lambda subject, actor, moment: None})


def _binding(effect) -> BoundWorkflow:
    guards = {name: passing for name in CONTRIBUTIONS.guards}
    return BoundWorkflow(CONTRIBUTION_WORKFLOW, guards=guards, effects={"approve": effect})


def test_the_effect_runs_after_the_state_changed_and_its_data_is_returned():
    seen = []

    def effect(subject, actor, moment):
        seen.append((subject.state, actor, moment))
        return {"note": "recorded"}

    subject = Subject("police_review")
    fired = _binding(effect).fire(subject, "approve", "someone", {"reviewer"}, MOMENT,
                                  object_type="contribution")
    assert (fired.from_state, fired.to_state) == ("police_review", "reviewed")
    assert fired.effect_data == {"note": "recorded"}
    assert seen == [("reviewed", "someone", MOMENT)]


def test_a_trigger_without_an_effect_returns_no_data():
    subject = Subject("police_review")
    fired = _binding(lambda *a: None).fire(subject, "return", None, {"reviewer"}, MOMENT,
                                           object_type="contribution", remarks=["Fel rubrik."])
    assert fired.to_state == "returned" and fired.effect_data == {}


@pytest.mark.parametrize(("state", "roles", "remarks", "error"), [
    ("police_review", {"drafter"}, (), NotAllowed),         # the wrong role
    ("draft", {"reviewer"}, (), InvalidTransition),         # the wrong state
])
def test_a_refusal_runs_no_effect_and_changes_no_state(state, roles, remarks, error):
    ran = []
    subject = Subject(state)
    with pytest.raises(error):
        _binding(lambda *a: ran.append(a)).fire(subject, "approve", None, roles, MOMENT,
                                                object_type="contribution", remarks=remarks)
    assert subject.state == state and ran == []


def test_a_missing_remark_is_bad_input_and_runs_nothing():
    subject = Subject("police_review")
    binding = BoundWorkflow(CONTRIBUTION_WORKFLOW,
                            guards={name: passing for name in CONTRIBUTIONS.guards},
                            effects={"return": lambda *a: pytest.fail("effect ran")})
    with pytest.raises(InvalidInput):
        binding.fire(subject, "return", None, {"reviewer"}, MOMENT, object_type="contribution")
    assert subject.state == "police_review"


def test_a_failing_guard_is_refused_with_its_message():
    guards = {name: passing for name in CONTRIBUTIONS.guards}
    guards["not_submitter_or_editor"] = lambda actor, subject: "You submitted it."
    binding = BoundWorkflow(CONTRIBUTION_WORKFLOW, guards=guards, effects={})
    with pytest.raises(NotAllowed, match="You submitted it."):
        binding.fire(Subject("police_review"), "approve", None, {"reviewer"}, MOMENT,
                     object_type="contribution")
