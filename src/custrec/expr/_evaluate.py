"""The Python evaluator: expressions compiled to closures over records.

Logic is SQL's three-valued logic. A comparison with a missing value, or between values of
different kinds (text and a number, Money in two currencies), is *unknown* (``None``);
``not unknown`` is unknown; a filter keeps a record only when its condition is ``True``.
SQL backends produce the same answers by construction, which the conformance suite checks.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

import attrs

from custrec import config
from custrec.errors import ValidationError
from custrec.expr._ast import (
    And,
    Arith,
    Between,
    Call,
    Compare,
    Const,
    Contains,
    Expr,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
)
from custrec.expr._bind import BoundField, bind
from custrec.expr._catalog import Schema, read_field, schema_of
from custrec.model import Money

__all__ = ["compare", "compile_predicate", "compile_value", "sort_key"]

Getter = Callable[[Any], Any]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _family(value: object) -> str | None:
    if isinstance(value, bool | int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, Money):
        return "money:" + value.currency
    return None


def compare(op: str, left: object, right: object) -> bool | None:
    """Compare two values with three-valued logic; unknown (``None``) when incomparable."""
    if left is None or right is None:
        return None
    family = _family(left)
    if family is None or family != _family(right):
        return None
    if isinstance(left, Money) and isinstance(right, Money):
        left, right = left.amount, right.amount
    return _OPS[op](left, right)


def _and(values: list[Any]) -> bool | None:
    if any(value is False for value in values):
        return False
    return True if all(value is True for value in values) else None


def _or(values: list[Any]) -> bool | None:
    if any(value is True for value in values):
        return True
    return False if all(value is False for value in values) else None


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    if isinstance(left, Money) or isinstance(right, Money):
        return _money_arith(op, left, right)
    if _family(left) != "number" or _family(right) != "number":
        return None
    a, b = Decimal(left), Decimal(right)
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b
    except (DivisionByZero, InvalidOperation):
        return None


def _money_arith(op: str, left: Any, right: Any) -> Any:
    try:
        if op in "+-" and isinstance(left, Money) and isinstance(right, Money):
            return left + right if op == "+" else left - right
        if op == "*" and isinstance(left, Money) and isinstance(right, int | Decimal):
            # A bool counts as 0 or 1 here, as everywhere in arithmetic (and in SQL).
            return left * (int(right) if isinstance(right, bool) else right)
    except ValidationError:
        return None
    return None


def _days_since(as_of: date | None) -> Callable[[Any], Any]:
    def days_since(value: Any) -> int | None:
        if as_of is None:
            raise ValidationError("", "days_since", "days_since() needs an as-of date")
        if isinstance(value, datetime):
            return (as_of - value.astimezone(config.get().zone).date()).days
        if isinstance(value, date):
            return (as_of - value).days
        return None

    return days_since


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else None


def _abs(value: Any) -> Any:
    if isinstance(value, Money) or _family(value) == "number":
        return abs(value)
    return None


def _first_present(*values: Any) -> Any:
    return next((value for value in values if value is not None), None)


@attrs.frozen
class _Context:
    schema: Schema
    functions: Mapping[str, Callable[..., Any]]


def _context(schema: Schema, as_of: date | None) -> _Context:
    functions = {
        "days_since": _days_since(as_of),
        "lower": _lower,
        "abs": _abs,
        "coalesce": _first_present,
    }
    return _Context(schema, functions)


def _compile(node: Expr, ctx: _Context) -> Getter:  # noqa: PLR0911, PLR0912 - one branch per node type
    if isinstance(node, Const):
        value = node.value
        return lambda _record: value
    if isinstance(node, BoundField):
        spec = node.spec
        return lambda record: read_field(record, spec)
    if isinstance(node, Compare):
        left, right, op = _compile(node.left, ctx), _compile(node.right, ctx), node.op
        return lambda record: compare(op, left(record), right(record))
    if isinstance(node, And):
        parts = [_compile(item, ctx) for item in node.items]
        return lambda record: _and([part(record) for part in parts])
    if isinstance(node, Or):
        parts = [_compile(item, ctx) for item in node.items]
        return lambda record: _or([part(record) for part in parts])
    if isinstance(node, Not):
        inner = _compile(node.item, ctx)

        def negate(record: Any) -> bool | None:
            value = inner(record)
            return None if value is None else not value

        return negate
    if isinstance(node, IsNull):
        inner = _compile(node.item, ctx)
        return lambda record: inner(record) is None
    if isinstance(node, In):
        item = _compile(node.item, ctx)
        options = [option.value for option in node.options]

        def member(record: Any) -> bool | None:
            return _or([compare("==", item(record), option) for option in options])

        return member
    if isinstance(node, Between):
        item, low, high = (
            _compile(node.item, ctx),
            _compile(node.low, ctx),
            _compile(node.high, ctx),
        )

        def between(record: Any) -> bool | None:
            value = item(record)
            return _and([compare(">=", value, low(record)), compare("<=", value, high(record))])

        return between
    if isinstance(node, Contains):
        item, needle = _compile(node.item, ctx), _compile(node.needle, ctx)

        def contains(record: Any) -> bool | None:
            text, part = item(record), needle(record)
            if not isinstance(text, str) or not isinstance(part, str):
                return None
            return part.lower() in text.lower()

        return contains
    if isinstance(node, HasTag):
        tag, tags = node.tag, ctx.schema.field("tags")
        return lambda record: tag in read_field(record, tags)
    if isinstance(node, Call):
        function = ctx.functions[node.name]
        args = [_compile(arg, ctx) for arg in node.args]
        return lambda record: function(*(arg(record) for arg in args))
    if isinstance(node, Arith):
        first, second, arith_op = _compile(node.left, ctx), _compile(node.right, ctx), node.op
        return lambda record: _arith(arith_op, first(record), second(record))
    raise ValidationError("", node, f"cannot evaluate {type(node).__name__}")


def compile_value(
    expr: Expr, target: type[Any] | Schema, *, as_of: date | None = None
) -> Callable[[Any], Any]:
    """Compile ``expr`` into a function giving its value for a record (``None`` if unknown).

    Args:
        expr: The expression.
        target: A record type, or another schema (facts, for classification).
        as_of: The day ``days_since()`` counts to.

    Raises:
        ValidationError: The expression does not fit ``target``.
    """
    schema = schema_of(target)
    return _compile(bind(expr, schema), _context(schema, as_of))


def compile_predicate(
    expr: Expr | None, target: type[Any] | Schema, *, as_of: date | None = None
) -> Callable[[Any], bool]:
    """Compile a condition into a filter: ``True`` only where the condition is true.

    ``None`` (no condition) keeps every record.

    Raises:
        ValidationError: The expression does not fit ``target``.
    """
    if expr is None:
        return lambda _record: True
    value = compile_value(expr, target, as_of=as_of)
    return lambda record: value(record) is True


def sort_key(value: object) -> tuple[int, Any]:
    """Order values as the SQL backends do: missing first, then numbers, then text.

    Values of one kind (dates, datetimes) order naturally; Money orders by currency code,
    then amount.
    """
    if value is None:
        return (0, 0)
    if isinstance(value, bool | int | float | Decimal):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, Money):
        return (3, (value.currency, value.amount))
    return (4, value)
