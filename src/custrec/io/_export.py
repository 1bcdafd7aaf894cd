"""Export: customers and their history to CSV, ``.xlsx``, JSON Lines and vCard.

Tabular files (CSV, ``.xlsx``) carry one row per record, headed with the template's labels
in the chosen language (or custrec's English and Chinese labels), in a layout the import
reads back unchanged. JSON Lines carries whole records, losslessly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from custrec.errors import ValidationError
from custrec.io._csv import write_csv
from custrec.io._jsonl import write_jsonl
from custrec.io._mapping import (
    CUSTOMER_TARGETS,
    FEEDBACK_TARGETS,
    INTERACTION_TARGETS,
    TRANSACTION_TARGETS,
)
from custrec.io._table import format_of
from custrec.io._vcard import write_vcard
from custrec.io._xlsx import write_xlsx
from custrec.model import Customer, Feedback, HistoryRecord, Interaction, Record, Transaction
from custrec.serialize import record_type_name
from custrec.store import Store
from custrec.template import Template

__all__ = ["CUSTOMER_COLUMNS", "column_label", "export_customers", "export_history"]

R = TypeVar("R", bound=Record)

CUSTOMER_COLUMNS = (
    "id", "name", "kind", "gender", "birth_date", "occupation", "job_title", "company",
    "industry", "phones", "emails", "handles", "country", "province", "city", "district",
    "street", "postal_code", "interests", "family", "special_needs", "notes", "tags",
    "external_ids", "source", "owner", "created_at", "updated_at", "reviewed_at",
)  # fmt: skip
"""The columns a tabular customer export writes, before the custom fields."""

_HISTORY_COLUMNS: Mapping[type[HistoryRecord], tuple[str, ...]] = {
    Interaction: tuple(INTERACTION_TARGETS),
    Transaction: tuple(TRANSACTION_TARGETS),
    Feedback: tuple(FEEDBACK_TARGETS),
}
_TARGETS: Mapping[type[Record], Mapping[str, tuple[str, ...]]] = {
    Customer: CUSTOMER_TARGETS,
    Interaction: INTERACTION_TARGETS,
    Transaction: TRANSACTION_TARGETS,
    Feedback: FEEDBACK_TARGETS,
}
_JOIN = "; "


def column_label(
    column: str,
    language: str = "en",
    *,
    template: Template | None = None,
    record_type: type[Record] = Customer,
) -> str:
    """Return a column's header in ``language``: the template's label, else custrec's own.

    custrec's own labels are English (``"job title"``) and Chinese (``"职位"``); any of
    them reads back to the same field on import.

    Args:
        column: The field (``"job_title"``, ``"custom.points"``).
        language: ``"en"``, ``"zh"`` or any language the template labels.
        template: The template whose labels win.
        record_type: The record type the column belongs to.

    Returns:
        The header text.
    """
    if template is not None:
        if column.startswith("custom."):
            try:
                return template.custom_field(column[7:]).label(language)
            except KeyError:
                return column
        names = template.field_labels.get(column) or {}
        if language in names:
            return str(names[language])
    if column.startswith("custom."):
        return column
    synonyms = _TARGETS[record_type].get(column, ())
    if language == "zh":
        chinese = [name for name in synonyms if not name.isascii()]
        if chinese:
            return chinese[0]
    return column.replace("_", " ")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return _JOIN.join(str(item) for item in value)
    return str(value)


def _customer_cells(customer: Customer, custom_keys: Sequence[str]) -> list[str]:
    address = customer.primary_address
    row = {
        "phones": _JOIN.join(phone.raw for phone in customer.phones),
        "emails": _JOIN.join(email.address for email in customer.emails),
        "handles": _JOIN.join(f"{h.network}:{h.handle}" for h in customer.handles),
        "tags": _JOIN.join(sorted(customer.tags)),
        "external_ids": _JOIN.join(f"{s}:{i}" for s, i in customer.external_ids.items()),
    }
    cells = []
    for column in CUSTOMER_COLUMNS:
        if column in row:
            cells.append(row[column])
        elif column in ("country", "province", "city", "district", "street", "postal_code"):
            cells.append(_text(getattr(address, column)) if address is not None else "")
        else:
            cells.append(_text(getattr(customer, column)))
    cells.extend(_text(customer.custom.get(key)) for key in custom_keys)
    return cells


def _history_cells(record: HistoryRecord, columns: Sequence[str]) -> list[str]:
    if isinstance(record, Transaction):
        item = record.items[0] if len(record.items) == 1 else None
        extra: dict[str, object] = {
            "product": item.name if item else _JOIN.join(i.name for i in record.items),
            "product_id": item.product_id if item else None,
            "quantity": item.quantity if item else None,
            "unit_price": item.unit_price.amount if item else None,
            "total": record.total.amount,
            "currency": record.total.currency,
        }
        return [_text(extra[c] if c in extra else getattr(record, c)) for c in columns]
    return [_text(getattr(record, column)) for column in columns]


def _records(source: Store | Iterable[R], record_type: type[R]) -> Iterator[R]:
    if isinstance(source, Store):
        for batch in source.repository(record_type).iter_batches(1000):
            yield from batch
    else:
        yield from source


def _custom_keys(
    source: Store | Iterable[Customer], template: Template | None
) -> tuple[list[str], Store | Iterable[Customer]]:
    keys = [field.key for field in template.custom_fields] if template else []
    if not isinstance(source, Store):
        source = list(source)
    seen = set(keys)
    for customer in _records(source, Customer):
        for key in customer.custom:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    return keys, source


@contextlib.contextmanager
def _open_target(target: str | Path | BinaryIO) -> Iterator[BinaryIO]:
    if isinstance(target, str | Path):
        try:
            handle = Path(target).open("wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise ValidationError("target", str(target), f"cannot write: {exc.strerror}") from None
        with handle:
            yield handle
        return
    yield target


def _counted(records: Iterable[R], progress: Callable[[int], None] | None) -> Iterator[R]:
    for done, record in enumerate(records, start=1):
        yield record
        if progress is not None and done % 1000 == 0:
            progress(done)


def export_customers(
    source: Store | Iterable[Customer],
    target: str | Path | BinaryIO,
    *,
    format: str | None = None,
    template: Template | None = None,
    language: str = "en",
    encoding: str = "utf-8-sig",
    vcard_version: str = "4.0",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write customers to a CSV, ``.xlsx``, JSON Lines or vCard file.

    A CSV or ``.xlsx`` file has the columns :data:`CUSTOMER_COLUMNS`, then one column per
    custom field (the template's, then any other key a customer holds), headed in
    ``language``. Lists (phones, emails, tags…) are joined with ``"; "``; the primary (or
    first) address fills the address columns. CSV cells a spreadsheet would run as a formula
    are escaped with a leading ``'``. JSON Lines keeps every field of every record.

    Args:
        source: A store (read in batches, twice for tabular files: once to find the custom
            field keys) or any iterable of customers (held in memory for tabular files).
        target: A path or a binary file object.
        format: ``"csv"``, ``"xlsx"``, ``"jsonl"`` or ``"vcard"``; from the file name if None.
        template: Labels and custom fields come from it.
        language: Header language: ``"en"``, ``"zh"`` or one the template labels.
        encoding: CSV encoding: ``"utf-8-sig"`` (what Excel opens), ``"utf-8"``, ``"gb18030"``.
        vcard_version: ``"4.0"`` or ``"3.0"``.
        progress: Called with the number written, every 1,000 records.

    Returns:
        How many customers were written.

    Raises:
        ValidationError: An unknown format, or a cell the encoding cannot hold.
    """
    kind = format_of(target, format)
    with _open_target(target) as stream:
        if kind == "jsonl":
            return write_jsonl(stream, _counted(_records(source, Customer), progress))
        if kind == "vcard":
            records = _counted(_records(source, Customer), progress)
            return write_vcard(stream, records, version=vcard_version)
        keys, source = _custom_keys(source, template)
        columns = [*CUSTOMER_COLUMNS, *(f"custom.{key}" for key in keys)]
        headers = [column_label(c, language, template=template) for c in columns]
        rows = (_customer_cells(c, keys) for c in _counted(_records(source, Customer), progress))
        if kind == "csv":
            return write_csv(stream, headers, rows, encoding)
        return write_xlsx(stream, headers, rows, sheet="customers")


