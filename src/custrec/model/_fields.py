"""Shared field machinery for the record types.

attrs converters cannot know which field they convert, so a converter that meets a value it
cannot use returns an :class:`Invalid` marker instead of raising. :func:`checked`, used as every
record's ``field_transformer``, puts a validator in front of each field that turns the marker
into a :class:`~custrec.errors.ValidationError` naming the field. Converters stay small, named
functions (which mypy's attrs plugin understands), and every error still says where it was.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs

from custrec.errors import ValidationError
from custrec.model._time import parse_date, parse_datetime

__all__ = [
    "CONTROL_CHARACTERS",
    "Invalid",
    "check_bool",
    "checked",
    "has_control",
    "invalid",
    "positive_version",
    "reject_invalid",
    "to_aware",
    "to_date",
    "to_decimal",
    "to_opt_aware",
    "to_opt_date",
    "to_opt_text",
    "to_text",
    "to_text_tuple",
    "to_tuple",
]

T = TypeVar("T")


@attrs.frozen
class Invalid:
    """A value a converter could not use, carried to the field's validator.

    Attributes:
        value: The value as given.
        reason: Why it cannot be used.
    """

    value: object
    reason: str


def invalid(value: object, reason: str) -> Invalid:
    """Return an :class:`Invalid` marker for a converter to hand to its field's validator."""
    return Invalid(value, reason)


def reject_invalid(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validator: raise the problem a converter reported through :class:`Invalid`."""
    if type(value) is Invalid:
        raise ValidationError(attribute.name, value.value, value.reason)


def checked(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """``field_transformer`` that lets converters report problems through :class:`Invalid`."""
    out = []
    for field in fields:
        if field.converter is None:
            out.append(field)
            continue
        validator = (
            reject_invalid
            if field.validator is None
            else attrs.validators.and_(reject_invalid, field.validator)
        )
        out.append(field.evolve(validator=validator))
    return out


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters refused in text: all but tab and line breaks."""


def has_control(text: str) -> bool:
    """Whether ``text`` holds a refused control character (see :data:`CONTROL_CHARACTERS`).

    Printable text holds none (control characters are all unprintable), and
    ``isprintable()`` costs far less than the regular expression, which is left for text
    with line breaks, tabs or other unprintable characters.
    """
    return not text.isprintable() and CONTROL_CHARACTERS.search(text) is not None


def to_opt_text(value: str | None) -> str | Invalid | None:
    """Optional text: ``None``, or a string; blank strings become ``None``.

    Control characters (other than tab and line breaks) are refused: they are never part of
    a customer's data and break exports.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        return invalid(value, f"expected text, got {type(value).__name__}")
    if has_control(value):
        return invalid(value, "contains control characters")
    if not value.strip():
        return None
    return value


def to_text(value: str) -> str | Invalid:
    """Required text: like :func:`to_opt_text`, but ``None`` and blank text are refused."""
    text = to_opt_text(value)
    return invalid(value, "must not be blank") if text is None else text


def to_text_tuple(value: Iterable[str] | None) -> tuple[str, ...] | Invalid:
    """A sequence of non-blank strings, kept in order with repeats removed."""
    if value is None:
        return ()
    if type(value) is list or type(value) is tuple:  # the common case, without ABC checks
        items = value
    elif isinstance(value, str):
        return invalid(value, "expected a list of texts, got a single text")
    elif isinstance(value, Mapping):
        return invalid(value, "expected a list of texts, got a mapping")
    else:
        try:
            items = list(value)
        except TypeError:
            return invalid(value, f"expected a list of texts, got {type(value).__name__}")
    if not items:
        return ()
    seen: dict[str, None] = {}
    for item in items:
        if not isinstance(item, str):
            return invalid(value, f"expected texts only, found {type(item).__name__}")
        if has_control(item) or not item.strip():
            return invalid(value, f"blank or control characters in {item!r}")
        seen[item] = None
    return tuple(seen)


def to_tuple(value: Iterable[T]) -> tuple[T, ...] | Invalid:
    """Any iterable (not text, not a mapping) as a tuple."""
    if type(value) is tuple:  # the common case, without ABC checks
        return value
    if isinstance(value, str | bytes | Mapping):
        return invalid(value, "expected a list")
    try:
        return tuple(value)
    except TypeError:
        return invalid(value, f"expected a list, got {type(value).__name__}")


def to_decimal(value: Decimal | int | str) -> Decimal | Invalid:
    """A finite Decimal from a Decimal, int or numeric text; floats are refused."""
    if isinstance(value, bool):
        return invalid(value, "expected a number, got a bool")
    if isinstance(value, float):
        return invalid(value, "floats are not accepted for exact amounts; pass a str or Decimal")
    number: object = value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return invalid(value, "not a number")
    elif isinstance(value, int):
        number = Decimal(value)
    if not isinstance(number, Decimal):
        return invalid(value, f"expected a Decimal, got {type(value).__name__}")
    if not number.is_finite():
        # Reported as given: the text "NaN", not the Decimal it was read as.
        return invalid(value, "must be a finite number")
    return number


def to_aware(value: datetime | str) -> datetime | Invalid:
    """An aware datetime; naive datetimes and text are read in the configured zone."""
    if not isinstance(value, datetime | str):
        return invalid(value, f"expected a datetime, got {type(value).__name__}")
    try:
        return parse_datetime(value)
    except ValidationError as exc:
        return invalid(value, exc.reason)


def to_opt_aware(value: datetime | str | None) -> datetime | Invalid | None:
    """Like :func:`to_aware`, allowing ``None``."""
    return None if value is None else to_aware(value)


def to_date(value: date | str) -> date | Invalid:
    """A date; datetimes keep their date, text is read by :func:`parse_date`."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return invalid(value, f"expected a date, got {type(value).__name__}")
    try:
        return parse_date(value)
    except ValidationError as exc:
        return invalid(value, exc.reason)


def to_opt_date(value: date | str | None) -> date | Invalid | None:
    """Like :func:`to_date`, allowing ``None``."""
    return None if value is None else to_date(value)


def check_int_range(low: int, high: int) -> Any:
    """Validator: an int (not a bool) within ``low..high``, or ``None``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(attribute.name, value, f"expected a whole number {low}-{high}")
        if not low <= value <= high:
            raise ValidationError(attribute.name, value, f"must be between {low} and {high}")

    return check


def check_bool(instance: object, attribute: attrs.Attribute[bool], value: object) -> None:
    """Validator: ``True`` or ``False``, never a stand-in such as ``"yes"`` or ``1``."""
    if not isinstance(value, bool):
        raise ValidationError(
            attribute.name, value, f"expected true or false, got {type(value).__name__}"
        )


def positive_version(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    """Validator for ``version`` fields: a whole number from 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(attribute.name, value, "a version is a whole number from 1")
