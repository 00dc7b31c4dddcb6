"""`flask --app app audit verify|checkpoint|export`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.audit import export as audit_export
from app.audit.query import parse_filter
from app.audit.trail import request_info
from app.audit.verify import verify_chain
from app.core.actors import command_line_actor
from app.core.errors import DomainError
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent, User

audit_cli = AppGroup("audit", help="The audit trail.")

# Below this many events the check is over before a bar would be worth drawing.
PROGRESS_FROM = 10_000


def _with_progress(run):
    """Run `run(progress)` with a progress bar on stderr for large logs."""
    total = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    if total < PROGRESS_FROM:
        return run(None)
    with click.progressbar(length=total, file=sys.stderr, show_pos=True,
                           label="Verifying") as bar:
        done = [0]

        def progress(count: int) -> None:
            if count - done[0] >= 1000 or count == total:
                bar.update(count - done[0])
                done[0] = count

        return run(progress)


def _failure(result) -> str:
    if result.failed_seq is None:  # not one event: the table itself (see schema_problem)
        return f"FAILED: {result.reason}"
    return f"FAILED at event {result.failed_seq}: {result.reason}"


@click.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Also prove the log still extends this checkpoint file.")
def audit_verify(checkpoint_file: Path | None):
    """Recompute the hash chain; exit 1 naming the first event that does not fit."""
    if checkpoint_file is None:
        result = _with_progress(lambda progress: verify_chain(progress=progress))
        if result.ok:
            click.echo(f"OK: {result.count} events, head hash {result.head_hash}")
            return
        click.echo(_failure(result), err=True)
        if result.failed_seq is not None:
            click.echo(f"({result.count} events before it verified.)", err=True)
        sys.exit(1)
    try:
        checkpoint = audit_export.read_checkpoint(checkpoint_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise click.ClickException(f"Cannot read {checkpoint_file}: {error.strerror}") from None
    except DomainError as error:
        raise click.ClickException(f"{checkpoint_file}: {error.message}") from None
    outcome = _with_progress(
        lambda progress: audit_export.verify_against_checkpoint(checkpoint, progress))
    chain = outcome.chain
    if outcome.ok:
        click.echo(f"OK: {chain.count} events, head hash {chain.head_hash}")
        click.echo(f"The log extends the checkpoint at event {checkpoint.seq} "
                   f"(hash {checkpoint.hash}).")
        return
    if not chain.ok:
        click.echo(_failure(chain), err=True)
    click.echo(f"FAILED against the checkpoint: {outcome.reason}", err=True)
    sys.exit(1)


@click.command("checkpoint")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (JSON): keep it outside the system.")
def audit_checkpoint(out: Path):
    """Write the chain's head (seq, hash, time) to a file, after verifying the chain."""
    result = _with_progress(lambda progress: verify_chain(progress=progress))
    if not result.ok:
        click.echo(_failure(result), err=True)
        raise click.ClickException("The chain does not verify: no checkpoint written.")
    try:
        checkpoint = audit_export.current_checkpoint(up_to_seq=result.head_seq)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    out.write_text(checkpoint.as_json(), encoding="utf-8")
    click.echo(f"Checkpoint written to {out}: event {checkpoint.seq}, hash {checkpoint.hash}, "
               f"time {checkpoint.occurred_at}")


def _user_id(value: str | None) -> str:
    """--user takes an e-mail address or a user id."""
    if not value:
        return ""
    if value.isdigit():
        return value
    user_id = db.session.scalar(select(User.id).where(User.email == value.strip().lower()))
    if user_id is None:
        raise click.BadParameter(f"there is no user with e-mail {value}", param_hint="--user")
    return str(user_id)


def _named_id(model_name: str, value: str | None, option: str) -> str:
    """--period / --area take a name or an id."""
    from app.models import Area, Period

    if not value:
        return ""
    if value.isdigit():
        return value
    model = {"period": Period, "area": Area}[model_name]
    found = db.session.scalar(select(model.id).where(model.name == value.strip()))
    if found is None:
        raise click.BadParameter(f"there is no {model_name} named '{value}'", param_hint=option)
    return str(found)


@click.command("export")
@click.option("--format", "export_format", required=True, type=click.Choice(["jsonl", "csv"]))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", default=None, help="Period name or id.")
@click.option("--area", default=None, help="Area name or id.")
@click.option("--contribution", default=None, help="Contribution id.")
@click.option("--user", default=None, help="The acting user's e-mail address or id.")
@click.option("--organisation", default=None, help="The acting user's organisation.")
@click.option("--action", default=None, help="e.g. contribution.return")
@click.option("--from", "since", default=None, help="From this date (YYYY-MM-DD, local time).")
@click.option("--to", "until", default=None, help="To this date, inclusive.")
def audit_export_command(export_format, out: Path, period, area, contribution, user,
                         organisation, action, since, until):
    """Export the events matching the filters (all, without filters) oldest first.

    A full JSON Lines export re-verifies with: python3 tools/verify_export.py FILE.jsonl
    """
    args = {"period": _named_id("period", period, "--period"),
            "area": _named_id("area", area, "--area"), "contribution": contribution or "",
            "user": _user_id(user), "organisation": organisation or "", "action": action or "",
            "from": since or "", "to": until or ""}
    actor = command_line_actor()
    try:
        event_filter = parse_filter(args)
        with request_info(None, "command line"), operation(actor):
            ticket = audit_export.begin_export(actor, event_filter, export_format)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    with out.open("wb") as handle:
        count = audit_export.write_export(ticket, handle)
    click.echo(f"Exported {count} events (up to event {ticket.up_to_seq}) to {out}.")
    if export_format == "jsonl":
        partial = "" if event_filter.is_empty else " --partial"
        click.echo(f"Verify it with: python3 tools/verify_export.py{partial} {out}")


audit_cli.add_command(audit_verify, "verify")
audit_cli.add_command(audit_checkpoint, "checkpoint")
audit_cli.add_command(audit_export_command, "export")
