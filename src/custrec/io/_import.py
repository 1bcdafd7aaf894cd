"""Import: read a file, map its columns, build records, upsert them in batches, report.

Every row read ends in exactly one of four counts: stored, updated, rejected, skipped.
Batches are written inside ``store.transaction()`` (one unit of work each); a batch whose
write fails is retried record by record, each in its own savepoint, so one bad record
rejects only its own rows. A dry run does the same work inside one unit of work and rolls it
back, so its counts are exactly those a real run would give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from custrec.errors import CustrecError, ImportRowError, ValidationError
from custrec.io._mapping import (
    CUSTOMER_TARGETS,
    FEEDBACK_TARGETS,
    INTERACTION_TARGETS,
    TRANSACTION_TARGETS,
    ColumnMapping,
)
from custrec.io._plan import CustomerRowPlan
from custrec.io._readers import read_table
from custrec.io._report import ImportProgress, ImportReport, ProgressCallback, Reject
from custrec.io._rows import Cell, RowOptions, history_from_row
from custrec.io._table import Source, Table, format_of
from custrec.io._upsert import Built, CustomerWriter, HistoryWriter, Writer
from custrec.model import Customer, Feedback, HistoryRecord, Interaction, Transaction
from custrec.serialize import from_dict, record_type_name
from custrec.store import Store
from custrec.template import Template

__all__ = ["NATURAL_KEYS", "import_customers", "import_history"]

NATURAL_KEYS = ("id", "external_id", "phone", "email")
"""The natural keys customers are matched on by default, in the order they are tried."""

_HISTORY_TARGETS: Mapping[type[HistoryRecord], Mapping[str, tuple[str, ...]]] = {
    Interaction: INTERACTION_TARGETS,
    Transaction: TRANSACTION_TARGETS,
    Feedback: FEEDBACK_TARGETS,
}

Builder = Callable[[int, Sequence[object]], "Built | None"]


class _DryRun(Exception):  # noqa: N818 - internal signal that rolls a dry run back
    """Raised at the end of a dry run so that its unit of work is undone."""


def _source_name(source: Source) -> str:
    if isinstance(source, str | Path):
        return str(source)
    return str(getattr(source, "name", "<stream>"))


def import_customers(
    store: Store,
    source: Source,
    *,
    format: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping: ColumnMapping | None = None,
    template: Template | None = None,
    natural_keys: Sequence[str] = NATURAL_KEYS,
    external_system: str = "import",
    id_width: int | None = None,
    region: str | None = None,
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: ProgressCallback | None = None,
    actor: str | None = None,
) -> ImportReport:
    """Import customers from a CSV, ``.xlsx``, JSON Lines or vCard file.

    Rows are matched to stored customers on ``natural_keys``: a row with an id is matched on
    its id alone; a row without one on its external ids, phones, then emails (the keys
    listed, in order). A matched customer is updated (see :func:`merge_customer
    <custrec.io._rows.merge_customer>`: incoming values win, nothing is erased); a row that
    matches nothing is stored as a new customer; a row matching several customers is
    rejected. Rows identical to what is stored count as skipped, so importing the same
    file twice changes nothing the second time.

    Args:
        store: Where the customers go.
        source: A path or a binary file object.
        format: ``"csv"``, ``"xlsx"``, ``"jsonl"`` or ``"vcard"``; from the file name if None.
        encoding: Text encoding of CSV and vCard files; detected if None.
        sheet: The ``.xlsx`` sheet to read; the first if None.
        mapping: Column mapping overrides; the built-in synonyms if None.
        template: Custom fields are read and checked against it, and every record must
            meet its entry standard.
        natural_keys: Any of ``"id"``, ``"external_id"``, ``"phone"``, ``"email"``.
        external_system: The system name that a plain "external id" column belongs to.
        id_width: Zero-pad all-digit ids to this width (ids stored as numbers).
        region: Phone region for numbers without a country code.
        dry_run: Validate and count everything, write nothing.
        batch_size: Rows per unit of work.
        progress: Called after each batch.
        actor: Who the audit trail names.

    Returns:
        The report: counts, rejects, column mapping.

    Raises:
        ValidationError: The file cannot be read at all (unknown format or encoding, no
            header row), or an argument is wrong. Problems with single rows never raise:
            they are rejects in the report.
    """
    unknown = [key for key in natural_keys if key not in NATURAL_KEYS]
    if unknown:
        raise ValidationError("natural_keys", unknown, f"choose from {', '.join(NATURAL_KEYS)}")
    options = RowOptions(template, external_system, id_width, region)
    writer = CustomerWriter(store, tuple(natural_keys), template, actor)

    def tabular(table: Table, report: ImportReport) -> Builder:
        return _tabular_builder(
            table,
            report,
            mapping=mapping,
            template=template,
            targets=CUSTOMER_TARGETS,
            plan=lambda columns: CustomerRowPlan(columns, options),
        )

    job = _Job(source, format, encoding, sheet, Customer, dry_run, batch_size, progress)
    return _run(store, job, writer, tabular)


def import_history(
    store: Store,
    source: Source,
    record_type: type[HistoryRecord],
    *,
    format: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping: ColumnMapping | None = None,
    currency: str = "CNY",
    id_width: int | None = None,
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: ProgressCallback | None = None,
    actor: str | None = None,
) -> ImportReport:
    """Import interactions, transactions or feedback, linked to customers by customer id.

    Rows with an id that is stored already update that record (when they change it); rows
    without an id get a new one. A row whose customer id names no stored customer is
    rejected. Import the customers first.

    Args:
        store: Where the records go.
        source: A path or a binary file object (CSV, ``.xlsx`` or JSON Lines).
        record_type: :class:`~custrec.model.Interaction`, :class:`~custrec.model.Transaction`
            or :class:`~custrec.model.Feedback`.
        format: As for :func:`import_customers`.
        encoding: As for :func:`import_customers`.
        sheet: As for :func:`import_customers`.
        mapping: As for :func:`import_customers`.
        currency: Currency of amounts in transaction rows.
        id_width: Zero-pad all-digit record and customer ids to this width.
        dry_run: Validate and count everything, write nothing.
        batch_size: Rows per unit of work.
        progress: Called after each batch.
        actor: Who the audit trail names.

    Returns:
        The report.

    Raises:
        ValidationError: As for :func:`import_customers`, or ``record_type`` is not a
            history record type.
    """
    if record_type not in _HISTORY_TARGETS:
        raise ValidationError("record_type", record_type, "Interaction, Transaction or Feedback")
    options = RowOptions(None, "import", id_width, None, currency)
    targets = _HISTORY_TARGETS[record_type]

    def build(row: int, cells: Sequence[Cell], opts: RowOptions) -> tuple[Any, None] | None:
        record = history_from_row(record_type, row, cells, opts)
        return None if record is None else (record, None)

    def tabular(table: Table, report: ImportReport) -> Builder:
        return _tabular_builder(
            table,
            report,
            mapping=mapping,
            template=None,
            targets=targets,
            plan=lambda columns: _CellsPlan(columns, build, options),
        )

    writer = HistoryWriter(store, record_type, actor)
    job = _Job(source, format, encoding, sheet, record_type, dry_run, batch_size, progress)
    return _run(store, job, writer, tabular)


@attrs.frozen
class _Job:
    """What one import call asked for."""

    source: Source
    format: str | None
    encoding: str | None
    sheet: str | None
    record_type: type[Any]
    dry_run: bool
    batch_size: int
    progress: ProgressCallback | None


def _run(
    store: Store,
    job: _Job,
    writer: Writer,
    tabular: Callable[[Table, ImportReport], Builder],
) -> ImportReport:
    batch_size = job.batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError("batch_size", batch_size, "must be a whole number from 1")
    kind = format_of(job.source, job.format)
    if kind == "vcard" and job.record_type is not Customer:
        raise ValidationError("format", kind, "vCard files hold customers only")
    with read_table(job.source, kind, job.encoding, job.sheet) as table:
        report = ImportReport(
            _source_name(job.source),
            kind,
            record_type_name(job.record_type),
            table.encoding,
            job.dry_run,
        )
        jsonl = kind == "jsonl"
        build = _document_builder(job.record_type) if jsonl else tabular(table, report)
        try:
            if job.dry_run:
                with store.transaction():
                    _loop(table, build, writer, report, job)
                    raise _DryRun
            else:
                _loop(table, build, writer, report, job)
        except _DryRun:
            pass
    report.rejects.sort(key=lambda reject: reject.row)
    return report


def _loop(table: Table, build: Builder, writer: Writer, report: ImportReport, job: _Job) -> None:
    batch_size, progress = job.batch_size, job.progress
    batch: list[tuple[int, Built]] = []
    for number, cells in _guarded(table.rows):
        report.rows_read += 1
        try:
            if isinstance(cells, ValidationError):
                raise ImportRowError(number, None, None, cells.reason)
            built = build(number, cells)
        except ImportRowError as exc:
            _reject(report, Reject.from_error(exc))
            continue
        if built is None:
            report.skipped += 1
            continue
        batch.append((number, built))
        if len(batch) >= batch_size:
            writer.write(batch, report)
            batch = []
            if progress is not None:
                progress(ImportProgress(report.rows_read, table.total, report.rejected))
    if batch:
        writer.write(batch, report)
    if progress is not None:
        progress(ImportProgress(report.rows_read, table.total, report.rejected))


def _guarded(rows: Iterator[Any]) -> Iterator[Any]:
    """The rows, with a reader's unexpected failure turned into a CustrecError."""
    while True:
        try:
            item = next(rows)
        except StopIteration:
            return
        except CustrecError:
            raise
        except (ValueError, OSError, KeyError, IndexError, TypeError) as exc:
            raise ValidationError(
                "source", None, f"the file cannot be read further: {exc}"
            ) from exc
        yield item


