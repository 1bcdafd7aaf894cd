"""Money: an exact Decimal amount in an ISO 4217 currency."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

import attrs
from iso4217 import Currency

from custrec.errors import CurrencyMismatchError, ValidationError
from custrec.model._fields import Invalid, checked, invalid, to_decimal

__all__ = ["Money", "currency_exponent"]

# SQL backends keep amounts as 64-bit integers of minor units; larger amounts cannot be stored.
_MAX_MINOR = 2**63 - 1


def _too_large(amount: Decimal, exponent: int) -> bool:
    # Compared before quantizing: quantizing a huge amount raises decimal.InvalidOperation.
    return abs(amount) > Decimal(_MAX_MINOR).scaleb(-exponent)


@cache
def currency_exponent(code: str) -> int | None:
    """Return the number of minor-unit digits of an ISO 4217 currency, or ``None``.

    ``None`` means the code is unknown or has no minor unit (gold, test codes), which
    :class:`Money` refuses.
    """
    try:
        exponent = Currency(code).exponent
    except ValueError:
        return None
    return exponent if isinstance(exponent, int) else None


def _to_currency(value: str) -> str | Invalid:
    if not isinstance(value, str):
        return invalid(value, "expected an ISO 4217 code such as 'CNY'")
    code = value.strip().upper()
    if currency_exponent(code) is None:
        return invalid(value, "not an ISO 4217 currency with minor units (e.g. 'CNY', 'USD')")
    return code


@attrs.frozen(field_transformer=checked, order=False)
class Money:
    """An amount of money: an exact :class:`~decimal.Decimal` and an ISO 4217 currency.

    The amount is kept at the currency's precision (``Money("10.5", "CNY")`` holds
    ``10.50``); more decimal places than the currency has are refused rather than rounded.
    Floats are refused. Arithmetic and comparison between different currencies raise
    :class:`~custrec.errors.CurrencyMismatchError`; nothing is ever converted silently.

    Attributes:
        amount: The amount, quantised to the currency's minor unit. May be negative.
        currency: The upper-case ISO 4217 code.
    """

    amount: Decimal = attrs.field(converter=to_decimal)
    currency: str = attrs.field(converter=_to_currency)

    def __attrs_post_init__(self) -> None:
        exponent = currency_exponent(self.currency)
        assert exponent is not None  # noqa: S101 - the currency converter guarantees it
        if _too_large(self.amount, exponent):
            raise ValidationError("amount", self.amount, "too large to store exactly")
        quantum = Decimal(1).scaleb(-exponent)
        exact = self.amount.quantize(quantum)
        if exact != self.amount:
            raise ValidationError(
                "amount",
                self.amount,
                f"{self.currency} has {exponent} decimal place(s); round the amount first",
            )
        object.__setattr__(self, "amount", exact)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return zero in ``currency``."""
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Build Money from an integer count of minor units (cents, fen…)."""
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise ValidationError("minor", minor, "expected a whole number of minor units")
        exponent = currency_exponent(currency.upper()) if isinstance(currency, str) else None
        if exponent is None:
            raise ValidationError("currency", currency, "not an ISO 4217 currency")
        return cls(Decimal(minor).scaleb(-exponent), currency)

    @property
    def minor(self) -> int:
        """The amount as an integer count of minor units, as SQL backends store it."""
        exponent = currency_exponent(self.currency)
        assert exponent is not None  # noqa: S101 - guaranteed at construction
        return int(self.amount.scaleb(exponent))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(self.currency, other.currency)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        """Multiply by a quantity, rounding half up (四舍五入) to the currency's precision."""
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            return NotImplemented
        exponent = currency_exponent(self.currency)
        assert exponent is not None  # noqa: S101 - guaranteed at construction
        product = self.amount * factor
        if _too_large(product, exponent):
            raise ValidationError("amount", product, "too large to store exactly")
        rounded = product.quantize(Decimal(1).scaleb(-exponent), rounding=ROUND_HALF_UP)
        return Money(rounded, self.currency)

    __rmul__ = __mul__

    def _cmp(self, other: Any) -> Decimal | None:
        if not isinstance(other, Money):
            return None
        self._same(other)
        return other.amount

    def __lt__(self, other: Money) -> bool:
        amount = self._cmp(other)
        return NotImplemented if amount is None else self.amount < amount

    def __le__(self, other: Money) -> bool:
        amount = self._cmp(other)
        return NotImplemented if amount is None else self.amount <= amount

    def __gt__(self, other: Money) -> bool:
        amount = self._cmp(other)
        return NotImplemented if amount is None else self.amount > amount

    def __ge__(self, other: Money) -> bool:
        amount = self._cmp(other)
        return NotImplemented if amount is None else self.amount >= amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
