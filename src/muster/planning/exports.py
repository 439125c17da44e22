"""A simulation report as files (R6, R12): a PDF to read and sign off (WeasyPrint, the shared
print style of muster.documents), and an XLSX workbook with the summary and every detail, a
sheet per part. The PDF lists at most PDF_ROWS lines per part and says how many more the
workbook has; the workbook lists them all."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from muster.documents.pdf import render_document
from muster.documents.tables import CONTENT_TYPES, DATE_FORMAT, DATETIME_FORMAT, xlsx_value
from muster.planning.report import SimulationReport

PDF_ROWS = 300
XLSX = CONTENT_TYPES["xlsx"]
PDF = "application/pdf"


def export_name(report: SimulationReport, extension: str) -> str:
    """simulation-national-2027.1-draft-2026-11-22.pdf"""
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in report.draft)
    return f"simulation-{safe}-{report.moment.isoformat()}.{extension}"


def reasons_text(reasons: Iterable[tuple[str, str]]) -> str:
    return "; ".join(f"{rule}: {message}" for rule, message in reasons)


def simulation_pdf(report: SimulationReport) -> bytes:
    """The report as an A4 PDF: the summary, the rules that change, and each part's lines."""
    parts: dict[str, Sequence[Any]] = {
        "changes": report.changes,
        "recalls": report.recalls,
        "models": report.models,
        "sites": report.sites,
    }
    context: dict[str, Any] = {
        "report": report,
        "shown": {name: lines[:PDF_ROWS] for name, lines in parts.items()},
        "more": {name: max(0, len(lines) - PDF_ROWS) for name, lines in parts.items()},
    }
    return render_document("planning/simulation.html", context).data


def summary_rows(report: SimulationReport) -> list[tuple[str, Any]]:
    """The report's headline figures, as (label, value)."""
    return [
        (_("Draft"), report.draft),
        (_("Title"), report.draft_title),
        (_("Compared with"), report.current),
        (_("Jurisdiction"), report.jurisdiction),
        (_("As of"), report.moment),
        (_("Region"), report.region or _("all you may see")),
        (_("Seen by"), report.seen_by),
        (_("Members evaluated"), report.people),
        (_("Categories evaluated"), ", ".join(report.evaluated_categories) or "—"),
        (
            _("Categories with the same eligibility rules"),
            ", ".join(report.unchanged_categories) or "—",
        ),
        (_("Newly eligible"), report.newly_eligible),
        (_("Newly ineligible"), report.newly_ineligible),
        (_("Items to recall"), len(report.recalls)),
        (_("Models outside the legal limits"), len(report.models)),
        (_("Sites out of the storage rules"), len(report.sites)),
        (_("Produced"), report.produced_at),
    ]


