"""Strict standard base64 (RFC 4648, section 4), shared by notes and checkpoints."""

from __future__ import annotations

import base64
import binascii

from muster_verify.errors import FormatError


def decode_base64(text: str, *, what: str) -> bytes:
    """Decode `text`, refusing anything but the one canonical encoding of its bytes (padding
    present, unused bits zero), so that one value has one text and a tampered one never passes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"{what} is not valid base64: {text!r}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise FormatError(f"{what} is not in canonical base64: {text!r}")
    return raw


def encode_base64(raw: bytes) -> str:
    """Standard padded base64 of `raw`."""
    return base64.b64encode(raw).decode("ascii")
