"""A form that failed validation, shown again at its page's own address.

The handler keeps what was typed and the messages in the session under the page's key and
redirects to the page (post/redirect/get); the page takes them out again, once. So the page's
address stays its own: the language switch and a reload work, and a reload shows no stale error.
Each page has its own key (e.g. "contribution-12"), so a failure on one page never shows up in
another tab on another page.

The session is a signed cookie, which a browser drops over 4 KB: a form too large for it (a
long section text) is shown again in place instead, still with its messages at the fields.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from flask import current_app, g, redirect, request, session
from flask_babel import gettext

from app.core.errors import DomainError

SESSION_KEY = "_failed_forms"
# Below the 4,096 bytes a browser keeps of one cookie, with room for its name and attributes.
COOKIE_LIMIT = 3_800
# Never kept: the form's security code is the session's own, and a password is typed again.
NOT_KEPT = frozenset({"csrf_token"})


def _kept(name: str) -> bool:
    return name not in NOT_KEPT and "password" not in name


@dataclass(frozen=True)
class FailedForm:
    """What a page needs to show a failed form again: which of its forms it was, what was
    typed, and the messages, each keyed by the id of the field it is about."""

    form: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    message: str | None = None  # about the form as a whole, not one field

    def __bool__(self) -> bool:
        return bool(self.errors or self.message)

    def of(self, *forms: str) -> bool:
        """Whether the failed form was one of these (a page with several forms)."""
        return bool(self) and self.form in forms

    def value(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error(self, field_id: str) -> str | None:
        return self.errors.get(field_id)

    @property
    def first_field(self) -> str | None:
        return next(iter(self.errors), None)


NO_FAILURE = FailedForm()


def from_error(form: str, error: DomainError, field_id: str | None,
               values: Mapping[str, str] | None = None) -> FailedForm:
    """A failed form with `error`'s message at the field `field_id` (None: the whole form),
    keeping what was typed."""
    message = error.translated(gettext)
    kept = typed_values() if values is None else dict(values)
    if field_id:
        return FailedForm(form=form, values=kept, errors={field_id: message})
    return FailedForm(form=form, values=kept, message=message)


def typed_values() -> dict[str, str]:
    """The request's form as typed (one value per name), without its security code or any
    password."""
    return {name: value for name, value in request.form.items() if _kept(name)}


def _fits(stashed: dict) -> bool:
    serializer = current_app.session_interface.get_signing_serializer(current_app)
    if serializer is None:  # no secret key: no session at all
        return False
    candidate = dict(session)
    candidate[SESSION_KEY] = stashed
    return len(serializer.dumps(candidate)) <= COOKIE_LIMIT


def keep(page_key: str, failed: FailedForm) -> bool:
    """Keep `failed` for the next display of the page `page_key`; False when it does not fit."""
    stashed = {key: value for key, value in (session.get(SESSION_KEY) or {}).items()
               if key != page_key}
    stashed[page_key] = {"form": failed.form, "values": dict(failed.values),
                         "errors": dict(failed.errors), "message": failed.message}
    if not _fits(stashed):
        # Older failures of other pages give way first; this one alone may still not fit.
        stashed = {page_key: stashed[page_key]}
        if not _fits(stashed):
            return False
    session[SESSION_KEY] = stashed
    return True


def take(page_key: str) -> FailedForm:
    """The failure kept for this page, removed as it is shown; NO_FAILURE when there is none."""
    stashed = session.get(SESSION_KEY)
    if not stashed or page_key not in stashed:
        return NO_FAILURE
    stashed = dict(stashed)
    entry = stashed.pop(page_key)
    if stashed:
        session[SESSION_KEY] = stashed
    else:
        session.pop(SESSION_KEY, None)
    try:
        return FailedForm(form=entry.get("form"), values=dict(entry.get("values") or {}),
                          errors=dict(entry.get("errors") or {}), message=entry.get("message"))
    except (AttributeError, TypeError, ValueError):
        return NO_FAILURE  # a cookie of an older version: show the page as it is


def back_to_page(page_key: str, page_url: str, failed: FailedForm,
                 show_in_place: Callable[[FailedForm], object]):
    """The response to a failed form: a redirect to its page, which shows it again; or, when
    it is too large to keep, the page shown in place with status 400."""
    if keep(page_key, failed):
        return redirect(page_url, code=303)
    g.page_url = page_url  # the language switch goes to the page, not to this POST's address
    return show_in_place(failed), 400
