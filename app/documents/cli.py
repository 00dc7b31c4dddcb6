"""`flask --app app documents ...`: export, verify, import, carry-forward."""
from __future__ import annotations

import json
import shutil
import sys
import textwrap
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from app.admin.cli import run_as_command_line
from app.contributions.snapshot import seal_snapshots
from app.core.command_line import run_reading_as_command_line
from app.core.errors import DomainError
from app.core.messages import Msg
from app.core.text_rules import refuse_identity_numbers
from app.documents import carry_forward as carry
from app.documents import export as documents_export
from app.documents import importer as documents_import
from app.documents import verify as document_verify
from app.extensions import db
from app.models import Area, Contribution, Period

documents_cli = AppGroup("documents", help="Export, verify and import lägesbild documents.")


def _period(name: str) -> Period:
    period = db.session.scalar(select(Period).where(Period.name == name))
    if period is None:
        known = ", ".join(db.session.scalars(select(Period.name).order_by(Period.id)))
        raise click.ClickException(f"Unknown period '{name}'. Known: {known or 'none'}.")
    return period


def _area(name: str) -> Area:
    try:
        return documents_import.find_area(name)
    except DomainError as error:
        raise click.ClickException(error.message) from error


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise click.ClickException(f"Cannot read {path}: {error.strerror}.") from error


@documents_cli.command("export")
@click.option("--period", required=True, help="The period's name, e.g. \"december 2022\".")
@click.option("--area", default=None, help="One area's lägesbild; without it, the period's "
                                          "consolidated lägesbild.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="The file to write.")
@click.option("--format", "document_format", type=click.Choice(sorted(documents_export.FORMATS)),
              default=None, help="docx or pdf (archival PDF/A); default: the --out file's "
                                 "extension, else docx.")
def export(period, area, out, document_format):
    """Export a lägesbild as DOCX or PDF/A (writes an audit event with its fingerprint)."""
    if document_format is None:
        suffix = Path(out).suffix.lower().lstrip(".")
        document_format = suffix if suffix in documents_export.FORMATS else "docx"
    target_period = _period(period)
    if area is None:
        exported = run_reading_as_command_line(
            lambda actor: documents_export.export_period(actor, target_period.id,
                                                         document_format))
    else:
        target_area = _area(area)
        contribution = db.session.scalar(select(Contribution).where(
            Contribution.period_id == target_period.id, Contribution.area_id == target_area.id))
        if contribution is None:
            raise click.ClickException(f"{target_area.name} has no contribution in {period}.")
        exported = run_reading_as_command_line(
            lambda actor: documents_export.export_contribution(actor, contribution.id,
                                                               document_format))
    Path(out).write_bytes(exported.data)
    mark = "" if exported.content.approved else " (UTKAST: not approved)"
    click.echo(f"Wrote {out}: {exported.content.title}{mark}")
    click.echo(f"Fingerprint: {exported.fingerprint}")


@documents_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--language", type=click.Choice(["en", "sv"]), default="en",
              help="The report's language: en (default) or sv.")
def verify(file, language):
    """Say whether FILE (DOCX or PDF) matches an approved version in the system, or what
    differs. Exit status 0 only for a match."""
    from flask_babel import force_locale

    data = _read(file)
    with force_locale(language):
        try:
            report = document_verify.verify_document(data)
        except DomainError as error:
            message = error.args[0]
            raise click.ClickException(message.translated() if isinstance(message, Msg)
                                       else error.message) from error
        verdict = {"en": ("MATCH: ", "NO MATCH: "), "sv": ("ÖVERENSSTÄMMER: ",
                                                         "ÖVERENSSTÄMMER INTE: ")}[language]
        click.echo(verdict[0 if report.matches else 1] + report.summary.translated())
        for line in report.details + report.findings:
            click.echo(line.translated())
        if report.differences:
            click.echo(document_verify.render_differences(report.differences))
    if not report.matches:
        sys.exit(1)


def _print_proposal(proposal, choices, full: bool) -> None:
    click.echo(f"Title: {proposal.title}  (format: {proposal.format}, "
               f"SHA-256 {proposal.source_sha256})")
    if proposal.new_city_topics:
        click.echo("City-wide topics to be created: " + "; ".join(
            f"{number}. {title}" for number, title in proposal.new_city_topics))
    if proposal.new_topics:
        click.echo("Local topics to be created: " + "; ".join(proposal.new_topics))
    if proposal.optional_topics:
        click.echo("The area's local topics the document does not name (imported only if "
                   "listed in the mapping's \"include_topics\"): "
                   + "; ".join(t.key for t in proposal.optional_topics))
    chosen = {b.id: choices.blocks.get(b.id, proposal.proposed[b.id]) for b in proposal.blocks}
    for warning in proposal.warnings + documents_import.reference_warnings(proposal, chosen):
        click.echo(f"Check: {warning}")
    click.echo("Proposed mapping (block -> topic):")
    for block in proposal.blocks:
        click.echo(f"  {block.id:<9} {block.label!r:<45} -> {chosen[block.id] or '?'}")
        # The whole text, each line numbered (a split names the line a part starts at).
        for number, line in enumerate(block.text.split("\n") if block.text else [],
                                      start=block.first_line):
            prefix = f"            {number:>3}| "
            if full:
                click.echo(prefix + line)
                continue
            wrapped = textwrap.wrap(line, width=max(40, _width() - len(prefix))) or [""]
            click.echo(prefix + wrapped[0])
            for more in wrapped[1:]:
                click.echo(" " * (len(prefix) - 2) + "| " + more)
    click.echo("Targets: " + ", ".join(t.key for t in proposal.targets)
               + f", {documents_import.DISCARD}")


