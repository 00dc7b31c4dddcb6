"""Demo data: a city, its people and a period's history replayed through the operations
(loader.py), with texts from a real lägesbild (texts.py); `flask demo load`."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.demo.cli import demo_cli

    app.cli.add_command(demo_cli)
