"""Loading many contributions at once with what the period-wide pages draw from them (area,
period and its consolidation; optionally sections with their topics), in a fixed number of
queries however many areas there are: one place for the eager loading, so no page or document
falls back to one lazy query per row (issue 17)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, load_only, selectinload

from app.extensions import db
from app.models import Area, Consolidation, Contribution, Period, Section


def contribution_options(*, sections: bool = False) -> list:
    """Loader options: area and period (with its consolidation) joined; with `sections`, the
    sections and their topics (and cross-referenced topics) in one more query."""
    options = [joinedload(Contribution.area),
               joinedload(Contribution.period).joinedload(Period.consolidation)]
    if sections:
        options.append(selectinload(Contribution.sections).options(
            joinedload(Section.topic), joinedload(Section.handled_in_topic)))
    return options


def consolidation_options() -> list:
    """Loader options for consolidations: the period with all its contributions and their
    areas, which the consolidation's guards read (one query for every period listed)."""
    # Only the columns the guards read (a state, an exclusion, the area's name): a city's
    # open periods hold thousands of contributions, and a whole row each costs.
    return [joinedload(Consolidation.period).selectinload(Period.contributions)
            .options(load_only(Contribution.period_id, Contribution.area_id,
                               Contribution.state, Contribution.excluded_reason),
                     joinedload(Contribution.area).load_only(Area.name))]


def period_contributions(period_id: int, *, sections: bool = False) -> list[Contribution]:
    """The period's contributions, by area name, loaded as contribution_options says."""
    found = db.session.scalars(
        select(Contribution).where(Contribution.period_id == period_id)
        .options(*contribution_options(sections=sections))).unique().all()
    return sorted(found, key=lambda c: c.area.name)
