"""Render a Django template to PDF with WeasyPrint (A4; the page rules are the template's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string


@dataclass(frozen=True)
class Pdf:
    data: bytes
    pages: int


def render_pdf(template: str, context: dict[str, Any]) -> Pdf:
    """The PDF of `template` rendered with `context`, and its number of pages."""
    # Imported here: WeasyPrint takes most of a second to load, and only documents need it.
    from weasyprint import HTML

    document = HTML(string=render_to_string(template, context)).render()
    return Pdf(document.write_pdf(), len(document.pages))
