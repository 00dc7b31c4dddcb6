"""Documents in the web interface: print views, DOCX and PDF downloads, the verifier, import
with a mapping preview, carry-forward, cross-references. Views parse input, call one service,
redirect."""
from __future__ import annotations

import io
import re
from datetime import date

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.contributions.loading import contribution_options
from app.contributions.policy import editor_for
from app.contributions.presenters import status_label
from app.core import paging
from app.core.errors import InvalidInput, NotAllowed
from app.core.parsing import MAX_ID, whole_number
from app.core.text_rules import refuse_identity_numbers
from app.core.unit_of_work import operation, refuse
from app.documents import carry_forward as carry
from app.documents import cross_references, pending, policy
from app.documents import export as documents_export
from app.documents import importer as documents_import
from app.documents import verify as documents_verify
from app.documents.docx_format import MAX_FILE_BYTES, footer_text
from app.extensions import db
from app.models import Area, Contribution, Period, TopicScope
from app.web import forms
from workflows import CONSOLIDATION_WORKFLOW

documents = Blueprint("documents", __name__, template_folder="templates",
                      static_folder="static", static_url_path="/documents-static")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _user():
    return current_user._get_current_object()


def _readable(loader, *args):
    """Load for reading; a refusal is raised inside an operation so that it is recorded as a
    security event (as for refused writes), while an allowed read opens no write transaction."""
    try:
        return loader(_user(), *args)
    except NotAllowed as refusal:
        refuse(_user(), refusal)


def _state_label(contribution: Contribution, language: str) -> str:
    return status_label(contribution, language)


def _language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "sv")


# --------------------------------------------------------------------------------------------
# Overview
# --------------------------------------------------------------------------------------------

# Periods per page of the documents index: a city's period lists every area with its print
# view and two downloads (about 60 KB of HTML at 50 areas), so a page stays well under 200 KB
# however many periods there are; the newest two are the ones people look for.
PERIODS_PER_PAGE = 2
PERIOD_KEY = (Period.approval_deadline, Period.id)


def _periods_page(before, after, last) -> paging.Page:
    """One page of periods, newest first by approval deadline (keyset paging)."""
    def fetch(conditions, newest_first, limit):
        order = [column.desc() if newest_first else column.asc() for column in PERIOD_KEY]
        return list(db.session.scalars(
            select(Period).where(*conditions).options(selectinload(Period.consolidation))
            .order_by(*order).limit(limit)))

    def exists(conditions):
        return db.session.scalar(select(Period.id).where(*conditions).limit(1)) is not None

    return paging.keyset_page(fetch, exists, PERIOD_KEY,
                              lambda p: (p.approval_deadline, p.id), before=before,
                              after=after, last=last, size=PERIODS_PER_PAGE)


@documents.get("/documents/")
@login_required
def index():
    user = _user()
    kinds = (date, int)
    page = _periods_page(paging.parse_cursor(request.args.get("before"), kinds, field="before"),
                         paging.parse_cursor(request.args.get("after"), kinds, field="after"),
                         request.args.get("last") == "1")
    by_period: dict[int, list[Contribution]] = {p.id: [] for p in page.items}
    for contribution in db.session.scalars(  # the page's contributions in one query
            select(Contribution).where(Contribution.period_id.in_(list(by_period)))
            .options(*contribution_options())).unique():
        by_period[contribution.period_id].append(contribution)
    city_reader = policy.may_read_period(user)
    may_carry = policy.allowed_area_ids(user)
    rows = []
    for period in page.items:
        contributions = sorted(by_period[period.id], key=lambda c: c.area.name)
        readable = [c for c in contributions if policy.may_read_contribution(user, c)]
        carry_areas = [c for c in contributions if c.state == "draft"
                       and (may_carry is None or c.area_id in may_carry)]
        if readable or city_reader or carry_areas:
            rows.append({"period": period, "contributions": readable,
                         "may_carry": bool(carry_areas)})
    return render_template(
        "documents/index.html", rows=rows, city_reader=city_reader, page=page,
        may_import=policy.may_import(user),
        state_label=lambda c: _state_label(c, _language()),
        consolidation_label=lambda p: status_label(p.consolidation, _language())
        if p.consolidation else CONSOLIDATION_WORKFLOW.state("open").label(_language()))


# --------------------------------------------------------------------------------------------
# Print views
# --------------------------------------------------------------------------------------------

def _print_view(content, object_type: str, object_id: int, export_urls: dict, print_url: str):
    """The print view; with ?fingerprint= of a print export of this document whose content is
    still what it bound, the fingerprint and audit head it printed with (else it says why
    not, and offers to print again)."""
    fingerprint = (request.args.get("fingerprint") or "").strip().lower()
    printed, current = None, False
    if fingerprint:
        printed, current = documents_export.printed_export(content, object_type, object_id,
                                                           fingerprint)
    footer = (footer_text(content, printed.occurred_at, fingerprint)
              if printed is not None and current else None)
    return render_template("documents/print.html", content=content, export_urls=export_urls,
                           print_url=print_url, footer=footer, asked=bool(fingerprint),
                           printed=printed, current=current)


