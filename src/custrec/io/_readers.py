"""Opening a source in the reader for its format."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from custrec.io._csv import read_csv
from custrec.io._jsonl import read_jsonl
from custrec.io._table import Source, Table, open_binary
from custrec.io._vcard import read_vcard
from custrec.io._xlsx import read_xlsx

__all__ = ["read_table"]


@contextlib.contextmanager
def read_table(
    source: Source, kind: str, encoding: str | None, sheet: str | None
) -> Iterator[Table]:
    """Open ``source`` and yield its table; the file is closed when the block ends.

    Raises:
        ValidationError: The file cannot be opened or read as ``kind``.
    """
    with open_binary(source) as stream:
        if kind == "csv":
            table = read_csv(stream, encoding=encoding)
        elif kind == "xlsx":
            table = read_xlsx(stream, sheet=sheet)
        elif kind == "jsonl":
            table = read_jsonl(stream)
        else:
            table = read_vcard(stream, encoding=encoding)
        try:
            yield table
        finally:
            table.close()
