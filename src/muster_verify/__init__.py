"""An offline verifier for Muster's transparency log, for outside auditors.

It depends on the standard library and `cryptography` only, never on Django or the rest of
Muster, so it can be installed and read on its own. Each module follows one public standard:

- `muster_verify.merkle`: Merkle tree hashes, inclusion and consistency proofs (RFC 9162, 2.1);
- `muster_verify.note`: signed notes with Ed25519 keys (https://c2sp.org/signed-note);
- `muster_verify.checkpoint`: signed tree heads (https://c2sp.org/tlog-checkpoint);
- `muster_verify.cosignature`: witness cosignatures (https://c2sp.org/tlog-cosignature);
- `muster_verify.witness`: a witness that cosigns only consistent checkpoints
  (https://c2sp.org/tlog-witness);
- `muster_verify.proof`: offline inclusion proofs (https://c2sp.org/tlog-proof) and bundles of
  them for an item's whole custody history;
- `muster_verify.tiles`: the export layout (https://c2sp.org/tlog-tiles);
- `muster_verify.canonical`: the strict RFC 8785 check of every entry;
- `muster_verify.verify` and `muster_verify.cli` (`muster-verify DIR --key KEY`): the whole
  check of an export.

Every refusal is a `muster_verify.errors.VerificationError` saying what did not check out.
"""