@documents.get("/contributions/<id:contribution_id>/print")
@login_required
def print_contribution(contribution_id: int):
    contribution = _readable(policy.readable_contribution, contribution_id,
                             "document.print")
    content = documents_export.contribution_content(contribution)
    return _print_view(content, "contribution", contribution.id, {
        document_format: url_for(".export_contribution", contribution_id=contribution.id,
                                 document_format=document_format)
        for document_format in documents_export.FORMATS},
        url_for(".print_contribution_export", contribution_id=contribution.id))


@documents.get("/periods/<id:period_id>/print")
@login_required
def print_period(period_id: int):
    period = _readable(policy.readable_period, period_id, "document.print")
    content = documents_export.period_content(period)
    return _print_view(content, "period", period.id, {
        document_format: url_for(".export_period", period_id=period.id,
                                 document_format=document_format)
        for document_format in documents_export.FORMATS},
        url_for(".print_period_export", period_id=period.id))


@documents.post("/contributions/<id:contribution_id>/print")
@login_required
def print_contribution_export(contribution_id: int):
    """Print with a fingerprint: an export event as for a file (outside an operation: it
    records its own), then the print view showing it (post/redirect/get)."""
    exported = documents_export.export_contribution(_user(), contribution_id,
                                                    documents_export.PRINT_FORMAT)
    return redirect(url_for(".print_contribution", contribution_id=contribution_id,
                            fingerprint=exported.fingerprint), 303)


@documents.post("/periods/<id:period_id>/print")
@login_required
def print_period_export(period_id: int):
    exported = documents_export.export_period(_user(), period_id,
                                              documents_export.PRINT_FORMAT)
    return redirect(url_for(".print_period", period_id=period_id,
                            fingerprint=exported.fingerprint), 303)


# --------------------------------------------------------------------------------------------
# DOCX and PDF downloads (POST: each export is an audit event carrying its fingerprint)
# --------------------------------------------------------------------------------------------

def _send(exported: documents_export.ExportedDocument):
    return send_file(io.BytesIO(exported.data), mimetype=exported.mimetype, as_attachment=True,
                     download_name=exported.filename, max_age=0)


@documents.post("/contributions/<id:contribution_id>/export.<any(docx, pdf):document_format>")
@login_required
def export_contribution(contribution_id: int, document_format: str):
    user = _user()
    # Outside an operation: the export records its own audit event after rendering.
    exported = documents_export.export_contribution(user, contribution_id, document_format)
    return _send(exported)


@documents.post("/periods/<id:period_id>/export.<any(docx, pdf):document_format>")
@login_required
def export_period(period_id: int, document_format: str):
    user = _user()
    exported = documents_export.export_period(user, period_id, document_format)  # as above
    return _send(exported)


# --------------------------------------------------------------------------------------------
# Carry-forward
# --------------------------------------------------------------------------------------------

@documents.post("/periods/<id:period_id>/carry-forward")
@login_required
def carry_forward(period_id: int):
    user = _user()
    area_id = forms.form_id("area_id")
    with operation(user):
        result = carry.carry_forward(user, period_id, area_id)
    if result.total:
        flash(gettext("%(count)s sections now start from last period's approved texts.",
                      count=result.total), "success")
    else:
        flash(gettext("No section was filled: there were no empty sections with an approved "
                      "text from an earlier period."), "info")
    return redirect(url_for(".index"))


# --------------------------------------------------------------------------------------------
# Cross-references
# --------------------------------------------------------------------------------------------

@documents.get("/contributions/<id:contribution_id>/cross-references")
@login_required
def cross_reference_form(contribution_id: int):
    user = _user()
    contribution = _readable(policy.readable_contribution, contribution_id,
                             "section.cross_reference")
    editor = editor_for(user, contribution)
    sections = contribution.ordered_sections
    return render_template(
        "documents/cross_references.html", contribution=contribution, may_edit=editor is not None,
        city_sections=[s for s in sections if s.topic.scope == TopicScope.CITY],
        local_topics=[s.topic for s in sections if s.topic.scope == TopicScope.LOCAL],
        sentence=cross_references.sentence_for,
        multiple_locals=sum(1 for s in sections if s.topic.scope == TopicScope.LOCAL) > 1)


