"""Administration: organisations, areas, topics, periods, users and their roles (operations.py),
from the command line (cli.py). Administrators never touch content or history."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from app.admin.cli import register_cli

    register_cli(app)
