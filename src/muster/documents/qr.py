"""QR codes for paper: exactly the given text (UTF-8, byte mode), drawn as SVG at a module size
that a phone camera reads from a printed page."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from segno.encoder import DataOverflowError

from muster.core.errors import DomainError

MODULE_MM = 0.4
"""The printed size of one module. 0.33 mm is the usual least for a phone camera; 0.4 mm keeps
a margin for print blur and still fits a version-40 code (185 modules) in 74 mm."""

QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks
MAX_BYTES = 2953  # what a version-40 code holds in byte mode at error correction L


class DocumentError(DomainError):
    """A document cannot be made from its data (a QR code would not hold it)."""


@dataclass(frozen=True)
class PrintedCode:
    """One QR code ready to print: the bytes it holds, its version and its printed width."""

    data: bytes
    version: int
    modules: int  # across, quiet zone included
    svg_uri: str

    @property
    def size_mm(self) -> float:
        return round(self.modules * MODULE_MM, 2)


def qr_code(text: str, *, record: str) -> PrintedCode:
    """A QR code of `text` at error correction L (raised where the same version allows); a text
    too long for any QR code is refused naming `record`, the thing it was for."""
    data = text.encode("utf-8")
    try:
        code = segno.make(data, error="l", mode="byte", micro=False)
    except DataOverflowError:
        raise DocumentError.single(
            record,
            "qr",
            f"its {len(data):,} bytes do not fit in a QR code (at most {MAX_BYTES:,})",
        ) from None
    modules = int(code.symbol_size(border=QUIET_ZONE)[0])
    version = code.version
    assert isinstance(version, int)  # micro codes (M1..M4) are never made
    # A viewBox and no size: the page sets the printed size, modules * MODULE_MM.
    return PrintedCode(
        data=data,
        version=version,
        modules=modules,
        svg_uri=code.svg_data_uri(border=QUIET_ZONE, omitsize=True, dark="#000", light="#fff"),
    )
