"""Binding: check an expression against a record type and normalise its constants.

Every consumer (the Python evaluator, each SQL compiler) binds first, so they all see the same
checked tree: fields exist, constants have the right kind for the field they meet, and text
written for a choice field is read through its aliases (``"微信"`` becomes ``"wechat"``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

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
    Field,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
)
from custrec.expr._catalog import FieldKind, FieldSpec, Schema, schema_of
from custrec.expr._parser import FUNCTIONS
from custrec.model import Money, open_choice

__all__ = ["MAX_DEPTH", "BoundField", "bind"]

MAX_DEPTH = 64
"""Deepest nesting an expression may have; deeper trees are refused, not recursed into."""


@attrs.frozen
class BoundField(Expr):
    """A :class:`Field` checked against a record type.

    Attributes:
        spec: What the field is and where its value lives.
    """

    spec: FieldSpec

    @property
    def path(self) -> str:
        """The field's dotted path."""
        return self.spec.path


_NUMBER = (int, float, Decimal)


def _fits(kind: FieldKind, value: object) -> bool:
    """Whether a constant can meet a field of ``kind``."""
    if value is None or kind is FieldKind.JSON:
        return not isinstance(value, date | Money)
    if kind in (FieldKind.TEXT, FieldKind.CHOICE):
        return isinstance(value, str)
    if kind in (FieldKind.INT, FieldKind.NUMBER):
        return isinstance(value, _NUMBER) and not isinstance(value, bool)
    if kind is FieldKind.DATE:
        return isinstance(value, date) and not isinstance(value, datetime)
    if kind is FieldKind.DATETIME:
        return isinstance(value, datetime)
    if kind is FieldKind.MONEY:
        return isinstance(value, Money)
    return False


_EXAMPLES = {
    FieldKind.TEXT: "text",
    FieldKind.CHOICE: "text",
    FieldKind.INT: "a number",
    FieldKind.NUMBER: "a number",
    FieldKind.DATE: "a date",
    FieldKind.DATETIME: "an aware datetime",
    FieldKind.MONEY: "Money, e.g. Money('100', 'CNY')",
    FieldKind.TAGS: "nothing: use has_tag(...)",
    FieldKind.JSON: "text, a number or true/false",
}


def _const_for(spec: FieldSpec, const: Const) -> Const:
    value = const.value
    if isinstance(value, enum.Enum):
        value = value.value
    if spec.kind is FieldKind.TAGS or not _fits(spec.kind, value):
        raise ValidationError(
            spec.path, const.value, f"{spec.path} can only be compared with {_EXAMPLES[spec.kind]}"
        )
    if spec.choices is not None and isinstance(value, str):
        value = str(open_choice(spec.choices, value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return Const(value)


def bind(expr: Expr, target: type[Any] | Schema) -> Expr:
    """Check ``expr`` against a record type (or another schema) and bind it.

    Fields are looked up, constants take the kind of the field they meet, and calls are
    checked against the schema's functions.

    Raises:
        ValidationError: A field is unknown, a constant does not fit its field, a function
            is not available, or the tree nests deeper than :data:`MAX_DEPTH`.
    """
    return _Binder(schema_of(target)).bind(expr, 0)


class _Binder:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def field(self, node: Field | BoundField) -> BoundField:
        if isinstance(node, BoundField):
            return node
        return BoundField(self.schema.field(node.path))

    def operand(self, node: Expr, other: Expr, depth: int) -> Expr:
        """Bind a comparison operand; a constant takes the kind of the field it meets."""
        if isinstance(node, Const) and isinstance(other, Field | BoundField):
            return _const_for(self.field(other).spec, node)
        return self.bind(node, depth)

    def bind(self, node: Expr, depth: int) -> Expr:  # noqa: PLR0911, PLR0912 - one branch per node type
        if depth > MAX_DEPTH:
            raise ValidationError("", None, f"expression nests deeper than {MAX_DEPTH} levels")
        depth += 1
        if isinstance(node, Field | BoundField):
            return self.field(node)
        if isinstance(node, Const):
            value = node.value
            return Const(value.value) if isinstance(value, enum.Enum) else node
        if isinstance(node, Compare):
            left = self.operand(node.left, node.right, depth)
            right = self.operand(node.right, node.left, depth)
            for side in (left, right):
                if isinstance(side, BoundField) and side.spec.kind is FieldKind.TAGS:
                    raise ValidationError(side.path, None, "compare tags with has_tag(...)")
            return Compare(node.op, left, right)
        if isinstance(node, And | Or):
            return type(node)(self.bind(item, depth) for item in node.items)
        if isinstance(node, Not):
            return Not(self.bind(node.item, depth))
        if isinstance(node, IsNull):
            return IsNull(self.bind(node.item, depth))
        if isinstance(node, In):
            item = self.bind(node.item, depth)
            options = tuple(self.operand(option, item, depth) for option in node.options)
            return In(item, options)  # type: ignore[arg-type]  # constants stay constants
        if isinstance(node, Between):
            item = self.bind(node.item, depth)
            return Between(
                item, self.operand(node.low, item, depth), self.operand(node.high, item, depth)
            )
        if isinstance(node, Contains):
            item = self.bind(node.item, depth)
            needle = self.bind(node.needle, depth)
            if not (isinstance(needle, Const) and isinstance(needle.value, str)):
                raise ValidationError("", None, "contains(...) looks for a text constant")
            return Contains(item, needle)
        if isinstance(node, HasTag):
            try:
                tags = self.schema.field("tags")
            except ValidationError:
                tags = None
            if tags is None or tags.kind is not FieldKind.TAGS:
                raise ValidationError("tags", node.tag, f"{self.schema.name} has no tags")
            return node
        if isinstance(node, Arith):
            return Arith(node.op, self.bind(node.left, depth), self.bind(node.right, depth))
        if isinstance(node, Call):
            if node.name not in self.schema.functions:
                available = ", ".join(sorted(self.schema.functions)) or "none"
                raise ValidationError(
                    "", node.name, f"not a function here (available: {available})"
                )
            least, most = FUNCTIONS[node.name]
            if not least <= len(node.args) <= most:
                raise ValidationError(
                    "", node.name, f"takes {least} to {most} argument(s), got {len(node.args)}"
                )
            return Call(node.name, (self.bind(arg, depth) for arg in node.args))
        raise ValidationError("", node, f"{type(node).__name__} is not an expression node")
