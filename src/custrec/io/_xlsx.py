"""Excel ``.xlsx`` through openpyxl (the optional extra ``excel``), streamed both ways.

Reading uses openpyxl's read-only mode, which parses rows as they are asked for; writing uses
its write-only mode. Cells come back typed (numbers, datetimes, text); :mod:`custrec.io._cells`
reads Excel's habits from them. Formulas are read as the values Excel last computed.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, BinaryIO

from custrec.errors import ValidationError
from custrec.io._table import Row, Table

__all__ = ["read_xlsx", "write_xlsx"]

_MISSING = "reading and writing .xlsx needs openpyxl: pip install 'custrec[excel]'"


def _openpyxl() -> Any:
    try:
        import openpyxl  # noqa: PLC0415 - an optional extra, imported when first needed
    except ImportError:
        raise ValidationError("format", "xlsx", _MISSING) from None
    return openpyxl


def read_xlsx(stream: BinaryIO, *, sheet: str | None = None) -> Table:
    """Read a worksheet's header row and rows lazily.

    Args:
        stream: The workbook, binary and seekable.
        sheet: The worksheet's name; the first one if None.

    Returns:
        The table; :attr:`Table.total` is the row count the sheet declares.

    Raises:
        ValidationError: openpyxl is missing, the file is not a workbook, the sheet does
            not exist or has no header row.
    """
    openpyxl = _openpyxl()
    try:
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ValidationError("source", None, f"not an .xlsx workbook: {exc}") from None
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise ValidationError("sheet", sheet, f"no such sheet; there are {book.sheetnames}")
        rows = worksheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or not any(cell is not None for cell in header):
            raise ValidationError("source", sheet, "the sheet is empty: there is no header row")
        headers = tuple("" if cell is None else _unescape(str(cell)).strip() for cell in header)
        while headers and not headers[-1]:
            headers = headers[:-1]
        max_row = worksheet.max_row
    except BaseException:
        book.close()
        raise
    total = max_row - 1 if isinstance(max_row, int) and max_row > 1 else None
    return Table(headers, _rows(rows), total, None, book.close)


def _rows(rows: Iterator[Sequence[Any]]) -> Iterator[Row]:
    for number, cells in enumerate(rows, start=2):
        if any(isinstance(cell, str) and "_x" in cell for cell in cells):
            cells = [_unescape(c) if isinstance(c, str) else c for c in cells]  # noqa: PLW2901 - the row as read, unescaped
        yield number, cells


# Excel writes characters XML cannot hold (a carriage return) as _xHHHH_, and a literal "_x"
# as "_x005F_x" (ECMA-376 ST_Xstring); openpyxl leaves both to the caller.
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def _escape(text: str) -> str:
    return text.replace("_x", "_x005F_x").replace("\r", "_x000D_")


def write_xlsx(
    stream: BinaryIO, headers: Sequence[str], rows: Iterable[Sequence[str]], *, sheet: str
) -> int:
    """Write a header and rows into a new workbook with one sheet, cells as text.

    Text cells are never formulas in ``.xlsx`` (openpyxl writes a leading ``=`` as a formula
    only when asked to), so nothing needs escaping here: cells are written as inline text.

    Args:
        stream: Binary output.
        headers: The header row.
        rows: The rows, cells as text.
        sheet: The sheet's name.

    Returns:
        How many rows were written.
    """
    openpyxl = _openpyxl()
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415 - optional extra

    book = openpyxl.Workbook(write_only=True)
    worksheet = book.create_sheet(sheet[:31] or "Sheet1")

    def text_cells(values: Sequence[str]) -> list[Any]:
        out = []
        for value in values:
            cell = WriteOnlyCell(worksheet, value=_escape(value) or None)
            if value:
                cell.data_type = "s"  # text even when it starts with "=": never a formula
            out.append(cell)
        return out

    worksheet.append(text_cells(headers))
    count = 0
    for row in rows:
        worksheet.append(text_cells(row))
        count += 1
    book.save(stream)
    return count
