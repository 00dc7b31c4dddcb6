"""Period pages: the list, one period's overview, its consolidation (and approval), and the
workflow page. Thin: read through app.periods.overview, change through one service call."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.contributions import operations as contributions
from app.contributions import routes as contribution_pages
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from app.core.messages import N_, Msg
from app.core.transitions import CommentsNotConfirmed
from app.core.unit_of_work import operation, refuse
from app.extensions import db
from app.periods import operations as consolidations
from app.periods import overview
from app.periods.diagram import arc_diagram
from app.periods.operations import LockNotConfirmed
from app.periods.policy import may_see_consolidation, require_bulk_consolidator
from app.periods.review_changes import changes_after_review
from app.web import failed_forms, forms, role_label
from app.web.failed_forms import NO_FAILURE, FailedForm
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW, KNOWN_GUARDS

periods = Blueprint("periods", __name__, template_folder="templates")

STEP_LABELS = {
    "submitted": N_("%(done)s of %(total)s submitted to the police"),
    "reviewed": N_("%(done)s of %(total)s reviewed by the police"),
    "consolidated": N_("%(done)s of %(total)s consolidated"),
    "approved": N_("%(done)s of %(total)s approved"),
}
WORKFLOW_TITLES = {
    "contribution": N_("An area's contribution"),
    "consolidation": N_("The period's consolidation"),
}


def _language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "sv")


def guard_description(guard: str) -> str:
    spec = KNOWN_GUARDS[guard]
    return spec.description_en if _language() == "en" else spec.description_sv


@periods.get("/periods")
@login_required
def index():
    return render_template("periods/index.html",
                           summaries=overview.periods_newest_first(current_user))


@periods.get("/periods/<id:period_id>")
@login_required
def show(period_id: int):
    return render_template("periods/show.html",
                           view=overview.period_overview(current_user, period_id),
                           step_labels=STEP_LABELS)


@periods.get("/periods/<id:period_id>/consolidation")
@login_required
def consolidation(period_id: int):
    return _consolidation_page(period_id, failed_forms.take(_page_key(period_id)))


def _page_key(period_id: int) -> str:
    """Where a failed form of the consolidation page is kept until the page shows it."""
    return f"consolidation-{period_id}"


def _consolidation_page(period_id: int, failed: FailedForm = NO_FAILURE):
    view = overview.consolidation_view(current_user, period_id,
                                       request.args.get("topic") or request.form.get("topic"))
    # The approver checks what the coordinator changed after the police's review.
    changed = (changes_after_review(view.period)
               if view.state.name == "awaiting_approval" else [])
    return render_template("periods/consolidation.html", view=view,
                           local_topics=overview.LOCAL_TOPICS,
                           guard_description=guard_description,
                           changes_after_review=changed, locks=_locks(view),
                           final_states=CONSOLIDATION_WORKFLOW.definition.final,
                           failed=failed)


def _locks(view) -> list[str]:
    """The areas whose contributions the consolidation's approval makes final."""
    return [block.area.name for block in view.areas
            if block.contribution.state == "consolidated"
            and block.contribution.excluded_reason is None]


@periods.post("/periods/<id:period_id>/consolidation/transition/<trigger>")
@login_required
def consolidation_transition(period_id: int, trigger: str):
    expected_version = forms.expected_version()
    remarks = [request.form.get("remarks", "")]
    period = overview.get_period(period_id)
    if period.consolidation is None:
        raise NotFound(Msg(N_("Period {period} has no consolidation."), period=period_id))
    consolidation_id = period.consolidation.id
    try:
        with operation(current_user):
            consolidations.transition(
                current_user, consolidation_id, trigger, expected_version=expected_version,
                remarks=remarks, comments_confirmed=contribution_pages.comments_confirmed(),
                lock_confirmed=request.form.get("confirm_lock") == "1")
    except LockNotConfirmed as error:
        return _consolidation_page_with_error(period_id, error, trigger, "confirm-lock")
    except CommentsNotConfirmed as error:
        return _consolidation_page_with_error(period_id, error, "comments", None)
    except InvalidInput as error:
        field_id = (_REMARKS_BOX if error.details.get("field") in ("remark", "remarks")
                    else None)
        return _consolidation_page_with_error(period_id, error, trigger, field_id)
    flash(CONSOLIDATION_WORKFLOW.transition(trigger).done(_language()), "success")
    return redirect(url_for("periods.consolidation", period_id=period_id))


@periods.get("/periods/<id:period_id>/consolidation/consolidate-all")
@login_required
def consolidate_all_confirmation(period_id: int):
    """What "consolidate every reviewed contribution" will do, to confirm."""
    period = overview.get_period(period_id)
    try:
        require_bulk_consolidator(current_user, period_id)
    except NotAllowed as refusal:
        refuse(current_user, refusal)
    return render_template("periods/consolidate_all.html", period=period,
                           contributions=consolidations.reviewed_contributions(period_id))


