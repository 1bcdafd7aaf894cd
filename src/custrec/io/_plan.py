"""A compiled reader for customer rows: the column plan is chosen once, from the header.

:func:`~custrec.io._rows.customer_from_row` is the reference: it takes a row as
``(target, header, cell)`` triples and finds, for every cell, what its target means. An
import reads every row of a file with the same columns, so :class:`CustomerRowPlan` makes
that choice once per column, when the header is mapped, and keeps for each column a step
that does only that column's work. The steps for the common columns (ids, text, phones,
dates, a whole address) take a short path for the cells a CSV file gives (plain text) and
hand every other cell to the reference code, so both give the same records, the same
rejects and the same reasons (``tests/test_io_plan.py`` checks this on random rows).

Repeated values are read once per import: birth dates (keyed by the text and the
``day_first`` setting in force, the only setting a date reading depends on) and whole
addresses (the split depends on the text alone). The caches are bounded and hold only
successful readings; a cell that fails is read again, and fails again, every time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeGuard

from custrec import config
from custrec.errors import ImportRowError, ValidationError
from custrec.io._cells import LIST_SEPARATOR, MAX_CELL, read_date, read_id, split_address
from custrec.io._rows import ADDRESS_PARTS, TEXT_FIELDS, CustomerParts, RowOptions
from custrec.model import Address, Customer, Email, Phone

__all__ = ["CustomerRowPlan"]

Step = Callable[[CustomerParts, object], None]

# Entries per cache before it is emptied and filled again. Dates are small and few (a
# century has 36,525 days, and birth dates cluster); addresses are larger and mostly unique
# in real files, so their cache stays small: a few MB each at most, whatever the file.
_DATE_LIMIT = 16_384
_ADDRESS_LIMIT = 4_096


def _plain(value: object) -> TypeGuard[str]:
    """Whether a cell is text that :func:`cell_text` would hand back unchanged."""
    return type(value) is str and len(value) <= MAX_CELL


class _WholeAddress:
    """The one column holding a whole address: its split and the address it makes, cached."""

    def __init__(self) -> None:
        self.splits: dict[str, Address] = {}
        self.finals: dict[str, Address | None] = {}

    def step(self, parts: CustomerParts, value: object) -> None:
        if not _plain(value):
            parts.read("address", value)
        elif value.strip():
            split = self.splits.get(value)
            if split is None:
                split = split_address(value)
                if len(self.splits) >= _ADDRESS_LIMIT:
                    self.splits.clear()
                self.splits[value] = split
            parts.address_text = value
            for part in ADDRESS_PARTS:
                parts.address.setdefault(part, getattr(split, part))

    def final(self, parts: CustomerParts) -> Address | None:
        """The address :meth:`CustomerParts.fields` would build from the split, cached."""
        text = parts.address_text
        if text is None:
            return parts.address_of()
        if text in self.finals:
            return self.finals[text]
        address = parts.address_of()
        if len(self.finals) >= _ADDRESS_LIMIT:
            self.finals.clear()
        self.finals[text] = address
        return address


class CustomerRowPlan:
    """Reads the rows of one file into customers, one prepared step per mapped column.

    Calling the plan gives what :func:`~custrec.io._rows.customer_from_row` gives for the
    same cells: the customer and the fields the row filled, ``None`` for a blank row, or
    :class:`~custrec.errors.ImportRowError` naming the row, the column, the cell and why.

    Attributes:
        columns: ``(index, target, header)`` for every column read, in file order.
        options: How cells are read.
    """

    def __init__(self, columns: Sequence[tuple[int, str, str]], options: RowOptions) -> None:
        self.columns = tuple(columns)
        self.options = options
        self._dates: dict[tuple[str, bool | None], date] = {}
        address_columns = [t for _, t, _ in columns if t == "address" or t in ADDRESS_PARTS]
        self._address = _WholeAddress() if address_columns == ["address"] else None
        self._steps = tuple(self._step_for(target) for _, target, _ in self.columns)
        self._indexes = tuple(index for index, _, _ in self.columns)
        self._headers = tuple(header for _, _, header in self.columns)
        self._need = max(self._indexes, default=-1) + 1

    def values(self, cells: Sequence[object]) -> list[object]:
        """The cells of the mapped columns, in plan order (those the row has)."""
        if len(cells) >= self._need:
            return [cells[i] for i in self._indexes]
        return [cells[i] for i in self._indexes if i < len(cells)]

    def __call__(
        self, row: int, values: Sequence[object]
    ) -> tuple[Customer, frozenset[str]] | None:
        """Build the customer from the mapped cells :meth:`values` gave.

        Raises:
            ImportRowError: A cell cannot be read, or the record it makes is invalid.
        """
        parts = CustomerParts(self.options)
        steps, headers = self._steps, self._headers
        for index, value in enumerate(values):
            try:
                steps[index](parts, value)
            except ValidationError as exc:
                raise ImportRowError(row, headers[index], value, exc.reason) from None
        try:
            fields = parts.fields(self._address.final if self._address is not None else None)
            if not fields:
                return None
            customer = Customer(**fields)
        except ValidationError as exc:
            field = exc.field.split(".")[0].split("[")[0]
            column = next(
                (headers[i] for i in range(len(values)) if self.columns[i][1].startswith(field)),
                None,
            )
            raise ImportRowError(row, column, exc.value, exc.reason) from None
        return customer, frozenset(fields)

    def _step_for(self, target: str) -> Step:
        if target == "id":
            return self._id_step()
        if target in TEXT_FIELDS:
            return _text_step(target)
        if target == "phones":
            return self._phone_step()
        if target == "birth_date":
            return self._date_step()
        if target == "address" and self._address is not None:
            return self._address.step
        if target == "emails":
            return _email_step
        if target == "notes":
            return _notes_step
        return lambda parts, value: parts.read(target, value)

    def _id_step(self) -> Step:
        width = self.options.id_width

        def step(parts: CustomerParts, value: object) -> None:
            # ASCII digits: no number shape to undo, nothing to trim (see read_id).
            if _plain(value) and value.isdigit() and value.isascii():
                parts.scalars["id"] = value if width is None else value.zfill(width)
            else:
                parts.put("id", read_id(value, "id", width=width))

        return step

    def _phone_step(self) -> Step:
        region = self.options.region

        def step(parts: CustomerParts, value: object) -> None:
            # ASCII digits: one number, no separator, no number shape (see read_phones).
            if _plain(value) and value.isdigit() and value.isascii():
                parts.contacts["phones"].append(Phone(value, region=region))
            else:
                parts.read("phones", value)

        return step

    def _date_step(self) -> Step:
        dates = self._dates

        def step(parts: CustomerParts, value: object) -> None:
            if not _plain(value):
                parts.read("birth_date", value)
                return
            key = (value, config.get().day_first)
            day = dates.get(key)
            if day is None:
                day = read_date(value, "birth_date")
                if day is None:
                    return
                if len(dates) >= _DATE_LIMIT:
                    dates.clear()
                dates[key] = day
            parts.scalars["birth_date"] = day

        return step


def _text_step(target: str) -> Step:
    def step(parts: CustomerParts, value: object) -> None:
        if _plain(value):
            if value.strip():
                parts.scalars[target] = value
        else:
            parts.read(target, value)

    return step


def _email_step(parts: CustomerParts, value: object) -> None:
    # Text without a separator is one address, trimmed (see split_list).
    if _plain(value) and LIST_SEPARATOR.search(value) is None:
        text = value.strip()
        if text:
            parts.contacts["emails"].append(Email(text))
    else:
        parts.read("emails", value)


def _notes_step(parts: CustomerParts, value: object) -> None:
    if _plain(value):
        text = value if value.strip() else None
        old = parts.scalars.get("notes")
        parts.put("notes", f"{old}\n{text}" if old and text else text or old)
    else:
        parts.read("notes", value)
