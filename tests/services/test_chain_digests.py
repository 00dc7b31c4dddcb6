"""The compiled batch hasher (app/services/_chain_digests.c) computes exactly what its Python
twin in app/services/audit.py computes; the verifier uses it."""
from __future__ import annotations

import hashlib
import random

import pytest

from app.services import audit
from app.services.audit import sha256_split_python

SEPARATOR = 30


def _native():
    try:
        from app.services import _chain_digests
    except ImportError as error:  # say how to get it rather than skip: CI must have it
        pytest.fail(f"the batch hasher was not built ({error}); `make install` builds it "
                    "with gcc and OpenSSL's headers (Debian: build-essential, libssl-dev)")
    return _chain_digests.sha256_split


def _record(rng: random.Random, size: int) -> bytes:
    text = "".join(rng.choice("abcåäöÅÄÖ{}\":,0123456789 \n\\é€😀") for _ in range(size))
    return ("f" * 64 + "\n" + text).encode("utf-8")


@pytest.mark.parametrize("records", [
    b"",
    b"x",
    b"\x1e",
    b"\x1e\x1e",
    b"a" * 64,
    b"a" * 64 + b"\x1e",
    b"\x1e" + b"a" * 64,
    b"a" * 64 + b"\x1e" + b"b" * 63,
    "ö".encode() * 40 + b"\x1e" + "😀".encode() * 20,
    b"a" * 5000 + b"\x1e" + b"b" * 64,  # longer than hashlib's own GIL threshold
])
def test_it_agrees_with_the_python_twin(records):
    assert _native()(records, SEPARATOR, 64) == sha256_split_python(records, SEPARATOR, 64)


def test_it_agrees_on_a_batch_of_records_of_every_size():
    rng = random.Random(11)
    parts = [_record(rng, rng.randrange(0, 3000)) for _ in range(500)]
    records = bytes([SEPARATOR]).join(parts)
    count, prefixes, digests = _native()(records, SEPARATOR, 64)
    assert count == 500 and prefixes == b"f" * 64 * 500
    assert digests == b"".join(hashlib.sha256(part).digest() for part in parts)
    assert (count, prefixes, digests) == sha256_split_python(records, SEPARATOR, 64)


def test_a_part_shorter_than_the_prefix_gives_no_prefixes():
    count, prefixes, digests = _native()(b"a" * 64 + b"\x1eshort", SEPARATOR, 64)
    assert (count, prefixes) == (2, None)
    assert digests[32:] == hashlib.sha256(b"short").digest()


def test_it_takes_any_bytes_like_object():
    records = b"a" * 70 + b"\x1e" + b"b" * 70
    expected = sha256_split_python(records, SEPARATOR, 64)
    assert _native()(bytearray(records), SEPARATOR, 64) == expected
    assert _native()(memoryview(records), SEPARATOR, 64) == expected


@pytest.mark.parametrize(("arguments", "error", "message"), [
    (("text", SEPARATOR, 64), TypeError, "bytes-like"),
    ((b"x", 256, 64), ValueError, "separator must be a byte"),
    ((b"x", -1, 64), ValueError, "separator must be a byte"),
    ((b"x", SEPARATOR, -1), ValueError, "prefix not negative"),
])
def test_bad_arguments_are_refused(arguments, error, message):
    with pytest.raises(error, match=message):
        _native()(*arguments)


def test_the_verifier_uses_it():
    assert audit.sha256_split is _native()
