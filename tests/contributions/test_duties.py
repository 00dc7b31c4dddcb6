"""Who did what (app.contributions.duties), the one answer both guards use: acts in the
contribution's current round, and acts over the consolidation's whole life."""
from __future__ import annotations

from app.contributions import operations as contributions
from app.contributions.duties import Act, acts_in_consolidation, acts_in_round
from app.documents.cross_references import set_cross_reference
from app.models import TopicScope
from tests import flow
from tests.factories import SETUP, advance, fill_sections, run


def test_acts_in_the_round_end_when_the_police_return_it(world):
    fill_sections(world)
    drafter = world.user("drafter")
    assert acts_in_round(drafter, world.contribution()) == {Act.EDITED}
    run(world, "drafter", flow.submit, world.contribution().id)
    run(world, "drafter", flow.withdraw, world.contribution().id)
    run(world, "drafter2", flow.submit, world.contribution().id)
    # The withdrawn submission still counts, though submitted_by now names drafter2.
    assert acts_in_round(world.user("drafter"), world.contribution()) == {Act.SUBMITTED,
                                                                          Act.EDITED}
    run(world, "reviewer", flow.return_with_remarks, world.contribution().id,
        [contributions.RemarkInput("Mer detaljer.")])
    assert acts_in_round(world.user("drafter"), world.contribution()) == set()
    assert acts_in_round(world.user("reviewer"), world.contribution()) == set()
    assert acts_in_round(SETUP, world.contribution()) == set()


def test_a_cross_reference_is_an_edit_though_it_writes_no_revision(world):
    section = next(s for s in world.sections() if s.topic.scope == TopicScope.CITY)
    local = next(s.topic_id for s in world.sections() if s.topic.scope == TopicScope.LOCAL)
    run(world, "drafter2", set_cross_reference, section.id, local, section.version)
    assert world.sections()[0].revisions == []
    assert acts_in_round(world.user("drafter2"), world.contribution()) == {Act.EDITED}


def test_acts_in_the_consolidation_outlive_what_the_rows_say_now(world):
    advance(world, "Norr", "reviewed")
    run(world, "consolidator2", contributions.exclude, world.contribution().id, "Väntar.")
    run(world, "consolidator2", contributions.include, world.contribution().id)
    assert world.contribution().excluded_by_id is None
    consolidation = world.period().consolidation
    assert acts_in_consolidation(world.user("consolidator2"), consolidation) == {Act.EXCLUDED}
    run(world, "consolidator", flow.consolidate, world.contribution().id)
    assert acts_in_consolidation(world.user("consolidator"), world.period().consolidation) \
        == {Act.CONSOLIDATED}
    # The drafters and the police acted on a contribution in it, the approver on nothing.
    assert acts_in_consolidation(world.user("drafter"), world.period().consolidation) == {
        Act.SUBMITTED, Act.EDITED}
    assert acts_in_consolidation(world.user("reviewer"), world.period().consolidation) == set()
    assert acts_in_consolidation(world.user("approver"), world.period().consolidation) == set()
