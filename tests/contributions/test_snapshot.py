"""Approved history is frozen: what was approved (headings, topic titles, cross-reference
sentences, order) is snapshotted at approval and shown from the snapshot everywhere; a later
rename, retirement or reorder changes only what is not approved yet, and every exported
document still verifies. The approval's audit event binds the snapshot."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from app.admin import operations as admin
from app.admin import structure
from app.contributions.snapshot import (
    freeze,
    recorded_digest,
    seal_snapshots,
    snapshot_digest,
    snapshot_intact,
)
from app.core.errors import NotAllowed
from app.core.unit_of_work import operation
from app.documents.cross_references import set_cross_reference
from app.documents.export import contribution_content, export_contribution, export_period
from app.documents.importer import import_document
from app.documents.verify import verify_document
from app.extensions import db
from app.models import AuditEvent, Contribution, Section, Topic
from app.periods import effects
from tests.documents.support import (
    add_area,
    approve_period,
    seed_bytes,
    seed_mapping,
    use_seed_city_topics,
)
from tests.factories import SETUP, data_of, run

FIRST_LOCAL = "Trygghet i norr"
SECOND_LOCAL = "Otrygga platser"
APPROVED_SENTENCE = ("Arbetet hanteras inom ramen för det lokalt prioriterade området "
                     "trygghet i norr, se nedan.")


def _topic(title: str) -> Topic:
    return db.session.scalar(select(Topic).where(Topic.title == title))


@pytest.fixture
def approved(world):
    """Norr with two local topics, its first city-wide topic handled within the first local
    one, approved through the real flow."""
    with operation(SETUP):
        second = admin.create_topic(SETUP, SECOND_LOCAL, area_name="Norr")
        db.session.add(Section(contribution_id=world.contribution().id, topic_id=second.id))
    city = world.sections()[0]
    run(world, "drafter", set_cross_reference, city.id, _topic(FIRST_LOCAL).id, city.version)
    approve_period(world)
    return world


def _approved_headings(world) -> list[str]:
    return [s.heading for s in contribution_content(world.contribution()).chapters[0].sections]


def _rename_retire_reorder(world) -> None:
    first, city = _topic(FIRST_LOCAL), db.session.scalar(
        select(Topic).where(Topic.number == 1))
    with operation(SETUP):
        structure.rename_topic(SETUP, first.id, "Otrygga brottsutsatta miljöer",
                               expected_version=first.version)
        structure.rename_topic(SETUP, city.id, "Unga som riskerar att begå brott",
                               expected_version=city.version)
    second = _topic(SECOND_LOCAL)
    with operation(SETUP):
        structure.move_topic(SETUP, second.id, "up", expected_version=second.version)
    second = _topic(SECOND_LOCAL)
    with operation(SETUP):
        structure.retire_topic(SETUP, second.id, expected_version=second.version)


def test_approval_freezes_titles_order_and_cross_references(approved):
    world = approved
    sections = world.sections()
    assert all(s.frozen for s in sections)
    assert [s.approved_position for s in sections] == list(range(len(sections)))
    assert [s.approved_title for s in sections[-2:]] == [FIRST_LOCAL, SECOND_LOCAL]
    assert sections[0].approved_reference == FIRST_LOCAL
    assert all(s.approved_reference is None for s in sections[1:])
    drafts = [s for s in world.contribution("Söder").sections]
    assert all(s.frozen for s in drafts)  # Söder was approved with the same consolidation


def test_the_finalize_event_records_the_snapshot_digest(approved):
    contribution = approved.contribution()
    finalize = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "contribution.finalize",
        AuditEvent.contribution_id == contribution.id))
    data = data_of(finalize)
    assert data["snapshot_sha256"] == snapshot_digest(contribution) == \
        recorded_digest(contribution)
    # Freezing is not an edit: the versions the event recorded are the sections' versions.
    assert data["sections"] == {str(s.id): s.version for s in contribution.sections}
    assert snapshot_intact(contribution) is True


def test_a_draft_is_not_frozen_and_follows_the_topics(world):
    assert not world.contribution().frozen
    assert snapshot_intact(world.contribution()) is None
    first = _topic(FIRST_LOCAL)
    with operation(SETUP):
        structure.rename_topic(SETUP, first.id, "Nytt namn", expected_version=first.version)
    assert world.sections()[-1].heading == "Nytt namn"


def test_rename_retire_reorder_leave_approved_exports_verifying(approved, web):
    world = approved
    before = _approved_headings(world)
    contribution_export = export_contribution(world.user("auditor"), world.contribution().id)
    period_export = export_period(world.user("auditor"), world.period_id)

    _rename_retire_reorder(world)

    assert _approved_headings(world) == before
    for exported in (contribution_export, period_export):
        report = verify_document(exported.data)
        assert report.matches, report.summary
        assert report.differences == []
    # The print view shows the approved titles and the approved sentence.
    web.log_in_as("auditor")
    html = web.client.get(f"/contributions/{world.contribution().id}/print").get_data(
        as_text=True)
    assert FIRST_LOCAL in html and SECOND_LOCAL in html and APPROVED_SENTENCE in html
    assert "Otrygga brottsutsatta miljöer" not in html
    assert "Unga som riskerar" not in html
    assert html.index(FIRST_LOCAL + "</th>") < html.index(SECOND_LOCAL + "</th>")
    # So does an export made after the changes: the same content as the old one.
    again = export_contribution(world.user("auditor"), world.contribution().id)
    assert again.content_sha256 == contribution_export.content_sha256


def test_the_next_period_shows_the_new_titles_and_order(approved):
    world = approved
    _rename_retire_reorder(world)
    with operation(SETUP):
        period = admin.create_period(
            SETUP, "februari 2030", drafting_deadline=date(2030, 2, 10),
            review_deadline=date(2030, 2, 17), consolidation_deadline=date(2030, 2, 24),
            approval_deadline=date(2030, 2, 28))
        period_id = period.id
    draft = db.session.scalar(select(Contribution).where(
        Contribution.period_id == period_id, Contribution.area_id == world.areas["Norr"]))
    headings = [s.heading for s in contribution_content(draft).chapters[0].sections]
    assert headings[0] == "1. Unga som riskerar att begå brott"
    assert headings[-1] == "Otrygga brottsutsatta miljöer"
    assert SECOND_LOCAL not in headings  # retired: no section in a period opened later


def test_a_snapshot_rewritten_in_the_database_no_longer_verifies(approved):
    world = approved
    exported = export_contribution(world.user("auditor"), world.contribution().id)
    section_id = world.sections()[-1].id
    # The database's owner edits the frozen title behind the application's back.
    db.session.execute(text("UPDATE sections SET approved_title = 'Annat' WHERE id = :id"),
                       {"id": section_id})
    db.session.commit()
    db.session.expire_all()
    assert snapshot_intact(world.contribution()) is False
    report = verify_document(exported.data)
    assert not report.matches
    assert "changed in the database after its approval" in report.summary
    assert "Norr" in report.summary


@pytest.mark.parametrize("page", [
    "/contributions/{contribution}", "/periods/{period}/consolidation?topic=local",
    "/audit/contributions/{contribution}", "/contributions/{contribution}/history",
    "/periods/{period}/print"])
def test_the_pages_of_an_approved_lagesbild_show_what_was_approved(approved, web, page):
    world = approved
    _rename_retire_reorder(world)
    web.log_in_as("auditor")
    response = web.client.get(page.format(contribution=world.contribution().id,
                                          period=world.period_id))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert FIRST_LOCAL in html and SECOND_LOCAL in html
    assert "Otrygga brottsutsatta miljöer" not in html
    assert "Unga som riskerar" not in html
    assert "Unga i risk för kriminalitet" in html
    assert html.index(FIRST_LOCAL) < html.index(SECOND_LOCAL)


def test_the_cross_reference_page_shows_the_approved_sentence(approved, web):
    world = approved
    _rename_retire_reorder(world)
    web.log_in_as("auditor")
    html = web.client.get(f"/contributions/{world.contribution().id}/cross-references"
                          ).get_data(as_text=True)
    assert APPROVED_SENTENCE in html
    assert "otrygga brottsutsatta miljöer" not in html.lower()
    assert "1. Unga i risk för kriminalitet" in html


def test_an_imported_document_is_frozen_as_imported(world):
    use_seed_city_topics()
    add_area("Järva")
    with operation(SETUP):
        contribution_id = import_document(SETUP, seed_bytes(), "seed.txt", "Järva",
                                          "december 2022", seed_mapping()).contribution.id
    contribution = db.session.get(Contribution, contribution_id)
    assert contribution.frozen
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "document.import"))
    assert data_of(event)["snapshot_sha256"] == snapshot_digest(contribution)
    exported = export_contribution(SETUP, contribution_id)
    local = next(s for s in contribution.ordered_sections if s.topic.scope == "local")
    topic = local.topic
    with operation(SETUP):
        structure.rename_topic(SETUP, topic.id, "Omdöpt område", expected_version=topic.version)
    report = verify_document(exported.data)
    assert report.matches, report.summary
    contribution = db.session.get(Contribution, contribution_id)
    assert "Omdöpt område" not in [s.heading for s in contribution.ordered_sections]


def test_seal_snapshots_records_the_digest_of_snapshots_that_have_none(world, monkeypatch,
                                                                      runner):
    # Approved as before snapshots existed: the migration froze it, no event holds a digest.
    monkeypatch.setattr(effects, "freeze", lambda contribution: freeze(contribution) and None)
    approve_period(world)
    assert recorded_digest(world.contribution()) is None
    assert snapshot_intact(world.contribution()) is None
    result = runner.invoke(args=["documents", "seal-snapshots"])
    assert result.exit_code == 0, result.output
    assert "Sealed januari 2030 — Norr." in result.output
    assert "2 approved lägesbild(er) sealed." in result.output
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "contribution.seal_snapshot")).all()
    assert {e.contribution_id for e in events} == {world.contribution().id,
                                                   world.contribution("Söder").id}
    assert snapshot_intact(world.contribution()) is True
    again = runner.invoke(args=["documents", "seal-snapshots"])
    assert "Every approved lägesbild is already sealed." in again.output
    assert len(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "contribution.seal_snapshot")).all()) == 2


def test_only_an_administrator_seals(approved):
    with pytest.raises(NotAllowed):
        run(approved, "auditor", seal_snapshots)
