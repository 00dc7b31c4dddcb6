"""Domain errors raised by operations; the web layer and CLI map them centrally.

not allowed -> 403, invalid transition / stale version -> 409, invalid input -> 400.
"""


class DomainError(Exception):
    """Base class: a refused operation. The message is meant for the user."""

    http_status = 400

    def __init__(self, message: str, **details):
        """`message` is English; give an app.core.messages.Msg to have it shown translated."""
        super().__init__(message)
        self.message = str(message)
        self.template = getattr(message, "template", self.message)
        self.params = getattr(message, "params", {})
        self.details = details

    def translated(self, gettext) -> str:
        from app.core.messages import translate

        return translate(self.template, self.params, gettext)

    def __str__(self) -> str:
        return self.message


class NotAllowed(DomainError):
    """Wrong role, wrong area, or separation of duties. Logged as a security event."""

    http_status = 403


class InvalidTransition(DomainError):
    """The trigger cannot be fired from the object's current state, or a precondition fails."""

    http_status = 409


class StaleVersion(DomainError):
    """The object changed since the caller read it: never overwrite silently."""

    http_status = 409


class InvalidInput(DomainError):
    """Bad input: missing remarks or reason, forbidden text, unknown names."""

    http_status = 400


class NotFound(DomainError):
    http_status = 404
