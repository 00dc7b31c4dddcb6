"""The engine's behaviour beyond the state/role matrix: guards, remarks, binding to
pytransitions."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from workflows import (
    CONSOLIDATION_WORKFLOW,
    CONTRIBUTION_WORKFLOW,
    KNOWN_GUARDS,
    GuardFailed,
    NotFromState,
    ReasonRequired,
    RemarksRequired,
    RoleNotPermitted,
    UnknownTrigger,
    WorkflowRefusal,
)

CONTRIB = CONTRIBUTION_WORKFLOW
CONSOL = CONSOLIDATION_WORKFLOW


class Subject:
    def __init__(self, state: str) -> None:
        self.state = state


def passing(guard: str, subject: object) -> str | None:
    return None


def failing(*names: str, message: str = "nope") -> Any:
    """A GuardCheck that fails the named guards with ``message`` and records every call."""
    calls: list[str] = []

    def check(guard: str, subject: object) -> str | None:
        calls.append(guard)
        return message if guard in names else None

    check.calls = calls  # type: ignore[attr-defined]
    return check


# -- guards ------------------------------------------------------------------------------------


def test_failing_precondition_guard() -> None:
    subject = Subject("draft")
    with pytest.raises(GuardFailed) as info:
        CONTRIB.fire(
            subject,
            "submit",
            ["drafter"],
            failing("all_sections_filled", message="Avsnitt 3 är tomt."),
        )
    err = info.value
    assert err.guard == "all_sections_filled"
    assert err.kind == "precondition"
    assert err.message == "Avsnitt 3 är tomt."
    assert err.trigger == "submit"
    assert err.category == "conflict"
    assert subject.state == "draft"


@pytest.mark.parametrize(
    ("workflow", "state", "trigger", "role", "guard"),
    [
        (CONTRIB, "police_review", "withdraw", "drafter", "is_submitter"),
        (CONTRIB, "police_review", "approve", "reviewer", "not_submitter_or_editor"),
        (CONTRIB, "police_review", "return", "reviewer", "not_submitter_or_editor"),
        (CONSOL, "awaiting_approval", "approve", "approver", "not_consolidator"),
        (CONSOL, "awaiting_approval", "return", "approver", "not_consolidator"),
    ],
)
def test_failing_permission_guard(
    workflow: Any, state: str, trigger: str, role: str, guard: str
) -> None:
    subject = Subject(state)
    with pytest.raises(GuardFailed) as info:
        workflow.fire(
            subject,
            trigger,
            [role],
            failing(guard, message="Du skickade in det själv."),
            remarks=["r"],
        )
    assert info.value.guard == guard
    assert info.value.kind == "permission"
    assert info.value.category == "not_allowed"
    assert info.value.message == "Du skickade in det själv."
    assert subject.state == state


@pytest.mark.parametrize(
    ("workflow", "state", "trigger", "role", "guard"),
    [
        (CONTRIB, "draft", "submit", "drafter", "all_sections_filled"),
        (CONTRIB, "returned", "resubmit", "drafter", "all_sections_filled"),
        (CONTRIB, "reviewed", "consolidate", "consolidator", "consolidation_open"),
        (CONTRIB, "reviewed", "reopen", "consolidator", "consolidation_open"),
        (CONTRIB, "consolidated", "reopen", "consolidator", "consolidation_open"),
        (CONSOL, "open", "submit_for_approval", "consolidator", "all_contributions_settled"),
    ],
)
def test_every_guarded_transition_consults_its_guard(
    workflow: Any, state: str, trigger: str, role: str, guard: str
) -> None:
    subject = Subject(state)
    with pytest.raises(GuardFailed) as info:
        workflow.fire(subject, trigger, [role], failing(guard), reason="r")
    assert info.value.guard == guard
    assert info.value.kind == KNOWN_GUARDS[guard].kind == "precondition"
    assert trigger not in [
        t.trigger for t in workflow.allowed_triggers(subject, [role], failing(guard))
    ]


def test_blank_guard_message_falls_back_to_the_guard_description() -> None:
    with pytest.raises(GuardFailed) as info:
        CONTRIB.check(
            Subject("draft"), "submit", ["drafter"], failing("all_sections_filled", message="  ")
        )
    assert info.value.message == KNOWN_GUARDS["all_sections_filled"].description_en


def test_guards_are_not_consulted_for_a_role_that_may_not_fire() -> None:
    check = failing()
    with pytest.raises(RoleNotPermitted):
        CONTRIB.check(Subject("draft"), "submit", ["reviewer"], check)
    assert check.calls == []
    assert CONTRIB.allowed_triggers(Subject("draft"), ["reviewer"], check) == []
    assert check.calls == []


def test_guard_is_checked_before_remarks() -> None:
    with pytest.raises(GuardFailed):
        CONTRIB.check(
            Subject("police_review"), "return", ["reviewer"], failing("not_submitter_or_editor")
        )


def test_every_known_guard_has_kind_and_both_descriptions() -> None:
    assert set(KNOWN_GUARDS) == {
        "all_sections_filled",
        "is_submitter",
        "not_submitter_or_editor",
        "consolidation_open",
        "all_contributions_settled",
        "not_consolidator",
    }
    for name, spec in KNOWN_GUARDS.items():
        assert spec.name == name
        assert spec.kind in {"precondition", "permission"}
        assert spec.description_sv.strip() and spec.description_en.strip()
    kinds = {name: spec.kind for name, spec in KNOWN_GUARDS.items()}
    assert (
        kinds["is_submitter"]
        == kinds["not_submitter_or_editor"]
        == kinds["not_consolidator"]
        == "permission"
    )
    assert kinds["all_sections_filled"] == kinds["consolidation_open"] == "precondition"
    assert kinds["all_contributions_settled"] == "precondition"


# -- refusal order -----------------------------------------------------------------------------


def test_refusal_order() -> None:
    everything_fails = failing(*KNOWN_GUARDS)
    # Wrong state beats wrong role.
    with pytest.raises(NotFromState):
        CONTRIB.check(Subject("draft"), "approve", ["drafter"], everything_fails)
    # Wrong role beats a failing guard.
    with pytest.raises(RoleNotPermitted):
        CONTRIB.check(Subject("police_review"), "approve", ["drafter"], everything_fails)
    # Unknown trigger beats everything.
    with pytest.raises(UnknownTrigger):
        CONTRIB.check(Subject("nowhere"), "launch", [], everything_fails)
    # Remarks before reason is moot (no transition needs both); guard before remarks above.
    for cls in (
        UnknownTrigger,
        NotFromState,
        RoleNotPermitted,
        GuardFailed,
        RemarksRequired,
        ReasonRequired,
    ):
        assert issubclass(cls, WorkflowRefusal)


# -- remarks and reasons -----------------------------------------------------------------------


@pytest.mark.parametrize("remarks", [(), [], [""], ["   ", "\n\t"], "", "   ", [None]])
@pytest.mark.parametrize(
    ("workflow", "state"), [(CONTRIB, "police_review"), (CONSOL, "awaiting_approval")]
)
def test_return_needs_a_non_blank_remark(workflow: Any, state: str, remarks: Any) -> None:
    role = "reviewer" if workflow is CONTRIB else "approver"
    subject = Subject(state)
    with pytest.raises(RemarksRequired) as info:
        workflow.fire(subject, "return", [role], passing, remarks=remarks)
    assert info.value.trigger == "return"
    assert info.value.category == "bad_input"
    assert subject.state == state


@pytest.mark.parametrize("remarks", [["Avsnitt 2 saknar källa."], ["", "ok"], "En enda anmärkning"])
def test_return_with_a_remark(remarks: Any) -> None:
    subject = Subject("police_review")
    assert CONTRIB.fire(subject, "return", ["reviewer"], passing, remarks=remarks) == (
        "police_review",
        "returned",
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
@pytest.mark.parametrize("state", ["reviewed", "consolidated"])
def test_reopen_needs_a_reason(state: str, reason: str | None) -> None:
    subject = Subject(state)
    with pytest.raises(ReasonRequired):
        CONTRIB.fire(subject, "reopen", ["consolidator"], passing, reason=reason)
    assert subject.state == state
    assert CONTRIB.fire(subject, "reopen", ["consolidator"], passing, reason="Fel siffror") == (
        state,
        "returned",
    )


def test_transitions_without_remarks_required_accept_none() -> None:
    assert CONTRIB.fire(Subject("police_review"), "approve", ["reviewer"], passing) == (
        "police_review",
        "reviewed",
    )


# -- internal finalize -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "roles",
    [
        [],
        ["consolidator"],
        ["approver"],
        ["drafter", "reviewer", "consolidator", "approver", "auditor", "admin"],
    ],
)
def test_finalize_is_refused_to_users(roles: list[str]) -> None:
    subject = Subject("consolidated")
    with pytest.raises(RoleNotPermitted) as info:
        CONTRIB.fire(subject, "finalize", roles, passing)
    assert "system" in info.value.message
    assert subject.state == "consolidated"


def test_finalize_by_the_system() -> None:
    subject = Subject("consolidated")
    assert CONTRIB.fire(subject, "finalize", [], passing, internal=True) == (
        "consolidated",
        "approved",
    )
    assert subject.state == "approved"


def test_internal_flag_does_not_bypass_roles_of_user_transitions() -> None:
    with pytest.raises(RoleNotPermitted):
        CONTRIB.fire(Subject("reviewed"), "consolidate", [], passing, internal=True)


def test_finalize_only_from_consolidated() -> None:
    with pytest.raises(NotFromState):
        CONTRIB.fire(Subject("reviewed"), "finalize", [], passing, internal=True)


# -- allowed_triggers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workflow", "state", "roles", "expected"),
    [
        (CONTRIB, "draft", ["drafter"], ["submit"]),
        (CONTRIB, "draft", ["reviewer", "consolidator", "approver", "auditor", "admin"], []),
        (CONTRIB, "police_review", ["drafter"], ["withdraw"]),
        (CONTRIB, "police_review", ["reviewer"], ["approve", "return"]),
        (CONTRIB, "police_review", ["drafter", "reviewer"], ["withdraw", "approve", "return"]),
        (CONTRIB, "returned", ["drafter"], ["resubmit"]),
        (CONTRIB, "reviewed", ["consolidator"], ["consolidate", "reopen"]),
        (CONTRIB, "consolidated", ["consolidator"], ["reopen"]),
        (
            CONTRIB,
            "consolidated",
            ["drafter", "reviewer", "consolidator", "approver", "auditor", "admin"],
            ["reopen"],
        ),
        (
            CONTRIB,
            "approved",
            ["drafter", "reviewer", "consolidator", "approver", "auditor", "admin"],
            [],
        ),
        (CONSOL, "open", ["consolidator"], ["submit_for_approval"]),
        (CONSOL, "open", ["approver"], []),
        (CONSOL, "awaiting_approval", ["approver"], ["approve", "return"]),
        (CONSOL, "awaiting_approval", ["consolidator"], []),
        (CONSOL, "approved", ["consolidator", "approver", "admin"], []),
    ],
)
def test_allowed_triggers(workflow: Any, state: str, roles: list[str], expected: list[str]) -> None:
    assert [
        t.trigger for t in workflow.allowed_triggers(Subject(state), roles, passing)
    ] == expected


def test_allowed_triggers_leaves_out_what_a_guard_refuses() -> None:
    subject = Subject("police_review")
    both = ["drafter", "reviewer"]
    assert [
        t.trigger for t in CONTRIB.allowed_triggers(subject, both, failing("is_submitter"))
    ] == [
        "approve",
        "return",
    ]
    assert [
        t.trigger
        for t in CONTRIB.allowed_triggers(subject, both, failing("not_submitter_or_editor"))
    ] == ["withdraw"]


def test_a_role_given_as_a_string_is_one_role() -> None:
    # frozenset("drafter") would be letters; the engine must not treat it so.
    assert [t.trigger for t in CONTRIB.allowed_triggers(Subject("draft"), "drafter", passing)] == [
        "submit"
    ]


# -- editors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "roles", "cause"),
    [
        ("draft", ["drafter"], "edit"),
        ("returned", ["drafter"], "edit"),
        ("police_review", ["drafter"], None),
        ("police_review", ["reviewer"], None),
        ("reviewed", ["consolidator"], "consolidation_edit"),
        ("consolidated", ["consolidator"], "consolidation_edit"),
        ("reviewed", ["drafter"], None),
        ("approved", ["drafter", "reviewer", "consolidator", "approver", "auditor", "admin"], None),
        ("draft", ["auditor", "admin", "approver", "reviewer"], None),
    ],
)
def test_can_edit(state: str, roles: list[str], cause: str | None) -> None:
    editor = CONTRIB.can_edit(Subject(state), roles, passing)
    assert (editor.cause if editor else None) == cause


def test_consolidator_edits_only_while_the_consolidation_is_open() -> None:
    assert (
        CONTRIB.can_edit(Subject("reviewed"), ["consolidator"], failing("consolidation_open"))
        is None
    )


def test_nobody_edits_a_consolidation() -> None:
    for state in ("open", "awaiting_approval", "approved"):
        assert CONSOL.can_edit(Subject(state), ["consolidator", "approver"], passing) is None


# -- who may do what, diagram ------------------------------------------------------------------


def test_triggers_by_role() -> None:
    by_role = {role: [t.trigger for t in ts] for role, ts in CONTRIB.triggers_by_role().items()}
    assert by_role == {
        "drafter": ["submit", "withdraw", "resubmit"],
        "reviewer": ["approve", "return"],
        "consolidator": ["consolidate", "reopen"],
        "approver": [],
        "auditor": [],
        "admin": [],
    }
    by_role = {role: [t.trigger for t in ts] for role, ts in CONSOL.triggers_by_role().items()}
    assert by_role["consolidator"] == ["submit_for_approval"]
    assert by_role["approver"] == ["approve", "return"]


def test_every_transition_has_labels_and_past_tense() -> None:
    for workflow in (CONTRIB, CONSOL):
        for t in workflow.definition.transitions:
            assert t.label_sv and t.label_en and t.done_sv and t.done_en
        for s in workflow.definition.states:
            assert s.label_sv and s.label_en
    assert CONTRIB.state("police_review").label_sv == "Polisgranskning"
    assert CONSOL.state("awaiting_approval").label_sv == "Väntar på fastställelse"
    assert CONTRIB.transition("submit").done("sv") == "Skickad till polisen"


# -- binding to pytransitions ------------------------------------------------------------------


def test_stored_state_is_respected() -> None:
    subject = Subject("returned")  # not the initial state: add_model must not reset it
    assert CONTRIB.fire(subject, "resubmit", ["drafter"], passing) == ("returned", "police_review")
    assert subject.state == "police_review"


def test_no_auto_transitions_and_no_leftovers_on_the_subject() -> None:
    subject = Subject("consolidated")
    CONTRIB.fire(subject, "finalize", [], passing, internal=True)
    assert not hasattr(subject, "to_approved")
    assert not hasattr(subject, "to_draft")
    assert not hasattr(subject, "finalize")
    assert not hasattr(subject, "trigger")
    assert vars(subject) == {"state": "approved"}
    with pytest.raises(UnknownTrigger):
        CONTRIB.fire(Subject("draft"), "to_approved", ["admin"], passing)
    assert not any(name.startswith("to_") for name in CONTRIB.machine.events)


def test_firing_the_same_object_repeatedly() -> None:
    subject = Subject("draft")
    steps = [
        ("submit", ["drafter"]),
        ("withdraw", ["drafter"]),
        ("submit", ["drafter"]),
        ("return", ["reviewer"]),
        ("resubmit", ["drafter"]),
        ("return", ["reviewer"]),
        ("resubmit", ["drafter"]),
        ("approve", ["reviewer"]),
        ("reopen", ["consolidator"]),
        ("resubmit", ["drafter"]),
        ("approve", ["reviewer"]),
        ("consolidate", ["consolidator"]),
    ]
    for trigger, roles in steps:
        CONTRIB.fire(subject, trigger, roles, passing, remarks=["r"], reason="r")
    assert subject.state == "consolidated"
    assert CONTRIB.fire(subject, "finalize", [], passing, internal=True) == (
        "consolidated",
        "approved",
    )
    assert vars(subject) == {"state": "approved"}
    assert CONTRIB.machine.models == []


def test_machine_does_not_grow() -> None:
    machine = CONTRIB.machine
    before = len(machine.models)
    for i in range(10_000):
        subject = Subject("draft" if i % 2 else "returned")
        CONTRIB.fire(subject, "submit" if i % 2 else "resubmit", ["drafter"], passing)
        assert subject.state == "police_review"
    assert len(machine.models) == before == 0


def test_machine_does_not_grow_when_a_refusal_is_raised() -> None:
    for _ in range(100):
        with pytest.raises(NotFromState):
            CONTRIB.fire(Subject("approved"), "submit", ["drafter"], passing)
    assert CONTRIB.machine.models == []


def test_concurrent_fires_share_one_machine_safely() -> None:
    errors: list[BaseException] = []
    subjects = [Subject("police_review") for _ in range(8 * 500)]

    def worker(chunk: list[Subject]) -> None:
        try:
            for s in chunk:
                CONTRIB.fire(s, "return", ["reviewer"], passing, remarks=["r"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(subjects[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(s.state == "returned" for s in subjects)
    assert CONTRIB.machine.models == []


class ModelWithItsOwnNames:
    """A model that already has attributes named like triggers and pytransitions helpers."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.entered: list[str] = []

    def approve(self) -> str:
        return "the model's own approve"

    @property
    def is_approved(self) -> bool:
        return self.state == "approved"

    def trigger(self) -> str:
        return "the model's own trigger"

    def on_enter_reviewed(self) -> None:
        self.entered.append("reviewed")


