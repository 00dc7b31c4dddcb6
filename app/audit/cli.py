"""`flask --app app audit verify|checkpoint|export|public-key|grant-app-role`."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.audit import app_role
from app.audit import export as audit_export
from app.audit.query import parse_filter
from app.audit.trail import request_info
from app.audit.verify import verify_chain
from app.audit.witness import (
    FileWitness,
    app_witness,
    load_public_key,
    public_key_pem,
    signature_problem,
)
from app.audit.witnessed import verify_against_witness
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


def _public_key(public_key_file: Path | None):
    """The auditor's copy of the public key if given, else the app's (from its private key)."""
    if public_key_file is None:
        return app_witness().key.public_key
    try:
        return load_public_key(public_key_file.read_bytes())
    except OSError as error:
        raise click.ClickException(f"Cannot read {public_key_file}: {error.strerror}") from None
    except DomainError as error:
        raise click.ClickException(f"{public_key_file}: {error.message}") from None


@click.command("verify")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Prove the log still extends this checkpoint file instead.")
@click.option("--witness", "witness_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="A copy of the witness to check against (default: the "
                                 "configured LAGESBILD_WITNESS_PATH).")
@click.option("--public-key", "public_key_file",
              type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The public key (PEM) to check signatures with (default: the app's).")
def audit_verify(checkpoint_file: Path | None, witness_file: Path | None,
                 public_key_file: Path | None):
    """Recompute the hash chain and check it against the latest signed checkpoint of the
    witness; exit 1 naming the first event that does not fit, and why."""
    public_key = _public_key(public_key_file)
    if checkpoint_file is not None:
        _verify_against_file(checkpoint_file, public_key)
        return
    if witness_file is not None and not witness_file.is_file():
        raise click.ClickException(f"Cannot read {witness_file}: there is no such file.")
    store = FileWitness(witness_file) if witness_file else app_witness().store
    if store is None:
        result = _with_progress(lambda progress: verify_chain(progress=progress))
        if result.ok:
            click.echo(f"OK: {result.count} events, head hash {result.head_hash}")
            click.echo("No witness is configured (LAGESBILD_WITNESS_PATH): the chain alone "
                       "was checked.", err=True)
            return
        _chain_failure(result)
        sys.exit(1)
    outcome = _with_progress(lambda progress: verify_against_witness(
        store, public_key, current_app.config["AUDIT_WITNESS_GRACE_SECONDS"], progress))
    chain = outcome.chain
    if not outcome.ok:
        if not chain.ok:
            _chain_failure(chain)
        where = "" if outcome.failed_seq is None else f" at event {outcome.failed_seq}"
        click.echo(f"FAILED against the witness{where}: {outcome.reason}", err=True)
        sys.exit(1)
    click.echo(f"OK: {chain.count} events, head hash {chain.head_hash}")
    if outcome.latest is None:
        click.echo(f"The witness ({store.path}) holds no checkpoint yet"
                   + (f"; {outcome.pending} events await theirs (within the grace window)."
                      if outcome.pending else "."))
        return
    latest = outcome.latest
    click.echo(f"Witnessed: the log extends the latest signed checkpoint, event {latest.seq} "
               f"(hash {latest.hash}, filed {latest.written_at}, line {outcome.latest_line} of "
               f"{store.path}); {outcome.lines} lines, every signature good.")
    before = outcome.first_witnessed - 1
    click.echo("Every event " + (f"from event {before + 1} on " if before else "")
               + "was filed by a commit of the app's"
               + (f" (events 1 to {before} precede the witness: its signed heads vouch for "
                  "them)" if before else "")
               + (f"; {outcome.pending} newer events await their line (within the grace "
                  "window)." if outcome.pending else "."))


def _chain_failure(result) -> None:
    click.echo(_failure(result), err=True)
    if result.failed_seq is not None:
        click.echo(f"({result.count} events before it verified.)", err=True)


def _verify_against_file(checkpoint_file: Path, public_key) -> None:
    try:
        checkpoint = audit_export.read_checkpoint(checkpoint_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise click.ClickException(f"Cannot read {checkpoint_file}: {error.strerror}") from None
    except DomainError as error:
        raise click.ClickException(f"{checkpoint_file}: {error.message}") from None
    if checkpoint.signature is not None:
        problem = signature_problem(checkpoint, public_key)
        if problem is not None:
            click.echo(f"FAILED: the checkpoint {checkpoint_file} is refused: {problem}.",
                       err=True)
            sys.exit(1)
    outcome = _with_progress(
        lambda progress: audit_export.verify_against_checkpoint(checkpoint, progress))
    chain = outcome.chain
    if outcome.ok:
        click.echo(f"OK: {chain.count} events, head hash {chain.head_hash}")
        signed = (f"signed with key {checkpoint.key}" if checkpoint.signature is not None
                  else "unsigned")
        click.echo(f"The log extends the checkpoint at event {checkpoint.seq} "
                   f"(hash {checkpoint.hash}; {signed}).")
        return
    if not chain.ok:
        click.echo(_failure(chain), err=True)
    click.echo(f"FAILED against the checkpoint: {outcome.reason}", err=True)
    sys.exit(1)


@click.command("checkpoint")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (JSON): keep it outside the system.")
def audit_checkpoint(out: Path):
    """Write the chain's head (seq, hash, time), signed, to a file, after verifying the chain."""
    result = _with_progress(lambda progress: verify_chain(progress=progress))
    if not result.ok:
        click.echo(_failure(result), err=True)
        raise click.ClickException("The chain does not verify: no checkpoint written.")
    try:
        checkpoint = audit_export.current_checkpoint(up_to_seq=result.head_seq)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    checkpoint = app_witness().key.sign(checkpoint)
    out.write_text(checkpoint.as_json(), encoding="utf-8")
    click.echo(f"Checkpoint written to {out}: event {checkpoint.seq}, hash {checkpoint.hash}, "
               f"time {checkpoint.occurred_at}, signed with key {checkpoint.key}")