@documents.post("/sections/<id:section_id>/cross-reference")
@login_required
def set_cross_reference(section_id: int):
    user = _user()
    local_topic_id = forms.form_id("local_topic_id")
    second_topic_id = forms.form_id("second_topic_id")
    version = forms.form_id("version")
    with operation(user):
        section = cross_references.set_cross_reference(user, section_id, local_topic_id,
                                                       version, second_topic_id)
        contribution_id = section.contribution_id
    flash(gettext("The cross-reference was saved."), "success")
    return redirect(url_for(".cross_reference_form", contribution_id=contribution_id))


# --------------------------------------------------------------------------------------------
# Verify an exported file (DOCX or PDF): reads only, writes nothing
# --------------------------------------------------------------------------------------------

def _verify_form(report=None, error: str | None = None, status: int = 200,
                 fingerprint_error: str | None = None, typed: str = ""):
    return render_template("documents/verify.html", report=report, error=error,
                           fingerprint_error=fingerprint_error, typed=typed), status


def _only_to_readers(report) -> None:
    """The report shows the system's texts and who approved them: only to one who may read
    the lägesbild the file was exported from (a refusal is a security event)."""
    if report.exported_from is not None:
        object_type, object_id = report.exported_from
        loader = (policy.readable_contribution if object_type == "contribution"
                  else policy.readable_period)
        _readable(loader, int(object_id), "document.verify")


@documents.get("/documents/verify")
@login_required
def verify_form():
    return _verify_form()


