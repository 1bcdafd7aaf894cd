"""What an import did with every row: the report, its rejects, and progress."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import attrs

from custrec.errors import ImportRowError, ValidationError
from custrec.io._csv import escape_formula

__all__ = ["ImportProgress", "ImportReport", "ProgressCallback", "Reject"]

_MAX_VALUE = 200


@attrs.frozen
class Reject:
    """A row that was not stored, and why.

    Attributes:
        row: The row number as a spreadsheet shows it (the header is row 1; in JSON Lines
            and vCard files, the line or card number).
        column: The column at fault, as its header is written, when one is.
        value: The offending cell as text (cut to 200 characters), when one is.
        reason: Why the row was refused, in words a person can act on.
    """

    row: int
    column: str | None
    value: str | None
    reason: str

    @classmethod
    def from_error(cls, error: ImportRowError) -> Reject:
        """Make a reject from the error a row raised.

        Args:
            error: The row's error.

        Returns:
            The reject.
        """
        value = None if error.value is None else str(error.value)[:_MAX_VALUE]
        return cls(error.row, error.column, value, error.reason)


@attrs.frozen
class ImportProgress:
    """Where a running import is, passed to the progress callback after each batch.

    Attributes:
        rows_done: Rows read and dealt with so far.
        total: How many rows there are, when the format tells before reading them
            (``.xlsx``); ``None`` otherwise.
        rejected: Rows rejected so far.
    """

    rows_done: int
    total: int | None
    rejected: int


ProgressCallback = Callable[[ImportProgress], None]
"""Called after each batch with an :class:`ImportProgress`."""


@attrs.define
class ImportReport:
    """What an import did with every row it read.

    ``stored + updated + rejected + skipped == rows_read``, always.

    Attributes:
        source: The file (its name) the rows came from.
        format: ``"csv"``, ``"xlsx"``, ``"jsonl"`` or ``"vcard"``.
        record_type: ``"customer"``, ``"interaction"``, ``"transaction"`` or ``"feedback"``.
        encoding: The text encoding read (``None`` for ``.xlsx``).
        dry_run: Whether this was a dry run (nothing was written).
        columns: Each header and the field it filled (``None``: not imported).
        unmapped: Headers nothing matched.
        rows_read: Rows read, the header not counted.
        stored: Rows stored as new records.
        updated: Rows that changed a stored record (matched on a natural key).
        rejected: Rows refused; each is in :attr:`rejects`.
        skipped: Blank rows, and rows that matched a stored record without changing it.
        rejects: The refused rows, in order.
    """

    source: str
    format: str
    record_type: str
    encoding: str | None = None
    dry_run: bool = False
    columns: tuple[tuple[str, str | None], ...] = ()
    unmapped: tuple[str, ...] = ()
    rows_read: int = 0
    stored: int = 0
    updated: int = 0
    rejected: int = 0
    skipped: int = 0
    rejects: list[Reject] = attrs.field(factory=list)

    @property
    def accounted(self) -> bool:
        """Whether every row read is stored, updated, rejected or skipped."""
        return self.stored + self.updated + self.rejected + self.skipped == self.rows_read

    def summary(self) -> str:
        """Return a few lines for a person: counts, unmapped columns, the first rejects.

        Returns:
            The summary text.
        """
        run = " (dry run: nothing written)" if self.dry_run else ""
        lines = [
            f"{self.source} [{self.format}"
            + (f", {self.encoding}" if self.encoding else "")
            + f"]{run}: {self.rows_read} rows read, {self.stored} stored, "
            f"{self.updated} updated, {self.rejected} rejected, {self.skipped} skipped"
        ]
        if self.unmapped:
            lines.append(f"  columns not imported: {', '.join(self.unmapped)}")
        for reject in self.rejects[:10]:
            where = f"row {reject.row}" + (f" [{reject.column}]" if reject.column else "")
            shown = f" {reject.value!r}" if reject.value is not None else ""
            lines.append(f"  {where}{shown}: {reject.reason}")
        if len(self.rejects) > 10:
            lines.append(f"  … and {len(self.rejects) - 10} more rejected rows")
        return "\n".join(lines)

    def write_rejects(self, path: str | Path, *, format: str | None = None) -> None:
        """Write the reject report: one line per rejected row.

        Args:
            path: Where to write it.
            format: ``"csv"`` (UTF-8 with BOM, so Excel shows Chinese correctly) or
                ``"json"``; taken from the file's suffix when ``None``.

        Raises:
            ValidationError: The format is neither.
        """
        target = Path(path)
        kind = (format or target.suffix.lstrip(".")).lower()
        rows = [attrs.asdict(reject) for reject in self.rejects]
        if kind == "json":
            target.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
        elif kind == "csv":
            with target.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["row", "column", "value", "reason"])
                for row in rows:
                    writer.writerow(
                        [escape_formula("" if v is None else str(v)) for v in row.values()]
                    )
        else:
            raise ValidationError("format", format or target.suffix, "write 'csv' or 'json'")
