"""CSV: reading rows (any supported encoding, comma, tab or semicolon) and writing them safely.

Written cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) get a leading ``'``, as OWASP recommends against CSV
injection; the import removes that ``'`` again, so an export reads back as it was.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from custrec.errors import ValidationError
from custrec.io._encoding import _decodes, detect_encoding, normalize_encoding
from custrec.io._table import Row, Table

__all__ = ["escape_formula", "read_csv", "unescape_formula", "write_csv"]

# A cell a spreadsheet would run, possibly behind quotes that escaped it already.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_DELIMITERS = (",", "\t", ";")
_MAX_HEADER = 1 << 20  # characters: a header longer than this is a quote left open


def escape_formula(text: str) -> str:
    """Return ``text`` with a leading ``'`` if a spreadsheet would read it as a formula.

    Args:
        text: A cell's text.

    Returns:
        ``"'=1+2"`` for ``"=1+2"`` (and ``"''=1"`` for ``"'=1"``, so that reading it back
        gives the text as it was); other text unchanged.
    """
    return "'" + text if _FORMULA.match(text) else text


def unescape_formula(text: str) -> str:
    """Undo :func:`escape_formula`: drop the ``'`` before a formula-like cell.

    A ``'`` that a person typed before ``=`` in a spreadsheet is Excel's own mark for "text,
    not a formula", so it is dropped too.

    Args:
        text: A cell as read from a CSV file.

    Returns:
        The cell without its guarding quote.
    """
    return text[1:] if text.startswith("'") and _ESCAPED.match(text) else text


def _text_stream(stream: BinaryIO, encoding: str | None) -> tuple[io.TextIOWrapper, str]:
    seekable = stream.seekable()
    if encoding is None:
        if not seekable:
            raise ValidationError(
                "encoding", None, "the stream cannot be rewound to detect it; pass encoding="
            )
        chosen = detect_encoding(stream)
    else:
        chosen = normalize_encoding(encoding)
        if seekable:
            start = stream.tell()
            bad = _decodes(stream, chosen)
            stream.seek(start)
            if bad is not None:
                raise ValidationError(
                    "encoding",
                    encoding,
                    f"the file is not {chosen}: byte {bad} cannot be decoded; "
                    "pass the right encoding, or leave it out to detect it",
                )
    wrapper = io.TextIOWrapper(stream, encoding=chosen, newline="")
    return wrapper, chosen


def read_csv(
    stream: BinaryIO, *, encoding: str | None = None, delimiter: str | None = None
) -> Table:
    """Read a CSV file's header and rows lazily.

    Args:
        stream: The file, binary; seekable unless ``encoding`` is given.
        encoding: The text encoding; detected when ``None`` (see :mod:`custrec.io`).
        delimiter: Comma, tab or semicolon; the one the header row uses most when ``None``.

    Returns:
        The table; rows the CSV parser refuses (a cell over its size limit) come as errors.

    Raises:
        ValidationError: The encoding is wrong or unknown, or the file has no header row.
    """
    text, chosen = _text_stream(stream, encoding)
    try:
        header, reader = _header(text, chosen, delimiter)
    except BaseException:
        text.detach()  # leave a caller's stream open
        raise
    return Table(tuple(header), _rows(reader, chosen), None, chosen, text.detach)


def _header(
    text: io.TextIOWrapper, encoding: str, delimiter: str | None
) -> tuple[list[str], Iterator[list[str]]]:
    """Read the header row; return it and the reader positioned after it."""
    try:
        first = _first_line(text)
    except UnicodeError as exc:
        raise ValidationError("encoding", encoding, f"cannot decode the file: {exc}") from None
    if not first.strip():
        raise ValidationError("source", None, "the file is empty: there is no header row")
    if delimiter is None:
        delimiter = max(_DELIMITERS, key=first.count)
    reader = csv.reader(_chain(first, text), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except (csv.Error, UnicodeError) as exc:
        raise ValidationError("source", None, f"the header row cannot be read: {exc}") from None
    if first.startswith("\ufeff") and header:  # a BOM the detection did not strip (given utf-8)
        header[0] = header[0][1:]
    return header, reader


def _first_line(text: io.TextIOWrapper) -> str:
    """The header record's text, continued while a quoted header cell spans lines."""
    parts = [text.readline()]
    quotes, size = parts[0].count('"'), len(parts[0])
    while quotes % 2 and (more := text.readline()):
        parts.append(more)
        quotes += more.count('"')
        size += len(more)
        if size > _MAX_HEADER:
            raise ValidationError("source", parts[0][:80], "the header row has an unclosed quote")
    return "".join(parts)


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest


def _rows(reader: Iterator[list[str]], encoding: str) -> Iterator[Row]:
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield number, ValidationError("", None, f"the CSV parser refused this row: {exc}")
            continue
        except UnicodeError as exc:
            raise ValidationError(
                "encoding", encoding, f"cannot decode row {number}: {exc}"
            ) from None
        yield number, [unescape_formula(cell) if cell[:1] == "'" else cell for cell in cells]


def write_csv(
    stream: BinaryIO, headers: Sequence[str], rows: Iterable[Sequence[str]], encoding: str
) -> int:
    """Write a header and rows, escaping formula-like cells.

    Args:
        stream: Binary output.
        headers: The header row.
        rows: The rows, cells as text.
        encoding: ``"utf-8-sig"`` (what Excel opens correctly), ``"utf-8"``, ``"gb18030"``…

    Returns:
        How many rows were written.

    Raises:
        ValidationError: A cell cannot be written in ``encoding``.
    """
    codec = normalize_encoding(encoding)
    text = io.TextIOWrapper(stream, encoding=codec, newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    count = 0
    try:
        writer.writerow([escape_formula(cell) for cell in headers])
        for row in rows:
            writer.writerow([escape_formula(cell) for cell in row])
            count += 1
        text.flush()
    except UnicodeEncodeError as exc:
        raise ValidationError(
            "encoding", exc.object[exc.start : exc.end], f"cannot be written in {codec}"
        ) from None
    finally:
        text.detach()
    return count
