from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from tests.factories import advance, run


def test_world_flows_to_consolidated(world):
    contribution = advance(world, "Norr", "consolidated")
    assert contribution.state == "consolidated"
    assert verify_chain().ok


def test_return_requires_remarks(world):
    import pytest

    from app.core.errors import InvalidInput

    advance(world, "Norr", "police_review")
    with pytest.raises(InvalidInput):
        run(world, "reviewer", contributions.transition, world.contribution().id, "return")
