"""Separation of duties without gaps: every pair of roles one person can hold (as the admin's
membership rules allow, plus drafter+reviewer, which they refuse but the guards must not rely
on) walked through every way of touching a contribution or a consolidation before approving
it. Each is refused, the refusal changes nothing and is a security event, and someone who did
not touch it still approves. Run on PostgreSQL too (LAGESBILD_TEST_DATABASE_URL)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.admin.operations import ROLE_ORGANISATION_KINDS
from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed
from app.core.unit_of_work import operation
from app.documents.carry_forward import carry_forward
from app.documents.cross_references import set_cross_reference
from app.documents.importer import import_document, propose
from app.extensions import db
from app.models import (
    AREA_ROLES,
    Area,
    AuditEvent,
    Contribution,
    Membership,
    OrganisationKind,
    Period,
    Role,
    TopicScope,
)
from tests import flow
from tests.factories import PASSWORD, SETUP, World, advance, fill_sections, run
from tests.support import assert_security_event, refused, snapshot

ORGANISATIONS = {
    OrganisationKind.DISTRICT_OFFICE: "Norra stadsdelsförvaltningen",
    OrganisationKind.POLICE: "Polisen – lokalpolisområde Norr",
    OrganisationKind.CITY_OFFICE: "Stadsledningskontoret",
}
# Refused by the membership rules today (a district office is not the police), walked anyway.
BEYOND_THE_RULES = (Role.DRAFTER, Role.REVIEWER)


def holdable_pairs() -> list[tuple[Role, Role]]:
    """Two roles one user can be granted: some organisation kind may hold both."""
    return [(a, b) for a, b in combinations(Role, 2)
            if ROLE_ORGANISATION_KINDS[a] & ROLE_ORGANISATION_KINDS[b]]


PAIRS = [*holdable_pairs(), BEYOND_THE_RULES]


def test_the_walk_covers_the_pairs_the_rules_allow_and_the_one_they_refuse():
    assert set(PAIRS) == {
        (Role.DRAFTER, Role.AUDITOR), (Role.REVIEWER, Role.APPROVER),
        (Role.REVIEWER, Role.AUDITOR), (Role.CONSOLIDATOR, Role.APPROVER),
        (Role.CONSOLIDATOR, Role.AUDITOR), (Role.CONSOLIDATOR, Role.ADMIN),
        (Role.APPROVER, Role.AUDITOR), (Role.APPROVER, Role.ADMIN), (Role.AUDITOR, Role.ADMIN),
        BEYOND_THE_RULES,
    }


def add_dual(world: World, pair: tuple[Role, Role]) -> None:
    """One person holding both roles (area roles for Norr), as world.users["dual"]."""
    kinds = ROLE_ORGANISATION_KINDS[pair[0]] & ROLE_ORGANISATION_KINDS[pair[1]]
    organisation = ORGANISATIONS[min(kinds) if kinds else OrganisationKind.DISTRICT_OFFICE]
    with operation(SETUP):
        user = admin.create_user(SETUP, email="dual@example.se", name="Dubbel Roll",
                                 organisation_name=organisation, password=PASSWORD)
        for role in pair:
            area = "Norr" if role in AREA_ROLES else None
            if kinds:
                admin.grant_role(SETUP, user, role, area)
            elif role not in {m.role for m in user.memberships}:
                try:
                    admin.grant_role(SETUP, user, role, area)
                except InvalidInput:  # the rules refuse it: the guards must hold without them
                    db.session.add(Membership(user=user, role=role,
                                              area_id=world.areas[area] if area else None))
        world.users["dual"] = user.id


# -- the steps ------------------------------------------------------------------------------

OLD_DOCUMENT = """Lägesbild december 2029 Norr
Stadsövergripande prioriterade områden Kommentarer
1. Unga i risk för kriminalitet Arbetet pågår enligt plan.
2. Otillåten påverkan Inga nya händelser.
3. Ordningsvakter Det finns två ordningsvakter.
Lokalt prioriterade områden Kommentar
Trygghet i norr • Trygghetsvandringar varje månad.
""".encode()
OLD_PERIOD = "december 2029"


def import_old_document(actor) -> Contribution:
    area = db.session.scalar(select(Area).where(Area.name == "Norr"))
    mapping = propose(OLD_DOCUMENT, area).proposed
    with operation(actor):
        return import_document(actor, OLD_DOCUMENT, "gammal.txt", "Norr", OLD_PERIOD,
                               mapping).contribution


def norr(world: World) -> Contribution:
    return world.contribution("Norr")


def city_section(world: World):
    return next(s for s in norr(world).ordered_sections if s.topic.scope == TopicScope.CITY)


def cross_reference(world: World, key: str = "dual") -> None:
    section = city_section(world)
    local = next(s.topic_id for s in norr(world).sections if s.topic.scope == TopicScope.LOCAL)
    run(world, key, set_cross_reference, section.id, local, section.version)


def edit_text(world: World, key: str = "dual") -> None:
    section = city_section(world)
    run(world, key, contributions.edit_section, section.id, "Omformulerad text.",
        section.version)


def submit_and_withdraw(world: World) -> None:
    run(world, "dual", flow.submit, norr(world).id)
    run(world, "dual", flow.withdraw, norr(world).id)


def carry_forward_norr(world: World, key: str = "dual") -> None:
    run(world, key, carry_forward, world.period_id, world.areas["Norr"])


def exclude(world: World, area: str, key: str) -> None:
    run(world, key, contributions.exclude, world.contribution(area).id, "Kom inte in i tid.")


def exclude_and_include_norr(world: World) -> None:
    exclude(world, "Norr", "dual")
    run(world, "dual", contributions.include, norr(world).id)


def consolidate_norr(world: World, key: str = "consolidator") -> None:
    run(world, key, flow.consolidate, norr(world).id)


def submit_consolidation(world: World, key: str = "consolidator") -> None:
    run(world, key, flow.submit_for_approval, world.period().consolidation.id)


def review(world: World, key: str) -> None:
    run(world, key, flow.approve, norr(world).id)


def approve_consolidation(world: World, key: str) -> None:
    run(world, key, flow.approve_consolidation, world.period().consolidation.id)


def steps(*functions: Callable[[World], None]) -> Callable[[World], None]:
    def run_all(world: World) -> None:
        for function in functions:
            function(world)
    return run_all


def nothing(world: World) -> None:
    pass


@dataclass(frozen=True)
class Scenario:
    name: str
    act_roles: frozenset[Role]  # any of these lets the person do the act
    act: Callable[[World], None]  # done as "dual"
    prepare: Callable[[World], None] = nothing  # by others, before
    then: Callable[[World], None] = nothing  # by others, between the act and the approval
    review: bool = True  # the police's review of Norr; else the consolidation's approval
    approve_roles: frozenset[Role] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "approve_roles", frozenset(
            {Role.REVIEWER} if self.review else {Role.APPROVER}))

    def approve(self, world: World, key: str) -> None:
        (review if self.review else approve_consolidation)(world, key)

    def approval(self, world: World) -> tuple[Callable, int]:
        """The operation and its subject, for tests.support.refused."""
        if self.review:
            return flow.approve, norr(world).id
        return flow.approve_consolidation, world.period().consolidation.id

    @property
    def attempted(self) -> str:
        return "contribution.approve" if self.review else "consolidation.approve"

    @property
    def someone_else(self) -> str:
        return "reviewer2" if self.review else "approver2"


def fill_norr(world: World) -> None:
    fill_sections(world, "Norr", "drafter")


def drafter_submits(world: World) -> None:
    run(world, "drafter", flow.submit, norr(world).id)


def reviewed_norr(world: World) -> None:
    advance(world, "Norr", "reviewed")


def import_as_operator(world: World) -> None:
    import_old_document(SETUP)


def to_approval(*first: Callable[[World], None]) -> Callable[[World], None]:
    """After the act: what the coordinator still has to do for the consolidation to await
    approval (Söder excluded unless `first` settles it)."""
    return steps(*first, submit_consolidation)


DRAFTER, REVIEWER = frozenset({Role.DRAFTER}), frozenset({Role.REVIEWER})
CONSOLIDATOR = frozenset({Role.CONSOLIDATOR})
settle_soder = steps(lambda w: exclude(w, "Söder", "consolidator"))

SCENARIOS = [
    # The police's review of a contribution the reviewer touched in this round.
    Scenario("cross-reference, then review", DRAFTER, cross_reference, fill_norr,
             drafter_submits),
    Scenario("submit and withdraw, then review", DRAFTER, submit_and_withdraw, fill_norr,
             drafter_submits),
    Scenario("edit a text, then review", DRAFTER, edit_text, fill_norr, drafter_submits),
    Scenario("carry texts forward, then review", DRAFTER | CONSOLIDATOR, carry_forward_norr,
             import_as_operator, drafter_submits),
    # The approval of a consolidation the approver touched.
    Scenario("cross-reference, then approve", CONSOLIDATOR, cross_reference, reviewed_norr,
             to_approval(consolidate_norr, settle_soder), review=False),
    Scenario("edit wording, then approve", CONSOLIDATOR, edit_text, reviewed_norr,
             to_approval(consolidate_norr, settle_soder), review=False),
    Scenario("exclude, then approve", CONSOLIDATOR, lambda w: exclude(w, "Söder", "dual"),
             reviewed_norr, to_approval(consolidate_norr), review=False),
    Scenario("exclude and include again, then approve", CONSOLIDATOR,
             exclude_and_include_norr, reviewed_norr,
             to_approval(consolidate_norr, settle_soder), review=False),
    Scenario("consolidate, then approve", CONSOLIDATOR, lambda w: consolidate_norr(w, "dual"),
             reviewed_norr, to_approval(settle_soder), review=False),
    Scenario("submit for approval, then approve", CONSOLIDATOR,
             lambda w: submit_consolidation(w, "dual"),
             steps(reviewed_norr, consolidate_norr, settle_soder), review=False),
    Scenario("carry texts forward, then approve", DRAFTER | CONSOLIDATOR, carry_forward_norr,
             import_as_operator,
             to_approval(drafter_submits, lambda w: review(w, "reviewer"), consolidate_norr,
                         settle_soder), review=False),
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_whoever_touched_it_may_not_approve_it(world, pair, scenario):
    add_dual(world, pair)
    scenario.prepare(world)
    if not scenario.act_roles & set(pair):
        # Without a role for the act the person cannot even start: refused, nothing changed.
        before = snapshot()
        with pytest.raises((NotAllowed, InvalidTransition)):
            scenario.act(world)
        assert snapshot() == before
        return
    scenario.act(world)
    scenario.then(world)
    error, events = refused(world, "dual", NotAllowed, *scenario.approval(world))
    assert_security_event(events, "security.permission_denied", world.users["dual"],
                          scenario.attempted)
    # Someone who did not touch it still may.
    scenario.approve(world, scenario.someone_else)
    assert verify_chain().ok


@pytest.mark.parametrize("pair", [p for p in PAIRS if Role.REVIEWER in p],
                         ids=lambda p: "+".join(p))
def test_a_reviewer_who_did_not_touch_the_contribution_still_reviews_it(world, pair):
    """Holding a second role is no bar: only touching the contribution is."""
    add_dual(world, pair)
    advance(world, "Norr", "police_review")
    review(world, "dual")
    assert norr(world).state == "reviewed"


@pytest.mark.parametrize("pair", [p for p in PAIRS if Role.APPROVER in p],
                         ids=lambda p: "+".join(p))
def test_an_approver_who_did_not_touch_the_consolidation_still_approves_it(world, pair):
    """Reviewing (the police's reviewer+approver) or holding the coordinator's role without
    using it in this period is no bar."""
    add_dual(world, pair)
    advance(world, "Norr", "police_review")
    review(world, "dual" if Role.REVIEWER in pair else "reviewer")
    steps(consolidate_norr, settle_soder, submit_consolidation)(world)
    approve_consolidation(world, "dual")
    assert world.period().consolidation.state == "approved"
    assert norr(world).state == "approved"


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_an_import_is_never_an_approval_signed_by_one_person(world, pair):
    add_dual(world, pair)
    if Role.CONSOLIDATOR not in pair:
        with pytest.raises(NotAllowed):
            import_old_document(world.user("dual"))
        return
    contribution_id = import_old_document(world.user("dual")).id
    contribution = db.session.get(Contribution, contribution_id)
    consolidation = db.session.scalar(select(Period).where(Period.name == OLD_PERIOD)) \
        .consolidation
    assert contribution.imported and consolidation.imported
    assert consolidation.submitted_by_id is None and consolidation.approved_by_id is None
    assert contribution.submitted_by_id is None and contribution.reviewed_by_id is None
    # Nobody approved anything: the trail holds the import, no approval.
    actions = set(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.period_id == consolidation.period_id)))
    assert "document.import" in actions
    assert not actions & {"consolidation.approve", "contribution.finalize",
                          "contribution.approve"}


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_only_drafters_and_the_coordinator_carry_texts_forward(world, pair):
    """The administrator opens periods but writes no text, even with a second role."""
    add_dual(world, pair)
    import_as_operator(world)
    if not {Role.DRAFTER, Role.CONSOLIDATOR} & set(pair):
        before = snapshot()
        with pytest.raises(NotAllowed):
            carry_forward_norr(world)
        assert snapshot() == before
        return
    carry_forward_norr(world)
    assert all(s.text for s in norr(world).sections)
