"""Auditors' pages: the event log, a contribution's history, revision comparison, "as of",
provenance, chain verification and exports. Auditors change nothing: every page is a GET,
recorded as audit.view; each export is recorded as audit.export, and a verification run (the
one POST, which only reads the chain) as audit.verify."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale, gettext
from flask_login import current_user, login_required

from app.audit import export as audit_export
from app.audit import history as audit_history
from app.audit import labels as audit_labels
from app.audit import query as audit_query
from app.audit.policy import require_auditor
from app.audit.verify import verify_chain
from app.audit.witness import app_witness
from app.audit.witnessed import verify_against_witness
from app.core import paging, parsing
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.core.unit_of_work import operation
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW

audit = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")


def _seq_arg(name: str) -> int | None:
    """An event number for paging (before_seq, after_seq): what the seq column can hold."""
    return parsing.parse_id(request.args.get(name), field=name)


def _filter_args() -> dict[str, str]:
    return {name: request.args.get(name, "") for name in audit_query.FILTER_FIELDS
            if request.args.get(name, "").strip()}


def _show_codes() -> bool:
    """The auditor asked to see the raw codes (?codes=1) beside the labels."""
    return request.args.get("codes") == "1"


@audit.get("/")
@login_required
def log():
    event_filter = audit_query.parse_filter(request.args)
    search = audit_query.parse_search(request.args)
    with operation(current_user):
        view = audit_query.browse_log(current_user, event_filter,
                                      before_seq=_seq_arg("before_seq"),
                                      after_seq=_seq_arg("after_seq"), search=search)
    return render_template("audit/log.html", view=view, args=_filter_args(),
                           codes=_show_codes())


@audit.get("/export.<export_format>")
@login_required
def export(export_format: str):
    """The export, built whole before its first byte is sent and recorded only then: an export
    that fails is an error page, never a 200 cut off half-way, and never an audit.export for a
    file nobody got."""
    event_filter = audit_query.parse_filter(request.args)
    with operation(current_user):
        ticket = audit_export.prepare_export(current_user, event_filter, export_format)
    if request.method == "HEAD":  # asks about the file without getting it: nothing to record
        return Response(mimetype=ticket.mimetype)
    built = audit_export.build_export(ticket)  # a read: no write transaction held meanwhile
    try:
        with operation(current_user):
            audit_export.record_export(current_user, ticket, built)
    except BaseException:
        built.file.close()
        raise
    response = send_file(built.file, mimetype=ticket.mimetype, max_age=0)
    response.headers["Content-Disposition"] = f'attachment; filename="{ticket.filename}"'
    return response


@audit.get("/contributions/<id:contribution_id>")
@login_required
def history(contribution_id: int):
    with operation(current_user):
        view = audit_history.contribution_history(
            current_user, contribution_id,
            before=paging.parse_cursor(request.args.get("before"), (int,), field="before"),
            after=paging.parse_cursor(request.args.get("after"), (int,), field="after"),
            last=request.args.get("last") == "1")
    return render_template("audit/history.html", view=view, codes=_show_codes())


@audit.get("/sections/<id:section_id>/compare")
@login_required
def compare(section_id: int):
    numbers = []
    for name in ("from", "to"):
        number = parsing.whole_number(request.args.get(name), 1, parsing.MAX_ID)
        if number is None:
            raise InvalidInput(Msg(N_("Choose two revisions to compare.")))
        numbers.append(number)
    with operation(current_user):
        view = audit_history.compare_revisions(current_user, section_id, *numbers)
    return render_template("audit/compare.html", view=view)


@audit.get("/contributions/<id:contribution_id>/as-of")
@login_required
def as_of(contribution_id: int):
    value = request.args.get("at", "").strip()
    moment = parsing.parse_local_moment(value, field="at")
    if moment is None:
        moment = datetime.now(UTC)
    with operation(current_user):
        view = audit_history.contribution_as_of(current_user, contribution_id, moment)
    return render_template("audit/as_of.html", view=view, at=value, codes=_show_codes())


@audit.get("/contributions/<id:contribution_id>/provenance")
@login_required
def provenance(contribution_id: int):
    with operation(current_user):
        view = audit_history.provenance(current_user, contribution_id)
    return render_template("audit/provenance.html", view=view, codes=_show_codes())


@audit.get("/verify")
@login_required
def verify():
    """The last verification run and its result; visiting does not recompute the chain."""
    with operation(current_user):
        audit_export.record_verification_view(current_user)
    return render_template("audit/verify.html", last=audit_export.last_verification())


@audit.post("/verify")
@login_required
def run_verification():
    """Recompute the chain now, check it against the witness, and log the result
    (audit.verify): an auditor's read, like every page here, that appends to the trail and
    changes nothing else."""
    with operation(current_user):
        require_auditor(current_user, audit_export.VERIFY_ACTION)
    # Outside the write transaction: a long read must not hold up everyone's changes.
    witness = app_witness()
    if witness.store is None:
        result = verify_chain()
    else:
        result = verify_against_witness(witness.store, witness.key.public_key,
                                        witness.grace_seconds)
    with operation(current_user):
        audit_export.record_verification(current_user, result)
    return redirect(url_for("audit.verify"), code=303)


@audit.app_template_global("audit_url")
def audit_url(endpoint: str, args: dict, **extra) -> str:
    """A URL keeping the current filters, plus `extra` (None removes a key)."""
    merged = {**args, **extra}
    return url_for(endpoint, **{k: v for k, v in merged.items() if v not in (None, "")})


CAUSE_LABELS = {
    "edit": N_("Drafter's edit"),
    "consolidation_edit": N_("Coordinator's edit"),
    "import": N_("Import"),
    "carry_forward": N_("Carried forward"),
}


@audit.app_template_global("audit_cause_label")
def cause_label(cause: str) -> str:
    return gettext(CAUSE_LABELS[cause]) if cause in CAUSE_LABELS else cause


@audit.app_template_global("audit_action_label")
def action_label(action: str | None) -> str:
    return audit_labels.action_label(action)


@audit.app_template_global("audit_object_name")
def object_name(names: dict, object_type: str | None, object_id) -> str:
    return audit_labels.object_name(names, object_type, object_id)


@audit.app_template_global("audit_state_label")
def state_label(name: str) -> str:
    language = str(get_locale() or "sv")
    for workflow in (CONTRIBUTION_WORKFLOW, CONSOLIDATION_WORKFLOW):
        try:
            return workflow.state(name).label(language)
        except KeyError:
            continue
    return name


@audit.app_template_global("audit_event_details")
def event_details(event) -> dict:
    """An event's data, with the why (reason, remarks) pulled out to show at once."""
    try:
        data = json.loads(event.data or "{}")
    except ValueError:
        data = {"unreadable": event.data}
    remarks = data.get("remarks") if isinstance(data, dict) else None
    attempted = data.get("attempted") if isinstance(data, dict) else None
    return {
        "attempted": attempted if isinstance(attempted, str) else None,
        "data": data,
        "pretty": json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True),
        "reason": data.get("reason") if isinstance(data, dict) else None,
        "remarks": [r.get("text") for r in remarks if isinstance(r, dict) and r.get("text")]
        if isinstance(remarks, list) else [],
    }
