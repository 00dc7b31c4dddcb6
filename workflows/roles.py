"""The roles a user can hold. Workflow definitions may only name these."""

from __future__ import annotations

from typing import Final

ROLES: Final[tuple[str, ...]] = (
    "drafter",
    "reviewer",
    "consolidator",
    "approver",
    "auditor",
    "admin",
)
