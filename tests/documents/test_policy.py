"""Who may read documents follows the contributions' one reading rule; an operator at the
command line reads and imports everything; only the coordinator imports."""
from __future__ import annotations

import pytest

from app.contributions.policy import may_read, may_read_every_area
from app.core.errors import NotAllowed
from app.documents import policy
from tests.factories import SETUP, USERS


@pytest.mark.parametrize("key", sorted(USERS))
def test_documents_read_what_the_contribution_pages_read(world, key):
    user = world.user(key)
    for area in ("Norr", "Söder"):
        contribution = world.contribution(area)
        assert policy.may_read_contribution(user, contribution) == may_read(user, contribution)
    assert policy.may_read_period(user) == may_read_every_area(user)


def test_who_reads_what(world):
    norr = world.contribution("Norr")
    assert policy.may_read_contribution(world.user("reviewer"), norr)
    assert not policy.may_read_contribution(world.user("reviewer_south"), norr)
    assert not policy.may_read_contribution(world.user("admin"), norr)  # structure, not content
    assert policy.may_read_period(world.user("auditor"))
    assert not policy.may_read_period(world.user("drafter"))
    assert policy.may_read_contribution(SETUP, norr) and policy.may_read_period(SETUP)


def test_only_the_coordinator_and_the_command_line_import(world):
    assert policy.may_import(world.user("consolidator")) and policy.may_import(SETUP)
    for key in ("drafter", "reviewer", "approver", "auditor", "admin"):
        assert not policy.may_import(world.user(key))
        with pytest.raises(NotAllowed, match="Only the coordinator may import documents."):
            policy.require_importer(world.user(key))
