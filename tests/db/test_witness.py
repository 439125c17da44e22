"""A witness cosigns the log's checkpoints only when each extends the last one it saw; the log
keeps the cosignatures. A fork or a rollback is refused, saying why."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from muster.journal import log
from muster.journal.models import Cosignature
from muster.journal.services import Change, record_changes
from muster_verify import merkle
from muster_verify.checkpoint import Checkpoint, sign_checkpoint
from muster_verify.cosignature import parse_cosignature_verifier_key, verify_cosignatures
from muster_verify.witness import format_add_checkpoint_request


@pytest.fixture
def witness(settings, tmp_path):
    settings.LOG_KEY_FILE = tmp_path / "log.key"
    settings.LOG_ORIGIN = "muster.test/log"
    directory = tmp_path / "witness"
    out = StringIO()
    call_command("witness", "init", str(directory), "--name", "audit.test/w1", stdout=out)
    public = out.getvalue().splitlines()[-1]
    settings.LOG_WITNESS_KEYS = [public]
    return {"dir": directory, "key": parse_cosignature_verifier_key(public), "tmp": tmp_path}


def grow(actor, count: int) -> int:
    with transaction.atomic():
        record_changes(
            actor=actor,
            changes=[Change("test.happened", "test", n, {"n": n}) for n in range(count)],
        )
    return log.integrate().size


def ask(witness, request_text: str) -> tuple[int, str, str]:
    request = witness["tmp"] / "request"
    request.write_text(request_text)
    out, err = StringIO(), StringIO()
    try:
        call_command(
            "witness", "add", str(witness["dir"]), str(request),
            "--log-key", log.verifier_key(), stdout=out, stderr=err,
        )  # fmt: skip
    except CommandError as refused:
        return refused.returncode, out.getvalue(), str(refused)
    return 0, out.getvalue(), err.getvalue()


def cosign(witness, old_size: int, size: int) -> None:
    status, lines, why = ask(witness, log.witness_request(old_size))
    assert status == 0, why
    response = witness["tmp"] / "response"
    response.write_text(lines)
    call_command("log", "cosignatures", str(response), "--size", str(size), stdout=StringIO())


def test_the_witness_follows_a_growing_log_and_the_log_keeps_its_cosignatures(db, actor, witness):
    first = grow(actor, 5)
    cosign(witness, 0, first)
    second = grow(actor, 9)
    cosign(witness, first, second)

    assert Cosignature.objects.count() == 2
    assert log.latest_witnessed().size == second
    out = StringIO()
    call_command("log", "checkpoint", "--no-integrate", stdout=out)
    assert verify_cosignatures(out.getvalue(), [witness["key"]]) == {
        "audit.test/w1": int(Cosignature.objects.last().cosigned_at.timestamp())
    }


def test_a_fork_is_refused(db, actor, witness):
    size = grow(actor, 6)
    cosign(witness, 0, size)
    grow(actor, 4)
    # The same key signs another history of the same length: a different root.
    other = merkle.root([merkle.leaf_hash(f"forged {n}".encode()) for n in range(size + 4)])
    forged = sign_checkpoint(Checkpoint("muster.test/log", size + 4, other), log.signer())
    honest_proof = log.consistency_proof(size, size + 4)

    status, _, why = ask(witness, format_add_checkpoint_request(size, honest_proof, forged))

    assert status == 1
    assert "the log presents two histories" in why


def test_a_rollback_or_a_stale_old_size_is_refused_with_the_size_the_witness_holds(
    db, actor, witness
):
    first = grow(actor, 3)
    cosign(witness, 0, first)
    second = grow(actor, 3)
    cosign(witness, first, second)

    status, _, why = ask(witness, log.witness_request(first))  # as if the witness were behind

    assert status == 1
    assert f"the witness holds size {second}" in why


def test_cosignatures_by_an_unknown_witness_are_not_kept(db, actor, witness, settings):
    size = grow(actor, 2)
    status, lines, _ = ask(witness, log.witness_request(0))
    assert status == 0
    settings.LOG_WITNESS_KEYS = []
    with pytest.raises(log.LogError, match="is not by a witness in MUSTER_LOG_WITNESS_KEYS"):
        log.record_cosignatures(size, lines)
    assert not Cosignature.objects.exists()


def test_the_latest_witnessed_checkpoint_is_shown_with_its_cosignature(db, actor, witness):
    first = grow(actor, 4)
    cosign(witness, 0, first)
    grow(actor, 4)  # a newer checkpoint nobody has cosigned yet

    out = StringIO()
    call_command("log", "checkpoint", "--witnessed", stdout=out)

    assert out.getvalue().split("\n")[1] == str(first)
    assert "audit.test/w1" in verify_cosignatures(out.getvalue(), [witness["key"]])


def test_a_file_that_is_not_there_is_named_and_nothing_is_kept(db, actor, witness):
    size = grow(actor, 2)
    missing = witness["tmp"] / "no-such-response"
    with pytest.raises(
        CommandError, match=r"no-such-response: No such file or directory"
    ) as refused:
        call_command("log", "cosignatures", str(missing), "--size", str(size), stdout=StringIO())
    assert refused.value.returncode == 2
    assert not Cosignature.objects.exists()