def _reject(report: ImportReport, reject: Reject) -> None:
    report.rejected += 1
    report.rejects.append(reject)


class RowPlan(Protocol):
    """Reads one file's rows: picks the mapped cells, then builds a record from them."""

    def values(self, cells: Sequence[object]) -> Sequence[object]:
        """The cells of the mapped columns, in column order (those the row has)."""

    def __call__(self, row: int, values: Sequence[object]) -> Built | None:
        """Build the record from :meth:`values`; ``None`` when every cell is blank."""


Column = tuple[int, str, str]
"""A column read: its index, the target field and the header as written."""


class _CellsPlan:
    """Hands each row to a builder as ``(target, header, cell)`` triples."""

    def __init__(
        self,
        columns: Sequence[Column],
        build: Callable[[int, Sequence[Cell], RowOptions], Built | None],
        options: RowOptions,
    ) -> None:
        self.columns = tuple(columns)
        self.build = build
        self.options = options

    def values(self, cells: Sequence[object]) -> Sequence[object]:
        return [cells[i] for i, _, _ in self.columns if i < len(cells)]

    def __call__(self, row: int, values: Sequence[object]) -> Built | None:
        # The columns a short row has are the first ones: they are in file order.
        mapped = [(t, h, v) for (_, t, h), v in zip(self.columns, values, strict=False)]
        return self.build(row, mapped, self.options)


