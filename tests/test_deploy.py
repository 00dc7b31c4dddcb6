"""The systemd units in deploy/ name commands that exist, with options they take: each
ExecStart is run with --help (gunicorn: --check-config with the unit's own options)."""
from __future__ import annotations

import configparser
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INSTALLED = "/srv/lagesbild/.venv/bin/"


def _exec_starts() -> list[tuple[str, list[str]]]:
    found = []
    for unit in sorted((REPO / "deploy").glob("*.service")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        # systemd allows ExecStart more than once: keep every one.
        parser.read_string(unit.read_text().replace("\\\n", " "))
        lines = [line.split("=", 1)[1] for line in unit.read_text().replace("\\\n", " ")
                 .splitlines() if line.startswith("ExecStart=")]
        assert parser.has_section("Service") and lines, unit.name
        found += [(unit.name, shlex.split(line)) for line in lines]
    return found


def test_every_service_has_a_timer_or_is_the_server():
    units = {path.stem for path in (REPO / "deploy").glob("*.service")}
    timers = {path.stem for path in (REPO / "deploy").glob("*.timer")}
    assert timers <= units and units - timers == {"lagesbild"}


@pytest.mark.parametrize(("unit", "command"), _exec_starts(),
                         ids=[f"{unit}:{' '.join(c[1:4])}" for unit, c in _exec_starts()])
def test_each_command_a_unit_runs_exists(unit, command, tmp_path):
    program = command[0]
    assert program.startswith(INSTALLED), f"{unit}: {program} is not the app's venv"
    local = str(BIN / program.removeprefix(INSTALLED))
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "LAGESBILD_DATABASE_URL":
           f"sqlite:///{tmp_path / 'x.sqlite'}", "LAGESBILD_INSTANCE_PATH": str(tmp_path)}
    if program.endswith("gunicorn"):
        args = [local, "--check-config", *command[1:]]
    else:
        args = [local, *command[1:], "--help"]
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"{unit}: {' '.join(args)}\n{result.stderr[-2000:]}"