@periods.post("/periods/<id:period_id>/consolidation/consolidate-all")
@login_required
def consolidate_all(period_id: int):
    overview.get_period(period_id)
    try:
        chosen = forms.chosen_versions()
        with operation(current_user):
            done = consolidations.consolidate_all_reviewed(current_user, period_id, chosen)
    except InvalidInput as error:
        return _consolidation_page_with_error(period_id, error, "consolidate-all", None)
    except InvalidTransition as refusal:
        flash(refusal.translated(gettext), "error")
        return redirect(url_for("periods.consolidation", period_id=period_id))
    flash(gettext("Consolidated: %(areas)s.", areas=", ".join(done.consolidated)), "success")
    if done.changed:
        flash(gettext("Left as they were, because they changed after you opened the page: "
                      "%(areas)s. Look at them again and consolidate them one by one.",
                      areas=", ".join(done.changed)), "warning")
    if done.not_listed:
        flash(gettext("Reviewed by the police after you opened the page, so not included: "
                      "%(areas)s.", areas=", ".join(done.not_listed)), "warning")
    return redirect(url_for("periods.consolidation", period_id=period_id))


def _contribution_of(period_id: int, contribution_id: int):
    contribution = contributions.get_contribution(contribution_id)
    if contribution.period_id != period_id:
        raise NotFound(Msg(N_("There is no contribution {id}."), id=contribution_id))
    return contribution


# The consolidation's one remarks box is the return's (the approver's remarks).
_REMARKS_BOX = "remarks-" + next(t.trigger for t in CONSOLIDATION_WORKFLOW.definition.transitions
                                 if t.remarks_required)


def _consolidation_page_with_error(period_id: int, error: InvalidInput, form: str,
                                   field_id: str | None):
    """Back to the consolidation page, which shows what was typed again with the message at
    its field (`field_id`, the id of the field; None: the form as a whole)."""
    db.session.rollback()
    failed = failed_forms.from_error(form, error, field_id)
    return failed_forms.back_to_page(
        _page_key(period_id),
        url_for("periods.consolidation", period_id=period_id,
                _anchor=field_id or "error-summary"),
        failed, lambda shown: _consolidation_page(period_id, shown))


# The coordinator's actions on one area's contribution, from the consolidation page: one route
# per service (the workflow transition; the exclusion), each returning to the page.
@periods.post("/periods/<id:period_id>/contributions/<id:contribution_id>/transition/<trigger>")
@login_required
def contribution_transition(period_id: int, contribution_id: int, trigger: str):
    expected_version = forms.expected_version()
    contribution = _contribution_of(period_id, contribution_id)
    title = contribution.title
    # The same transition as from the contribution's page, with the same inputs: the police
    # return with remarks here too.
    remarks = contribution_pages.remarks_from_form(contribution)
    try:
        with operation(current_user):
            contributions.transition(current_user, contribution_id, trigger,
                                     expected_version=expected_version, remarks=remarks,
                                     reason=request.form.get("reason"),
                                     comments_confirmed=contribution_pages.comments_confirmed())
    except InvalidInput as error:
        if not may_see_consolidation(current_user):
            # Shown where this user can read it (the police cannot see the consolidation
            # page, and refusing them that would hide what was wrong, e.g. missing remarks).
            return contribution_pages.transition_error_page(contribution_id, trigger, error)
        form = f"{trigger}-{contribution_id}"
        field_id = f"reason-{form}" if error.details.get("field") == "reason" else None
        return _consolidation_page_with_error(period_id, error, form, field_id)
    done = CONTRIBUTION_WORKFLOW.transition(trigger).done(_language())
    flash(gettext("%(done)s: %(title)s.", done=done, title=title), "success")
    if not may_see_consolidation(current_user):
        return redirect(url_for("contributions.show", contribution_id=contribution_id))
    return redirect(url_for("periods.consolidation", period_id=period_id))


@periods.post("/periods/<id:period_id>/contributions/<id:contribution_id>/exclusion")
@login_required
def contribution_exclusion(period_id: int, contribution_id: int):
    expected_version = forms.expected_version()
    contribution = _contribution_of(period_id, contribution_id)
    title = contribution.title
    excluding = request.form.get("action") == "exclude"
    try:
        with operation(current_user):
            if excluding:
                contributions.exclude(current_user, contribution_id,
                                      request.form.get("reason", ""),
                                      expected_version=expected_version)
            else:
                contributions.include(current_user, contribution_id,
                                      expected_version=expected_version)
    except InvalidInput as error:
        form = f"exclude-{contribution_id}"
        field_id = form if error.details.get("field") == "reason" else None
        return _consolidation_page_with_error(period_id, error, form, field_id)
    message = (gettext("Excluded from the consolidation: %(title)s.", title=title) if excluding
               else gettext("Included in the consolidation again: %(title)s.", title=title))
    flash(message, "success")
    return redirect(url_for("periods.consolidation", period_id=period_id))


@periods.get("/workflows")
@login_required
def workflows():
    lang = _language()
    shown = []
    for workflow in (CONTRIBUTION_WORKFLOW, CONSOLIDATION_WORKFLOW):
        shown.append({
            "workflow": workflow,
            "title": gettext(WORKFLOW_TITLES[workflow.name]),
            "diagram": arc_diagram(workflow, lang, role_label, gettext("the system")),
            "by_role": {role: transitions
                        for role, transitions in workflow.triggers_by_role().items()
                        if transitions},
            "editors": workflow.definition.editors,
        })
    return render_template("periods/workflows.html", shown=shown, role_label=role_label,
                           guard_description=guard_description)