def test_model_attributes_named_like_triggers_are_left_alone() -> None:
    subject = ModelWithItsOwnNames("police_review")
    assert CONTRIB.fire(subject, "approve", ["reviewer"], passing) == ("police_review", "reviewed")
    assert subject.approve() == "the model's own approve"
    assert subject.trigger() == "the model's own trigger"
    assert subject.is_approved is False
    # on_enter_<state> methods are not picked up: the shared machine must not learn callbacks
    # from one model that the next one lacks.
    assert subject.entered == []
    CONTRIB.fire(Subject("police_review"), "approve", ["reviewer"], passing)
    assert set(vars(subject)) == {"state", "entered"}


def test_trigger_named_return_works_through_the_event() -> None:
    subject = Subject("awaiting_approval")
    assert CONSOL.fire(subject, "return", ["approver"], passing, remarks=["Saknar stadsdel 4"]) == (
        "awaiting_approval",
        "open",
    )
    assert not hasattr(subject, "return")


class StateDescriptor:
    """Stores the state elsewhere and counts writes, like an ORM-instrumented attribute."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__[self.key]

    def __set__(self, obj: Any, value: str) -> None:
        obj.__dict__.setdefault("writes", []).append(value)
        obj.__dict__[self.key] = value


class DescriptorSubject:
    state = StateDescriptor()

    def __init__(self, state: str) -> None:
        self.state = state


def test_state_as_a_descriptor() -> None:
    subject = DescriptorSubject("reviewed")
    assert CONTRIB.fire(subject, "consolidate", ["consolidator"], passing) == (
        "reviewed",
        "consolidated",
    )
    assert subject.state == "consolidated"
    # Binding rewrites the stored state with itself, then the transition writes the new one.
    assert subject.writes[0] == "reviewed"  # type: ignore[attr-defined]
    assert subject.writes[-1] == "consolidated"  # type: ignore[attr-defined]
    assert set(vars(subject)) == {"_state", "writes"}


class SlottedSubject:
    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def test_slotted_subject() -> None:
    subject = SlottedSubject("draft")
    assert CONTRIB.fire(subject, "submit", ["drafter"], passing) == ("draft", "police_review")
    assert CONTRIB.machine.models == []


def test_sqlalchemy_mapped_subject() -> None:
    sa = pytest.importorskip("sqlalchemy")
    from sqlalchemy.orm import DeclarativeBase, mapped_column

    class Base(DeclarativeBase):
        pass

    class Contribution(Base):
        __tablename__ = "wf_test_contribution"
        # Unannotated: string annotations (from __future__) can't be resolved in a local class.
        id = mapped_column(sa.Integer, primary_key=True)
        state = mapped_column(sa.String(32))
        title = mapped_column(sa.String(100))

        @property
        def is_draft(self) -> bool:
            return bool(self.state == "draft")

    subject = Contribution(id=1, state="returned", title="Område 1")
    assert CONTRIB.fire(subject, "resubmit", ["drafter"], passing) == ("returned", "police_review")
    assert subject.state == "police_review"
    assert subject.is_draft is False
    assert CONTRIB.fire(subject, "withdraw", ["drafter"], passing) == ("police_review", "draft")
    assert subject.is_draft is True
    assert not hasattr(subject, "submit")
    assert set(sa.inspect(subject).attrs.keys()) == {"id", "state", "title"}
    assert CONTRIB.machine.models == []


# -- purity ------------------------------------------------------------------------------------


def test_workflows_imports_neither_flask_nor_sqlalchemy() -> None:
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, workflows; "
        "bad = sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'flask', 'sqlalchemy', 'flask_sqlalchemy'}); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
    for path in (root / "workflows").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(flask|sqlalchemy)", source, re.M | re.I), path


@pytest.mark.parametrize("workflow", [CONTRIB, CONSOL])
@pytest.mark.parametrize("role", ["drafter", "reviewer", "consolidator", "approver", "auditor"])
def test_ways_to_act_are_every_state_with_an_offered_trigger_or_an_editor(workflow: Any,
                                                                         role: str) -> None:
    """The start page asks the database only for the states ways_to_act names: each state in
    which allowed_triggers or can_edit (all guards passing) gives the role anything must be
    there, with that transition's or editor's guards; no other state."""
    ways = workflow.ways_to_act([role])
    for state in (s.name for s in workflow.definition.states):

        class Subject:
            pass

        subject = Subject()
        subject.state = state
        offered = [tuple(t.guards) for t in workflow.allowed_triggers(subject, [role], passing)]
        editor = workflow.can_edit(subject, [role], passing)
        if editor is not None:
            offered.append(tuple(editor.guards))
        assert sorted(ways.get(state, [])) == sorted(offered), state
