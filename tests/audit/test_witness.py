"""The witness: one signed checkpoint per commit, filed outside the database; a failure to
file it never fails the commit; the key and the store come from the settings (generated in
development, required in production)."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.trail import record_event
from app.audit.witness import (
    Checkpoint,
    FileWitness,
    SigningKey,
    app_witness,
    parse_checkpoint,
    signature_problem,
)
from app.config import ConfigurationError
from app.core.unit_of_work import operation
from tests.audit.support import ON_EACH_DATABASE, rows
from tests.factories import SETUP


def witness_lines() -> list[Checkpoint]:
    return [parse_checkpoint(text) for _number, text in app_witness().store.read()]


def append_events(count: int) -> None:
    with operation(SETUP):
        for number in range(count):
            record_event("test.witness", actor=SETUP, data={"n": number})


@ON_EACH_DATABASE
def test_each_commit_files_one_signed_line_for_all_its_events(app, database):
    append_events(1)
    append_events(3)
    lines = witness_lines()
    assert [(line.from_seq, line.seq) for line in lines] == [(1, 1), (2, 4)]
    head = rows()[-1]
    assert lines[-1].hash == head.hash and lines[-1].origin == "commit"
    assert lines[-1].occurred_at == json.loads(head.canonical)["occurred_at"]
    public_key = app_witness().key.public_key
    assert all(signature_problem(line, public_key) is None for line in lines)


def test_a_transaction_rolled_back_files_nothing(app):
    append_events(1)
    with pytest.raises(RuntimeError), operation(SETUP):
        record_event("test.witness", actor=SETUP)
        raise RuntimeError("changed my mind")
    append_events(1)
    assert [(line.from_seq, line.seq) for line in witness_lines()] == [(1, 1), (2, 2)]


def test_a_refused_write_files_the_refusal_it_recorded(world):
    from app.core.errors import NotAllowed
    from app.core.messages import Msg

    before = len(witness_lines())
    with pytest.raises(NotAllowed), operation(SETUP):
        raise NotAllowed(Msg("no"), action="test")
    lines = witness_lines()
    assert len(lines) == before + 1 and lines[-1].seq == rows()[-1].seq


def test_a_witness_failure_never_fails_the_commit_and_the_next_line_catches_up(app, tmp_path,
                                                                               caplog):
    witness = app_witness()
    good = witness.store
    append_events(1)
    witness.store = FileWitness(tmp_path / "no such folder" / "witness.jsonl")
    with caplog.at_level(logging.CRITICAL, logger="app.audit.witness"):
        append_events(2)  # committed, though its line cannot be written
    assert len(rows()) == 3
    assert "AUDIT WITNESS FAILED: events 2 to 3 are committed" in caplog.text
    witness.store = good
    append_events(1)
    assert [(line.from_seq, line.seq) for line in witness_lines()] == [(1, 1), (2, 4)]


def _readme_recipe() -> dict[str, str]:
    """The auditor's signature check as the README gives it: its jq lines, its python3 line,
    and its openssl line (with the public key's file name as the README has it)."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("tail -n 1 audit-witness.jsonl > line.json", 1)[1].split("```")[0]
    lines = block.splitlines()
    return {"jq": "\n".join(line for line in lines if line.startswith("jq ")),
            "python3": "\n".join(line for line in lines if line.startswith("python3 ")),
            "openssl": next(line for line in lines if line.startswith("openssl pkeyutl"))}


@pytest.mark.parametrize("tool", ["jq", "python3"])
def test_the_readmes_openssl_recipe_checks_a_line(world, runner, tmp_path, tool):
    """Run as an auditor would: the message and signature files made as the README says,
    openssl checking them against the key `audit public-key` wrote; a changed line fails."""
    if not (shutil.which("openssl") and shutil.which(tool)):
        pytest.skip(f"needs openssl and {tool}")
    recipe = _readme_recipe()
    assert recipe[tool] and "-rawin" in recipe["openssl"]
    script = recipe[tool] + "\n" + recipe["openssl"] + "\n"
    result = runner.invoke(args=["audit", "public-key", "--out",
                                 str(tmp_path / "witness-public.pem")])
    assert result.exit_code == 0, result.output
    line = tmp_path / "line.json"
    line.write_text(list(app_witness().store.read())[-1][1])
    verified = subprocess.run(["sh", "-e", "-c", script], cwd=tmp_path, capture_output=True,
                              text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Signature Verified Successfully" in verified.stdout
    line.write_text(json.dumps(json.loads(line.read_text()) | {"seq": 1}))
    refused = subprocess.run(["sh", "-e", "-c", script], cwd=tmp_path, capture_output=True,
                             text=True)
    assert refused.returncode != 0 and "Signature Verification Failure" in refused.stdout


def test_a_signed_manual_checkpoint_file_passes_the_same_recipe(world, runner, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("needs openssl")
    recipe = _readme_recipe()
    assert runner.invoke(args=["audit", "checkpoint", "--out",
                               str(tmp_path / "line.json")]).exit_code == 0
    assert runner.invoke(args=["audit", "public-key", "--out",
                               str(tmp_path / "witness-public.pem")]).exit_code == 0
    verified = subprocess.run(["sh", "-e", "-c", recipe["python3"] + "\n" + recipe["openssl"]],
                              cwd=tmp_path, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_public_key_is_printed_as_pem(app, runner):
    result = runner.invoke(args=["audit", "public-key"])
    assert result.exit_code == 0
    assert result.output.startswith("-----BEGIN PUBLIC KEY-----")


# -- settings ---------------------------------------------------------------------------------

def _create(tmp_path, monkeypatch, **environment):
    """An application as a server starts it (not a test app), its instance folder in tmp."""
    from flask import Flask

    from app import create_app

    monkeypatch.setattr(Flask, "auto_find_instance_path",
                        lambda self: str(tmp_path / "instance"))
    for name in ("LAGESBILD_WITNESS_PATH", "LAGESBILD_WITNESS_KEY", "LAGESBILD_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}",
                       "SECRET_KEY": "test-secret"})


def test_development_generates_a_key_once_and_witnesses_into_the_instance_folder(
        tmp_path, monkeypatch):
    application = _create(tmp_path, monkeypatch)
    witness = app_witness(application)
    key_file = tmp_path / "instance" / "audit-witness-key.pem"
    assert key_file.stat().st_mode & 0o077 == 0  # owner only: it signs the checkpoints
    assert witness.store.path == tmp_path / "instance" / "audit-witness.jsonl"
    assert app_witness(_create(tmp_path, monkeypatch)).key.id == witness.key.id  # kept


def test_production_requires_the_witness_and_its_key(tmp_path, monkeypatch):
    with pytest.raises(ConfigurationError, match="LAGESBILD_WITNESS_PATH and "
                                                 "LAGESBILD_WITNESS_KEY must be set"):
        _create(tmp_path, monkeypatch, LAGESBILD_ENV="production",
                LAGESBILD_SECRET_KEY="k" * 40, LAGESBILD_WITNESS_PATH=str(tmp_path / "w"))


@pytest.mark.parametrize("content, message", [
    (None, "cannot read"),
    (b"not a key", "is not an unencrypted PEM private key"),
    ("rsa", "is not an Ed25519 key"),
])
def test_a_bad_key_stops_the_start(tmp_path, monkeypatch, content, message):
    key_file = tmp_path / "key.pem"
    if content == "rsa":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        content = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
    if content is not None:
        key_file.write_bytes(content)
    with pytest.raises(ConfigurationError, match=message):
        _create(tmp_path, monkeypatch, LAGESBILD_WITNESS_KEY=str(key_file),
                LAGESBILD_WITNESS_PATH=str(tmp_path / "witness.jsonl"))


def test_a_witness_in_a_missing_folder_stops_the_start(tmp_path, monkeypatch):
    with pytest.raises(ConfigurationError, match="the folder .* does not exist"):
        _create(tmp_path, monkeypatch, LAGESBILD_WITNESS_PATH=str(tmp_path / "gone" / "w"))


def test_a_witness_that_cannot_be_appended_to_stops_the_start(tmp_path, monkeypatch):
    folder = tmp_path / "read-only"
    folder.mkdir()
    (folder / "w.jsonl").mkdir()  # a folder where the file should be: not appendable
    with pytest.raises(ConfigurationError, match="cannot append to"):
        _create(tmp_path, monkeypatch, LAGESBILD_WITNESS_PATH=str(folder / "w.jsonl"))


def test_a_configured_key_is_used_as_it_is(tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    key_file = tmp_path / "key.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    application = _create(tmp_path, monkeypatch, LAGESBILD_WITNESS_KEY=str(key_file),
                          LAGESBILD_WITNESS_PATH=str(tmp_path / "witness.jsonl"))
    assert app_witness(application).key.id == SigningKey(key).id
