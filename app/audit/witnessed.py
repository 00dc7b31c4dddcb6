"""Verifying the log against the witness: the signed checkpoints the app filed outside the
database after every commit (witness.py).

What it proves, beyond the chain itself (verify.py):
- every witness line is signed by the app's key (a line that is not is refused, named);
- the log still reaches the latest witnessed head: fewer events is a truncation, an empty
  table included;
- at every witnessed seq the log still has the witnessed hash: a rewrite, even one with every
  hash recomputed, is named between the last witnessed event that still matches and the first
  that does not (one commit's events, as each commit files its own line);
- every event since the witness began lies in some commit's range [from_seq, seq]: an event
  no line covers was not appended by a commit of the app's (a forged append), unless it is
  younger than the grace window (its line may still be on its way).
Against someone who holds both the database and the witness's signing key it proves nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, or_, select

from app.audit.verify import VerifyResult, verify_chain
from app.audit.witness import Checkpoint, FileWitness, parse_checkpoint, signature_problem
from app.core.errors import InvalidInput
from app.extensions import db
from app.models import AuditEvent

EVENTS = AuditEvent.__table__
_CHUNK = 1000  # witnessed seqs looked up per query


@dataclass(frozen=True)
class WitnessResult:
    chain: VerifyResult
    ok: bool
    reason: str | None = None
    failed_seq: int | None = None
    latest: Checkpoint | None = None
    latest_line: int | None = None
    lines: int = 0
    first_witnessed: int | None = None  # the first line's from_seq: events before it predate
    pending: int = 0  # events no line covers yet, inside the grace window


@dataclass(frozen=True)
class _Line:
    number: int
    checkpoint: Checkpoint


class _Refused(Exception):
    def __init__(self, reason: str, failed_seq: int | None = None):
        super().__init__(reason)
        self.reason, self.failed_seq = reason, failed_seq


def _signed_lines(store: FileWitness, public_key: Ed25519PublicKey) -> list[_Line]:
    """Every line, each a commit's checkpoint signed by `public_key`, no two disagreeing."""
    lines, by_seq = [], {}
    for number, content in store.read():
        try:
            checkpoint = parse_checkpoint(content)
        except InvalidInput as error:
            raise _Refused(f"witness line {number} is not a checkpoint: {error.message}") from None
        if checkpoint.origin != "commit" or checkpoint.from_seq is None:
            raise _Refused(f"witness line {number} is not a commit's checkpoint (origin "
                           f"{checkpoint.origin}): refused")
        problem = signature_problem(checkpoint, public_key)
        if problem is not None:
            raise _Refused(f"witness line {number} (event {checkpoint.seq}) is refused: "
                           f"{problem}")
        earlier = by_seq.setdefault(checkpoint.seq, _Line(number, checkpoint))
        if earlier.checkpoint.hash != checkpoint.hash:
            raise _Refused(f"witness lines {earlier.number} and {number} give event "
                           f"{checkpoint.seq} different hashes: the log was rewritten or "
                           "restored from an older copy between them", checkpoint.seq)
        lines.append(_Line(number, checkpoint))
    return lines


def _stored_hashes(seqs: list[int]) -> dict[int, str]:
    found = {}
    for start in range(0, len(seqs), _CHUNK):
        chunk = seqs[start:start + _CHUNK]
        found.update(db.session.execute(
            select(EVENTS.c.seq, EVENTS.c.hash).where(EVENTS.c.seq.in_(chunk))).all())
    return found


def _check_hashes(lines: list[_Line], up_to: int) -> None:
    """Each witnessed head up to `up_to` still has its witnessed hash."""
    witnessed = sorted({line.checkpoint.seq: line for line in lines
                        if line.checkpoint.seq <= up_to}.items())
    stored = _stored_hashes([seq for seq, _line in witnessed])
    last_good = 0
    for seq, line in witnessed:
        if stored.get(seq) != line.checkpoint.hash:
            raise _Refused(
                f"event {seq} has hash {stored.get(seq)}, but witness line {line.number} "
                f"(signed, filed {line.checkpoint.written_at}) says {line.checkpoint.hash}: the "
                f"history was rewritten after event {last_good} and at or before event {seq}",
                seq)
        last_good = seq


