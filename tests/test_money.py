"""Tests for custrec.model.Money: exact amounts in one currency, never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import CurrencyMismatchError, ValidationError
from custrec.model import Money, currency_exponent
from custrec.testing import strategies

MAX_MINOR = 2**63 - 1


class TestConstruction:
    """Amounts are kept exactly, at the currency's precision."""

    @pytest.mark.parametrize(
        ("amount", "currency", "expected"),
        [
            ("10.5", "CNY", "10.50"),
            ("10", "CNY", "10.00"),
            (10, "USD", "10.00"),
            (Decimal("0.1"), "EUR", "0.10"),
            ("100", "JPY", "100"),
            ("1E+2", "JPY", "100"),
            ("1.5", "BHD", "1.500"),
            ("0.0001", "CLF", "0.0001"),
            ("1,234.50", "CNY", "1234.50"),
            ("１２３.４５", "CNY", "123.45"),
            (" 7 ", "CNY", "7.00"),
            ("-0.01", "CNY", "-0.01"),
        ],
    )
    def test_amount_is_quantised_to_the_currency(
        self, amount: object, currency: str, expected: str
    ) -> None:
        """The amount holds exactly the currency's number of decimal places."""
        money = Money(amount, currency)  # type: ignore[arg-type]
        assert str(money.amount) == expected
        assert money.amount.as_tuple().exponent == -currency_exponent(currency)  # type: ignore[operator]

    def test_currency_code_is_upper_cased(self) -> None:
        """Currency codes are read case-insensitively and kept upper-case."""
        assert Money("1", " cny ").currency == "CNY"

    def test_equal_amounts_written_differently_are_equal(self) -> None:
        """10.5 and 10.50 CNY are the same money, with the same hash."""
        assert Money("10.5", "CNY") == Money(Decimal("10.50"), "CNY")
        assert hash(Money("10.5", "CNY")) == hash(Money(Decimal("10.50"), "CNY"))

    @pytest.mark.parametrize("amount", [1.5, 0.1, 10.0, float("nan"), float("inf")])
    def test_floats_are_refused(self, amount: float) -> None:
        """A float is never taken as an amount, whatever its value."""
        with pytest.raises(ValidationError) as caught:
            Money(amount, "CNY")  # type: ignore[arg-type]
        assert caught.value.field == "amount"
        assert caught.value.value is amount
        assert "float" in caught.value.reason

    @pytest.mark.parametrize("amount", ["NaN", "Infinity", "-inf", Decimal("NaN"), Decimal("sNaN")])
    def test_non_finite_amounts_are_refused(self, amount: object) -> None:
        """NaN and infinities are not amounts of money."""
        with pytest.raises(ValidationError) as caught:
            Money(amount, "CNY")  # type: ignore[arg-type]
        assert caught.value.field == "amount"
        assert "finite" in caught.value.reason

    @pytest.mark.parametrize("amount", ["abc", "", "1.2.3", "¥10", None, [1], True])
    def test_non_numbers_are_refused(self, amount: object) -> None:
        """Text that is not a number, and values of other types, are refused."""
        with pytest.raises(ValidationError) as caught:
            Money(amount, "CNY")  # type: ignore[arg-type]
        assert caught.value.field == "amount"
        assert caught.value.reason

    @pytest.mark.parametrize(
        ("amount", "currency"),
        [("0.001", "CNY"), ("10.005", "USD"), ("1.5", "JPY"), ("0.0001", "BHD"), ("1e-30", "CNY")],
    )
    def test_too_many_decimal_places_are_refused_not_rounded(
        self, amount: str, currency: str
    ) -> None:
        """More decimals than the currency has is an error, never a silent rounding."""
        with pytest.raises(ValidationError) as caught:
            Money(amount, currency)
        assert caught.value.field == "amount"
        assert caught.value.value == Decimal(amount)
        assert "decimal place" in caught.value.reason

    @pytest.mark.parametrize("currency", ["ZZZ", "XAU", "XXX", "RMB", "", "元", "CNYY"])
    def test_unknown_currencies_are_refused(self, currency: str) -> None:
        """Codes that are not ISO 4217 currencies with minor units are refused."""
        with pytest.raises(ValidationError) as caught:
            Money("1", currency)
        assert caught.value.field == "currency"
        assert caught.value.value == currency
        assert "ISO 4217" in caught.value.reason

    def test_currency_given_as_a_number_is_refused(self) -> None:
        """The numeric ISO code (156 for CNY) is not accepted in place of the letters."""
        with pytest.raises(ValidationError) as caught:
            Money("1", 156)  # type: ignore[arg-type]
        assert caught.value.field == "currency"

    @pytest.mark.parametrize(
        ("amount", "currency"),
        [
            (MAX_MINOR + 1, "JPY"),
            (-MAX_MINOR - 1, "JPY"),
            ("92233720368547758.08", "CNY"),
            ("9223372036854775.808", "BHD"),
            ("1e30", "CNY"),
            ("-1e26", "USD"),
            ("1e999", "JPY"),
        ],
    )
    def test_amounts_beyond_int64_minor_units_are_refused(
        self, amount: object, currency: str
    ) -> None:
        """An amount a SQL store could not hold exactly as 64-bit minor units is refused."""
        with pytest.raises(ValidationError) as caught:
            Money(amount, currency)  # type: ignore[arg-type]
        assert caught.value.field == "amount"
        assert "too large" in caught.value.reason

    @pytest.mark.parametrize("currency", ["JPY", "CNY", "BHD", "CLF"])
    def test_amounts_at_the_int64_limit_are_kept(self, currency: str) -> None:
        """The largest and smallest storable amounts are accepted, exactly."""
        assert Money.from_minor(MAX_MINOR, currency).minor == MAX_MINOR
        assert Money.from_minor(-MAX_MINOR, currency).minor == -MAX_MINOR

    def test_smallest_unit_of_each_currency(self) -> None:
        """One minor unit is 1 JPY, 0.01 CNY, 0.001 BHD."""
        assert Money.from_minor(1, "JPY").amount == Decimal(1)
        assert Money.from_minor(1, "CNY").amount == Decimal("0.01")
        assert Money.from_minor(1, "BHD").amount == Decimal("0.001")

    @given(st.floats())
    def test_no_float_is_ever_accepted(self, amount: float) -> None:
        """Property: every float, including integral ones, is refused as an amount."""
        with pytest.raises(ValidationError) as caught:
            Money(amount, "CNY")  # type: ignore[arg-type]
        assert caught.value.field == "amount"

    @given(st.text(max_size=6))
    def test_only_iso_currencies_are_accepted(self, code: str) -> None:
        """Property: a code is accepted exactly when ISO 4217 gives it minor units."""
        if currency_exponent(code.strip().upper()) is None:
            with pytest.raises(ValidationError) as caught:
                Money("0", code)
            assert (caught.value.field, caught.value.value) == ("currency", code)
        else:
            assert Money("0", code).currency == code.strip().upper()


