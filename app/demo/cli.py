"""`flask --app app demo load`: fill an empty database with demo data."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.demo.loader import DEMO_PASSWORD, DemoRefused, database_is_empty, load_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--reset", is_flag=True, help="Empty the database first (destroys everything).")
@click.option("--if-empty", is_flag=True,
              help="Load only into an empty database; otherwise say so and change nothing.")
def demo_load(reset, if_empty):
    """Fill an empty database with demo data."""
    if if_empty and not reset and not database_is_empty():
        click.echo("The database already has data: demo data not loaded.")
        return
    try:
        summary = load_demo(reset=reset)
    except DemoRefused as refusal:
        raise click.ClickException(str(refusal)) from refusal
    click.echo(summary)
    click.echo(f"Demo password for every user: {DEMO_PASSWORD}")
