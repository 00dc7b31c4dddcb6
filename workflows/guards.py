"""The guards a workflow definition may name.

The engine knows guards only by name; the service layer implements each one (they need the
database) and hands the engine a ``GuardCheck``. The kind tells the caller how to report a
failure: a failed ``permission`` guard is a 403, a failed ``precondition`` a 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PRECONDITION: Final = "precondition"
PERMISSION: Final = "permission"
GUARD_KINDS: Final[frozenset[str]] = frozenset({PRECONDITION, PERMISSION})


@dataclass(frozen=True)
class GuardSpec:
    name: str
    kind: str  # "precondition" or "permission" (separation of duties etc.)
    description_sv: str
    description_en: str


def _specs(*specs: GuardSpec) -> dict[str, GuardSpec]:
    return {spec.name: spec for spec in specs}


KNOWN_GUARDS: Final[dict[str, GuardSpec]] = _specs(
    GuardSpec(
        "all_sections_filled",
        PRECONDITION,
        "Alla avsnitt måste vara ifyllda.",
        "Every section must be filled in.",
    ),
    GuardSpec(
        "is_submitter",
        PERMISSION,
        "Bara den som skickade in bidraget får dra tillbaka det.",
        "Only the person who submitted the contribution may withdraw it.",
    ),
    GuardSpec(
        "not_submitter_or_editor",
        PERMISSION,
        "Ingen får granska ett bidrag som hen själv skickat in (även om det drogs tillbaka) eller "
        "redigerat (en text eller en hänvisning) i den här omgången.",
        "Nobody may review a contribution they submitted (even if withdrawn) or edited (a text "
        "or a cross-reference) in this round.",
    ),
    GuardSpec(
        "consolidation_open",
        PRECONDITION,
        "Periodens sammanställning måste vara öppen.",
        "The period's consolidation must be open.",
    ),
    GuardSpec(
        "all_contributions_settled",
        PRECONDITION,
        "Varje bidrag måste vara sammanställt eller undantaget med angiven anledning.",
        "Every contribution must be consolidated or excluded with a reason.",
    ),
    GuardSpec(
        "not_consolidator",
        PERMISSION,
        "Ingen får fastställa eller skicka tillbaka en sammanställning där hen själv sammanställt, "
        "redigerat (en text eller en hänvisning), undantagit eller skickat in något.",
        "Nobody may approve or return a consolidation in which they consolidated, edited (a text "
        "or a cross-reference), excluded or submitted anything.",
    ),
)

# Catch a typo in the table above at import time rather than at the first refusal.
for _spec in KNOWN_GUARDS.values():
    if _spec.kind not in GUARD_KINDS:
        raise ValueError(f"guard {_spec.name!r} has unknown kind {_spec.kind!r}")
del _spec
