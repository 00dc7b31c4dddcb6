"""A failed form kept for its page: shown once, per page, and only what fits the cookie."""
from __future__ import annotations

from flask import session

from app.core.errors import InvalidInput
from app.web import failed_forms
from app.web.failed_forms import NO_FAILURE, FailedForm


def test_kept_for_its_page_and_taken_once(app):
    failed = FailedForm(form="return", values={"remark_general": "Typed."},
                        errors={"remark-general": "Write a remark."})
    with app.test_request_context("/", method="POST"):
        assert failed_forms.keep("contribution-1", failed)
        assert failed_forms.take("contribution-2") is NO_FAILURE  # another page, another tab
        shown = failed_forms.take("contribution-1")
        assert shown == failed and shown.of("return") and not shown.of("approve")
        assert shown.first_field == "remark-general"
        assert failed_forms.take("contribution-1") is NO_FAILURE  # a reload: nothing stale
        assert failed_forms.SESSION_KEY not in session


def test_two_pages_failures_are_kept_apart(app):
    with app.test_request_context("/", method="POST"):
        failed_forms.keep("contribution-1", FailedForm(form="a", message="One."))
        failed_forms.keep("contribution-2", FailedForm(form="b", message="Two."))
        assert failed_forms.take("contribution-2").message == "Two."
        assert failed_forms.take("contribution-1").message == "One."


def test_what_does_not_fit_the_cookie_is_not_kept(app):
    too_much = "".join(chr(0x4E00 + (n * 7919) % 20000) for n in range(4000))
    with app.test_request_context("/", method="POST"):
        assert not failed_forms.keep("section-1", FailedForm(form="edit",
                                                              values={"text": too_much},
                                                              message="Too long."))
        assert failed_forms.take("section-1") is NO_FAILURE


def test_from_error_keeps_what_was_typed_but_the_security_code(app):
    with app.test_request_context("/", method="POST",
                                  data={"csrf_token": "secret", "reason": "Typed."}):
        error = InvalidInput("A reason is required.", field="reason")
        at_field = failed_forms.from_error("reopen", error, "reason-reopen")
        whole = failed_forms.from_error("reopen", error, None)
    assert at_field.values == {"reason": "Typed."}
    # Shown in the request's language (Swedish by default).
    assert at_field.errors == {"reason-reopen": "Ange ett skäl."}
    assert whole.message == "Ange ett skäl." and not whole.errors


def test_no_failure_is_false_and_has_no_values():
    assert not NO_FAILURE and NO_FAILURE.value("text") == "" and NO_FAILURE.error("x") is None
