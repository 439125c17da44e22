"""The errors the verifier raises: one family, so a caller can catch every refusal at once."""

from __future__ import annotations


class VerificationError(ValueError):
    """Something the auditor was given does not check out: a proof, a signature, a checkpoint.
    The message says which check failed and on what."""


class FormatError(VerificationError):
    """The input does not follow its format (a signed note, a key, a checkpoint), so nothing in
    it could be checked."""
