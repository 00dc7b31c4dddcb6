"""What the audit trail's codes are called in the users' language: one label per action the
code records (Swedish in translations/sv.po, English as the message id), one word per kind of
object, and the objects themselves by name (a topic's heading, a contribution's area and
period), looked up in bulk for a whole page of events (one query per kind, never per row).

The trail and its exports keep the raw codes; pages show these labels and show the codes too
when an auditor asks for them (the "show codes" toggle). An action not listed here (a helper
added later) is shown as its raw code, never hidden; tests/audit/test_labels.py fails until it
is listed.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from app.core.messages import N_
from app.extensions import db
from app.models import (
    Area,
    Consolidation,
    Contribution,
    Organisation,
    Period,
    Section,
    Topic,
    User,
)

# -- actions ----------------------------------------------------------------------------------

ACTION_LABELS: dict[str, str] = {
    # A contribution's workflow (contribution.<trigger>, every trigger of the definition).
    "contribution.submit": N_("Contribution submitted to the police"),
    "contribution.withdraw": N_("Contribution withdrawn by the drafter"),
    "contribution.approve": N_("Contribution approved by the police"),
    "contribution.return": N_("Contribution returned for changes"),
    "contribution.resubmit": N_("Contribution resubmitted to the police"),
    "contribution.consolidate": N_("Contribution consolidated"),
    "contribution.reopen": N_("Contribution reopened"),
    "contribution.finalize": N_("Contribution approved with the consolidation"),
    "contribution.import_approved": N_("Contribution imported (approved outside the system)"),
    "contribution.exclude": N_("Contribution excluded from the consolidation"),
    "contribution.include": N_("Contribution included in the consolidation again"),
    "contribution.carry_forward": N_("Texts carried forward from the previous period"),
    "contribution.seal_snapshot": N_("Approved headings sealed in the audit trail"),
    # Sections.
    "section.edit": N_("Text edited"),
    "section.consolidation_edit": N_("Wording edited by the coordinator"),
    "section.cross_reference": N_("Cross-reference to a local topic changed"),
    # Remark threads.
    "remark.reply": N_("Remark answered"),
    "remark.resolve": N_("Remark marked resolved"),
    # The consolidation's workflow (consolidation.<trigger>).
    "consolidation.submit_for_approval": N_("Consolidation submitted for approval"),
    "consolidation.approve": N_("Consolidation approved"),
    "consolidation.return": N_("Consolidation returned to the coordinator"),
    # Documents.
    "document.export": N_("Document downloaded (DOCX or PDF)"),
    "document.import": N_("Document imported"),
    # Administration.
    "organisation.create": N_("Organisation created"),
    "area.create": N_("Area created"),
    "topic.create": N_("Topic created"),
    "period.create": N_("Period created"),
    "user.create": N_("User created"),
    "user.deactivate": N_("User deactivated"),
    "user.reactivate": N_("User reactivated"),
    "user.set_language": N_("Language chosen"),
    "membership.create": N_("Role granted"),
    "membership.delete": N_("Role revoked"),
    "user.edit": N_("User's name or e-mail changed"),
    "user.reset_link": N_("Password link issued"),
    "user.password_reset": N_("Password set through a link"),
    "user.password_change": N_("Own password changed"),
    "organisation.rename": N_("Organisation renamed"),
    "area.edit": N_("Area changed"),
    "topic.rename": N_("Topic renamed"),
    "topic.reorder": N_("Topic moved"),
    "topic.retire": N_("Topic retired"),
    "topic.reinstate": N_("Topic back in use"),
    "period.move_deadlines": N_("Period's deadlines moved"),
    "group_mapping.create": N_("Provider group mapped to a role"),
    "group_mapping.delete": N_("Provider group mapping removed"),
    "user.link_identity": N_("Account linked to the identity provider"),
    "user.set_notification_preferences": N_("Notification preferences changed"),
    # Signing in and out.
    "auth.login_succeeded": N_("Signed in"),
    "auth.login_failed": N_("Sign-in failed"),
    "auth.login_throttled": N_("Sign-in blocked after too many attempts"),
    "auth.logout": N_("Signed out"),
    "auth.password_change_throttled": N_("Password change blocked after too many wrong "
                                         "current passwords"),
    "auth.reset_link_refused": N_("Password link refused"),
    "auth.reset_link_throttled": N_("Password links blocked after too many refused ones"),
    # Security events: refused attempts.
    "security.permission_denied": N_("Refused: not permitted"),
    "security.transition_refused": N_("Refused: not possible in this state"),
    # The auditors' own reads.
    "audit.view": N_("Audit view read"),
    "audit.export": N_("Event log exported"),
    "audit.verify": N_("Chain verified"),
}


def is_labelled(action: str) -> bool:
    return action in ACTION_LABELS


def action_label(action: str | None) -> str:
    """The action in the request's language; an action without a label as its raw code."""
    if not action:
        return ""
    label = ACTION_LABELS.get(action)
    return gettext(label) if label is not None else action


