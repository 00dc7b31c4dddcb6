"""The contribution pages: read, edit a section, act on the workflow, history.

Thin views: parse the form, call one service inside `operation(current_user)`, flash what
happened, redirect. Reads check access with policy.py and open no write transaction.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required

from app.contributions import operations as contributions
from app.contributions import presenters, threads
from app.contributions.loading import contribution_options
from app.contributions.operations import get_contribution as load_contribution
from app.contributions.operations import get_section as load_section
from app.contributions.policy import (
    CONTRIBUTIONS,
    may_exclude,
    may_read,
    require_editor,
    require_read_access,
)
from app.core import paging
from app.core.access import roles_for
from app.core.diff import has_changes, word_diff
from app.core.errors import DomainError, InvalidInput, StaleVersion
from app.core.i18n import DEFAULT_LANGUAGE
from app.core.parsing import MAX_ID, whole_number
from app.core.text_blocks import text_blocks
from app.core.text_rules import normalise_text
from app.core.unit_of_work import operation, refuse
from app.documents.carry_forward import changes_since_last_approved_texts
from app.extensions import db
from app.models import Contribution, Role, Section, User
from app.web import failed_forms, forms
from app.web.failed_forms import NO_FAILURE, FailedForm
from workflows import CONTRIBUTION_WORKFLOW

bp = Blueprint("contributions", __name__, template_folder="templates")


def _lang() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def _user():
    return current_user._get_current_object()


def _section_anchor(section_id: int) -> str:
    return f"section-{section_id}"


# -- the contribution page -------------------------------------------------------------------

def page_key(contribution_id: int) -> str:
    """Where a failed form of the contribution page is kept until the page shows it."""
    return f"contribution-{contribution_id}"


def _field_on_page(error: InvalidInput, form: str) -> str | None:
    """The id of the field on the contribution page that `error` is about, if one is."""
    field = error.details.get("field")
    if field in ("remark", "remarks"):
        section_id = error.details.get("section_id")
        return f"remark-section-{section_id}" if section_id else "remark-general"
    if field == "reason":
        return f"reason-{form}"
    if field == "confirm_unanswered":
        return "confirm-unanswered"
    return None


def reply_form(remark_id: int) -> str:
    """The name a refused answer to a remark is kept under (its box: reply-to-<id>)."""
    return f"reply-{remark_id}"


def _page_context(contribution: Contribution, failed: FailedForm = NO_FAILURE) -> dict:
    user = _user()
    lang = _lang()
    roles = roles_for(user, contribution.area_id)
    actions = CONTRIBUTIONS.allowed_triggers(contribution, user, roles)
    editor = CONTRIBUTIONS.editor_for(contribution, user, roles)
    sections = contribution.ordered_sections
    general_remarks, section_remarks = presenters.remarks_by_section(contribution, lang, user)
    # A refused answer: kept in its remark's box, the message beside it.
    for view in general_remarks + [v for views in section_remarks.values() for v in views]:
        if failed.of(reply_form(view.remark_id)):
            view.reply_text = failed.value("reply")
            view.reply_error = failed.error(f"reply-to-{view.remark_id}")
    # A drafter who may not submit yet is told which sections still lack text.
    empty_sections = []
    if Role.DRAFTER in roles and contribution.state in ("draft", "returned"):
        empty_sections = [s for s in sections if not s.is_filled]
    changes = (presenters.changes_since_previous_submission(contribution)
               if contribution.state == "police_review" else None)
    # On a first submission, the reviewer compares with last period's approved text instead
    # (the texts usually start from it by carry-forward).
    changes_from_last_period = None
    if contribution.state == "police_review" and changes is None:
        changes_from_last_period = changes_since_last_approved_texts(contribution, sections)
        if all(diff is None for diff in changes_from_last_period.values()):
            changes_from_last_period = None
    # The reviewer's summary on top: the sections that changed, with links to them.
    shown_changes = changes if changes is not None else changes_from_last_period
    changed_sections = ([s for s in sections if shown_changes.get(s.id) is not None
                         and has_changes(shown_changes[s.id])]
                        if shown_changes is not None else None)
    return {
        "contribution": contribution,
        "state": CONTRIBUTION_WORKFLOW.state(contribution.state),
        "changed_sections": changed_sections,
        "sections": sections,
        "blocks": {s.id: text_blocks(s.text) for s in sections},
        "general_remarks": general_remarks,
        "open_remarks": presenters.open_remark_views(contribution, lang),
        "unanswered_count": len(threads.unanswered_remarks(contribution)),
        "section_remarks": section_remarks,
        "deadlines": presenters.deadlines(contribution),
        "actions": actions,
        "simple_actions": [a for a in actions
                           if not a.remarks_required and not a.reason_required],
        "remark_actions": [a for a in actions if a.remarks_required],
        "reason_actions": [a for a in actions if a.reason_required],
        "can_edit": editor is not None,
        "empty_sections": empty_sections,
        "may_exclude": may_exclude(user, contribution),
        "changes": changes,
        "changes_from_last_period": changes_from_last_period,
        "failed": failed,
    }


@bp.get("/contributions/<id:contribution_id>")
@login_required
def show(contribution_id: int):
    contribution = load_contribution(contribution_id, *contribution_options(sections=True))
    require_read_access(_user(), contribution)
    failed = failed_forms.take(page_key(contribution_id))
    return render_template("contributions/show.html", **_page_context(contribution, failed))


@bp.post("/contributions/<id:contribution_id>/transition/<trigger>")
@login_required
def transition(contribution_id: int, trigger: str):
    user = _user()
    expected_version = forms.expected_version()
    contribution = load_contribution(contribution_id)
    remarks = remarks_from_form(contribution)
    reason = request.form.get("reason")
    try:
        with operation(user):
            contributions.transition(user, contribution_id, trigger,
                                     expected_version=expected_version,
                                     remarks=remarks, reason=reason,
                                     comments_confirmed=comments_confirmed(),
                                     unanswered_confirmed=unanswered_confirmed())
    except StaleVersion:
        return _stale_contribution_page(contribution_id)
    except InvalidInput as error:
        return transition_error_page(contribution_id, trigger, error)
    done = CONTRIBUTION_WORKFLOW.transition(trigger).done(_lang())
    flash(gettext("%(done)s: %(title)s.", done=done, title=_title(contribution_id)), "success")
    return redirect(url_for("contributions.show", contribution_id=contribution_id))


def remarks_from_form(contribution: Contribution) -> list[contributions.RemarkInput]:
    """The remarks a transition's form carries: a general one and one per section."""
    remarks = [contributions.RemarkInput(request.form.get("remark_general", ""))]
    for section in contribution.ordered_sections:
        text = request.form.get(f"remark_section_{section.id}", "")
        if text.strip():
            remarks.append(contributions.RemarkInput(text, section.id))
    return remarks


