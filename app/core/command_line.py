"""Running an operation from the server's command line: as the command-line actor, in one unit
of work, with domain errors turned into click's exit 1 and their message."""
from __future__ import annotations

import click

from app.audit.trail import request_info
from app.core.actors import command_line_actor
from app.core.errors import DomainError
from app.core.unit_of_work import operation


def run_as_command_line(change):
    """Run one administrative change as the command-line actor; domain errors exit 1."""
    actor = command_line_actor()
    try:
        with request_info(None, "command line"), operation(actor):
            return change(actor)
    except DomainError as error:
        raise click.ClickException(error.message) from error


def run_reading_as_command_line(work):
    """Run work that keeps its own transactions (a long read outside any operation, then its
    own short operation, as an export does) as the command-line actor; domain errors exit 1."""
    actor = command_line_actor()
    try:
        with request_info(None, "command line"):
            return work(actor)
    except DomainError as error:
        raise click.ClickException(error.message) from error
