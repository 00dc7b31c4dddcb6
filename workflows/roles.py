"""The roles a user can hold: the one definition. Workflow definitions may only name these; the
database's check constraint, the admin commands and every page's role names come from here."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final


class Role(enum.StrEnum):
    DRAFTER = "drafter"
    REVIEWER = "reviewer"
    CONSOLIDATOR = "consolidator"
    APPROVER = "approver"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLES: Final[tuple[str, ...]] = tuple(Role)

# Roles that act on one area's contribution; the others work city-wide.
AREA_ROLES: Final = frozenset({Role.DRAFTER, Role.REVIEWER})
CITY_ROLES: Final = frozenset(Role) - AREA_ROLES


@dataclass(frozen=True)
class RoleNames:
    title_sv: str  # on pages: "Granskare (polis)"
    title_en: str
    noun_sv: str  # inside a Swedish sentence: "granskare"

    def title(self, lang: str = "sv") -> str:
        return self.title_en if lang == "en" else self.title_sv


ROLE_NAMES: Final[dict[str, RoleNames]] = {
    Role.DRAFTER: RoleNames("Skribent", "Drafter", "skribent"),
    Role.REVIEWER: RoleNames("Granskare (polis)", "Reviewer (police)", "granskare"),
    Role.CONSOLIDATOR: RoleNames("Samordnare", "Coordinator", "samordnare"),
    Role.APPROVER: RoleNames("Fastställare", "Approver", "fastställare"),
    Role.AUDITOR: RoleNames("Revisor", "Auditor", "revisor"),
    Role.ADMIN: RoleNames("Administratör", "Administrator", "administratör"),
}