def _width() -> int:
    return shutil.get_terminal_size((100, 24)).columns


@documents_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--area", required=True, help="The area the document belongs to.")
@click.option("--period", required=True, help="The period, e.g. \"december 2022\" (created "
                                              "as a past period if it does not exist).")
@click.option("--yes", is_flag=True, help="Save with the proposed mapping.")
@click.option("--mapping", "mapping_file", default=None, type=click.Path(dir_okay=False),
              help="Save with this mapping (JSON; see --save-mapping for a template).")
@click.option("--save-mapping", default=None, type=click.Path(dir_okay=False),
              help="Write the proposed mapping as JSON to edit, and save nothing.")
@click.option("--full", is_flag=True, help="Print each text's lines unwrapped, exactly as they "
                                          "will be stored (by default long lines are wrapped "
                                          "to the terminal; nothing is cut either way).")
@click.option("--carry-forward-into", default=None, metavar="PERIOD",
              help="Also start the area's empty draft sections in PERIOD from the imported "
                   "texts (same transaction).")
def import_command(file, area, period, yes, mapping_file, save_mapping, full,
                   carry_forward_into):
    """Import an old lägesbild (text, DOCX or PDF) as the history of AREA and PERIOD, marked
    imported (approved outside the system).

    Prints the proposed mapping of the file's texts to topics; saves only with --yes (the
    proposal as it is) or --mapping FILE (a mapping you edited). Mapping format:
    {"format": "lagesbild-import-mapping/1", "source_sha256": "...",
    "blocks": {"city-1": "city:1", "local-1": "local:<title>", "local-2": "discard", ...},
    "include_topics": ["local:<an existing topic to import empty>"],
    "splits": {"local-1": [3]}} (the row's further part starts at its line 3: block
    "local-1.3").
    """
    data = _read(file)
    target_area = _area(area)
    try:
        choices = documents_import.parse_mapping_file(_read(mapping_file)) \
            if mapping_file else documents_import.Choices()
        # Checked before anything is printed: the preview would show the number otherwise.
        refuse_identity_numbers(Path(file).name, field="filename",
                                what=documents_import.FILE_NAME)
        refuse_identity_numbers(period, field="period", what=documents_import.PERIOD_NAME)
        proposal = documents_import.propose(data, target_area, period, choices.splits)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    _print_proposal(proposal, choices, full)
    if save_mapping:
        Path(save_mapping).write_text(
            json.dumps(proposal.mapping_document(), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8")
        click.echo(f"Wrote the proposed mapping to {save_mapping}: edit it, then run again "
                   f"with --mapping {save_mapping}. Nothing was saved.")
        return
    if mapping_file:
        mapping = choices
    elif yes:
        mapping = documents_import.Choices(dict(proposal.proposed))
    else:
        click.echo("Nothing was saved: run again with --yes to save this mapping, or with "
                   "--mapping FILE (see --save-mapping).")
        return
    later = _period(carry_forward_into) if carry_forward_into else None

    def change(actor):
        imported = documents_import.import_document(actor, data, Path(file).name,
                                                    target_area.name, period, mapping)
        carried = carry.carry_forward(actor, later.id, target_area.id) if later else None
        return imported, carried

    result, carried = run_as_command_line(change)
    made = " (period created as a past period)" if result.created_period else ""
    click.echo(f"Imported as the lägesbild of {target_area.name} for {period}{made}, marked "
               "imported (approved outside the system).")
    if result.created_city_topics:
        click.echo("Created city-wide topics: " + "; ".join(result.created_city_topics))
    if result.created_topics:
        click.echo("Created local topics: " + "; ".join(result.created_topics))
    if carried is not None:
        click.echo(f"{later.name}: {carried.total} sections start from the imported texts.")


@documents_cli.command("carry-forward")
@click.option("--period", required=True, help="The freshly opened period.")
@click.option("--area", default=None, help="Only this area (default: every area).")
def carry_forward_command(period, area):
    """Start the period's empty draft sections from each area's last approved texts."""
    target_period = _period(period)
    area_id = _area(area).id if area else None
    result = run_as_command_line(
        lambda actor: carry.carry_forward(actor, target_period.id, area_id))
    for name, count in result.filled.items():
        click.echo(f"{name}: {count} sections start from the last approved texts.")
    for name, why in result.skipped.items():
        click.echo(f"{name}: nothing carried forward ({why}).")


@documents_cli.command("seal-snapshots")
def seal_snapshots_command():
    """Record in the audit trail the digest of each approved lägesbild's frozen headings that
    has none yet (run once after the migration that froze approved history)."""
    sealed = run_as_command_line(
        lambda actor: [(c.period.name, c.area.name) for c in seal_snapshots(actor)])
    for period, area in sealed:
        click.echo(f"Sealed {period} — {area}.")
    click.echo(f"{len(sealed)} approved lägesbild(er) sealed." if sealed
               else "Every approved lägesbild is already sealed.")