@documents.post("/documents/verify")
@login_required
def verify_upload():
    if (request.content_length or 0) > MAX_FILE_BYTES + 1024 * 1024:
        return _verify_form(error=gettext("The file is larger than %(limit)s MB.",
                                          limit=MAX_FILE_BYTES // 2**20), status=400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _verify_form(error=gettext("Choose a file to verify."), status=400)
    try:
        report = documents_verify.verify_document(upload.stream.read(MAX_FILE_BYTES + 1))
    except InvalidInput as error:
        return _verify_form(error=error.translated(gettext), status=400)
    _only_to_readers(report)
    return _verify_form(report)


@documents.post("/documents/verify/fingerprint")
@login_required
def verify_typed_fingerprint():
    """A fingerprint read off paper: what it binds, and whether the texts are still those."""
    typed = (request.form.get("fingerprint") or "")[:400]
    try:
        report = documents_verify.verify_fingerprint(typed)
    except InvalidInput as error:
        return _verify_form(fingerprint_error=error.translated(gettext), status=400,
                            typed=typed)
    _only_to_readers(report)
    return _verify_form(report, typed=typed)


# --------------------------------------------------------------------------------------------
# Import: upload -> preview (mapping) -> confirm
# --------------------------------------------------------------------------------------------

def _require_importer():
    user = _user()
    try:
        policy.require_importer(user)
    except NotAllowed as refusal:
        refuse(user, refusal)
    return user


def _areas():
    return db.session.scalars(select(Area).order_by(Area.name)).all()


def _upload_form(error: str | None = None, status: int = 200, **values):
    return render_template("documents/import_upload.html", areas=_areas(), error=error,
                           values=values), status


@documents.get("/documents/import")
@login_required
def import_form():
    _require_importer()
    return _upload_form()


@documents.post("/documents/import")
@login_required
def import_preview():
    _require_importer()
    # A body over MAX_CONTENT_LENGTH is refused (413) as it is read; one between that and
    # the import's own limit gets the form's message.
    if (request.content_length or 0) > MAX_FILE_BYTES + 1024 * 1024:
        return _upload_form(gettext("The file is larger than %(limit)s MB.",
                                    limit=MAX_FILE_BYTES // 2**20), 400)
    try:
        area_id = forms.form_id("area_id")
    except InvalidInput:
        area_id = None  # asked for below, as when none was chosen
    period_name = " ".join(request.form.get("period", "").split())
    values = {"area_id": area_id, "period": period_name}
    upload = request.files.get("file")
    area = db.session.get(Area, area_id) if area_id else None
    if area is None:
        return _upload_form(gettext("Choose the area the document belongs to."), 400, **values)
    if not period_name:
        return _upload_form(gettext("Give the period's name, e.g. \"december 2022\"."), 400,
                            **values)
    if upload is None or not upload.filename:
        return _upload_form(gettext("Choose a file to import."), 400, **values)
    data = upload.stream.read(MAX_FILE_BYTES + 1)
    try:
        refuse_identity_numbers(upload.filename, field="filename",
                                what=documents_import.FILE_NAME)
        proposal = documents_import.propose(data, area, period_name)
    except InvalidInput as error:
        return _upload_form(error.translated(gettext), 400, **values)
    pending.keep(_user(), proposal.source_sha256, data)
    return _preview(proposal, area, period_name, upload.filename,
                    documents_import.Choices(dict(proposal.proposed)))


def _draft_periods(area: Area) -> list[Period]:
    """Periods where the area's contribution is still a draft: the import can start them."""
    return list(db.session.scalars(
        select(Period).join(Contribution, Contribution.period_id == Period.id)
        .where(Contribution.area_id == area.id, Contribution.state == "draft")
        .order_by(Period.approval_deadline.desc())))


def _preview(proposal, area, period_name, filename, choices, error=None, status=200):
    existing_period = db.session.scalar(select(Period).where(Period.name == period_name))
    chosen = {block.id: choices.blocks.get(block.id) for block in proposal.blocks}
    warnings = proposal.warnings + documents_import.reference_warnings(proposal, chosen)
    return render_template("documents/import_preview.html", proposal=proposal, area=area,
                           period_name=period_name, filename=filename, chosen=chosen,
                           included=set(choices.include), warnings=warnings,
                           discard=documents_import.DISCARD,
                           creates_period=existing_period is None, error=error,
                           draft_periods=_draft_periods(area)), status


def _line_numbers(raw: str) -> list[int]:
    return [number for part in raw.split(",")
            if (number := whole_number(part.strip(), 2, 10_000)) is not None]


def _choices_from_form(source: str) -> documents_import.Choices:
    """The preview's form as the person's choices: a target per block ("block-<id>"), the
    existing local topics to include ("include"), the rows' splits ("splits-<row id>")."""
    form = request.form
    blocks = {key[len("block-"):]: value or None for key, value in form.items()
              if key.startswith("block-")}
    splits = {key[len("splits-"):]: _line_numbers(value) for key, value in form.items()
              if key.startswith("splits-")}
    return documents_import.Choices(blocks, form.getlist("include"), splits, source)


def _pending_import():
    """The upload and the preview's fields the confirmation and a revision carry."""
    user = _require_importer()
    source = request.form.get("source_sha256", "")
    area_id = whole_number(request.form.get("area_id"), 1, MAX_ID)
    area = db.session.get(Area, area_id) if area_id else None
    period_name = " ".join(request.form.get("period", "").split())
    filename = request.form.get("filename", "")[:200]
    data = pending.find(user, source) if _SHA256.match(source) else None
    return user, source, area, period_name, filename, data


@documents.post("/documents/import/revise")
@login_required
def import_revise():
    """The preview again with a row split where the person chose (or the warnings checked
    against the texts as now placed); nothing is stored."""
    _, source, area, period_name, filename, data = _pending_import()
    if data is None or area is None:
        return _upload_form(gettext("The uploaded file is no longer available. Upload it "
                                    "again."), 400)
    choices = _choices_from_form(source)
    split_block = request.form.get("split", "")
    error = None
    if split_block:
        row_id = split_block.split(".", 1)[0]
        at = whole_number(request.form.get(f"split_at-{split_block}", ""), 2, 10_000)
        if at is None:
            error = gettext("Choose the line where the second part starts.")
        else:
            # The line is counted within the block; the row's lines are what the split keeps.
            first = whole_number(split_block.split(".", 1)[1], 2, 10_000) \
                if "." in split_block else 1
            choices.splits.setdefault(row_id, []).append((first or 1) + at - 1)
    try:
        proposal = documents_import.propose(data, area, period_name, choices.splits)
    except InvalidInput as refused:
        return _upload_form(refused.translated(gettext), 400)
    for block in proposal.blocks:
        # A new part starts where its row's text was proposed to go.
        row_id = block.id.split(".", 1)[0]
        if block.id not in choices.blocks:
            choices.blocks[block.id] = choices.blocks.get(row_id) or proposal.proposed[block.id]
    return _preview(proposal, area, period_name, filename, choices, error,
                    400 if error else 200)


@documents.post("/documents/import/confirm")
@login_required
def import_confirm():
    user, source, area, period_name, filename, data = _pending_import()
    if data is None or area is None:
        return _upload_form(gettext("The uploaded file is no longer available. Upload it "
                                    "again."), 400)
    choices = _choices_from_form(source)
    carry_into = forms.form_id("carry_forward_period_id")
    try:
        with operation(user):
            result = documents_import.import_document(user, data, filename, area.name,
                                                      period_name, choices)
            contribution_id = result.contribution.id
            pending.forget(user, source)
            if carry_into:
                # The same unit of work: imported history and the draft started from it.
                carry.carry_forward(user, carry_into, area.id)
    except InvalidInput as error:
        try:
            proposal = documents_import.propose(data, area, period_name, choices.splits)
        except InvalidInput:
            return _upload_form(error.translated(gettext), 400)
        return _preview(proposal, area, period_name, filename, choices,
                        error.translated(gettext), 400)
    flash(gettext("The document was imported as the lägesbild of %(area)s for %(period)s, "
                  "marked imported: approved outside the system.", area=area.name,
                  period=period_name), "success")
    return redirect(url_for(".print_contribution", contribution_id=contribution_id))

