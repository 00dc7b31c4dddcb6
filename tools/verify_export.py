#!/usr/bin/env python3
"""Verify a JSON Lines export of Lägesbild's audit trail, outside the system.

    python3 tools/verify_export.py audit-full-to-1234.jsonl
    python3 tools/verify_export.py --partial audit-filtered-to-1234.jsonl

Python's standard library only: copy this one file anywhere and run it. Exit 0 printing
"OK: N events, head hash H", or exit 1 naming the first line that does not fit, and why.

The recipe (the same as app/audit/trail.py): each line is one event, oldest first. The
event's hash is SHA-256 over
    prev_hash (ASCII) + "\\n" + canonical JSON of the event's hashed fields
where the hashed fields are every key of the line except "hash", and canonical JSON means
keys sorted, no spaces (separators "," and ":"), non-ASCII characters as they are, UTF-8.
A full export starts at seq 1 from the genesis hash (64 zeros), and each event's prev_hash is
the hash of the line before it.

--partial checks a filtered export: every event's own hash, and the link wherever two lines
are consecutive events; gaps between seqs are expected there.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_name", "actor_organisation", "action",
    "object_type", "object_id", "period_id", "area_id", "contribution_id", "from_state",
    "to_state", "data", "request_id", "client_address", "prev_hash",
)
EXPECTED_KEYS = frozenset(HASHED_FIELDS) | {"hash"}


class Misfit(Exception):
    """This line does not fit the chain; the message says why."""


def event_hash(payload: dict) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(payload["prev_hash"].encode("ascii") + b"\n" + encoded).hexdigest()


def parse_line(text: str) -> dict:
    try:
        event = json.loads(text)
    except ValueError as error:
        raise Misfit(f"not valid JSON ({error})") from None
    if not isinstance(event, dict):
        raise Misfit("not a JSON object")
    return event


def check_event(event: dict) -> None:
    keys = set(event)
    if keys != EXPECTED_KEYS:
        missing, extra = sorted(EXPECTED_KEYS - keys), sorted(keys - EXPECTED_KEYS)
        raise Misfit("fields do not match the recipe"
                     + (f"; missing {', '.join(missing)}" if missing else "")
                     + (f"; unexpected {', '.join(extra)}" if extra else ""))
    if not isinstance(event["seq"], int) or isinstance(event["seq"], bool):
        raise Misfit("seq is not a whole number")
    for name in ("prev_hash", "hash"):
        value = event[name]
        if not isinstance(value, str) or len(value) != 64 \
                or any(ch not in "0123456789abcdef" for ch in value):
            raise Misfit(f"{name} is not 64 lowercase hex digits")
    payload = {name: event[name] for name in HASHED_FIELDS}
    if event_hash(payload) != event["hash"]:
        raise Misfit("its hash does not match its contents: the event was altered")


def verify(lines, partial: bool = False) -> tuple[int, str]:
    """Returns (count, head hash); raises Misfit with the line number in its message."""
    previous = None  # (seq, hash) of the line before
    count = 0
    head = GENESIS_HASH
    for number, raw in enumerate(lines, start=1):
        text = raw.rstrip("\r\n")
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if not text.strip():
            raise Misfit(f"line {number}: empty line")
        event = None
        try:
            event = parse_line(text)
            check_event(event)
            seq = event["seq"]
            if previous is None:
                if not partial:
                    if seq != 1:
                        raise Misfit(f"the export starts at event {seq}, not 1 (use --partial "
                                     "for a filtered export)")
                    if event["prev_hash"] != GENESIS_HASH:
                        raise Misfit("the first event's prev_hash is not the genesis hash")
            else:
                prev_seq, prev_hash = previous
                if seq <= prev_seq:
                    raise Misfit(f"event {seq} comes after event {prev_seq}: out of order "
                                 "or repeated")
                if seq != prev_seq + 1 and not partial:
                    raise Misfit(f"event {prev_seq + 1} is missing (the next line is event "
                                 f"{seq}): an event was removed")
                if seq == prev_seq + 1 and event["prev_hash"] != prev_hash:
                    raise Misfit("its prev_hash does not match the hash of the line before: "
                                 "an event was inserted, removed or reordered here")
        except Misfit as misfit:
            where = f"line {number}"
            if event is not None and isinstance(event.get("seq"), int):
                where += f" (event {event['seq']})"
            raise Misfit(f"{where}: {misfit}") from None
        previous = (seq, event["hash"])
        head = event["hash"]
        count += 1
    return count, head


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="a .jsonl export of the audit trail")
    parser.add_argument("--partial", action="store_true",
                        help="a filtered export: gaps between events are expected")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8", newline="") as handle:
            count, head = verify(handle, partial=args.partial)
    except OSError as error:
        print(f"FAILED: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError as error:
        print(f"FAILED: {args.file} is not UTF-8 text ({error.reason})", file=sys.stderr)
        return 1
    except Misfit as misfit:
        print(f"FAILED at {misfit}", file=sys.stderr)
        return 1
    kind = "events (partial export: links checked between consecutive events)" \
        if args.partial else "events"
    print(f"OK: {count} {kind}, head hash {head}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