class TestArithmetic:
    """Sums, differences and products stay exact and in one currency."""

    def test_addition_and_subtraction(self) -> None:
        """Amounts in one currency add and subtract exactly."""
        assert Money("0.10", "CNY") + Money("0.20", "CNY") == Money("0.30", "CNY")
        assert Money("1.00", "CNY") - Money("2.50", "CNY") == Money("-1.50", "CNY")
        assert -Money("3", "JPY") == Money("-3", "JPY")
        assert abs(Money("-3.001", "BHD")) == Money("3.001", "BHD")

    def test_sum_with_a_zero_start(self) -> None:
        """``sum()`` works when started from zero in the same currency."""
        amounts = [Money("1.10", "CNY"), Money("2.20", "CNY"), Money("3.30", "CNY")]
        assert sum(amounts, Money.zero("CNY")) == Money("6.60", "CNY")

    @pytest.mark.parametrize(
        "combine",
        [
            lambda a, b: a + b,
            lambda a, b: a - b,
            lambda a, b: a < b,
            lambda a, b: a <= b,
            lambda a, b: a > b,
            lambda a, b: a >= b,
        ],
        ids=["add", "sub", "lt", "le", "gt", "ge"],
    )
    def test_mixed_currencies_are_refused(self, combine: object) -> None:
        """Combining or ordering two currencies raises, never converts."""
        with pytest.raises(CurrencyMismatchError) as caught:
            combine(Money("1", "CNY"), Money("1", "USD"))  # type: ignore[operator]
        assert isinstance(caught.value, ValidationError)
        assert caught.value.currencies == ("CNY", "USD")
        assert caught.value.field == "currency"
        assert caught.value.value == "USD"

    def test_equality_across_currencies_is_false_not_an_error(self) -> None:
        """1 CNY is simply not equal to 1 USD; ``==`` does not raise."""
        assert Money("1", "CNY") != Money("1", "USD")

    def test_ordering_within_a_currency(self) -> None:
        """Amounts in one currency sort by value."""
        amounts = [Money("3", "CNY"), Money("-1", "CNY"), Money("0.5", "CNY")]
        assert sorted(amounts) == [Money("-1", "CNY"), Money("0.5", "CNY"), Money("3", "CNY")]

    @pytest.mark.parametrize(
        ("amount", "currency", "factor", "expected"),
        [
            ("1.00", "CNY", Decimal("0.125"), "0.13"),
            ("0.01", "CNY", Decimal("0.5"), "0.01"),
            ("-0.01", "CNY", Decimal("0.5"), "-0.01"),
            ("0.03", "CNY", Decimal("0.5"), "0.02"),
            ("0.05", "CNY", Decimal("0.1"), "0.01"),
            ("0.04", "CNY", Decimal("0.1"), "0.00"),
            ("1", "JPY", Decimal("0.5"), "1"),
            ("1", "JPY", Decimal("2.5"), "3"),
            ("0.001", "BHD", Decimal("0.5"), "0.001"),
            ("19.99", "CNY", 3, "59.97"),
            ("19.99", "CNY", Decimal("1.5"), "29.99"),
        ],
    )
    def test_multiplication_rounds_half_up(
        self, amount: str, currency: str, factor: Decimal | int, expected: str
    ) -> None:
        """Products are rounded half up (四舍五入, halves away from zero) to the currency."""
        assert Money(amount, currency) * factor == Money(expected, currency)
        assert factor * Money(amount, currency) == Money(expected, currency)

    def test_multiplication_by_a_float_is_refused(self) -> None:
        """A float factor is a type error, as for any exact number type."""
        with pytest.raises(TypeError):
            Money("1", "CNY") * 1.5  # type: ignore[operator]

    def test_multiplication_beyond_the_limit_is_refused(self) -> None:
        """A product too large to store raises ValidationError, not a decimal error."""
        with pytest.raises(ValidationError) as caught:
            Money("9.99", "CNY") * Decimal("1e30")
        assert "too large" in caught.value.reason

    def test_sum_beyond_the_limit_is_refused(self) -> None:
        """Adding past the 64-bit limit of minor units raises ValidationError."""
        with pytest.raises(ValidationError) as caught:
            Money.from_minor(MAX_MINOR, "JPY") + Money("1", "JPY")
        assert "too large" in caught.value.reason

    @given(
        strategies.money("CNY", min_minor=-(10**15), max_minor=10**15),
        strategies.money("CNY", min_minor=-(10**15), max_minor=10**15),
    )
    def test_addition_is_exact(self, a: Money, b: Money) -> None:
        """Property: a + b - b == a, and a + b == b + a, with no rounding anywhere."""
        assert a + b - b == a
        assert a + b == b + a
        assert (a + b).minor == a.minor + b.minor


