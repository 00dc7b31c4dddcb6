"""Browser tests: the real app with demo data on a real HTTP server, driven by Debian's chromium
through Playwright, with axe-core for accessibility checks.

Needs (CI installs them; locally the tests skip with these hints, or fail when
LAGESBILD_REQUIRE_BROWSER=1):
  apt-get install -y chromium               # /usr/bin/chromium; Playwright never downloads one
  npm ci --prefix tests/browser             # axe-core, pinned in tests/browser/package-lock.json
Screenshots go to test-artifacts/ at the repository root.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("LAGESBILD_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
HERE = Path(__file__).resolve().parent
AXE_SCRIPT = HERE / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = HERE.parents[1] / "test-artifacts"
TIMEOUT_MS = 10_000


def unavailable(message: str) -> None:
    """Skip, or fail where the browser layer must run (CI sets LAGESBILD_REQUIRE_BROWSER=1)."""
    if os.environ.get("LAGESBILD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (LAGESBILD_REQUIRE_BROWSER=1: the browser tests must run)",
                    pytrace=False)
    pytest.skip(message)


@dataclass
class DemoUser:
    email: str
    name: str
    organisation: str


@dataclass
class LiveServer:
    url: str
    current_period: str
    users: dict[str, DemoUser] = field(default_factory=dict)  # by the e-mail's local part
    # Puts every account back to the default language (accounts remember the one chosen).
    reset_languages: Callable[[], None] = lambda: None
    app: Any = None  # the served app, for a test that looks at its routes or its data

    def user(self, key: str) -> DemoUser:
        return self.users[key]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on a temporary SQLite file, migrated, with the demo loaded, served over HTTP
    on 127.0.0.1 (a free port) from a background thread."""
    yield from serve_demo(tmp_path_factory.mktemp("browser"), "live-server")


def serve_demo(folder, thread_name: str, settings: dict | None = None):
    """The demo on a database of its own in `folder`, served until the generator is closed:
    for the shared server above, and for a module whose tests change the demo's structure
    (or need `settings` of their own, such as an identity provider)."""
    from flask_migrate import upgrade
    from sqlalchemy import select, update
    from werkzeug.serving import make_server

    from app import create_app
    from app.demo.loader import load_demo
    from app.extensions import db
    from app.models import Period, User

    database = folder / "demo.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                      "SECRET_KEY": "browser-test-secret",
                      # its own witness, not the development one in instance/
                      "AUDIT_WITNESS_PATH": str(database.with_suffix(".witness.jsonl")),
                      **(settings or {})})
    with app.app_context():
        upgrade()
        load_demo()
        users = {user.email.split("@")[0]: DemoUser(user.email, user.name,
                                                    user.organisation.name)
                 for user in db.session.scalars(select(User))}
        current = db.session.scalars(select(Period.name).order_by(Period.id.desc())).first()
        db.session.remove()

    def reset_languages() -> None:
        with app.app_context():
            db.session.execute(update(User).values(language="sv"))
            db.session.commit()
            db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=thread_name, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", current, users,
                         reset_languages, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"chromium not found at {CHROMIUM}: install Debian's with "
                    "`apt-get install -y chromium` (or set LAGESBILD_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed: pip install -e '.[test]'")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=LAUNCH_ARGS)
    except Exception as error:  # any launch failure means: no usable browser here
        playwright.stop()
        unavailable(f"Playwright could not launch {CHROMIUM} ({str(error).splitlines()[0]}); "
                    "install Debian's chromium with `apt-get install -y chromium`")
    try:
        yield launched
    finally:
        launched.close()
        playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) per test, with relative URLs on the live server;
    every account is back at the default language, as a test that chose English left it."""
    live_server.reset_languages()
    context = browser.new_context(base_url=live_server.url, locale="sv-SE",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE_SCRIPT.exists():
        unavailable(f"axe-core not found at {AXE_SCRIPT}: run `npm ci --prefix tests/browser`")
    return AXE_SCRIPT


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"— {violation['helpUrl']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['html'][:160]}")
    return "\n".join(lines)


@pytest.fixture
def assert_accessible(axe_script):
    """Run axe-core on the page as it is now; fail listing every violation."""

    source = axe_script.read_text(encoding="utf-8")

    def check(page) -> dict:
        # Evaluated through the DevTools protocol, as an extension would: the pages' policy
        # allows no inline script, so a <script> tag with axe in it would be refused.
        page.evaluate(source)
        results = page.evaluate("axe.run()")
        assert results["violations"] == [], (
            f"axe-core found violations on {page.url}:\n{_describe(results['violations'])}")
        return results

    return check


@pytest.fixture
def screenshot():
    """Save a full-page screenshot as test-artifacts/<name>.png."""

    def save(page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