def _uncovered(lines: Iterable[_Line], first: int, last: int) -> list[tuple[int, int]]:
    """The seq ranges in [first, last] that no line's [from_seq, seq] covers."""
    gaps, reached = [], first - 1
    for low, high in sorted((line.checkpoint.from_seq, line.checkpoint.seq) for line in lines):
        if low > reached + 1 and reached + 1 <= last:
            gaps.append((reached + 1, min(low - 1, last)))
        reached = max(reached, high)
    if reached < last:
        gaps.append((reached + 1, last))
    return gaps


def _check_coverage(gaps: list[tuple[int, int]], grace_seconds: int) -> int:
    """Events no line covers must be younger than the grace window (or a little in the
    future: clocks differ); returns how many are. Otherwise refuse at the first."""
    moment = datetime.now(UTC)
    early, late = moment - timedelta(seconds=grace_seconds), moment + timedelta(
        seconds=grace_seconds)
    pending = 0
    for low, high in gaps:
        in_gap = EVENTS.c.seq.between(low, high)
        stale = db.session.scalar(select(func.min(EVENTS.c.seq)).where(
            in_gap, or_(EVENTS.c.occurred_at < early, EVENTS.c.occurred_at > late)))
        if stale is not None:
            raise _Refused(
                f"event {stale} is covered by no witness line, and it is older than the grace "
                f"window ({grace_seconds} s): no commit of the app's filed it, so it was "
                "appended outside the app (a forged append), or the witness failed when it "
                "was committed (the app's log then says AUDIT WITNESS FAILED)", stale)
        pending += db.session.scalar(select(func.count()).select_from(EVENTS).where(in_gap))
    return pending


def verify_against_witness(store: FileWitness, public_key: Ed25519PublicKey, grace_seconds: int,
                           progress: Callable[[int], None] | None = None) -> WitnessResult:
    # The witness first: each line is written after its commit, so every line read now is
    # about events the chain check below will see, however many commits happen meanwhile.
    try:
        lines, refused = _signed_lines(store, public_key), None
    except _Refused as refusal:
        lines, refused = [], refusal
    chain = verify_chain(progress=progress)
    if not chain.ok and chain.failed_seq is None:  # the table itself: nothing else to trust
        return WitnessResult(chain, False, f"the log cannot be trusted: {chain.reason}")
    if refused is not None:
        return WitnessResult(chain, False, refused.reason, refused.failed_seq)
    # The events the chain vouches for: all of them, or those before the first that broke it.
    verified = (chain.head_seq or 0) if chain.ok else chain.failed_seq - 1
    if not lines:
        if verified == 0 and chain.ok:
            return WitnessResult(chain, True)
        try:
            pending = _check_coverage([(1, verified)], grace_seconds)
        except _Refused:
            return WitnessResult(chain, False, (
                f"the witness holds no signed checkpoint, but the log has {verified} events: "
                "the witness was emptied or replaced, or points elsewhere"), 1)
        return WitnessResult(chain, chain.ok, None if chain.ok else chain.reason,
                             None if chain.ok else chain.failed_seq, pending=pending)
    latest_line = max(lines, key=lambda line: line.checkpoint.seq)
    latest = latest_line.checkpoint
    first = min(line.checkpoint.from_seq for line in lines)
    common = {"latest": latest, "latest_line": latest_line.number, "lines": len(lines),
              "first_witnessed": first}
    if not chain.ok and chain.failed_seq <= latest.seq:
        return WitnessResult(chain, False, (
            f"the chain breaks at event {chain.failed_seq}, at or before the latest witnessed "
            f"checkpoint (event {latest.seq}, witness line {latest_line.number}): "
            f"{chain.reason}"), chain.failed_seq, **common)
    if chain.ok and verified < latest.seq:
        ends = f"ends at event {verified}" if verified else "is empty"
        return WitnessResult(chain, False, (
            f"the log {ends}, but witness line {latest_line.number} (signed, filed "
            f"{latest.written_at}) vouches for event {latest.seq}: events {verified + 1} to "
            f"{latest.seq} were removed (truncation)"), verified + 1, **common)
    try:
        _check_hashes(lines, verified)
        pending = _check_coverage(_uncovered(lines, first, verified), grace_seconds)
    except _Refused as refusal:
        return WitnessResult(chain, False, refusal.reason, refusal.failed_seq, **common)
    if not chain.ok:
        return WitnessResult(chain, False, (
            f"the latest witnessed checkpoint (event {latest.seq}) is intact, but the chain "
            f"breaks after it at event {chain.failed_seq}: {chain.reason}"), chain.failed_seq,
            pending=pending, **common)
    return WitnessResult(chain, True, pending=pending, **common)