def comments_confirmed() -> bool:
    """Whether the user chose "… with comments": remarks typed with an approval are saved."""
    return request.form.get("with_comments") == "1"


def unanswered_confirmed() -> bool:
    """Whether the drafter ticked "resubmit without answering" the open remarks."""
    return request.form.get("confirm_unanswered") == "1"


def transition_error_page(contribution_id: int, form: str, error: InvalidInput):
    """Back to the contribution page, which shows what was typed again with the message at its
    field, wherever the action was asked for (only to readers: an unknown action is refused
    before the role check)."""
    db.session.rollback()
    contribution = load_contribution(contribution_id)
    if not may_read(_user(), contribution):
        raise error
    field_id = _field_on_page(error, form)
    failed = failed_forms.from_error(form, error, field_id)
    return failed_forms.back_to_page(
        page_key(contribution_id),
        url_for("contributions.show", contribution_id=contribution_id,
                _anchor=field_id or "error-summary"),
        failed,
        lambda shown: render_template("contributions/show.html",
                                      **_page_context(contribution, shown)))


def _title(contribution_id: int) -> str:
    db.session.rollback()  # read what was committed
    return load_contribution(contribution_id).title


def _stale_contribution_page(contribution_id: int):
    contribution = load_contribution(contribution_id)
    return render_template("contributions/stale.html", contribution=contribution), 409


