"""JSON Lines: one record document per line, as :func:`custrec.to_json` writes it."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from custrec.errors import ValidationError
from custrec.io._table import Row, Table
from custrec.serialize import to_json

__all__ = ["read_jsonl", "write_jsonl"]


def read_jsonl(stream: BinaryIO) -> Table:
    """Read a JSON Lines file (UTF-8, as RFC 8259 requires; a BOM is allowed).

    Args:
        stream: The file, binary.

    Returns:
        The table: one cell per row, the parsed JSON value; blank lines are blank rows.
    """
    return Table((), _rows(stream), None, "utf-8")


def _rows(stream: BinaryIO) -> Iterator[Row]:
    for number, raw in enumerate(stream, start=1):
        line = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, ValidationError("", None, f"line is not UTF-8 ({exc.reason})")
            continue
        if not text.strip():
            yield number, [{}]
            continue
        try:
            value: Any = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            yield number, ValidationError("", None, f"not JSON: {exc}")
            continue
        yield number, [value]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def write_jsonl(stream: BinaryIO, records: Iterable[Any]) -> int:
    """Write records as JSON Lines (UTF-8, no BOM).

    Args:
        stream: Binary output.
        records: The records.

    Returns:
        How many were written.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n", write_through=True)
    count = 0
    try:
        for record in records:
            text.write(to_json(record))
            text.write("\n")
            count += 1
        text.flush()
    finally:
        text.detach()
    return count
