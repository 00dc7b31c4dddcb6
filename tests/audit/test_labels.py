"""Every action the code records has a Swedish and an English label (found by reading the
source, so an action added anywhere in app/ fails here until it is labelled); an action
without one is shown as its raw code; the objects of a page of events are named in bulk."""
from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import event as sa_event
from sqlalchemy import select

from app.audit import labels
from app.core.i18n import merged_catalog
from app.extensions import db
from app.models import AuditEvent
from tests.factories import advance
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW

APP = Path(__file__).resolve().parents[2] / "app"
# f"contribution.{trigger}" and f"consolidation.{trigger}": every trigger of the workflow.
WORKFLOW_PREFIXES = {"contribution.": CONTRIBUTION_WORKFLOW,
                     "consolidation.": CONSOLIDATION_WORKFLOW}


def _assigned(scopes: list[ast.AST], name: str) -> list[ast.AST]:
    """The values assigned to `name` in the enclosing function, else the module."""
    for scope in scopes:
        found = [node.value for node in ast.walk(scope)
                 if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
        if found:
            return found
    return []


def _actions_of(argument: ast.AST, scopes: list[ast.AST], where: str) -> set[str]:
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return {argument.value}
    if isinstance(argument, ast.IfExp):  # "a.b" if ... else "a.c"
        return (_actions_of(argument.body, scopes, where)
                | _actions_of(argument.orelse, scopes, where))
    if isinstance(argument, ast.JoinedStr):
        prefix = argument.values[0]
        if isinstance(prefix, ast.Constant) and prefix.value in WORKFLOW_PREFIXES:
            workflow = WORKFLOW_PREFIXES[prefix.value]
            return {prefix.value + t.trigger for t in workflow.definition.transitions}
    if isinstance(argument, ast.Name):
        values = _assigned(scopes, argument.id)
        if values:
            return {action for value in values
                    for action in _actions_of(value, scopes, where)}
    raise AssertionError(f"{where}: cannot tell which action record_event records; "
                         "name it as a string (or teach this test the new form)")


def recorded_actions() -> dict[str, str]:
    """action -> where it is recorded, for every record_event(...) call in app/."""
    found: dict[str, str] = {}
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        functions = [node for node in ast.walk(tree)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) ==
                    "record_event" and node.args):
                continue
            where = f"{path.relative_to(APP.parent)}:{node.lineno}"
            enclosing = [f for f in functions
                         if f.lineno <= node.lineno <= (f.end_lineno or f.lineno)]
            scopes = sorted(enclosing, key=lambda f: f.lineno, reverse=True) + [tree]
            for action in _actions_of(node.args[0], scopes, where):
                found.setdefault(action, where)
    return found


def test_the_scan_finds_actions_of_every_kind():
    found = recorded_actions()
    # A literal, a conditional, a variable (two branches), an f-string over a workflow, a
    # module constant.
    for action in ("section.edit", "user.deactivate", "user.reactivate", "contribution.return",
                   "consolidation.submit_for_approval", "audit.verify", "auth.login_failed",
                   "security.permission_denied", "document.import"):
        assert action in found, action


def test_every_recorded_action_has_a_label_in_swedish_and_english():
    catalog = merged_catalog("sv")
    unlabelled, untranslated = [], []
    for action, where in sorted(recorded_actions().items()):
        if not labels.is_labelled(action):
            unlabelled.append(f"{action} ({where})")
            continue
        english = labels.ACTION_LABELS[action]
        message = catalog.get(english)
        if not english.strip() or message is None or not message.string:
            untranslated.append(f"{action}: {english!r}")
    assert not unlabelled, "add to app/audit/labels.py ACTION_LABELS: " + ", ".join(unlabelled)
    assert not untranslated, "add to app/audit/translations/sv.po: " + ", ".join(untranslated)


def test_labels_tell_actions_apart_in_both_languages():
    """The log's action filter lists labels: no two actions may read the same."""
    catalog = merged_catalog("sv")
    english = list(labels.ACTION_LABELS.values())
    swedish = [catalog.get(text).string for text in english]
    assert len(set(english)) == len(english)
    assert len(set(swedish)) == len(swedish)


def test_an_action_without_a_label_is_its_raw_code(app):
    with app.test_request_context():
        assert labels.action_label("remark.forward") == "remark.forward"
        assert labels.action_label("contribution.return") == "Bidraget återsänt för ändringar"
        assert labels.action_label(None) == ""


def _count_queries():
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    return statements, before


def test_objects_are_named_in_bulk_one_query_per_kind(app, world):
    advance(world, "Norr", "returned")
    advance(world, "Söder", "police_review")
    events = db.session.execute(select(AuditEvent.__table__)).all()
    assert len(events) > 20
    statements, before = _count_queries()
    sa_event.listen(db.engine, "before_cursor_execute", before)
    try:
        with app.test_request_context():
            names = labels.object_names(events)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", before)
    kinds = {e.object_type for e in events if e.object_type} | {"contribution"}
    assert len(statements) <= len(kinds)  # never one per event
    norr = world.contribution("Norr")
    section = world.sections("Norr")[0]
    assert names[("contribution", str(norr.id))] == "januari 2030 — Norr"
    assert names[("section", str(section.id))] == \
        f"{section.topic.heading} (januari 2030 — Norr)"
    with app.test_request_context():
        assert labels.object_name(names, "section", section.id) == \
            f"Avsnitt: {section.topic.heading} (januari 2030 — Norr)"
        assert labels.object_name(names, "section", 999999) == "Avsnitt 999999"  # gone
        assert labels.object_name(names, "gadget", 7) == "gadget 7"  # an unknown kind