def _tabular_builder(
    table: Table,
    report: ImportReport,
    *,
    mapping: ColumnMapping | None,
    template: Template | None,
    targets: Mapping[str, tuple[str, ...]],
    plan: Callable[[Sequence[Column]], RowPlan],
) -> Builder:
    resolved = (mapping or ColumnMapping()).resolve(
        table.headers, targets=targets, template=template
    )
    report.columns = tuple(zip(resolved.headers, resolved.targets, strict=True))
    report.unmapped = resolved.unmapped
    used = [(i, t, h) for i, (h, t) in enumerate(report.columns) if t is not None and t != "age"]
    width = len(table.headers)
    rows = plan(used)
    pick = rows.values

    def from_cells(number: int, cells: Sequence[object]) -> Built | None:
        if len(cells) > width and any(_filled(cell) for cell in cells[width:]):
            raise ImportRowError(
                number,
                None,
                cells[width],
                f"the row has {len(cells)} cells but the header only {width}: "
                "a stray delimiter or broken quoting",
            )
        values = pick(cells)
        if not any(_filled(value) for value in values):
            if any(_filled(cell) for cell in cells):
                raise ImportRowError(
                    number, None, None, "the row has values only in columns that are not imported"
                )
            return None
        return rows(number, values)

    return from_cells


def _filled(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _document_builder(record_type: type[Any]) -> Builder:
    def from_document(number: int, cells: Sequence[object]) -> Built | None:
        document = cells[0]
        if not isinstance(document, dict):
            raise ImportRowError(number, None, document, "a line must hold a JSON object")
        if not document:
            return None
        try:
            record = from_dict(document, record_type)
        except ValidationError as exc:
            raise ImportRowError(number, exc.field or None, exc.value, exc.reason) from None
        return record, None

    return from_document
