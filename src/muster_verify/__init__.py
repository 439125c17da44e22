"""An offline verifier for Muster's transparency log, for outside auditors.

It depends on the standard library and `cryptography` only, never on Django or the rest of
Muster, so it can be installed and read on its own. Each module follows one public standard:

- `muster_verify.merkle`: Merkle tree hashes, inclusion and consistency proofs (RFC 9162, 2.1);
- `muster_verify.note`: signed notes with Ed25519 keys (https://c2sp.org/signed-note);
- `muster_verify.checkpoint`: signed tree heads (https://c2sp.org/tlog-checkpoint).

Every refusal is a `muster_verify.errors.VerificationError` saying what did not check out.
"""
