"""Custom field definitions: what a business records beyond the built-in fields."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

from custrec.errors import ValidationError
from custrec.model import CUSTOM_KEY_PATTERN, CustomValue, FrozenMap, parse_date

__all__ = ["CustomField", "FieldType"]

_TRUE = frozenset({"true", "yes", "y", "1", "是", "对", "有", "√"})
_FALSE = frozenset({"false", "no", "n", "0", "否", "不", "无", "×"})


class FieldType(enum.StrEnum):
    """The type of a custom field's values."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"


def _check_key(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not CUSTOM_KEY_PATTERN.fullmatch(value):
        raise ValidationError(
            "key", value, "a custom field key is a letter or _ then up to 63 word characters"
        )


def _to_labels(value: Mapping[str, str] | None) -> FrozenMap[str, str]:
    return FrozenMap(value or {})


def _to_choices(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def _to_bound(value: int | Decimal | float | str | date | None) -> Decimal | date | None:
    # Lenient: what cannot be read is left for _check_bound, which knows the field's name.
    if value is None or isinstance(value, date | bool):
        return value  # type: ignore[return-value]  # a bool or datetime is refused by _check_bound
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        # JSON has no dates: a date bound arrives as ISO text.
        if isinstance(value, str) and _iso_date(value.strip()):
            return date.fromisoformat(value.strip())
        return value  # type: ignore[return-value]  # refused by _check_bound
    return number if number.is_finite() else value  # type: ignore[return-value]


def _check_bound(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, Decimal | date) or isinstance(value, datetime)):
        raise ValidationError(attribute.name, value, "a bound is a number or a date")


def _to_type(value: FieldType | str) -> FieldType:
    try:
        return FieldType(value)
    except ValueError:
        return value  # type: ignore[return-value]  # refused by _check_type


def _check_type(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, FieldType):
        choices = ", ".join(kind.value for kind in FieldType)
        raise ValidationError(attribute.name, value, f"not a field type; use one of {choices}")


@attrs.frozen
class CustomField:
    """A field a business adds to its customer files.

    Attributes:
        key: The key under ``Customer.custom`` (``"member_level"``, ``"会员等级"``).
        type: What its values are.
        required: Whether every customer must have a value.
        choices: The allowed values of a choice or multi-choice field.
        pattern: A regular expression a text value must match in full.
        min: Least value (numbers), earliest date (dates), or shortest length (text).
        max: Greatest value, latest date, or longest length.
        labels: Its name in several languages (``{"en": "Member level", "zh": "会员等级"}``).
        description: What it is for.
    """

    key: str = attrs.field(validator=_check_key)
    type: FieldType = attrs.field(converter=_to_type, validator=_check_type)
    required: bool = False
    choices: tuple[str, ...] = attrs.field(default=(), converter=_to_choices)
    pattern: str | None = None
    min: Decimal | date | None = attrs.field(
        default=None, converter=_to_bound, validator=_check_bound
    )
    max: Decimal | date | None = attrs.field(
        default=None, converter=_to_bound, validator=_check_bound
    )
    labels: FrozenMap[str, str] = attrs.field(default=None, converter=_to_labels)
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        is_choice = self.type in (FieldType.CHOICE, FieldType.MULTI_CHOICE)
        if is_choice and not self.choices:
            raise ValidationError("choices", self.choices, f"a {self.type} field needs choices")
        if self.choices and not is_choice:
            raise ValidationError("choices", self.choices, f"a {self.type} field has no choices")
        if self.pattern is not None:
            if self.type is not FieldType.TEXT:
                raise ValidationError("pattern", self.pattern, "only text fields take a pattern")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                reason = f"not a regular expression: {exc}"
                raise ValidationError("pattern", self.pattern, reason) from None
        for name in ("min", "max"):
            bound = getattr(self, name)
            wants_date = self.type is FieldType.DATE
            if bound is not None and isinstance(bound, date) != wants_date:
                kind = "a date" if wants_date else "a number"
                raise ValidationError(name, bound, f"the {name} of a {self.type} field is {kind}")

    def label(self, language: str = "en") -> str:
        """Return the field's name in ``language``, falling back to English, then the key."""
        return self.labels.get(language) or self.labels.get("en") or self.key

    def check(self, value: CustomValue) -> str | None:
        """Return why ``value`` is not acceptable for this field, or ``None`` if it is.

        ``None`` (no value) is acceptable here; whether it is required is the template's
        concern.
        """
        if value is None:
            return None
        reason = _TYPE_CHECKS[self.type](value)
        if reason is not None:
            return reason
        if self.type is FieldType.CHOICE and value not in self.choices:
            return f"not one of the choices: {', '.join(self.choices)}"
        if self.type is FieldType.MULTI_CHOICE:
            extra = [item for item in value if item not in self.choices]  # type: ignore[union-attr]
            if extra:
                return f"{', '.join(extra)} not among the choices: {', '.join(self.choices)}"
        if self.pattern is not None and not re.fullmatch(self.pattern, str(value)):
            return f"does not match the pattern {self.pattern}"
        return self._check_bounds(value)

    def _check_bounds(self, value: CustomValue) -> str | None:
        measure: Decimal | date
        if self.type is FieldType.TEXT:
            measure, what = Decimal(len(str(value))), "length"
        elif self.type is FieldType.DATE:
            measure, what = date.fromisoformat(str(value)), "date"
        elif self.type in (FieldType.INTEGER, FieldType.DECIMAL):
            measure, what = Decimal(str(value)), "value"
        else:
            return None
        if self.min is not None and measure < self.min:  # type: ignore[operator]
            return f"{what} is below the minimum {self.min}"
        if self.max is not None and measure > self.max:  # type: ignore[operator]
            return f"{what} is above the maximum {self.max}"
        return None

    def coerce(self, raw: object) -> CustomValue:
        """Turn input as it arrives (text from a spreadsheet, JSON values) into a value.

        Integers stay ints, decimals become exact text (``"12.50"``), dates ISO text, booleans
        read ``是/否``, ``yes/no``, ``true/false``; multi-choice text splits on ``,``, ``、``,
        ``;`` and ``/``. Blank input is ``None``.

        Raises:
            ValidationError: The input cannot be read as this field's type, or (after
                reading) is not acceptable; the field is ``custom.<key>``.
        """
        field = f"custom.{self.key}"
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        try:
            value = _COERCE[self.type](raw)
        except (ValueError, ArithmeticError) as exc:
            reason = exc.reason if isinstance(exc, ValidationError) else f"not a {self.type}"
            raise ValidationError(field, raw, reason) from None
        problem = self.check(value)
        if problem is not None:
            raise ValidationError(field, raw, problem)
        return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPE_CHECKS: dict[FieldType, Callable[[object], str | None]] = {
    FieldType.TEXT: lambda v: None if isinstance(v, str) else "expected text",
    FieldType.INTEGER: lambda v: None if _is_int(v) else "expected a whole number",
    FieldType.DECIMAL: lambda v: None if _decimal_text(v) else "expected a decimal written as text",
    FieldType.DATE: lambda v: None if _iso_date(v) else "expected an ISO date (YYYY-MM-DD)",
    FieldType.BOOLEAN: lambda v: None if isinstance(v, bool) else "expected true or false",
    FieldType.CHOICE: lambda v: None if isinstance(v, str) else "expected text",
    FieldType.MULTI_CHOICE: lambda v: None if isinstance(v, tuple) else "expected a list of texts",
}


def _decimal_text(value: object) -> bool:
    if _is_int(value):
        return True
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _iso_date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _coerce_text(raw: object) -> str:
    return raw.strip() if isinstance(raw, str) else str(raw)


def _coerce_int(raw: object) -> int:
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, int):
        return raw
    number = Decimal(str(raw).strip().replace(",", ""))
    if number != number.to_integral_value():
        raise ValueError(raw)
    return int(number)


def _coerce_decimal(raw: object) -> str:
    if isinstance(raw, bool | float):
        raise ValueError(raw)
    number = Decimal(str(raw).strip().replace(",", ""))
    if not number.is_finite():
        raise ValueError(raw)
    return str(number)


def _coerce_date(raw: object) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    return parse_date(raw if isinstance(raw, int) else str(raw)).isoformat()


def _coerce_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(raw)


_SPLIT = re.compile(r"\s*[,，、;；/]\s*")


def _coerce_multi(raw: object) -> tuple[str, ...]:
    items = raw if isinstance(raw, list | tuple) else _SPLIT.split(str(raw).strip())
    return tuple(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


_COERCE: dict[FieldType, Callable[[object], CustomValue]] = {
    FieldType.TEXT: _coerce_text,
    FieldType.INTEGER: _coerce_int,
    FieldType.DECIMAL: _coerce_decimal,
    FieldType.DATE: _coerce_date,
    FieldType.BOOLEAN: _coerce_bool,
    FieldType.CHOICE: _coerce_text,
    FieldType.MULTI_CHOICE: _coerce_multi,
}
