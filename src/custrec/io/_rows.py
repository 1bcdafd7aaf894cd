"""Turning one mapped row of cells into a record, and merging it onto a stored one.

A row arrives as ``(target, header, cell)`` triples (the columns the mapping kept). Every
problem is raised as :class:`~custrec.errors.ImportRowError` naming the row, the column as
written in the file, the cell and the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from custrec.errors import ImportRowError, ValidationError
from custrec.io._cells import (
    cell_text,
    read_date,
    read_id,
    read_phones,
    split_address,
    split_list,
)
from custrec.model import (
    Address,
    Customer,
    CustomValue,
    Email,
    Feedback,
    Handle,
    HistoryRecord,
    Interaction,
    LineItem,
    Money,
    Transaction,
    parse_datetime,
)
from custrec.template import Template

__all__ = ["Cell", "RowOptions", "customer_from_row", "history_from_row", "merge_customer"]

Cell = tuple[str, str, object]
"""One mapped cell: the target field, the header as written, the value as read."""

TEXT_FIELDS = frozenset(
    {"name", "kind", "gender", "occupation", "job_title", "company", "industry", "family"}
    | {"source", "owner"}
)
_LIST_FIELDS = frozenset({"interests", "special_needs", "tags"})
ADDRESS_PARTS = ("country", "province", "city", "district", "street", "postal_code")
_MOMENTS = frozenset({"created_at", "updated_at", "reviewed_at"})


@attrs.frozen
class RowOptions:
    """How cells are read.

    Attributes:
        template: Custom fields are coerced and checked against it.
        external_system: The system name for a plain ``external_id`` column.
        id_width: Pad all-digit ids with zeros to this width (ids a spreadsheet stored as
            numbers lost their leading zeros).
        region: Phone region for numbers without a country code.
        currency: Currency of amounts without one (transactions).
    """

    template: Template | None = None
    external_system: str = "import"
    id_width: int | None = None
    region: str | None = None
    currency: str = "CNY"


def _fail(row: int, header: str, value: object, exc: ValidationError) -> ImportRowError:
    return ImportRowError(row, header, value, exc.reason)


def customer_from_row(
    row: int, cells: Sequence[Cell], options: RowOptions
) -> tuple[Customer, frozenset[str]] | None:
    """Build a customer from a row, and name the fields the row filled.

    Args:
        row: The row number, for errors.
        cells: The mapped cells.
        options: How to read them.

    Returns:
        The customer and the attribute names the row gave values for; ``None`` when every
        cell is blank.

    Raises:
        ImportRowError: A cell cannot be read, or the record it makes is invalid.
    """
    parts = CustomerParts(options)
    for target, header, value in cells:
        try:
            parts.read(target, value)
        except ValidationError as exc:
            raise ImportRowError(row, header, value, exc.reason) from None
    try:
        # The address is built here, from its parts: a part no address may hold (a control
        # character in a province column) rejects the row like any other invalid field.
        fields = parts.fields()
        if not fields:
            return None
        customer = Customer(**fields)
    except ValidationError as exc:
        field = exc.field.split(".")[0].split("[")[0]
        column = next((h for t, h, _ in cells if t.startswith(field)), None)
        raise ImportRowError(row, column, exc.value, exc.reason) from None
    return customer, frozenset(fields)


class CustomerParts:
    """What the cells of one row said, gathered until the customer is built.

    Attributes:
        options: How cells are read.
        scalars: Single-valued fields read so far.
        contacts: Phones, emails and handles read so far.
        lists: Interests, special needs and tags read so far.
        custom: Custom field values read so far.
        external: External ids read so far, by system.
        address: Address parts read so far.
        address_text: The whole-address cell the parts came from, when a compiled plan
            read them (it caches the address they make by this text).
    """

    def __init__(self, options: RowOptions) -> None:
        self.options = options
        self.scalars: dict[str, Any] = {}
        self.contacts: dict[str, list[Any]] = {"phones": [], "emails": [], "handles": []}
        self.lists: dict[str, list[str]] = {}
        self.custom: dict[str, CustomValue] = {}
        self.external: dict[str, str] = {}
        self.address: dict[str, Any] = {}
        self.address_text: str | None = None

    def fields(
        self, address_of: Callable[[CustomerParts], Address | None] | None = None
    ) -> dict[str, Any]:
        """The keyword arguments for :class:`Customer`: only what the row filled.

        Args:
            address_of: Makes the address from the parts; :meth:`address_of` if None.
        """
        fields = dict(self.scalars)
        fields.update((name, items) for name, items in self.contacts.items() if items)
        fields.update(self.lists)
        if self.custom:
            fields["custom"] = self.custom
        if self.external:
            fields["external_ids"] = self.external
        address = (address_of or CustomerParts.address_of)(self)
        if address is not None:
            fields["addresses"] = [address]
        return fields

    def address_of(self) -> Address | None:
        """The address the parts make, or ``None`` when every part is blank."""
        return Address(**self.address) if any(self.address.values()) else None

    def read(self, target: str, value: object) -> None:  # noqa: PLR0912 - one branch per kind of column
        """Read one cell of the column mapped to ``target``.

        Raises:
            ValidationError: The cell cannot be read.
        """
        options = self.options
        if target == "id":
            self.put("id", read_id(value, "id", width=options.id_width))
        elif target in TEXT_FIELDS:
            self.put(target, cell_text(value, target))
        elif target == "notes":
            text = cell_text(value, target)
            old = self.scalars.get("notes")
            self.put("notes", f"{old}\n{text}" if old and text else text or old)
        elif target == "birth_date":
            self.put(target, read_date(value, target))
        elif target in _MOMENTS:
            self.put(target, _moment(value, target))
        elif target == "phones":
            self.contacts["phones"].extend(read_phones(value, target, options.region))
        elif target == "emails":
            self.contacts["emails"].extend(Email(part) for part in split_list(value, target))
        elif target in ("wechat", "qq"):
            text = cell_text(value, target)
            if text is not None:
                self.contacts["handles"].append(Handle(target, text))
        elif target == "handles":
            for network, ident in _pairs(value, target, "network:handle"):
                self.contacts["handles"].append(Handle(network, ident))
        elif target in _LIST_FIELDS:
            self.lists.setdefault(target, []).extend(split_list(value, target))
        elif target == "external_ids":
            self.external.update(_pairs(value, target, "system:id"))
        elif target == "external_id" or target.startswith("external_id."):
            system = target[12:] if "." in target else options.external_system
            external_id = read_id(value, target)
            if external_id is not None:
                self.external[system] = external_id
        elif target.startswith("custom."):
            _read_custom(target[7:], value, options, self.custom)
        elif target == "address":
            text = cell_text(value, target)
            if text is not None:
                split = split_address(text)
                for part in ADDRESS_PARTS:
                    self.address.setdefault(part, getattr(split, part))
        elif target in ADDRESS_PARTS:
            text = cell_text(value, target)
            if text is not None:
                self.address[target] = text

    def put(self, name: str, value: object) -> None:
        """Keep ``value`` for the field ``name`` unless it is ``None``."""
        if value is not None:
            self.scalars[name] = value


def _moment(value: object, field: str) -> datetime | None:
    if isinstance(value, datetime):
        return parse_datetime(value, field=field)
    text = cell_text(value, field)
    return None if text is None else parse_datetime(text, field=field)


def _pairs(value: object, field: str, shape: str) -> list[tuple[str, str]]:
    pairs = []
    for part in split_list(value, field):
        head, colon, tail = part.partition(":")
        if not (colon and head.strip() and tail.strip()):
            raise ValidationError(field, part, f"write each as {shape}")
        pairs.append((head.strip(), tail.strip()))
    return pairs


def _read_custom(
    key: str, value: object, options: RowOptions, custom: dict[str, CustomValue]
) -> None:
    template = options.template
    if template is not None:
        try:
            field = template.custom_field(key)
        except KeyError:
            pass
        else:
            coerced = field.coerce(cell_text(value, f"custom.{key}"))
            if coerced is not None:
                custom[key] = coerced
            return
    if isinstance(value, int | float | bool) and not isinstance(value, str):
        custom[key] = value
        return
    text = cell_text(value, f"custom.{key}")
    if text is not None:
        custom[key] = text


def merge_customer(old: Customer, new: Customer, filled: frozenset[str] | None) -> Customer:
    """Return ``old`` with what the row brought: the incoming data wins, nothing is erased.

    Scalar fields the row filled replace the stored ones; phones, emails, handles and
    addresses not yet held are added after the stored ones; tags, interests and needs are
    joined; custom fields and external ids are merged key by key. ``filled=None`` means a
    whole record (JSON Lines): it replaces the stored one, keeping only its version.

    Args:
        old: The stored customer.
        new: The customer the row made.
        filled: The attributes the row gave values for.

    Returns:
        The merged customer (``old`` itself when nothing changes).
    """
    if filled is None:
        merged = attrs.evolve(new, id=old.id, version=old.version)
        return old if merged == old else merged
    changes: dict[str, Any] = {}
    for name in filled:
        mine, theirs = getattr(old, name), getattr(new, name)
        if name in ("phones", "emails", "handles", "addresses"):
            known = {_contact_key(item) for item in mine}
            extra = [item for item in theirs if _contact_key(item) not in known]
            if extra:
                changes[name] = (*mine, *extra)
        elif name == "tags":
            if not theirs <= mine:
                changes[name] = mine | theirs
        elif name in ("interests", "special_needs"):
            extra = [item for item in theirs if item not in mine]
            if extra:
                changes[name] = (*mine, *extra)
        elif name in ("custom", "external_ids"):
            joined = {**mine, **theirs}
            if joined != dict(mine):
                changes[name] = joined
        elif name != "id" and mine != theirs:
            changes[name] = theirs
    return attrs.evolve(old, **changes) if changes else old


def _contact_key(item: object) -> object:
    if isinstance(item, Email | Handle):
        return item.key
    if isinstance(item, Address):
        return (item.country, item.province, item.city, item.district, item.street)
    return getattr(item, "e164", None) or getattr(item, "raw", item)


# -- history ----------------------------------------------------------------------------------

_HISTORY_TEXT = {
    Interaction: ("channel", "direction", "subject", "content", "outcome", "handled_by"),
    Transaction: ("payment_method", "channel", "status", "note"),
    Feedback: ("text", "topic", "about_id"),
}


def history_from_row(  # noqa: PLR0912 - one branch per kind of column
    kind: type[HistoryRecord], row: int, cells: Sequence[Cell], options: RowOptions
) -> HistoryRecord | None:
    """Build an interaction, transaction or feedback from a row.

    A transaction row is one sale: a line item from ``product``, ``quantity`` and
    ``unit_price`` (or only a ``total``), in ``currency`` or the options' currency.

    Returns:
        The record; ``None`` when every cell is blank.

    Raises:
        ImportRowError: A cell cannot be read, or the record it makes is invalid.
    """
    fields: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for target, header, value in cells:
        headers[target] = header
        read: object
        try:
            if target in ("id", "customer_id"):
                read = read_id(value, target, width=options.id_width)
            elif target == "at":
                read = _moment(value, target)
            elif target == "next_follow_up":
                read = read_date(value, target)
            elif target in ("rating", "nps"):
                read = _whole(value, target)
            elif target in ("quantity", "unit_price", "total"):
                text = cell_text(value, target)
                read = None if text is None else _decimal(text, target)
            else:
                read = cell_text(value, target)
        except ValidationError as exc:
            raise _fail(row, header, value, exc) from None
        if read is not None:
            fields[target] = read
    if not fields:
        return None
    try:
        if kind is Transaction:
            _shape_transaction(fields, options.currency)
        record: HistoryRecord = kind(**fields)
    except ValidationError as exc:
        header = headers.get(exc.field.split(".")[0].split("[")[0], exc.field)
        raise ImportRowError(row, header, exc.value, exc.reason) from None
    except TypeError:
        needed = ("customer_id", "at", "channel") if kind is Interaction else ("customer_id", "at")
        missing = [name for name in needed if name not in fields]
        reason = f"a {kind.__name__.lower()} needs a value for {', '.join(missing) or 'more'}"
        raise ImportRowError(row, None, None, reason) from None
    return record


def _shape_transaction(fields: dict[str, Any], default_currency: str) -> None:
    currency = fields.pop("currency", default_currency)
    name = fields.pop("product", None)
    product_id = fields.pop("product_id", None)
    quantity = fields.pop("quantity", Decimal(1))
    price = fields.pop("unit_price", None)
    total = fields.pop("total", None)
    if price is not None or name is not None:
        if price is None:
            price = total / quantity if total is not None and quantity else Decimal(0)
        item = LineItem(name or product_id or "item", Money(price, currency), quantity)
        if product_id is not None:
            item = attrs.evolve(item, product_id=product_id)
        fields["items"] = [item]
        if total is not None:
            fields["total"] = Money(total, currency)
    elif total is not None:
        fields["total"] = Money(total, currency)


def _decimal(text: str, field: str) -> Decimal:
    cleaned = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(field, text, "not a number") from None
    if not number.is_finite():
        raise ValidationError(field, text, "not a finite number")
    return number


def _whole(value: object, field: str) -> int | None:
    text = cell_text(value, field)
    if text is None:
        return None
    number = _decimal(text, field)
    if number != number.to_integral_value():
        raise ValidationError(field, value, "not a whole number")
    return int(number)
