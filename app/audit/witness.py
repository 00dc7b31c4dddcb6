"""Signed checkpoints of the chain's head, filed outside the database after every commit.

After each committed transaction that appended audit events, the app signs the new head (the
commit's first and last seq, the last event's hash and time) with an Ed25519 key that lives
outside the database, and appends the signed checkpoint as one line to the witness: an
append-only JSON Lines file, which a city puts on storage the database's owner cannot rewrite
(README, "The audit trail"). One line per commit, not per event; the window between a commit
and its line is the few milliseconds the write takes (`audit verify` allows
LAGESBILD_WITNESS_GRACE_SECONDS before it reports an event no line covers).

Writing the witness never fails a committed write: a failure is logged loudly, and this
process's next line covers the events the failed one would have (its from_seq starts there);
the signed head vouches for the whole chain before it in any case.

The signed message (what `openssl pkeyutl -verify -rawin` checks) is the text
    lagesbild-audit-checkpoint\\norigin=O\\nfrom_seq=F\\nseq=S\\nhash=H\\noccurred_at=T\\nwritten_at=W\\n
with from_seq empty for a manual checkpoint (`audit checkpoint --out`).
"""
from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from flask import Flask, current_app
from sqlalchemy import event

from app.audit.trail import PENDING_HEAD, PendingHead, format_time
from app.config import ConfigurationError
from app.core.errors import InvalidInput
from app.extensions import db

logger = logging.getLogger(__name__)

