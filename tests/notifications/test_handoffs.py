"""Who is told what at each handoff (app.notifications.handoffs): written into the outbox in
the change's own transaction, to the right people only."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.core.errors import DomainError
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Notification
from tests import flow
from tests.factories import SETUP, advance, fill_sections, run


def outbox() -> list[Notification]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def told(kind: str | None = None) -> list[str]:
    return sorted(n.recipient.email.split("@")[0] for n in outbox()
                  if kind is None or n.kind == kind)


def one_to(key: str) -> Notification:
    (notification,) = [n for n in outbox() if n.recipient.email == f"{key}@example.se"]
    return notification


def test_a_submission_tells_the_areas_police_reviewers_and_nobody_else(app, world):
    app.config["EXTERNAL_URL"] = "https://lagesbild.example.se/"
    advance(world, "Norr", "police_review")
    assert told() == ["reviewer", "reviewer2"]
    message = one_to("reviewer")
    assert message.kind == "contribution.submit"
    assert message.subject == "Lägesbild: bidraget från Norr för januari 2030 väntar på din " \
                              "granskning"
    contribution = world.contribution("Norr")
    assert f"Granska det här: https://lagesbild.example.se/contributions/{contribution.id}\n" \
        in message.body
    assert "har skickat in bidraget från Norr" in message.body


def test_a_return_tells_the_drafters_every_remark_and_its_section(world):
    fill_sections(world, "Norr")
    contribution = world.contribution("Norr")
    first, second = world.sections("Norr")[:2]
    run(world, "drafter", flow.submit, contribution.id)
    run(world, "reviewer", flow.return_with_remarks, contribution.id, [
        contributions.RemarkInput("Lägg till siffror.", first.id),
        contributions.RemarkInput("Kortare, tack.", second.id),
        contributions.RemarkInput("Bra i övrigt.")])
    assert told("contribution.return") == ["drafter", "drafter2"]
    body = one_to("drafter2").body
    assert f"- {first.topic.title}: Lägg till siffror." in body
    assert f"- {second.topic.title}: Kortare, tack." in body
    assert "- Bra i övrigt." in body
    assert "Ändra och skicka in det igen här:" in body


def test_a_resubmission_says_what_changed_since_the_return(world):
    advance(world, "Norr", "returned")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[1]
    run(world, "drafter", contributions.edit_section, section.id, "En ny text om läget.",
        expected_version=section.version)
    run(world, "drafter", flow.resubmit, contribution.id)
    (message,) = [n for n in outbox() if n.kind == "contribution.resubmit"
                  and n.recipient.email == "reviewer@example.se"]
    assert f"Ändrat sedan det skickades tillbaka:\n- {section.topic.title}" in message.body


def test_the_police_approval_tells_the_coordinators_how_many_are_reviewed(world):
    advance(world, "Norr", "reviewed")
    assert told("contribution.approve") == ["consolidator", "consolidator2"]
    assert "1 av periodens 2 bidrag är nu granskade." in one_to("consolidator").body


def test_an_exclusion_tells_the_areas_drafters_and_reviewers_with_the_reason(world):
    contribution = world.contribution("Söder")
    run(world, "consolidator", contributions.exclude, contribution.id, "Inget underlag i år.")
    assert told("contribution.exclude") == ["drafter_south", "reviewer_south"]
    assert "Skäl: Inget underlag i år." in one_to("reviewer_south").body


def test_the_consolidation_tells_approvers_then_the_coordinators_then_all_who_took_part(
        world):
    for area in ("Norr", "Söder"):
        advance(world, area, "consolidated")
    consolidation_id = world.period().consolidation.id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    assert told("consolidation.submit_for_approval") == ["approver", "approver2"]
    run(world, "approver", flow.return_consolidation, consolidation_id, ["Saknar summering."])
    assert told("consolidation.return") == ["consolidator", "consolidator2"]
    assert "- Saknar summering." in one_to_kind("consolidator", "consolidation.return").body
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    run(world, "approver2", flow.approve_consolidation, consolidation_id)
    took_part = told("consolidation.approve")
    assert took_part == ["approver", "consolidator", "drafter", "drafter_south", "reviewer",
                         "reviewer_south"]
    body = one_to_kind("drafter", "consolidation.approve").body
    assert f"/periods/{world.period_id}/print" in body


def one_to_kind(key: str, kind: str) -> Notification:
    (notification,) = [n for n in outbox() if n.kind == kind
                       and n.recipient.email == f"{key}@example.se"]
    return notification


def test_a_refused_transition_queues_nothing(world):
    contribution = world.contribution("Norr")
    with pytest.raises(DomainError):
        run(world, "reviewer", flow.approve, contribution.id)  # still a draft
    with pytest.raises(DomainError):
        run(world, "drafter", flow.submit, contribution.id)  # sections empty
    assert outbox() == []


def test_nobody_deactivated_is_told_and_the_actor_is_never_told(world):
    with operation(SETUP):
        admin.set_user_active(SETUP, world.user("reviewer2"), False)
    advance(world, "Norr", "police_review")
    assert told() == ["reviewer"]


def test_a_user_who_chose_english_gets_her_messages_in_english(world):
    with operation(SETUP):
        world.user("reviewer2").language = "en"
    advance(world, "Norr", "police_review")
    english, swedish = one_to("reviewer2"), one_to("reviewer")
    assert english.subject == "Lägesbild: Norr's contribution for januari 2030 waits for " \
                              "your review"
    assert "Review it here:" in english.body and "Granska det här:" in swedish.body
