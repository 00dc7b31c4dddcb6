"""Why the engine refuses to fire a trigger: each refusal says which rule stopped it, so the
caller can map it to its own errors (a permission denial, a conflict, bad input)."""

from __future__ import annotations

from .guards import PERMISSION

__all__ = [
    "GuardFailed",
    "NotFromState",
    "ReasonRequired",
    "RemarksRequired",
    "RoleNotPermitted",
    "UnknownTrigger",
    "WorkflowRefusal",
]


class WorkflowRefusal(Exception):
    """The engine refused a transition. Nothing has changed when this is raised.

    ``category`` lets one error handler map every refusal: ``"not_allowed"`` (403),
    ``"conflict"`` (409: not possible in the subject's current state) or ``"bad_input"`` (400).
    """

    category: str = "conflict"

    def __init__(self, message: str, *, trigger: str, state: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.trigger = trigger
        self.state = state


class UnknownTrigger(WorkflowRefusal):
    """The trigger does not exist in the workflow at all."""

    category = "bad_input"


class NotFromState(WorkflowRefusal):
    """The trigger exists but cannot be fired from the subject's current state."""

    category = "conflict"


class RoleNotPermitted(WorkflowRefusal):
    """None of the actor's roles may fire the trigger (or it is fired by the system only)."""

    category = "not_allowed"


class GuardFailed(WorkflowRefusal):
    """A named guard refused; ``kind`` says whether it is a precondition or a permission."""

    def __init__(
        self, message: str, *, trigger: str, state: str | None, guard: str, kind: str
    ) -> None:
        super().__init__(message, trigger=trigger, state=state)
        self.guard = guard
        self.kind = kind
        # A failed permission guard (separation of duties) is a 403, a precondition a 409.
        self.category = "not_allowed" if kind == PERMISSION else "conflict"


class RemarksRequired(WorkflowRefusal):
    """The transition needs at least one non-blank remark."""

    category = "bad_input"


class ReasonRequired(WorkflowRefusal):
    """The transition needs a non-blank reason."""

    category = "bad_input"