def action_choices(actions: Iterable[str]) -> list[tuple[str, str]]:
    """(code, label) for the log's action filter, sorted by label as users read them."""
    return sorted(((code, action_label(code)) for code in actions),
                  key=lambda choice: (choice[1].casefold(), choice[0]))


# -- objects ----------------------------------------------------------------------------------

OBJECT_KINDS: dict[str, str] = {
    "contribution": N_("Contribution"),
    "section": N_("Section"),
    "remark": N_("Remark"),
    "consolidation": N_("Consolidation"),
    "period": N_("Period"),
    "area": N_("Area"),
    "topic": N_("Topic"),
    "user": N_("User"),
    "organisation": N_("Organisation"),
    "audit_trail": N_("Audit trail"),
}

# The auditors' pages and acts, as audit.view / audit.export / audit.verify name them.
AUDIT_PAGES: dict[str, str] = {
    "log": N_("the event log"),
    "contribution_history": N_("a contribution's history"),
    "compare": N_("a comparison of revisions"),
    "as_of": N_("a contribution as of a moment"),
    "provenance": N_("a contribution's provenance"),
    "verify": N_("the verification page"),
    "export": N_("an export"),
    "chain": N_("the chain"),
}


def object_kind(object_type: str | None) -> str:
    if not object_type:
        return ""
    kind = OBJECT_KINDS.get(object_type)
    return gettext(kind) if kind is not None else object_type


def _ids(keys: set[tuple[str, str]], object_type: str) -> list[int]:
    found = []
    for kind, value in keys:
        if kind == object_type and value.isascii() and value.isdigit():
            found.append(int(value))
    return found


def object_names(events: Iterable[Any]) -> dict[tuple[str, str], str]:
    """{(object_type, object_id): name} for every object the events are about, and
    ("contribution", id) for each event's contribution: one query per kind of object."""
    events = list(events)
    keys = {(e.object_type, str(e.object_id)) for e in events
            if e.object_type and e.object_id is not None}
    keys |= {("contribution", str(e.contribution_id)) for e in events if e.contribution_id}
    names: dict[tuple[str, str], str] = {}

    def lookup(object_type: str, statement_for, name_of) -> None:
        ids = _ids(keys, object_type)
        if ids:
            for row in db.session.execute(statement_for(ids)):
                names[(object_type, str(row.id))] = name_of(row)

    lookup("contribution", lambda ids: (
        select(Contribution.id, Area.name.label("area"), Period.name.label("period"))
        .join(Area, Contribution.area_id == Area.id)
        .join(Period, Contribution.period_id == Period.id)
        .where(Contribution.id.in_(ids))),
        lambda row: f"{row.period} — {row.area}")  # as the log's filter names it
    lookup("section", lambda ids: (
        select(Section.id, Topic.number, Topic.scope, Topic.title, Section.approved_title,
               Area.name.label("area"), Period.name.label("period"))
        .join(Topic, Section.topic_id == Topic.id)
        .join(Contribution, Section.contribution_id == Contribution.id)
        .join(Area, Contribution.area_id == Area.id)
        .join(Period, Contribution.period_id == Period.id)
        .where(Section.id.in_(ids))),
        # A section of an approved lägesbild by the title it was approved with.
        lambda row: (f"{Topic.heading_of(row.number, row.scope, row.approved_title or row.title)}"
                     f" ({row.period} — {row.area})"))
    lookup("consolidation", lambda ids: (
        select(Consolidation.id, Period.name.label("period"))
        .join(Period, Consolidation.period_id == Period.id)
        .where(Consolidation.id.in_(ids))),
        lambda row: row.period)
    lookup("topic", lambda ids: select(Topic.id, Topic.number, Topic.scope, Topic.title)
           .where(Topic.id.in_(ids)),
           lambda row: Topic.heading_of(row.number, row.scope, row.title))
    for model, object_type in ((Period, "period"), (Area, "area"),
                               (Organisation, "organisation")):
        lookup(object_type, lambda ids, model=model: select(model.id, model.name)
               .where(model.id.in_(ids)), lambda row: row.name)
    lookup("user", lambda ids: select(User.id, User.name).where(User.id.in_(ids)),
           lambda row: row.name)
    for object_type, object_id in keys:
        if object_type == "audit_trail" and object_id in AUDIT_PAGES:
            names[(object_type, object_id)] = gettext(AUDIT_PAGES[object_id])
    return names


def object_name(names: dict[tuple[str, str], str], object_type: str | None,
                object_id: Any) -> str:
    """"Kind: name" for one event's object; the raw id when the object is gone."""
    if not object_type:
        return ""
    kind = object_kind(object_type)
    if object_id is None:
        return kind
    name = names.get((object_type, str(object_id)))
    if name and object_type == "audit_trail":  # the auditors' own pages: the page says it all
        return name[:1].upper() + name[1:]
    return f"{kind}: {name}" if name else f"{kind} {object_id}"