@bp.post("/contributions/<id:contribution_id>/exclude")
@login_required
def exclude(contribution_id: int):
    user = _user()
    expected_version = forms.expected_version()
    try:
        with operation(user):
            contributions.exclude(user, contribution_id, request.form.get("reason", ""),
                                  expected_version=expected_version)
    except StaleVersion:
        return _stale_contribution_page(contribution_id)
    except InvalidInput as error:
        return transition_error_page(contribution_id, "exclude", error)
    flash(gettext("Excluded from the consolidation: %(title)s.",
                  title=_title(contribution_id)), "success")
    return redirect(url_for("contributions.show", contribution_id=contribution_id))


@bp.post("/contributions/<id:contribution_id>/include")
@login_required
def include(contribution_id: int):
    user = _user()
    expected_version = forms.expected_version()
    try:
        with operation(user):
            contributions.include(user, contribution_id, expected_version=expected_version)
    except StaleVersion:
        return _stale_contribution_page(contribution_id)
    flash(gettext("Included in the consolidation again: %(title)s.",
                  title=_title(contribution_id)), "success")
    return redirect(url_for("contributions.show", contribution_id=contribution_id))


# -- remark threads --------------------------------------------------------------------------

def _remark_anchor(remark_id: int) -> str:
    return f"remark-{remark_id}"


@bp.post("/remarks/<id:remark_id>/reply")
@login_required
def reply_to_remark(remark_id: int):
    user = _user()
    expected_version = forms.expected_version()
    text = request.form.get("reply", "")
    contribution_id = threads.get_remark(remark_id).contribution_id
    try:
        with operation(user):
            threads.reply(user, remark_id, text, expected_version)
    except StaleVersion:
        return _stale_contribution_page(contribution_id)
    except InvalidInput as error:
        return _thread_error_page(contribution_id, remark_id, error)
    flash(gettext("Your answer was added to the remark's thread."), "success")
    return redirect(url_for("contributions.show", contribution_id=contribution_id,
                            _anchor=_remark_anchor(remark_id)))


@bp.post("/remarks/<id:remark_id>/resolve")
@login_required
def resolve_remark(remark_id: int):
    user = _user()
    expected_version = forms.expected_version()
    contribution_id = threads.get_remark(remark_id).contribution_id
    try:
        with operation(user):
            threads.resolve(user, remark_id, expected_version)
    except StaleVersion:
        return _stale_contribution_page(contribution_id)
    flash(gettext("The remark is marked resolved."), "success")
    return redirect(url_for("contributions.show", contribution_id=contribution_id,
                            _anchor=_remark_anchor(remark_id)))


def _thread_error_page(contribution_id: int, remark_id: int, error: InvalidInput):
    """Back to the contribution page, the answer kept in its box with the message beside it
    (only to readers: anyone else was refused before the text was looked at)."""
    db.session.rollback()
    contribution = load_contribution(contribution_id)
    if not may_read(_user(), contribution):
        raise error
    field_id = f"reply-to-{remark_id}"
    failed = failed_forms.from_error(reply_form(remark_id), error, field_id)
    return failed_forms.back_to_page(
        page_key(contribution_id),
        url_for("contributions.show", contribution_id=contribution_id, _anchor=field_id),
        failed,
        lambda shown: render_template("contributions/show.html",
                                      **_page_context(contribution, shown)))


# -- history ---------------------------------------------------------------------------------

