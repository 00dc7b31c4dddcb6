"""The compiled batch hasher (app/services/_chain_digests.c) computes exactly what its Python
twin in app/services/audit.py computes, which is the audit recipe; the verifier uses it."""
from __future__ import annotations

import hashlib
import random

import pytest

from app.services import audit
from app.services.audit import chain_digests_python, hash_of_record

SEPARATOR = 30


def _compiled():
    try:
        from app.services import _chain_digests
    except ImportError as error:  # say how to get it rather than skip: CI must have it
        pytest.fail(f"the batch hasher was not built ({error}); `make install` builds it "
                    "with gcc and OpenSSL's headers (Debian: build-essential, libssl-dev)")
    return _chain_digests.chain_digests


def _text(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("abcåäöÅÄÖ{}\":,0123456789 \n\\é€😀") for _ in range(size))


def _prev_hash(rng: random.Random) -> str:
    return "%064x" % rng.getrandbits(256)


def test_it_computes_the_audit_recipe_for_records_of_every_size():
    rng = random.Random(11)
    # Up to 3,000 characters: past hashlib's own 2 KiB threshold, and empty texts too.
    events = [(_prev_hash(rng), _text(rng, rng.choice([0, 1, rng.randrange(3000)])))
              for _ in range(500)]
    prev_hashes = "".join(prev for prev, _text_ in events).encode()
    records = "\x1e".join(text for _prev, text in events).encode()
    expected = b"".join(bytes.fromhex(hash_of_record(prev, text)) for prev, text in events)
    assert _compiled()(prev_hashes, records, SEPARATOR) == expected
    assert chain_digests_python(prev_hashes, records, SEPARATOR) == expected


@pytest.mark.parametrize(("prev_hashes", "records"), [
    (b"", b""),  # no records
    (b"a" * 64, b"x"),
    (b"a" * 64, b""),  # no records, one prev_hash: they do not pair up
    (b"a" * 64 + b"b" * 64, b"\x1e"),  # two empty texts
    (b"a" * 64 + b"b" * 64, b"x\x1e"),
    (b"a" * 64 + b"b" * 64, b"x"),  # one text, two prev_hashes
    (b"a" * 64, b"x\x1ey"),  # two texts, one prev_hash
    (b"a" * 63, b"x"),  # a prev_hash one byte short
    (b"a" * 64, "ö€😀".encode() * 1000),
])
def test_it_agrees_with_the_python_twin(prev_hashes, records):
    assert (_compiled()(prev_hashes, records, SEPARATOR)
            == chain_digests_python(prev_hashes, records, SEPARATOR))


def test_texts_and_prev_hashes_that_do_not_pair_up_give_none():
    assert _compiled()(b"a" * 64, b"x\x1ey", SEPARATOR) is None
    assert _compiled()(b"a" * 64 * 2, b"x", SEPARATOR) is None
    assert _compiled()(b"a" * 64, b"x", SEPARATOR) == hashlib.sha256(b"a" * 64 + b"\nx").digest()


def test_it_takes_any_bytes_like_object():
    prev_hashes, records = b"a" * 128, b"x" * 70 + b"\x1e" + b"y" * 70
    expected = chain_digests_python(prev_hashes, records, SEPARATOR)
    assert _compiled()(bytearray(prev_hashes), bytearray(records), SEPARATOR) == expected
    assert _compiled()(memoryview(prev_hashes), memoryview(records), SEPARATOR) == expected


@pytest.mark.parametrize(("arguments", "error", "message"), [
    ((b"", "text", SEPARATOR), TypeError, "bytes-like"),
    (("text", b"", SEPARATOR), TypeError, "bytes-like"),
    ((b"", b"x", 256), ValueError, "separator must be a byte"),
    ((b"", b"x", -1), ValueError, "separator must be a byte"),
])
def test_bad_arguments_are_refused(arguments, error, message):
    with pytest.raises(error, match=message):
        _compiled()(*arguments)


def test_the_verifier_uses_it():
    assert audit.chain_digests is _compiled()