class TestMinorUnits:
    """The integer minor-unit form SQL stores use."""

    @pytest.mark.parametrize(
        ("amount", "currency", "minor"),
        [("12.34", "CNY", 1234), ("-0.01", "USD", -1), ("500", "JPY", 500), ("1.234", "BHD", 1234)],
    )
    def test_minor_units(self, amount: str, currency: str, minor: int) -> None:
        """``minor`` counts the currency's smallest units."""
        assert Money(amount, currency).minor == minor
        assert Money.from_minor(minor, currency) == Money(amount, currency)

    @given(st.integers(-MAX_MINOR, MAX_MINOR), strategies.currencies())
    def test_from_minor_then_minor_round_trips(self, minor: int, currency: str) -> None:
        """Property: from_minor(m).minor == m for every storable m and currency."""
        assert Money.from_minor(minor, currency).minor == minor

    @given(strategies.money())
    def test_minor_then_from_minor_round_trips(self, money: Money) -> None:
        """Property: rebuilding Money from its minor units gives the same Money."""
        assert Money.from_minor(money.minor, money.currency) == money

    @pytest.mark.parametrize("minor", [1.5, "100", True, None, Decimal("100")])
    def test_from_minor_takes_whole_numbers_only(self, minor: object) -> None:
        """Minor units are an int; anything else is refused."""
        with pytest.raises(ValidationError) as caught:
            Money.from_minor(minor, "CNY")  # type: ignore[arg-type]
        assert caught.value.field == "minor"

    def test_from_minor_refuses_unknown_currencies(self) -> None:
        """An unknown currency is refused by from_minor too."""
        with pytest.raises(ValidationError) as caught:
            Money.from_minor(1, "ZZZ")
        assert caught.value.field == "currency"


class TestZero:
    """Zero in a currency."""

    @pytest.mark.parametrize(
        ("currency", "text"), [("CNY", "0.00"), ("JPY", "0"), ("BHD", "0.000")]
    )
    def test_zero_has_the_currency_precision(self, currency: str, text: str) -> None:
        """Zero is written with the currency's decimal places."""
        assert str(Money.zero(currency)) == f"{text} {currency}"
        assert Money.zero(currency).minor == 0

    @given(strategies.money())
    def test_zero_is_neutral(self, money: Money) -> None:
        """Property: adding zero in the same currency changes nothing."""
        assert money + Money.zero(money.currency) == money

    def test_zero_is_refused_in_another_currency(self) -> None:
        """Even zero does not mix currencies."""
        with pytest.raises(CurrencyMismatchError):
            Money("1", "CNY") + Money.zero("USD")
