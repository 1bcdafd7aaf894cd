"""What every reader hands the import: a header row and numbered rows, read lazily."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import attrs

from custrec.errors import ValidationError

__all__ = ["FORMATS", "Row", "Source", "Table", "format_of", "open_binary"]

FORMATS = ("csv", "xlsx", "jsonl", "vcard")
"""The file formats import and export know."""

_SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".vcf": "vcard",
    ".vcard": "vcard",
}

Source = str | Path | BinaryIO
"""Where an import reads from: a path, or a binary file object (seekable for detection)."""

Row = tuple[int, Sequence[object] | ValidationError]
"""A row number (the header is row 1) and its cells, or why the row could not be read."""


@attrs.define
class Table:
    """The rows of one file.

    Attributes:
        headers: The header row as written (for JSON Lines and vCard: field names).
        rows: The rows, read lazily, numbered as a spreadsheet shows them.
        total: How many rows there are, when known before reading them.
        encoding: The text encoding read (``None`` for binary formats).
        close: Releases the file.
    """

    headers: tuple[str, ...]
    rows: Iterator[Row]
    total: int | None = None
    encoding: str | None = None
    close: Callable[[], object] = lambda: None


def format_of(source: Source, given: str | None) -> str:
    """Return the format to read ``source`` as: ``given``, else the file name's suffix.

    Raises:
        ValidationError: The format is unknown or cannot be told from the name.
    """
    if given is not None:
        name = given.lower().lstrip(".")
        name = {"excel": "xlsx", "vcf": "vcard", "ndjson": "jsonl", "json": "jsonl"}.get(name, name)
        if name not in FORMATS:
            raise ValidationError("format", given, f"one of {', '.join(FORMATS)}")
        return name
    path = source if isinstance(source, str | Path) else getattr(source, "name", "")
    suffix = Path(str(path)).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValidationError(
            "format", str(path) or source, f"cannot tell the format; pass format= ({FORMATS})"
        )
    return _SUFFIXES[suffix]


@contextlib.contextmanager
def open_binary(source: Source) -> Iterator[BinaryIO]:
    """Open a path for reading bytes, or hand back a given binary file object.

    Raises:
        ValidationError: The file cannot be opened, or the object is a text stream.
    """
    if isinstance(source, str | Path):
        try:
            handle: BinaryIO = Path(source).open("rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise ValidationError("source", str(source), f"cannot open: {exc.strerror}") from None
        with handle:
            yield handle
        return
    if isinstance(source, io.TextIOBase):
        raise ValidationError("source", source, "open the file in binary mode ('rb')")
    yield source
