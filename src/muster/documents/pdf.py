"""Render a Django template to PDF with WeasyPrint (A4; the page rules are the template's)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.template.loader import render_to_string

FORCE_NAME = "Muster"
PRINT_CSS = Path(__file__).with_name("print.css")


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


@cache
def print_css() -> str:
    """The look every Muster document shares (print.css); a template puts it in its first
    <style> element as `{{ print_css|safe }}`, so that its own rules come after and win."""
    return PRINT_CSS.read_text(encoding="utf-8")


def render_document(template: str, context: dict[str, Any]) -> Pdf:
    """A Muster document: `template` with the shared print style and the force's name."""
    return render_pdf(template, {"force": FORCE_NAME, "print_css": print_css(), **context})