@bp.get("/contributions/<id:contribution_id>/history")
@login_required
def history(contribution_id: int):
    contribution = load_contribution(contribution_id)
    require_read_access(_user(), contribution)
    page = presenters.history(
        contribution, _lang(),
        before=paging.parse_cursor(request.args.get("before"), (int,), field="before"),
        after=paging.parse_cursor(request.args.get("after"), (int,), field="after"),
        last=request.args.get("last") == "1")
    return render_template("contributions/history.html", contribution=contribution,
                           state=CONTRIBUTION_WORKFLOW.state(contribution.state),
                           entries=page.items, page=page)


# -- the section editor ----------------------------------------------------------------------

def _require_editor(section: Section) -> None:
    """Refuse the editor page as the save would be refused: 403 (logged) without an editing
    role, 409 when the contribution cannot be edited in its state."""
    user = _user()
    contribution = section.contribution
    require_read_access(user, contribution, action="section.edit")
    try:
        require_editor(user, contribution, section.id)
    except DomainError as refusal:
        refuse(user, refusal)  # logged, as the save's refusal would be


def _editor_key(section_id: int) -> str:
    return f"section-{section_id}"


def _editor_page(section: Section, text: str, expected_version: int, *,
                 failed: FailedForm = NO_FAILURE, status: int = 200):
    general, per_section = presenters.remarks_by_section(section.contribution, _lang())
    return render_template(
        "contributions/edit.html", section=section, contribution=section.contribution,
        text=text, expected_version=expected_version, failed=failed,
        remarks=per_section.get(section.id, []), general_remarks=general,
        next=_next_target(),
    ), status


@bp.get("/sections/<id:section_id>/edit")
@login_required
def edit_section(section_id: int):
    section = load_section(section_id)
    _require_editor(section)
    failed = failed_forms.take(_editor_key(section_id))
    if failed:
        # What was typed, and the version it was typed on: a save from here still notices
        # a change made by someone else meanwhile.
        seen = whole_number(failed.value("expected_version"), 0, MAX_ID)
        return _editor_page(section, failed.value("text"),
                            section.version if seen is None else seen, failed=failed)
    return _editor_page(section, section.text, section.version)


@bp.post("/sections/<id:section_id>/edit")
@login_required
def save_section(section_id: int):
    user = _user()
    expected_version = forms.expected_version()
    text = request.form.get("text", "")
    try:
        with operation(user):
            saved = contributions.edit_section(user, section_id, text, expected_version)
            changed = saved.version != expected_version
            contribution_id, heading = saved.contribution_id, saved.topic.heading
    except StaleVersion:
        section = load_section(section_id)
        saved_by = db.session.get(User, section.updated_by_id) if section.updated_by_id else None
        return render_template(
            "contributions/conflict.html", section=section, contribution=section.contribution,
            # Compared as it would be saved: the browser sends CRLF line breaks.
            text=text, diff=word_diff(section.text, normalise_text(text)),
            current_blocks=text_blocks(section.text),
            saved_by=saved_by, saved_by_you=saved_by is not None and saved_by.id == user.id,
            next=_next_target(),
        ), 409
    except InvalidInput as error:
        section = load_section(section_id)
        failed = failed_forms.from_error("edit", error, "section-text")
        return failed_forms.back_to_page(
            _editor_key(section_id),
            url_for("contributions.edit_section", section_id=section_id, next=_next_target()),
            failed,
            lambda shown: _editor_page(section, text, expected_version, failed=shown)[0])
    if changed:
        flash(gettext("The text for “%(heading)s” was saved.", heading=heading), "success")
    else:
        flash(gettext("Nothing to save: the text for “%(heading)s” was unchanged.",
                      heading=heading), "info")
    if _next_target():  # e.g. back to the consolidation page after a wording edit
        return redirect(forms.safe_next(_next_target()))
    return redirect(url_for("contributions.show", contribution_id=contribution_id,
                            _anchor=_section_anchor(section_id)))


def _next_target() -> str | None:
    """A local page to return to after saving, passed along as ?next= / hidden field."""
    target = request.values.get("next")
    return target if target and forms.safe_next(target) == target else None
