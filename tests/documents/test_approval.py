"""The approval line: who approved a document, when and by which decision, as the audit trail
holds it (the consolidation's approval, or an import of a document approved elsewhere), under
the title and in the footer of every export, with the trail's head the export read."""
from __future__ import annotations

import json

from sqlalchemy import select

from app.core.clock import shown_time
from app.core.unit_of_work import operation
from app.documents.approval import approval_of_contribution, approval_of_period
from app.documents.export import export_contribution, export_period
from app.documents.importer import import_document
from app.extensions import db
from app.models import AuditEvent, Contribution
from tests.documents.support import (
    add_area,
    approve_period,
    read_docx,
    seed_bytes,
    seed_mapping,
    use_seed_city_topics,
)
from tests.factories import SETUP, fill_sections


def _event(action: str) -> AuditEvent:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq.desc())).first()


def _footer(data: bytes) -> str:
    return read_docx(data).sections[0].footer.paragraphs[0].text


def test_an_approved_areas_document_names_the_approver_the_time_and_the_decision(world):
    approve_period(world)
    decision, finalize = _event("consolidation.approve"), _event("contribution.finalize")
    approval = approval_of_contribution(world.contribution())
    assert (approval.by, approval.event_seq, approval.decision_seq) == (
        "Approver", db.session.scalar(select(AuditEvent.seq).where(
            AuditEvent.action == "contribution.finalize",
            AuditEvent.contribution_id == world.contribution().id)), decision.seq)
    assert finalize.seq < decision.seq
    exported = export_contribution(world.user("auditor"), world.contribution().id)
    line = (f"Fastställd av Approver {shown_time(decision.occurred_at)} genom beslutet att "
            f"fastställa periodens sammanställning (granskningsloggens händelse {decision.seq})")
    document = read_docx(exported.data)
    assert document.paragraphs[1].text == line
    export_event = _event("document.export")
    head = json.loads(export_event.data)
    for section in document.sections:
        footer = section.footer.paragraphs[0].text
        assert footer.split("\n")[1] == (
            f"Granskningsloggen vid exporten: händelse {head['audit_head_seq']}, "
            f"{head['audit_head_hash'][:16]} · {line}")


def test_the_periods_document_names_the_consolidations_approval(world):
    approve_period(world)
    decision = _event("consolidation.approve")
    approval = approval_of_period(world.period())
    assert (approval.action, approval.by, approval.event_seq) == (
        "consolidation.approve", "Approver", decision.seq)
    exported = export_period(world.user("approver"), world.period_id)
    assert read_docx(exported.data).paragraphs[4].text == approval.line()  # on the cover
    assert approval.line() in _footer(exported.data)


def test_a_draft_has_no_approval_line_but_the_audit_head(world):
    fill_sections(world, "Norr")
    exported = export_contribution(world.user("drafter"), world.contribution().id)
    document = read_docx(exported.data)
    assert "Fastställd av" not in "\n".join(p.text for p in document.paragraphs)
    head = json.loads(_event("document.export").data)
    assert _footer(exported.data).split("\n")[1] == (
        f"Granskningsloggen vid exporten: händelse {head['audit_head_seq']}, "
        f"{head['audit_head_hash'][:16]}")


def test_an_imported_document_says_who_imported_it(world):
    use_seed_city_topics()
    add_area("Järva")
    with operation(SETUP):
        contribution_id = import_document(SETUP, seed_bytes(), "seed.txt", "Järva",
                                          "december 2022", seed_mapping()).contribution.id
    imported = _event("document.import")
    contribution = db.session.get(Contribution, contribution_id)
    line = (f"Importerad av test set-up {shown_time(imported.occurred_at)} från ett tidigare "
            f"fastställt dokument (granskningsloggens händelse {imported.seq})")
    for exported, place in ((export_contribution(SETUP, contribution_id), 1),
                            (export_period(SETUP, contribution.period_id), 4)):
        assert read_docx(exported.data).paragraphs[place].text == line
        assert line in _footer(exported.data)