def export_history(
    source: Store | Iterable[HistoryRecord],
    target: str | Path | BinaryIO,
    record_type: type[HistoryRecord],
    *,
    format: str | None = None,
    language: str = "en",
    encoding: str = "utf-8-sig",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write interactions, transactions or feedback to CSV, ``.xlsx`` or JSON Lines.

    Tabular files have one row per record, linked to its customer by ``customer_id``. A
    transaction with one line item reads back exactly; one with several is written with its
    product names joined and its total only (use JSON Lines to keep every item).

    Args:
        source: A store or any iterable of records of ``record_type``.
        target: A path or a binary file object.
        record_type: :class:`~custrec.model.Interaction`, :class:`~custrec.model.Transaction`
            or :class:`~custrec.model.Feedback`.
        format: ``"csv"``, ``"xlsx"`` or ``"jsonl"``; from the file name if None.
        language: Header language, ``"en"`` or ``"zh"``.
        encoding: CSV encoding, as for :func:`export_customers`.
        progress: Called with the number written, every 1,000 records.

    Returns:
        How many records were written.

    Raises:
        ValidationError: An unknown format or record type.
    """
    if record_type not in _HISTORY_COLUMNS:
        raise ValidationError("record_type", record_type, "Interaction, Transaction or Feedback")
    kind = format_of(target, format)
    if kind == "vcard":
        raise ValidationError("format", kind, "vCard files hold customers only")
    records: Iterator[Any] = _counted(_records(source, record_type), progress)
    with _open_target(target) as stream:
        if kind == "jsonl":
            return write_jsonl(stream, records)
        columns = _HISTORY_COLUMNS[record_type]
        headers = [column_label(c, language, record_type=record_type) for c in columns]
        rows = (_history_cells(record, columns) for record in records)
        if kind == "csv":
            return write_csv(stream, headers, rows, encoding)
        return write_xlsx(stream, headers, rows, sheet=record_type_name(record_type))
