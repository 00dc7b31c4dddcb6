"""The verifier's batch hasher computes the audit recipe (hash_of_record) for each event of a
batch, and says when a batch's texts and prev_hashes do not pair up."""
from __future__ import annotations

import hashlib
import random

import pytest

from app.audit.trail import hash_of_record
from app.audit.verify import chain_digests

SEPARATOR = 30


def _text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("abcåäöÅÄÖ{}\":,0123456789 \n\\é€😀") for _ in range(size))


def _prev_hash(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def test_it_computes_the_audit_recipe_for_records_of_every_size():
    rng = random.Random(11)
    # Up to 3,000 characters, and empty texts too.
    events = [(_prev_hash(rng), _text(rng, rng.choice([0, 1, rng.randrange(3000)])))
              for _ in range(500)]
    prev_hashes = "".join(prev for prev, _text_ in events).encode()
    records = "\x1e".join(text for _prev, text in events).encode()
    expected = b"".join(bytes.fromhex(hash_of_record(prev, text)) for prev, text in events)
    assert chain_digests(prev_hashes, records, SEPARATOR) == expected


@pytest.mark.parametrize(("prev_hashes", "records", "count"), [
    (b"", b"", 0),  # no records
    (b"a" * 64 + b"b" * 64, b"\x1e", 2),  # two empty texts
    (b"a" * 64 + b"b" * 64, b"x\x1e", 2),
    (b"a" * 64, "ö€😀".encode() * 1000, 1),
])
def test_records_that_pair_up_give_one_digest_each(prev_hashes, records, count):
    digests = chain_digests(prev_hashes, records, SEPARATOR)
    assert digests is not None and len(digests) == 32 * count
    parts = records.split(b"\x1e") if records else []
    assert digests == b"".join(hashlib.sha256(prev_hashes[64 * i:64 * i + 64] + b"\n" + part)
                               .digest() for i, part in enumerate(parts))


@pytest.mark.parametrize(("prev_hashes", "records"), [
    (b"a" * 64, b""),  # no records, one prev_hash
    (b"a" * 64 + b"b" * 64, b"x"),  # one text, two prev_hashes
    (b"a" * 64, b"x\x1ey"),  # two texts, one prev_hash
    (b"a" * 63, b"x"),  # a prev_hash one byte short
])
def test_texts_and_prev_hashes_that_do_not_pair_up_give_none(prev_hashes, records):
    assert chain_digests(prev_hashes, records, SEPARATOR) is None
