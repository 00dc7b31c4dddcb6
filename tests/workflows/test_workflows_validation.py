"""load_definition refuses malformed definitions, naming the culprit."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from workflows import (
    CONSOLIDATION,
    CONTRIBUTION,
    DefinitionError,
    GuardSpec,
    Workflow,
    load_definition,
)


def base() -> dict[str, Any]:
    """A small valid definition: a -> b -> c (final), with a way back from b to a."""
    return {
        "name": "sample",
        "states": [
            {"name": "a", "label_sv": "A", "label_en": "A"},
            {"name": "b", "label_sv": "B", "label_en": "B"},
            {"name": "c", "label_sv": "C", "label_en": "C"},
        ],
        "initial": "a",
        "final": ["c"],
        "editors": {"drafter": {"states": ["a"], "cause": "edit"}},
        "transitions": [
            {
                "trigger": "go",
                "source": ["a"],
                "dest": "b",
                "roles": ["drafter"],
                "label_sv": "Gå",
                "label_en": "Go",
            },
            {
                "trigger": "back",
                "source": ["b"],
                "dest": "a",
                "roles": ["reviewer"],
                "label_sv": "Bak",
                "label_en": "Back",
            },
            {
                "trigger": "end",
                "source": ["b"],
                "dest": "c",
                "internal": True,
                "label_sv": "Slut",
                "label_en": "End",
            },
        ],
    }


def transition(data: dict[str, Any], trigger: str) -> dict[str, Any]:
    return next(t for t in data["transitions"] if t["trigger"] == trigger)


def test_the_base_definition_is_valid() -> None:
    definition = load_definition(base())
    assert [s.name for s in definition.states] == ["a", "b", "c"]
    assert definition.final == frozenset({"c"})
    assert Workflow(definition).transition("go").dest == "b"


@pytest.mark.parametrize(
    "data", [CONTRIBUTION, CONSOLIDATION], ids=["contribution", "consolidation"]
)
def test_the_real_definitions_load(data: dict[str, Any]) -> None:
    assert load_definition(data).name == data["name"]


def test_loaded_definition_does_not_follow_later_changes_to_the_data() -> None:
    data = base()
    definition = load_definition(data)
    transition(data, "go")["roles"].append("admin")
    data["final"].append("b")
    assert transition_roles(definition, "go") == frozenset({"drafter"})
    assert definition.final == frozenset({"c"})


def transition_roles(definition: Any, trigger: str) -> frozenset[str]:
    return next(t.roles for t in definition.transitions if t.trigger == trigger)


Mutation = Callable[[dict[str, Any]], None]


def set_in(trigger: str, key: str, value: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        transition(d, trigger)[key] = value

    return mutate


def drop_in(trigger: str, key: str) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        del transition(d, trigger)[key]

    return mutate


def add_state(name: str) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        d["states"].append({"name": name, "label_sv": name, "label_en": name})

    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        for m in mutations:
            m(d)

    return mutate


def add_transition(**t: Any) -> Mutation:
    def mutate(d: dict[str, Any]) -> None:
        d["transitions"].append({"label_sv": "X", "label_en": "X", **t})

    return mutate


REFUSALS: dict[str, tuple[Mutation, list[str]]] = {
    # name: (mutation of base(), words the message must contain)
    "unknown role in transition": (
        set_in("go", "roles", ["drafter", "wizard"]),
        ["'wizard'", "'go'", "role"],
    ),
    "unknown role in editor": (
        lambda d: d["editors"].update({"wizard": {"states": ["a"], "cause": "edit"}}),
        ["'wizard'", "editor", "role"],
    ),
    "unknown guard in transition": (
        set_in("go", "guards", ["moon_is_full"]),
        ["'moon_is_full'", "'go'", "guard"],
    ),
    "unknown guard in editor": (
        lambda d: d["editors"]["drafter"].update({"guards": ["moon_is_full"]}),
        ["'moon_is_full'", "guard"],
    ),
    "unknown dest": (set_in("go", "dest", "nowhere"), ["'nowhere'", "'go'", "dest"]),
    "unknown source": (set_in("go", "source", ["a", "nowhere"]), ["'nowhere'", "'go'", "source"]),
    "unknown initial": (lambda d: d.update(initial="nowhere"), ["'nowhere'", "initial"]),
    "unknown final": (lambda d: d.update(final=["c", "nowhere"]), ["'nowhere'", "final"]),
    "no final": (lambda d: d.update(final=[]), ["final"]),
    "unknown editor state": (
        lambda d: d["editors"]["drafter"].update({"states": ["a", "nowhere"]}),
        ["'nowhere'", "editor 'drafter'"],
    ),
    "editor in a final state": (
        lambda d: d["editors"]["drafter"].update({"states": ["a", "c"]}),
        ["'c'", "final", "editor 'drafter'"],
    ),
    "editor without cause": (
        lambda d: d["editors"]["drafter"].pop("cause"),
        ["'cause'", "editor 'drafter'"],
    ),
    "duplicate state": (add_state("b"), ["duplicate state 'b'"]),
    "duplicate trigger and source": (
        add_transition(trigger="go", source=["a"], dest="c", roles=["drafter"]),
        ["'go'", "'a'", "duplicate"],
    ),
    "unreachable state": (
        both(
            add_state("island"),
            add_transition(trigger="leave", source=["island"], dest="c", roles=["drafter"]),
        ),
        ["'island'", "unreachable"],
    ),
    "dead end": (
        both(
            add_state("pit"),
            add_transition(trigger="fall", source=["a"], dest="pit", roles=["drafter"]),
        ),
        ["'pit'", "dead end"],
    ),
    "cycle that never reaches a final state": (
        both(
            add_state("loop1"),
            add_state("loop2"),
            add_transition(trigger="enter_loop", source=["a"], dest="loop1", roles=["drafter"]),
            add_transition(trigger="spin", source=["loop1"], dest="loop2", roles=["drafter"]),
            add_transition(trigger="spin_back", source=["loop2"], dest="loop1", roles=["drafter"]),
        ),
        ["'loop1'", "final"],
    ),
    "internal transition with roles": (set_in("end", "roles", ["admin"]), ["'end'", "internal"]),
    "user transition without roles": (set_in("go", "roles", []), ["'go'", "roles"]),
    "user transition with roles missing": (drop_in("go", "roles"), ["'go'", "roles"]),
    "missing swedish label on transition": (drop_in("go", "label_sv"), ["'go'", "'label_sv'"]),
    "blank english label on transition": (
        set_in("back", "label_en", "  "),
        ["'back'", "'label_en'"],
    ),
    "missing state label": (lambda d: d["states"][1].pop("label_sv"), ["'b'", "'label_sv'"]),
    "misspelt transition key": (
        both(drop_in("go", "roles"), set_in("go", "role", ["drafter"])),
        ["'go'", "'role'", "unknown key"],
    ),
    "misspelt top-level key": (lambda d: d.update(transitons=[]), ["'transitons'"]),
    "reserved trigger name": (
        add_transition(trigger="state", source=["a"], dest="b", roles=["drafter"]),
        ["'state'", "reserved"],
    ),
    "odd trigger name": (set_in("go", "trigger", "Go Now"), ["'Go Now'", "trigger"]),
    "non-boolean flag": (set_in("go", "remarks_required", "yes"), ["'go'", "'remarks_required'"]),
    "no source": (set_in("go", "source", []), ["'go'", "source"]),
    "no states": (lambda d: d.update(states=[]), ["'states'"]),
    "no name": (lambda d: d.pop("name"), ["'name'"]),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refusal(case: str) -> None:
    mutate, words = REFUSALS[case]
    data = copy.deepcopy(base())
    mutate(data)
    with pytest.raises(DefinitionError) as info:
        load_definition(data)
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_custom_roles_and_guards() -> None:
    data = base()
    transition(data, "go")["roles"] = ["wizard"]
    transition(data, "go")["guards"] = ["moon_is_full"]
    data["editors"] = {"wizard": {"states": ["a"], "cause": "spell"}}
    spec = GuardSpec("moon_is_full", "permission", "Fullmåne krävs.", "Needs a full moon.")
    definition = load_definition(
        data, known_roles=["wizard", "reviewer"], known_guards={spec.name: spec}
    )
    assert definition.guard_specs == (spec,)
    workflow = Workflow(definition)

    class S:
        state = "a"

    from workflows import GuardFailed

    with pytest.raises(GuardFailed) as info:
        workflow.fire(S(), "go", ["wizard"], lambda g, s: "cloudy")
    assert info.value.kind == "permission"
    assert "wizard" in workflow.triggers_by_role()


def test_final_state_may_have_outgoing_transitions() -> None:
    data = base()
    data["transitions"].append(
        {
            "trigger": "undo",
            "source": ["c"],
            "dest": "b",
            "roles": ["admin"],
            "label_sv": "Ångra",
            "label_en": "Undo",
        }
    )
    assert load_definition(data).final == frozenset({"c"})


def test_a_source_given_as_a_string_is_one_source() -> None:
    data = base()
    transition(data, "go")["source"] = "a"
    assert load_definition(data).transitions[0].sources == ("a",)
