"""The app as a city installs it: a wheel built from the repository, installed into a fresh
virtual environment, migrates and serves the Swedish login page without writing into the
install folder; and requirements.lock pins every dependency within pyproject's ranges."""
from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import MAIN_DATABASE_URL
from tests.web.servers import SECRET, environment, get, running_server, witness_settings

REPO = Path(__file__).resolve().parents[1]


def _locked() -> dict[str, str]:
    text = (REPO / "requirements.lock").read_text()
    return {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", text, re.M)}


def test_the_lock_pins_every_dependency_within_its_range_with_hashes():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    locked = _locked()
    wanted = [Requirement(line) for line in
              project["dependencies"] + project["optional-dependencies"]["test"]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock pins {name}=={locked[name]}, outside {requirement.specifier}: "
            "run make lock")
    text = (REPO / "requirements.lock").read_text()
    assert text.count("==") == len(locked) and text.count("--hash=sha256:") >= len(locked)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment holding only the wheel; the dependencies, as locked, are
    the test environment's own (made visible by a .pth file, so nothing is downloaded)."""
    if MAIN_DATABASE_URL.startswith("postgresql"):
        pytest.skip("the package does not depend on the database: checked in the SQLite run")
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(REPO),
                    "-w", str(folder / "dist")], check=True, capture_output=True, timeout=300)
    (wheel,) = (folder / "dist").glob("lagesbild-*.whl")
    target = folder / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    site = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--quiet", "--no-deps", str(wheel)], check=True, capture_output=True,
                   timeout=300)
    return python, site, folder


def _files(site: Path) -> set[str]:
    return {str(path.relative_to(site)) for package in ("app", "workflows", "migrations")
            for path in (site / package).rglob("*") if "__pycache__" not in path.parts}


def test_the_wheel_migrates_and_serves_swedish_pages_writing_only_to_the_instance(installed):
    python, site, folder = installed
    before = _files(site)
    assert "migrations/versions/b324039fdae9_initial_schema.py" in before
    assert "app/documents/static/print.css" in before and "app/web/translations/sv.po" in before
    instance = folder / "instance"
    env = environment(f"sqlite:///{folder / 'lagesbild.sqlite'}", LAGESBILD_ENV="production",
                      LAGESBILD_SECRET_KEY=SECRET, LAGESBILD_INSTANCE_PATH=str(instance),
                      **witness_settings(folder),
                      PATH=f"{python.parent}:/usr/bin:/bin")
    where = subprocess.run([python, "-c", "import app; print(app.__file__)"], cwd=folder,
                           env=env, check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(site)), where  # the wheel's code, not the repository's
    subprocess.run([python, "-m", "flask", "--app", "app", "db", "upgrade"], cwd=folder,
                   env=env, check=True, capture_output=True, timeout=120)

    gunicorn = [str(python), "-m", "gunicorn"]
    with running_server(env, folder, workers=1, command=gunicorn, cwd=folder) as base:
        status, _headers, page = get(f"{base}/login")
        css_status, _headers, css = get(f"{base}/documents-static/print.css")
        ready, _headers, _body = get(f"{base}/readyz")

    assert status == 200 and "Logga in" in page and "E-postadress" in page
    assert css_status == 200 and "@page" in css
    assert ready == 200  # the schema is at the wheel's migrations' head
    assert _files(site) == before  # nothing written into the install folder
    assert (instance / "translations" / "sv" / "LC_MESSAGES" / "messages.mo").exists()
