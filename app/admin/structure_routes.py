"""The administrator's pages for the lägesbild's structure: topics (/admin/topics: rename,
reorder, retire, reinstate) and periods (/admin/periods: open with deadlines and carry-forward,
move deadlines). Admins only. Thin: parse the form, call one operation in app.admin.structure,
commit, redirect; a refused form comes back with what was typed and the message by its field."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.admin import structure
from app.admin.operations import DEADLINE_LABELS
from app.core import parsing
from app.core.access import deny, roles_for
from app.core.errors import DomainError, InvalidInput, InvalidTransition, StaleVersion
from app.core.messages import N_, Msg
from app.core.unit_of_work import operation, refuse
from app.extensions import db, login_manager
from app.models import Area, Period, Role, Topic, TopicScope

admin_structure = Blueprint("admin_structure", __name__, url_prefix="/admin",
                            template_folder="templates")

PERIODS_PER_PAGE = 20
DEADLINE_FIELD_LABELS = {
    "drafting_deadline": N_("Drafting deadline"),
    "review_deadline": N_("Review deadline"),
    "consolidation_deadline": N_("Consolidation deadline"),
    "approval_deadline": N_("Approval deadline"),
}
assert list(DEADLINE_FIELD_LABELS) == list(DEADLINE_LABELS)


def is_admin(user) -> bool:
    return bool(user.is_authenticated and Role.ADMIN in roles_for(user, None))


@admin_structure.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not is_admin(current_user):
        refuse(current_user, deny(Msg(N_("Only an administrator may do this.")),
                                  action="admin.view"))
    return None


class FormErrors(dict):
    """Field name -> translated message; "" holds a message that belongs to no one field."""

    def add(self, error: DomainError) -> None:
        self[error.details.get("field") or ""] = error.translated(gettext)


def _render_form(template: str, errors: FormErrors, status: int = 400, **context):
    db.session.rollback()  # nothing of a refused change stays in the session
    return render_template(template, errors=errors, form=request.form, **context), \
        status if errors else 200


def _expected_version() -> int:
    """The version of the topic or period the form showed (a hidden field): a change made
    against an older one is refused (StaleVersion), never applied over someone else's."""
    # 0 is older than any version (they start at 1), as in app.web.forms.expected_version.
    version = parsing.whole_number(request.form.get("expected_version"), 0, parsing.MAX_ID)
    if version is None:
        raise InvalidInput(Msg(N_("The form lacks the version you saw. Reload the page and try "
                                  "again.")))
    return version


# -- topics --------------------------------------------------------------------------------

def _topics_page(errors: FormErrors | None = None, status: int = 200):
    city = db.session.scalars(select_city_topics()).all()
    areas = [(area, structure.area_topics(area.id))
             for area in db.session.scalars(db.select(Area).order_by(Area.name))]
    return render_template("admin_structure/topics.html", city_topics=city, areas=areas,
                           errors=errors or FormErrors()), status


def select_city_topics():
    return db.select(Topic).where(Topic.scope == TopicScope.CITY).order_by(Topic.number)


@admin_structure.get("/topics")
def topics():
    return _topics_page()


@admin_structure.route("/topics/<id:topic_id>/rename", methods=["GET", "POST"])
def rename_topic(topic_id: int):
    topic = structure.get_topic(topic_id)
    context = {"topic": topic, "approved_uses": structure.approved_use_count(topic)}
    if request.method == "GET":
        return _render_form("admin_structure/rename.html", FormErrors(), **context)
    old_title = topic.heading
    try:
        with operation(current_user):
            renamed = structure.rename_topic(current_user, topic_id,
                                             request.form.get("title", ""),
                                             expected_version=_expected_version())
            new_title = renamed.heading
    except (InvalidInput, StaleVersion) as error:
        errors = FormErrors()
        errors.add(error)
        return _render_form("admin_structure/rename.html", errors, error.http_status,
                            **{**context, "topic": structure.get_topic(topic_id)})
    flash(gettext("“%(old)s” is now called “%(new)s”.", old=old_title, new=new_title),
          "success")
    return redirect(url_for("admin_structure.topics", _anchor=f"topic-{topic_id}"))


@admin_structure.post("/topics/<id:topic_id>/move")
def move_topic(topic_id: int):
    try:
        with operation(current_user):
            topic = structure.move_topic(current_user, topic_id,
                                         request.form.get("direction", ""),
                                         expected_version=_expected_version())
            title = topic.title
    except (InvalidInput, StaleVersion) as error:
        errors = FormErrors()
        errors.add(error)
        # Shown here, at the move's address: the language switch goes to the topics page.
        g.page_url = url_for("admin_structure.topics")
        return _topics_page(errors, error.http_status)
    flash(gettext("“%(title)s” was moved.", title=title), "success")
    return redirect(url_for("admin_structure.topics", _anchor=f"topic-{topic_id}"))


