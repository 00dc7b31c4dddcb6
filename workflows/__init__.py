"""Workflow definitions and the pure engine that runs them (no Flask, no SQLAlchemy).

``CONTRIBUTION_WORKFLOW`` and ``CONSOLIDATION_WORKFLOW`` are loaded and validated at import,
so a broken definition stops the application from starting rather than failing a request.
"""

from __future__ import annotations

from .definitions import CONSOLIDATION, CONTRIBUTION
from .engine import GuardCheck, Workflow
from .guards import KNOWN_GUARDS, PERMISSION, PRECONDITION, GuardSpec
from .loading import DefinitionError, Editor, State, Transition, WorkflowDefinition, load_definition
from .refusals import (
    GuardFailed,
    NotFromState,
    ReasonRequired,
    RemarksRequired,
    RoleNotPermitted,
    UnknownTrigger,
    WorkflowRefusal,
)
from .roles import ROLES

CONTRIBUTION_WORKFLOW: Workflow = Workflow(load_definition(CONTRIBUTION))
CONSOLIDATION_WORKFLOW: Workflow = Workflow(load_definition(CONSOLIDATION))

__all__ = [
    "CONSOLIDATION",
    "CONSOLIDATION_WORKFLOW",
    "CONTRIBUTION",
    "CONTRIBUTION_WORKFLOW",
    "DefinitionError",
    "Editor",
    "GuardCheck",
    "GuardFailed",
    "GuardSpec",
    "KNOWN_GUARDS",
    "NotFromState",
    "PERMISSION",
    "PRECONDITION",
    "ROLES",
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
