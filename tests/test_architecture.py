"""The layout's rules, read from the import graph (ast): one package per domain, pages on top,
operations below them, models and workflows at the bottom, never an import back up.

- `workflows/` is pure: the standard library, pytransitions and itself.
- Operations, policies, effects and the core (but its i18n, which installs Flask-Babel) import
  no Flask: the same rule serves a page, a command and a test.
- Only entry points (routes.py, cli.py, a package's __init__ with its register()) may import
  an entry point; nothing else imports a page.
- Elsewhere a domain imports only domains below it (LAYERS), and no two modules import each
  other at module level.
"""
from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Lowest first: a module may import its own layer and the layers below it. The trail is the
# core's one exception: every operation writes its audit event through it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("workflows",),
    ("app.config", "app.extensions", "app.database", "app.core.clock", "app.core.messages"),
    ("app.models",),
    ("app.core", "app.audit.trail"),
    ("app.audit",),
    ("app.notifications",),
    ("app.contributions",),
    ("app.periods",),
    ("app.documents",),
    ("app.admin",),
    ("app.identity",),
    ("app.search",),
    ("app.web",),
    ("app.reminders",),
    ("app.demo",),
    ("app",),
)
ENTRY_POINTS = ("routes", "cli", "__init__")
FLASK_FREE = ("operations", "policy", "effects")
NO_FLASK_EXCEPT = ("app.core.i18n",)


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    top_level: bool


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts)


def imports_of(path: Path, root: Path, modules: set[str]) -> list[Import]:
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from .guards import X
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from app.documents import policy" imports the module app.documents.policy
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                       for alias in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            found.append(Import(name, target, node.lineno, id(node) in top_level))
    return found


def layer_of(module: str) -> int | None:
    best = None
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    return best[0] if best else None


def leaf(module: str) -> str:
    return module.rpartition(".")[2]


def is_entry_point(module: str) -> bool:
    return leaf(module) in ENTRY_POINTS


def is_flask(module: str) -> bool:
    return module.split(".")[0].startswith("flask")


def must_be_flask_free(module: str) -> bool:
    if module in NO_FLASK_EXCEPT:
        return False
    return (module.startswith("workflows") or module.startswith("app.core.")
            or leaf(module) in FLASK_FREE)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def violations(root: Path) -> list[str]:
    paths = [p for folder in ("app", "workflows") for p in sorted((root / folder).rglob("*.py"))]
    modules = {module_name(p, root) for p in paths}
    modules |= {m.removesuffix(".__init__") for m in modules}
    problems = []
    edges: dict[str, set[str]] = {}
    for path in paths:
        for found in imports_of(path, root, modules):
            importer = found.importer.removesuffix(".__init__")
            imported = found.imported
            where = f"{path.relative_to(root)}:{found.line}: {importer} imports {imported}"
            ours = imported.split(".")[0] in ("app", "workflows")
            if importer.startswith("workflows") and (ours and not imported.startswith(
                    "workflows") or is_flask(imported) or imported.startswith("sqlalchemy")):
                problems.append(f"{where} (workflows/ is pure)")
            if must_be_flask_free(importer) and is_flask(imported):
                problems.append(f"{where} (operations, policies and the core import no Flask)")
            if not ours:
                continue
            if found.top_level and imported in modules:
                edges.setdefault(importer, set()).add(imported)
            if is_entry_point(found.importer):
                continue
            if is_entry_point(imported) and imported not in ("app", "workflows"):
                problems.append(f"{where} (only entry points import an entry point)")
                continue
            own, theirs = layer_of(importer), layer_of(imported)
            if own is not None and theirs is not None and theirs > own:
                problems.append(f"{where} (an upward import)")
    for component in cycles(edges):
        problems.append("import cycle: " + " -> ".join(component))
    return problems


def test_the_code_follows_the_layout():
    assert violations(REPO) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in ("app", "workflows"):
        (tmp_path / folder).mkdir(exist_ok=True)
    return tmp_path


def test_an_operation_that_imports_flask_is_caught(tmp_path):
    root = _tree(tmp_path, {
        "app/__init__.py": "",
        "app/contributions/__init__.py": "",
        "app/contributions/operations.py": "from flask import request\n",
    })
    assert violations(root) == [
        "app/contributions/operations.py:1: app.contributions.operations imports flask "
        "(operations, policies and the core import no Flask)"]


def test_a_policy_that_imports_flask_login_inside_a_function_is_caught(tmp_path):
    root = _tree(tmp_path, {
        "app/periods/policy.py": "def who():\n    from flask_login import current_user\n",
    })
    assert [v.split(" (")[1] for v in violations(root)] == [
        "operations, policies and the core import no Flask)"]


def test_an_upward_import_an_entry_point_import_and_a_cycle_are_caught(tmp_path):
    root = _tree(tmp_path, {
        "app/__init__.py": "",
        "app/audit/__init__.py": "",
        "app/audit/query.py": "from app.contributions.policy import may_read\n",
        "app/contributions/__init__.py": "",
        "app/contributions/policy.py": "from app.contributions import presenters\n",
        "app/contributions/presenters.py": "from app.contributions.policy import x\n"
                                           "from app.contributions.routes import bp\n",
        "app/contributions/routes.py": "",
    })
    found = violations(root)
    assert any("app.audit.query imports app.contributions.policy (an upward import)" in v
               for v in found)
    assert any("presenters imports app.contributions.routes (only entry points" in v
               for v in found)
    assert "import cycle: app.contributions.policy -> app.contributions.presenters" in found


def test_workflows_import_nothing_of_the_app(tmp_path):
    root = _tree(tmp_path, {"workflows/engine.py": "import sqlalchemy\nfrom app import models\n"})
    pure = [v for v in violations(root) if v.endswith("(workflows/ is pure)")]
    assert [v.split(": ")[1].split(" (")[0] for v in pure] == [
        "workflows.engine imports sqlalchemy", "workflows.engine imports app"]