@admin_structure.route("/topics/<id:topic_id>/retire", methods=["GET", "POST"])
def retire_topic(topic_id: int):
    topic = structure.get_topic(topic_id)
    if request.method == "GET":
        return render_template("admin_structure/retire.html", topic=topic,
                               in_progress=structure.sections_in_progress(topic),
                               approved_uses=structure.approved_use_count(topic))
    heading = topic.heading
    with operation(current_user):
        kept = structure.retire_topic(current_user, topic_id,
                                      expected_version=_expected_version())
    flash(gettext("“%(title)s” is retired: periods opened from now on leave it out.",
                  title=heading), "success")
    if kept:
        flash(gettext("Contributions not yet approved that keep its section: %(num)s.",
                      num=len(kept)), "info")
    return redirect(url_for("admin_structure.topics", _anchor=f"topic-{topic_id}"))


@admin_structure.post("/topics/<id:topic_id>/reinstate")
def reinstate_topic(topic_id: int):
    with operation(current_user):
        topic = structure.reinstate_topic(current_user, topic_id,
                                          expected_version=_expected_version())
        heading = topic.heading
    flash(gettext("“%(title)s” is in use again: periods opened from now on include it.",
                  title=heading), "success")
    return redirect(url_for("admin_structure.topics", _anchor=f"topic-{topic_id}"))


# -- periods -------------------------------------------------------------------------------

@admin_structure.get("/periods")
def periods():
    page = parsing.parse_whole_number(request.args.get("page"), field="page") or 1
    total = db.session.scalar(db.select(db.func.count()).select_from(Period))
    pages = max(1, -(-total // PERIODS_PER_PAGE))
    if page > pages:
        raise InvalidInput(Msg(N_("There is no page {page}: the list has {pages}."),
                               page=page, pages=pages))
    shown = db.session.scalars(db.select(Period).order_by(Period.id.desc())
                               .offset((page - 1) * PERIODS_PER_PAGE)
                               .limit(PERIODS_PER_PAGE)).all()
    return render_template("admin_structure/periods.html", periods=shown, page=page,
                           pages=pages, total=total, deadline_labels=DEADLINE_FIELD_LABELS,
                           consolidation_state=_consolidation_state)


def _consolidation_state(period: Period) -> str:
    from flask_babel import get_locale

    from workflows import CONSOLIDATION_WORKFLOW

    state = period.consolidation.state if period.consolidation else "open"
    return CONSOLIDATION_WORKFLOW.state(state).label(str(get_locale() or "sv"))


def _deadlines_from_form(errors: FormErrors) -> dict:
    deadlines = {}
    for name, label in DEADLINE_FIELD_LABELS.items():
        try:
            day = parsing.parse_date(request.form.get(name), field=gettext(label))
        except InvalidInput as error:
            errors[name] = error.translated(gettext)
            continue
        if day is None:
            errors[name] = gettext("Give a date (YYYY-MM-DD).")
        deadlines[name] = day
    return deadlines


@admin_structure.route("/periods/new", methods=["GET", "POST"])
def open_period():
    context = {"deadline_labels": DEADLINE_FIELD_LABELS}
    if request.method == "GET":
        return _render_form("admin_structure/open_period.html", FormErrors(), **context)
    errors = FormErrors()
    deadlines = _deadlines_from_form(errors)
    carry = request.form.get("carry_forward") == "1"
    if errors:
        return _render_form("admin_structure/open_period.html", errors, **context)
    try:
        with operation(current_user):
            opened = structure.open_period(current_user, request.form.get("name", ""),
                                           **deadlines, carry_forward=carry)
            name, areas = opened.period.name, len(opened.period.contributions)
            carried = opened.carried
    except InvalidInput as error:
        errors.add(error)
        return _render_form("admin_structure/open_period.html", errors, **context)
    flash(gettext("%(name)s is open, with a draft contribution for each area (%(num)s).",
                  name=name, num=areas), "success")
    if carried is not None and carried.filled:
        flash(gettext("Last approved texts carried forward: %(count)s sections filled in "
                      "%(areas)s.", count=carried.total, areas=", ".join(carried.filled)),
              "info")
    elif carried is not None:
        flash(gettext("No texts were carried forward: no area has an approved lägesbild "
                      "before this period."), "info")
    return redirect(url_for("admin_structure.periods"))


@admin_structure.route("/periods/<id:period_id>/deadlines", methods=["GET", "POST"])
def move_deadlines(period_id: int):
    period = structure.get_period(period_id)
    context = {"period": period, "deadline_labels": DEADLINE_FIELD_LABELS,
               "current": {name: getattr(period, name).isoformat()
                           for name in DEADLINE_FIELD_LABELS}}
    if request.method == "GET":
        return _render_form("admin_structure/deadlines.html", FormErrors(), **context)
    errors = FormErrors()
    deadlines = _deadlines_from_form(errors)
    if errors:
        return _render_form("admin_structure/deadlines.html", errors, **context)
    try:
        with operation(current_user):
            name = structure.move_deadlines(current_user, period_id, **deadlines,
                                            expected_version=_expected_version()).name
    except (InvalidInput, InvalidTransition, StaleVersion) as error:
        errors.add(error)
        return _render_form("admin_structure/deadlines.html", errors, error.http_status,
                            **{**context, "period": structure.get_period(period_id)})
    flash(gettext("The deadlines of %(name)s were moved.", name=name), "success")
    return redirect(url_for("admin_structure.periods"))
