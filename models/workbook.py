"""A report as a spreadsheet (.xlsx, written with openpyxl): one sheet a table, its header row
bold and frozen, numbers kept as numbers, columns sized to what they hold. What `safeguard report
... --xlsx FILE` writes and the managers' report pages offer for download."""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

MAX_WIDTH = 80  # characters: a long label wraps in the cell rather than widening it further


@dataclass(frozen=True)
class Sheet:
    title: str  # at most 31 characters (Excel's limit): cut to fit
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]


def workbook(sheets: Sequence[Sheet]) -> bytes:
    """Return the sheets as an .xlsx file's bytes."""
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        page = book.create_sheet(_title(sheet.title))
        page.append(list(sheet.header))
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            page.append([_cell(v) for v in row])
            for cell in page[page.max_row]:
                if cell.data_type == "f":  # a text that starts like a formula stays text
                    cell.data_type = "s"
        page.freeze_panes = "A2"
        for column in page.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            page.column_dimensions[column[0].column_letter].width = min(width + 2, MAX_WIDTH)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _title(text: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip()
    return cleaned[:31] or "Report"


def _cell(value: Any) -> Any:
    """Numbers and text as they are; anything else (None, a date) as text or blank."""
    if value is None:
        return ""
    return value if isinstance(value, int | float) else str(value)
