"""Provenance sees every change to what an approved text says after the police's review: a
text, a cross-reference (which writes no revision), an exclusion; and an imported lägesbild
is shown as imported, never as approved here."""
from __future__ import annotations

from sqlalchemy import select

from app.audit import history
from app.contributions import operations as contributions
from app.core.unit_of_work import operation
from app.documents.cross_references import set_cross_reference
from app.extensions import db
from app.models import Area, TopicScope
from tests import flow
from tests.factories import SETUP, advance, run


def as_auditor(world, function, *args):
    auditor = world.user("auditor")
    with operation(auditor):
        return function(auditor, *args)


def city_section(world):
    return next(s for s in world.sections() if s.topic.scope == TopicScope.CITY)


def local_topic_id(world) -> int:
    return next(s.topic_id for s in world.sections() if s.topic.scope == TopicScope.LOCAL)


def approve(world, *, before=lambda world: None) -> None:
    """Norr reviewed, `before` done by the coordinator, then consolidated and approved (Söder
    excluded)."""
    advance(world, "Norr", "reviewed")
    before(world)
    run(world, "consolidator", flow.consolidate, world.contribution().id)
    run(world, "consolidator", contributions.exclude, world.contribution("Söder").id, "Sent.")
    consolidation_id = world.period().consolidation.id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    run(world, "approver", flow.approve_consolidation, consolidation_id)


def cross_reference(world, topic_id) -> None:
    section = city_section(world)
    run(world, "consolidator", set_cross_reference, section.id, topic_id, section.version)


def test_a_cross_reference_set_after_the_review_is_a_change(world):
    approve(world, before=lambda w: cross_reference(w, local_topic_id(w)))
    view = as_auditor(world, history.provenance, world.contribution().id)
    changed = next(s for s in view.sections if s.section.id == city_section(world).id)
    assert changed.changed_after_review and view.changed_after_review
    assert not changed.text_changed_after_review  # the text is the one the police saw
    [change] = changed.link_changes
    assert (change.before, change.after) == (None, "Trygghet i norr")
    assert change.step.actor_name == "Consolidator"
    assert [s.changed_after_review for s in view.sections].count(True) == 1


def test_a_cross_reference_set_and_removed_again_is_no_change(world):
    def set_and_unset(w):
        cross_reference(w, local_topic_id(w))
        cross_reference(w, None)

    approve(world, before=set_and_unset)
    view = as_auditor(world, history.provenance, world.contribution().id)
    section = next(s for s in view.sections if s.section.id == city_section(world).id)
    assert len(section.link_changes) == 2  # shown, but what it says is what the police saw
    assert not section.changed_after_review and not view.changed_after_review


def test_an_exclusion_after_the_review_is_a_change(world):
    def exclude_and_include(w):
        run(w, "consolidator2", contributions.exclude, w.contribution().id, "Kontrolleras.")
        run(w, "consolidator2", contributions.include, w.contribution().id)

    approve(world, before=exclude_and_include)
    view = as_auditor(world, history.provenance, world.contribution().id)
    assert [(e.action, e.actor_name) for e in view.exclusions] == [
        ("contribution.exclude", "Consolidator2"), ("contribution.include", "Consolidator2")]
    assert view.changed_after_review


def test_the_provenance_page_says_changed_for_a_cross_reference(web, world):
    approve(world, before=lambda w: cross_reference(w, local_topic_id(w)))
    web.log_in_as("auditor")
    html = web.client.get(f"/audit/contributions/{world.contribution().id}/provenance") \
        .get_data(as_text=True)
    facts = html.split("Ändrad efter polisens granskning</dt>", 1)[1]
    assert facts.lstrip().startswith("<dd><strong>Ja</strong>")
    assert "hänvisning – → Trygghet i norr" in html


OLD = """Lägesbild december 2029 Norr
Stadsövergripande prioriterade områden Kommentarer
1. Unga i risk för kriminalitet Arbetet pågår enligt plan.
2. Otillåten påverkan Inga nya händelser.
3. Ordningsvakter Det finns två ordningsvakter.
Lokalt prioriterade områden Kommentar
Trygghet i norr • Trygghetsvandringar varje månad.
""".encode()


def test_an_import_is_shown_as_imported(web, world):
    from app.documents.importer import import_document, propose

    area = db.session.scalar(select(Area).where(Area.name == "Norr"))
    mapping = propose(OLD, area).proposed
    with operation(SETUP):
        contribution_id = import_document(SETUP, OLD, "gammal.txt", "Norr", "december 2029",
                                          mapping).contribution.id
    view = as_auditor(world, history.provenance, contribution_id)
    assert view.imported is not None and not view.approved and view.reviewed is None
    web.log_in_as("auditor")
    html = web.client.get(f"/audit/contributions/{contribution_id}/provenance") \
        .get_data(as_text=True)
    assert "fastställd utanför systemet och importerad" in html
    assert "data-imported" in html