@click.command("public-key")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write it to this file (default: print it).")
def audit_public_key(out: Path | None):
    """The public key (PEM) that checks the checkpoints' signatures: give it to the auditors."""
    pem = public_key_pem(app_witness().key.public_key)
    if out is None:
        click.echo(pem, nl=False)
        return
    out.write_text(pem, encoding="ascii")
    click.echo(f"Public key {app_witness().key.id} written to {out}.")


@click.command("grant-app-role")
@click.argument("role")
@click.option("--password-env", "password_env", default=None, metavar="VARIABLE",
              help="Set the role's password from this environment variable.")
@click.option("--sql", "print_only", is_flag=True,
              help="Print the statements instead of running them.")
def audit_grant_app_role(role: str, password_env: str | None, print_only: bool):
    """Make ROLE the PostgreSQL role the app runs as: not the tables' owner, only SELECT and
    INSERT on the append-only tables. Run it as the owner, after every db upgrade."""
    password = None
    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise click.ClickException(f"The environment variable {password_env} is empty.")
    db.session.rollback()
    try:
        with db.engine.begin() as connection:
            if print_only:
                found = app_role.plan(connection, role, password)
            else:
                found = app_role.grant(connection, role, password)
    except app_role.RoleRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    if print_only:
        click.echo("".join(f"{statement};\n" for statement in found.statements), nl=False)
        return
    created = "created and " if found.created else ""
    click.echo(f"The role {role} was {created}granted what the app needs; it owns nothing and "
               "may only SELECT and INSERT on the append-only tables. Run this again after "
               "every flask db upgrade.")


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
            ticket = audit_export.prepare_export(actor, event_filter, export_format)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    # The file is complete on disk before the export is recorded, and recorded before it takes
    # its name: never an audit.export for a file nobody got, nor a file nobody recorded.
    partial_file = out.with_name(out.name + ".partial")
    try:
        built = audit_export.build_export(ticket)
        with built.file, partial_file.open("wb") as handle:
            shutil.copyfileobj(built.file, handle)
        with request_info(None, "command line"), operation(actor):
            audit_export.record_export(actor, ticket, built)
        partial_file.replace(out)
    except OSError as error:
        partial_file.unlink(missing_ok=True)
        raise click.ClickException(f"Cannot write {out}: {error.strerror}") from None
    except BaseException:
        partial_file.unlink(missing_ok=True)
        raise
    click.echo(f"Exported {built.events} events (up to event {ticket.up_to_seq}) to {out}.")
    if export_format == "jsonl":
        partial = "" if event_filter.is_empty else " --partial"
        click.echo(f"Verify it with: python3 tools/verify_export.py{partial} {out}")


audit_cli.add_command(audit_verify, "verify")
audit_cli.add_command(audit_checkpoint, "checkpoint")
audit_cli.add_command(audit_export_command, "export")
audit_cli.add_command(audit_public_key, "public-key")
audit_cli.add_command(audit_grant_app_role, "grant-app-role")