def simulation_xlsx(report: SimulationReport) -> bytes:
    """The report as an XLSX workbook: Summary, Targets, Rules, Eligibility, Recalls, Models,
    Sites, Quotas."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    _sheet(book, _("Summary"), [_("Figure"), _("Value")], summary_rows(report))
    _sheet(
        book,
        _("Targets"),
        [
            _("Target"), _("Eligible now"), _("Eligible under the draft"), _("Newly eligible"),
            _("Newly ineligible"),
        ],
        [
            (t.target, t.eligible_now, t.eligible_draft, t.newly_eligible, t.newly_ineligible)
            for t in report.targets
        ],
    )  # fmt: skip
    _sheet(
        book,
        _("Rules"),
        [_("Path"), _("Change"), _("In force"), _("Draft")],
        [(d.path, d.kind, _shown(d.old), _shown(d.new)) for d in report.rules],
    )
    _sheet(
        book,
        _("Eligibility"),
        [_("National ID"), _("Name"), _("Unit"), _("Region"), _("Target"), _("Becomes"), _("Reasons")],
        [
            (c.national_id, c.name, c.unit, c.region, c.target, c.becomes, reasons_text(c.reasons))
            for c in report.changes
        ],
    )  # fmt: skip
    _sheet(
        book,
        _("Recalls"),
        [
            _("Serial"), _("Model"), _("Category"), _("National ID"), _("Holder"), _("Unit"),
            _("Issue kind"), _("Issued at"), _("Due at"), _("Home site"), _("Region"), _("Reasons"),
        ],
        [
            (
                r.serial, r.model, r.category, r.national_id, r.name, r.unit, r.issue_kind,
                r.issued_at, r.due_at, r.home_site, r.region, reasons_text(r.reasons),
            )
            for r in report.recalls
        ],
    )  # fmt: skip
    _sheet(
        book,
        _("Models"),
        [_("Model"), _("Name"), _("Category"), _("Legal class"), _("Items"), _("Problems")],
        [
            (
                m.code, m.name, m.category, m.legal_class, m.items,
                "; ".join(f"{f}: {rule}" + (f" ({v})" if v else "") for f, rule, v in m.problems),
            )
            for m in report.models
        ],
    )  # fmt: skip
    _sheet(
        book,
        _("Sites"),
        [
            _("Site"), _("Name"), _("Unit"), _("Security level"), _("Category"), _("Stored"),
            _("Returning"), _("Capacity"), _("Problems"),
        ],
        [
            (
                s.code, s.name, s.unit, s.security_level, s.category, s.stored, s.returning,
                s.capacity, reasons_text(s.problems),
            )
            for s in report.sites
        ],
    )  # fmt: skip
    _sheet(
        book,
        _("Quotas"),
        [
            _("Region"), _("Name"), _("Category"), _("Issued now"), _("Quota in force"),
            _("Headroom in force"), _("Quota under the draft"), _("Headroom under the draft"),
            _("Recalled"), _("Headroom after the recalls"),
        ],
        [
            (
                q.region, q.region_name, q.category, q.issued, q.quota_now, q.headroom_now,
                q.quota_draft, q.headroom_draft, q.recalled, q.headroom_after_recalls,
            )
            for q in report.quotas
        ],
    )  # fmt: skip
    with tempfile.SpooledTemporaryFile(max_size=16 << 20) as spool:
        book.save(spool)
        spool.seek(0)
        out = io.BytesIO(spool.read())
    return out.getvalue()


def _shown(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, default=str)


def _sheet(book: Any, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """One sheet: a bold frozen header, sized columns; text that looks like a formula stays
    text, dates and moments are real ones (as muster.core.tabular writes them)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title=title[:31])
    rows = [list(r) for r in rows]
    for n, header in enumerate(headers):
        widest = max(
            [len(str(header)), *(len(str(r[n] if r[n] is not None else "")) for r in rows[:200])]
        )
        sheet.column_dimensions[get_column_letter(n + 1)].width = min(max(widest + 2, 6), 60)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        out = []
        for value in row:
            value = xlsx_value(value)
            if hasattr(value, "isoformat") or (isinstance(value, str) and value.startswith("=")):
                cell = WriteOnlyCell(sheet, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"
                else:
                    cell.number_format = DATETIME_FORMAT if hasattr(value, "hour") else DATE_FORMAT
                out.append(cell)
            else:
                out.append(value)
        sheet.append(out)


def simulation_text(report: SimulationReport, limit: int | None = 20) -> list[str]:
    """The report as lines of text (for `muster policy simulate`): the summary, then each
    part's lines, at most `limit` per part (None: all)."""

    def cap(lines: Sequence[Any]) -> tuple[Sequence[Any], int]:
        return (lines, 0) if limit is None else (lines[:limit], max(0, len(lines) - limit))

    out = [
        f"{report.draft} ({report.draft_title}) against {report.current}, as of "
        f"{report.moment.isoformat()}"
        + (f", region {report.region}" if report.region else "")
        + f": {report.people} members evaluated; nothing was written",
        "",
        f"rules that change ({len(report.rules)}):",
        *(f"  {line}" for line in report.rules),
        "",
        "eligibility by target (categories evaluated: "
        f"{', '.join(report.evaluated_categories) or 'none'}; same rules: "
        f"{', '.join(report.unchanged_categories) or 'none'}):",
        *(
            f"  {t.target:24} eligible now {t.eligible_now:>7}  under the draft "
            f"{t.eligible_draft:>7}  newly eligible {t.newly_eligible:>6}  newly ineligible "
            f"{t.newly_ineligible:>6}"
            for t in report.targets
        ),
    ]
    shown, more = cap(report.changes)
    out += ["", f"who becomes eligible or ineligible ({len(report.changes)}):"]
    for c in shown:
        out.append(
            f"  {c.becomes:10} {c.target:16} {c.national_id} {c.name} ({c.unit}): "
            f"{reasons_text(c.reasons)}"
        )
    out += [f"  … {more} more (--limit 0 shows all; --xlsx writes all)"] if more else []
    shown, more = cap(report.recalls)
    out += ["", f"items that would have to be recalled ({len(report.recalls)}):"]
    for r in shown:
        out.append(
            f"  {r.model} {r.serial} ({r.issue_kind}) held by {r.national_id} {r.name} "
            f"({r.unit}), home {r.home_site}: {reasons_text(r.reasons)}"
        )
    out += [f"  … {more} more"] if more else []
    out += ["", f"models outside the draft's legal limits ({len(report.models)}):"]
    for m in report.models:
        why = "; ".join(f"{f}: {rule}" + (f" ({v})" if v else "") for f, rule, v in m.problems)
        out.append(f"  {m.code} ({m.legal_class or 'no legal class'}, {m.items} items): {why}")
    out += ["", f"sites out of the draft's storage rules ({len(report.sites)}):"]
    for s in report.sites:
        out.append(
            f"  {s.code} ({s.security_level}) {s.category}: {s.stored} stored, {s.returning} "
            f"returning, capacity {s.capacity if s.capacity is not None else '—'}: "
            f"{reasons_text(s.problems)}"
        )
    out += ["", f"quota headroom by region ({len(report.quotas)}):"]
    for q in report.quotas:

        def shown_(value: int | None) -> str:
            return "—" if value is None else str(value)

        out.append(
            f"  {q.region} {q.category}: issued {q.issued}; in force {shown_(q.quota_now)} "
            f"(headroom {shown_(q.headroom_now)}); draft {shown_(q.quota_draft)} (headroom "
            f"{shown_(q.headroom_draft)}, {shown_(q.headroom_after_recalls)} after "
            f"{q.recalled} recalls)"
        )
    return out
