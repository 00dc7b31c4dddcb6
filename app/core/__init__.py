"""What every domain builds on: domain errors, actors, role scope, the unit of work, messages and
languages, text rules, diffs, text blocks, the clock, and binding workflows to their guards."""
