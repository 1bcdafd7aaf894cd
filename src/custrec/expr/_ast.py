"""The expression AST shared by store queries, classification rules and check conditions.

Expressions are data: frozen trees of nodes built in Python (``F("name") == "张三"``) or, in a
later layer, parsed from text. Stores translate them to their own query language and the
Python evaluator (:mod:`custrec.expr._evaluate`) runs them over records; both follow SQL's
three-valued logic, so a condition over a missing value is *unknown*, not false, and every
backend gives the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, TypeAlias

import attrs

from custrec.errors import ValidationError
from custrec.model import Money, Other

__all__ = [
    "And",
    "Arith",
    "Between",
    "Call",
    "Compare",
    "Const",
    "Contains",
    "Expr",
    "F",
    "Field",
    "HasTag",
    "In",
    "IsNull",
    "Not",
    "Or",
    "Scalar",
    "const",
    "has_tag",
]

Scalar: TypeAlias = str | int | Decimal | float | bool | date | datetime | Money | None
"""What a constant in an expression may be."""

_CONST_TYPES = (str, int, Decimal, float, date, Money)

CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]
ArithOp = Literal["+", "-", "*", "/"]


class Expr:
    """Base of every node. ``&``, ``|`` and ``~`` combine conditions."""

    __slots__ = ()

    # Chains (``a & b & c``, ``Query.filter`` in a loop) build one flat node rather than a
    # tree as deep as the chain is long, which binding would refuse past MAX_DEPTH.
    def __and__(self, other: Expr) -> Expr:
        return And((*_operands(And, self), *_operands(And, other)))

    def __or__(self, other: Expr) -> Expr:
        return Or((*_operands(Or, self), *_operands(Or, other)))

    def __invert__(self) -> Expr:
        return Not(self)


def _operands(kind: type[And | Or], node: Expr) -> tuple[Expr, ...]:
    """The items of ``node`` if it is a ``kind`` node, else ``node`` alone."""
    return node.items if isinstance(node, kind) else (node,)


def _check_const(instance: Const, attribute: attrs.Attribute[Scalar], value: object) -> None:
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise ValidationError("value", value, "only finite numbers are usable constants")
    if value is not None and not isinstance(value, _CONST_TYPES):
        raise ValidationError(
            "value", value, f"{type(value).__name__} cannot be used in an expression"
        )
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValidationError("value", value, "datetimes in expressions must be aware")


@attrs.frozen
class Const(Expr):
    """A constant value.

    Attributes:
        value: Text, a number, a bool, a date, an aware datetime, Money, or ``None``.
    """

    value: Scalar = attrs.field(validator=_check_const)


@attrs.frozen
class Field(Expr):
    """A field of the record (or a fact, for rules), by dotted path.

    Attributes:
        path: ``"name"``, ``"created_at"``, ``"custom.level"``, ``"external_ids.crm"``…
    """

    path: str


@attrs.frozen
class Compare(Expr):
    """``left op right`` for ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``.

    Attributes:
        op: The operator.
        left: Left operand.
        right: Right operand.
    """

    op: CompareOp
    left: Expr
    right: Expr


def _nodes(value: Iterable[Expr]) -> tuple[Expr, ...]:
    return tuple(value)


def _consts(value: Iterable[Const]) -> tuple[Const, ...]:
    return tuple(value)


@attrs.frozen
class And(Expr):
    """All of the conditions hold (true for none).

    Attributes:
        items: The conditions.
    """

    items: tuple[Expr, ...] = attrs.field(converter=_nodes)


@attrs.frozen
class Or(Expr):
    """At least one of the conditions holds (false for none).

    Attributes:
        items: The conditions.
    """

    items: tuple[Expr, ...] = attrs.field(converter=_nodes)


@attrs.frozen
class Not(Expr):
    """The condition does not hold (unknown stays unknown).

    Attributes:
        item: The condition.
    """

    item: Expr


@attrs.frozen
class In(Expr):
    """The value equals one of the constants.

    Attributes:
        item: The value tested.
        options: The constants.
    """

    item: Expr
    options: tuple[Const, ...] = attrs.field(converter=_consts)


@attrs.frozen
class Between(Expr):
    """``low <= item <= high``.

    Attributes:
        item: The value tested.
        low: Lower bound, inclusive.
        high: Upper bound, inclusive.
    """

    item: Expr
    low: Expr
    high: Expr


@attrs.frozen
class Contains(Expr):
    """The text contains ``needle``, ignoring case.

    Attributes:
        item: The text searched.
        needle: The text looked for.
    """

    item: Expr
    needle: Expr


@attrs.frozen
class HasTag(Expr):
    """The customer carries ``tag``.

    Attributes:
        tag: The tag.
    """

    tag: str


@attrs.frozen
class IsNull(Expr):
    """The value is missing.

    Attributes:
        item: The value tested.
    """

    item: Expr


@attrs.frozen
class Arith(Expr):
    """``left op right`` for ``+``, ``-``, ``*``, ``/``.

    Attributes:
        op: The operator.
        left: Left operand.
        right: Right operand.
    """

    op: ArithOp
    left: Expr
    right: Expr


@attrs.frozen
class Call(Expr):
    """A call of a named function from the expression language's fixed list.

    Attributes:
        name: The function's name (``days_since``…).
        args: Its arguments.
    """

    name: str
    args: tuple[Expr, ...] = attrs.field(converter=_nodes)


def const(value: Scalar | Expr) -> Expr:
    """Wrap a Python value as a :class:`Const` (nodes pass through)."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, Other):
        return Const(value.text)
    return Const(value)


def has_tag(tag: str) -> Expr:
    """Build the condition "the customer carries ``tag``"."""
    return HasTag(tag)


class F:
    """Build conditions on a field with Python operators.

    >>> F("name") == "张三"
    Compare(op='==', left=Field(path='name'), right=Const(value='张三'))

    Args:
        path: The field's dotted path.
    """

    __slots__ = ("field",)

    def __init__(self, path: str) -> None:
        self.field = Field(path)

    def _cmp(self, op: CompareOp, other: Scalar | Expr | F) -> Expr:
        right = other.field if isinstance(other, F) else const(other)
        return Compare(op, self.field, right)

    def __eq__(self, other: object) -> Expr:  # type: ignore[override]  # builds a node
        return self._cmp("==", other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> Expr:  # type: ignore[override]  # builds a node
        return self._cmp("!=", other)  # type: ignore[arg-type]

    def __lt__(self, other: Scalar | Expr | F) -> Expr:
        return self._cmp("<", other)

    def __le__(self, other: Scalar | Expr | F) -> Expr:
        return self._cmp("<=", other)

    def __gt__(self, other: Scalar | Expr | F) -> Expr:
        return self._cmp(">", other)

    def __ge__(self, other: Scalar | Expr | F) -> Expr:
        return self._cmp(">=", other)

    __hash__ = None  # type: ignore[assignment]  # F overloads == and is not a value

    def is_in(self, options: Iterable[Scalar]) -> Expr:
        """The field equals one of ``options``."""
        return In(self.field, tuple(Const(option) for option in options))

    def between(self, low: Scalar, high: Scalar) -> Expr:
        """``low <= field <= high``."""
        return Between(self.field, const(low), const(high))

    def contains(self, text: str) -> Expr:
        """The field's text contains ``text``, ignoring case."""
        return Contains(self.field, Const(text))

    def is_null(self) -> Expr:
        """The field is missing."""
        return IsNull(self.field)

    def not_null(self) -> Expr:
        """The field is present."""
        return Not(IsNull(self.field))