CHECKPOINT_KIND = "lagesbild-audit-checkpoint"
ORIGINS = ("commit", "manual")
DEFAULT_WITNESS_FILE = "audit-witness.jsonl"
DEFAULT_KEY_FILE = "audit-witness-key.pem"
_EXTENSION = "lagesbild_audit_witness"


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment: event `seq` with `hash`, and where it came from."""

    seq: int
    hash: str
    occurred_at: str  # the head event's time, as hashed
    written_at: str
    origin: str = "manual"  # "commit": the app's line after a commit; "manual": audit checkpoint
    from_seq: int | None = None  # "commit": the first event that commit appended
    key: str | None = None  # the signing key's id (key_id)
    signature: str | None = None  # base64 of the Ed25519 signature over message()

    def message(self) -> bytes:
        return (f"{CHECKPOINT_KIND}\norigin={self.origin}\n"
                f"from_seq={'' if self.from_seq is None else self.from_seq}\nseq={self.seq}\n"
                f"hash={self.hash}\noccurred_at={self.occurred_at}\n"
                f"written_at={self.written_at}\n").encode()

    def as_dict(self) -> dict:
        fields = {"kind": CHECKPOINT_KIND, "origin": self.origin, "from_seq": self.from_seq,
                  "seq": self.seq, "hash": self.hash, "occurred_at": self.occurred_at,
                  "written_at": self.written_at}
        if self.signature is not None:
            fields.update(key=self.key, signature=self.signature)
        return fields

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2) + "\n"

    def as_line(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":")) + "\n"


def parse_checkpoint(content: str) -> Checkpoint:
    """A checkpoint file or witness line; a malformed one raises InvalidInput saying why."""
    try:
        data = json.loads(content)
    except ValueError as error:
        raise InvalidInput(f"The checkpoint file is not JSON ({error}).") from None
    if not isinstance(data, dict) or data.get("kind") != CHECKPOINT_KIND:
        raise InvalidInput("The file is not an audit checkpoint of Lägesbild.")
    seq, digest = data.get("seq"), data.get("hash")
    if not _whole(seq):
        raise InvalidInput("The checkpoint has no valid seq.")
    if not isinstance(digest, str) or len(digest) != 64 \
            or any(ch not in "0123456789abcdef" for ch in digest):
        raise InvalidInput("The checkpoint has no valid hash.")
    origin, from_seq = data.get("origin", "manual"), data.get("from_seq")
    if origin not in ORIGINS:
        raise InvalidInput(f"The checkpoint's origin must be one of {', '.join(ORIGINS)}.")
    if from_seq is not None and not (_whole(from_seq) and from_seq <= seq):
        raise InvalidInput("The checkpoint has no valid from_seq.")
    signature, key = data.get("signature"), data.get("key")
    if signature is not None and not (isinstance(signature, str) and isinstance(key, str)):
        raise InvalidInput("The checkpoint's signature or key is not text.")
    return Checkpoint(seq, digest, str(data.get("occurred_at", "")),
                      str(data.get("written_at", "")), origin, from_seq, key, signature)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# -- keys -------------------------------------------------------------------------------------

def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for a key: the first 16 hex digits of SHA-256 over its raw 32 bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise InvalidInput(f"The public key is not a PEM public key ({error}).") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput("The public key is not an Ed25519 key.")
    return key


class SigningKey:
    """The private key that signs checkpoints (a PEM file outside the database)."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._private = private_key
        self.public_key = private_key.public_key()
        self.id = key_id(self.public_key)

    @classmethod
    def from_file(cls, path: Path, *, generate: bool = False) -> SigningKey:
        """Load the key; with `generate`, first create it (owner-only) if it does not exist."""
        if generate and not path.exists():
            _generate_key_file(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as error:
            raise ConfigurationError(f"LAGESBILD_WITNESS_KEY: cannot read {path} "
                                     f"({error.strerror}).") from None
        except (ValueError, TypeError) as error:
            raise ConfigurationError(f"LAGESBILD_WITNESS_KEY: {path} is not an unencrypted PEM "
                                     f"private key ({error}).") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(f"LAGESBILD_WITNESS_KEY: {path} is not an Ed25519 key "
                                     "(openssl genpkey -algorithm ed25519 makes one).")
        return cls(key)

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        unsigned = replace(checkpoint, key=self.id, signature=None)
        signature = self._private.sign(unsigned.message())
        return replace(unsigned, signature=base64.b64encode(signature).decode("ascii"))


def _generate_key_file(path: Path) -> None:
    """Written to a temporary name and linked into place, so a reader never sees half a key
    and two processes starting at once keep the same one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def signature_problem(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> str | None:
    """Why the checkpoint's signature is not good for `public_key`, or None."""
    if checkpoint.signature is None:
        return "it is not signed"
    if checkpoint.key != key_id(public_key):
        return (f"it was signed with key {checkpoint.key}, not with the key checked against "
                f"({key_id(public_key)})")
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        public_key.verify(signature, checkpoint.message())
    except (binascii.Error, ValueError, InvalidSignature):
        return "its signature does not verify: it was altered or forged"
    return None


# -- the witness store ------------------------------------------------------------------------

class FileWitness:
    """An append-only JSON Lines file: one signed checkpoint a line.

    The interface is append and read, so another store (a remote log, a write-once bucket)
    is one class like this one. Each append opens the file with O_APPEND, takes an exclusive
    lock (several workers write to it), writes the whole line at once and fsyncs it."""

    def __init__(self, path: Path):
        self.path = path

    def append(self, checkpoint: Checkpoint) -> None:
        data = checkpoint.as_line().encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if os.write(fd, data) != len(data):
                raise OSError(f"short write to {self.path}")
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of every line, oldest first; nothing if the file is absent."""
        try:
            handle = self.path.open(encoding="utf-8")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.rstrip("\n")


# -- the app's witness --------------------------------------------------------------------------

class AppWitness:
    """The signing key, and the store the app files a checkpoint in after each commit (None
    where the witness is off: a test app that was given no witness path)."""

    def __init__(self, key: SigningKey, store: FileWitness | None, grace_seconds: int):
        self.key = key
        self.store = store
        self.grace_seconds = grace_seconds
        self._lock = threading.Lock()
        self._behind_from: int | None = None  # first seq a failed append left unwitnessed

    def file(self, head: PendingHead) -> None:
        """Sign and append the head a commit reached; never raises (see the module doc)."""
        with self._lock:
            from_seq = head.from_seq if self._behind_from is None else min(head.from_seq,
                                                                          self._behind_from)
            checkpoint = Checkpoint(head.seq, head.hash, head.occurred_at,
                                    format_time(datetime.now(UTC)), "commit", from_seq)
            try:
                self.store.append(self.key.sign(checkpoint))
            except Exception:  # the commit stands: say so loudly, catch up on the next one
                self._behind_from = from_seq
                logger.critical("AUDIT WITNESS FAILED: events %s to %s are committed but no "
                                "signed checkpoint was filed in %s; the next commit's line "
                                "will cover them", from_seq, head.seq, self.store.path,
                                exc_info=True)
            else:
                self._behind_from = None


def init_app(app: Flask) -> None:
    """Load (outside production: create once) the key, choose the store, hook the commits."""
    instance = Path(app.instance_path)
    configured_key = app.config.get("AUDIT_WITNESS_KEY")
    key = SigningKey.from_file(Path(configured_key) if configured_key
                               else instance / DEFAULT_KEY_FILE, generate=not configured_key)
    path = app.config.get("AUDIT_WITNESS_PATH")
    if not path and not app.testing:
        path = instance / DEFAULT_WITNESS_FILE
    store = None
    if path:
        store = FileWitness(Path(path))
        if not store.path.parent.is_dir():
            raise ConfigurationError(f"LAGESBILD_WITNESS_PATH: the folder {store.path.parent} "
                                     "does not exist.")
        try:  # refuse to start rather than log a failure after every commit
            os.close(os.open(store.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640))
        except OSError as error:
            raise ConfigurationError(f"LAGESBILD_WITNESS_PATH: cannot append to {store.path} "
                                     f"({error.strerror}).") from None
    app.extensions[_EXTENSION] = AppWitness(key, store, app.config["AUDIT_WITNESS_GRACE_SECONDS"])
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)


def app_witness(app: Flask | None = None) -> AppWitness:
    return (app or current_app).extensions[_EXTENSION]


def _after_commit(session) -> None:
    head = session.info.pop(PENDING_HEAD, None)
    if head is None:
        return
    try:
        witness = current_app.extensions.get(_EXTENSION)
    except RuntimeError:  # no application (a script using the models alone): nothing to file
        return
    if witness is not None and witness.store is not None:
        witness.file(head)


def _after_rollback(session) -> None:
    session.info.pop(PENDING_HEAD, None)
