"""The expression compiler: a bound expression over one table to SQL.

:class:`_Compiler` turns each node into an :class:`Operand` (its SQL value and what is known
about it) or a predicate that is ``1``, ``0`` or ``NULL`` exactly where Python gives
``True``, ``False`` or ``None``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs

from custrec.errors import ValidationError
from custrec.expr import (
    And,
    Arith,
    Between,
    BoundField,
    Compare,
    Const,
    Contains,
    Expr,
    FieldKind,
    FieldSpec,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
    compile_value,
)
from custrec.model import Money
from custrec.store._sqlcompile._dialect import Dialect, Family
from custrec.store._sqlcompile._fragments import (
    FALSE,
    INT64_MAX,
    INT64_MIN,
    NULL,
    TRUE,
    Sql,
    _not_null_then,
    _when,
    epoch_us,
    join,
    sql,
)
from custrec.store._sqlcompile._layout import Table

__all__ = ["Operand"]

_PLAIN = (Family.NUMBER, Family.TEXT, Family.DATE, Family.DATETIME)


@attrs.frozen
class Operand:
    """A value expression compiled to SQL, with what the compiler knows about it.

    Attributes:
        family: What it holds.
        value: The comparable SQL value: ``NULL`` exactly where Python has ``None``
            (for JSON fields, meaningful only once the JSON type is checked).
        is_null: True exactly where Python has ``None``.
        truthy: Python truthiness (``1``/``0``), ``NULL`` where Python has ``None``.
        is_true: ``1`` where Python has ``True`` (the bool), ``0`` for ``False``, else ``NULL``.
        currency: For money, the SQL of its currency code.
        fixed_currency: For money, the currency when known at compile time.
        path: For JSON fields, the document path.
        number: For number constants, the exact Python number.
        integral: For numbers, whether every value is an integer (INT columns, bools).
    """

    family: Family
    value: Sql = NULL
    is_null: Sql = TRUE
    truthy: Sql = NULL
    is_true: Sql = NULL
    currency: Sql | None = None
    fixed_currency: str | None = None
    path: str | None = None
    number: int | float | Decimal | None = None
    integral: bool = False


_NULL_OPERAND = Operand(Family.NULL)


_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SQL_OP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


_PREDICATES = (Compare, And, Or, Not, In, Between, Contains, HasTag, IsNull)
_TAGS_PATH = ("tags", None)


def _constant(node: Expr) -> bool:
    """Whether ``node`` reads nothing from the record (so Python can evaluate it once)."""
    if isinstance(node, Const):
        return True
    if isinstance(node, And | Or):
        return all(_constant(item) for item in node.items)
    if isinstance(node, Not | IsNull):
        return _constant(node.item)
    if isinstance(node, Compare | Arith):
        return _constant(node.left) and _constant(node.right)
    if isinstance(node, In):
        return _constant(node.item) and all(_constant(option) for option in node.options)
    if isinstance(node, Between):
        return _constant(node.item) and _constant(node.low) and _constant(node.high)
    if isinstance(node, Contains):
        return _constant(node.item) and _constant(node.needle)
    return False


class _Compiler:
    """Compiles bound expressions over one table."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.table = table
        self.dialect = dialect
        self.doc = table.doc

    # -- predicates: 1 / 0 / NULL exactly where Python has True / False / anything else --

    def fold(self, node: Expr) -> Operand:
        """A field-free subtree, evaluated once by the Python reference itself."""
        return self.constant(compile_value(node, self.table.record_type)(None))

    def predicate(self, node: Expr) -> Sql:  # noqa: PLR0911 - one branch per node type
        if _constant(node):
            return self.fold(node).is_true
        if isinstance(node, Compare):
            return self.compare(node.op, self.operand(node.left), self.operand(node.right))
        if isinstance(node, And | Or):
            if not node.items:
                return TRUE if isinstance(node, And) else FALSE
            word = " AND " if isinstance(node, And) else " OR "
            return sql("({})", join(word, (self.predicate(item) for item in node.items)))
        if isinstance(node, Not):
            return sql("(NOT {})", self.truthy(node.item))
        if isinstance(node, IsNull):
            return self.is_null(node.item)
        if isinstance(node, In):
            return self.member(self.operand(node.item), [self.operand(o) for o in node.options])
        if isinstance(node, Between):
            item = self.operand(node.item)
            low = self.compare(">=", item, self.operand(node.low))
            high = self.compare("<=", item, self.operand(node.high))
            return sql("({} AND {})", low, high)
        if isinstance(node, Contains):
            return self.contains(self.operand(node.item), node.needle)
        if isinstance(node, HasTag):
            return self.dialect.has_element(
                self.doc, self.dialect.json_path(*_TAGS_PATH), self.dialect.param(node.tag)
            )
        return self.operand(node).is_true

    def truthy(self, node: Expr) -> Sql:
        if isinstance(node, _PREDICATES) and not _constant(node):
            return self.predicate(node)
        return self.operand(node).truthy

    def is_null(self, node: Expr) -> Sql:
        if isinstance(node, _PREDICATES) and not _constant(node):
            return sql("({} IS NULL)", self.predicate(node))
        return self.operand(node).is_null

    def contains(self, item: Operand, needle: Expr) -> Sql:
        if not (isinstance(needle, Const) and isinstance(needle.value, str)):
            raise ValidationError("", None, "contains(...) looks for a text constant")
        folded = needle.value.lower()
        if item.family is Family.TEXT:
            return self.dialect.contains_folded(item.value, folded)
        if item.family is Family.JSON:
            assert item.path is not None  # noqa: S101 - JSON operands always carry a path
            return _when(
                self.dialect.json_is(self.doc, item.path, Family.TEXT),
                self.dialect.contains_folded(
                    self.dialect.json_value(self.doc, item.path, Family.TEXT), folded
                ),
            )
        return NULL

    def member(self, item: Operand, options: list[Operand]) -> Sql:
        if not options:
            return FALSE
        if item.family in _PLAIN and all(
            option.family is item.family
            and (option.number is None or self._exact(option) is not None)
            for option in options
        ):
            return sql("({} IN ({}))", item.value, join(", ", (o.value for o in options)))
        return sql("({})", join(" OR ", (self.compare("==", item, o) for o in options)))

    # -- comparisons ------------------------------------------------------------------------

    def compare(self, op: str, left: Operand, right: Operand) -> Sql:
        families = {left.family, right.family}
        if families & {Family.NULL, Family.OPAQUE}:
            return NULL
        if left.family is Family.JSON or right.family is Family.JSON:
            return self._compare_json(op, left, right)
        if left.family is not right.family:
            return NULL
        if left.family is Family.MONEY:
            return _when(self._same_currency(left, right), self._plain(op, left, right))
        return self._plain(op, left, right)

    def _same_currency(self, left: Operand, right: Operand) -> Sql:
        if left.fixed_currency is not None and right.fixed_currency is not None:
            return TRUE if left.fixed_currency == right.fixed_currency else FALSE
        assert left.currency is not None  # noqa: S101 - money always has a currency
        assert right.currency is not None  # noqa: S101 - money always has a currency
        return sql("({} = {})", left.currency, right.currency)

    def _compare_json(self, op: str, left: Operand, right: Operand) -> Sql:
        dialect, doc = self.dialect, self.doc
        if left.family is not Family.JSON:
            return self._compare_json(_FLIP[op], right, left)
        assert left.path is not None  # noqa: S101 - JSON operands always carry a path
        if right.family is Family.JSON:
            assert right.path is not None  # noqa: S101 - JSON operands always carry a path
            branches = []
            for family in (Family.NUMBER, Family.TEXT):
                guard = sql(
                    "{} AND {}",
                    dialect.json_is(doc, left.path, family),
                    dialect.json_is(doc, right.path, family),
                )
                values = (
                    dialect.json_value(doc, left.path, family),
                    dialect.json_value(doc, right.path, family),
                )
                branches.append(sql(f"WHEN {{}} THEN ({{}} {_SQL_OP[op]} {{}})", guard, *values))
            return sql("(CASE {} END)", join(" ", branches))
        if right.family not in (Family.NUMBER, Family.TEXT):
            return NULL
        as_right = attrs.evolve(
            left,
            family=right.family,
            value=dialect.json_value(doc, left.path, right.family),
            integral=False,
        )
        return _when(
            dialect.json_is(doc, left.path, right.family), self._plain(op, as_right, right)
        )

    def _exact(self, operand: Operand) -> Sql | None:
        """The bound form of a number constant, or ``None`` if it binds only approximately."""
        assert operand.number is not None  # noqa: S101 - called for number constants only
        return self.dialect.number(operand.number)

    def _plain(self, op: str, left: Operand, right: Operand) -> Sql:
        """Compare two operands of one family (checked by the caller)."""
        for this, other, this_op in ((right, left, op), (left, right, _FLIP[op])):
            if this.number is not None and self._exact(this) is None:
                constant = this.number
                assert not isinstance(constant, float)  # noqa: S101 - floats always bind
                return self.dialect.compare_inexact(
                    this_op, other.value, constant, integral=other.integral
                )
        return sql(f"({{}} {_SQL_OP[op]} {{}})", left.value, right.value)

    # -- operands ---------------------------------------------------------------------------

    def operand(self, node: Expr) -> Operand:
        if isinstance(node, Const):
            return self.constant(node.value)
        if _constant(node):
            return self.fold(node)
        if isinstance(node, BoundField):
            return self.field(node.spec)
        if isinstance(node, Arith):
            return self.arith(node.op, self.operand(node.left), self.operand(node.right))
        if isinstance(node, _PREDICATES):
            value = self.predicate(node)
            return Operand(
                Family.NUMBER,
                self.dialect.predicate_number(value),
                sql("({} IS NULL)", value),
                truthy=value,
                is_true=value,
                integral=True,
            )
        raise ValidationError("", node, f"{type(node).__name__} cannot be compiled to SQL")

    def constant(self, value: object) -> Operand:
        if value is None:
            return _NULL_OPERAND
        truth = TRUE if value else FALSE
        is_true = (TRUE if value else FALSE) if isinstance(value, bool) else NULL
        if isinstance(value, bool | int | float | Decimal):
            bound = self.dialect.number(value)
            param = bound if bound is not None else self.dialect.param(float(value))
            return Operand(
                Family.NUMBER,
                param,
                FALSE,
                truth,
                is_true,
                number=value,
                integral=not isinstance(value, float | Decimal),
            )
        if isinstance(value, str):
            return Operand(Family.TEXT, self.dialect.param(value), FALSE, truth, NULL)
        if isinstance(value, datetime):
            param = self.dialect.param(epoch_us(value))
            return Operand(Family.DATETIME, param, FALSE, TRUE)
        if isinstance(value, date):
            return Operand(Family.DATE, self.dialect.param(value.isoformat()), FALSE, TRUE)
        if isinstance(value, Money):
            return Operand(
                Family.MONEY,
                self.dialect.param(value.minor),
                FALSE,
                TRUE,
                currency=self.dialect.param(value.currency),
                fixed_currency=value.currency,
                integral=True,
            )
        raise ValidationError("value", value, "cannot be used in a store query")

    def field(self, spec: FieldSpec) -> Operand:
        dialect, doc, table = self.dialect, self.doc, self.table
        if spec.kind is FieldKind.MONEY:
            minor, currency = table.money[spec.path]
            value = Sql(minor)
            return Operand(
                Family.MONEY,
                value,
                sql("({} IS NULL)", value),
                _not_null_then(value, TRUE),
                currency=Sql(currency),
                integral=True,
            )
        path = dialect.json_path(spec.attribute, spec.key)
        if spec.kind is FieldKind.TAGS:
            return Operand(
                Family.OPAQUE, NULL, FALSE, sql("({} > 0)", dialect.array_length(doc, path))
            )
        if spec.kind is FieldKind.JSON:
            return Operand(
                Family.JSON,
                dialect.json_value(doc, path, Family.JSON),
                dialect.json_is_null(doc, path),
                dialect.json_truthy(doc, path),
                dialect.json_is_true(doc, path),
                path=path,
            )
        family = {
            FieldKind.TEXT: Family.TEXT,
            FieldKind.CHOICE: Family.TEXT,
            FieldKind.INT: Family.NUMBER,
            FieldKind.NUMBER: Family.NUMBER,
            FieldKind.DATE: Family.DATE,
            FieldKind.DATETIME: Family.DATETIME,
        }[spec.kind]
        column = table.fields.get(spec.path)
        if column is not None:
            value = Sql(column)
        elif family is Family.DATETIME:
            raise ValidationError("field", spec.path, f"{table.name} has no column for it")
        else:
            value = dialect.json_value(doc, path, family)
        if family is Family.TEXT:
            truthy = sql("({} <> '')", value)
        elif family is Family.NUMBER:
            truthy = sql("({} <> 0)", value)
        else:
            truthy = _not_null_then(value, TRUE)
        return Operand(
            family,
            value,
            sql("({} IS NULL)", value),
            truthy,
            integral=spec.kind is FieldKind.INT,
        )

    # -- arithmetic -------------------------------------------------------------------------

    def arith(self, op: str, left: Operand, right: Operand) -> Operand:
        if Family.NULL in (left.family, right.family):
            return _NULL_OPERAND
        if left.family is Family.MONEY:
            return self._money_arith(op, left, right)
        numbers = []
        guards = []
        for operand in (left, right):
            if operand.family is Family.NUMBER:
                numbers.append(operand.value)
            elif operand.family is Family.JSON and operand.path is not None:
                guards.append(self.dialect.json_is(self.doc, operand.path, Family.NUMBER))
                numbers.append(self.dialect.json_value(self.doc, operand.path, Family.NUMBER))
            else:
                return _NULL_OPERAND
        value = self.dialect.divide(*numbers) if op == "/" else sql(f"({{}} {op} {{}})", *numbers)
        value = _when(join(" AND ", guards), value) if guards else value
        return Operand(Family.NUMBER, value, sql("({} IS NULL)", value), sql("({} <> 0)", value))

    def _money_arith(self, op: str, left: Operand, right: Operand) -> Operand:
        if op in "+-" and right.family is Family.MONEY:
            value = _when(
                self._same_currency(left, right), sql(f"({{}} {op} {{}})", left.value, right.value)
            )
        elif op == "*" and right.family is Family.NUMBER:
            value = self._scale(left.value, right)
            if value is NULL:
                return _NULL_OPERAND
        else:
            return _NULL_OPERAND
        limit = self.dialect.param(INT64_MAX)
        value = sql("(CASE WHEN abs({}) <= {} THEN {} END)", value, limit, value)
        return attrs.evolve(
            left,
            value=value,
            is_null=sql("({} IS NULL)", value),
            truthy=_not_null_then(value, TRUE),
            number=None,
        )

    def _scale(self, minor: Sql, factor: Operand) -> Sql:
        """Minor units times a factor, rounded half away from zero like ``Money.__mul__``."""
        constant = factor.number
        if constant is None:
            if factor.integral:
                return sql("({} * {})", minor, factor.value)
            return sql("round({} * {})", minor, factor.value)
        if isinstance(constant, bool | float):
            return NULL  # Money refuses both
        sign, digits, exponent = Decimal(constant).as_tuple()
        assert isinstance(exponent, int)  # noqa: S101 - constants are finite
        scaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        places = -exponent if exponent < 0 else 0
        scaled *= 10 ** max(exponent, 0)
        if not INT64_MIN <= scaled <= INT64_MAX:
            return sql("round({} * {})", minor, self.dialect.param(float(constant)))
        product = sql("({} * {})", minor, self.dialect.param(scaled))
        if places == 0:
            return product
        half, unit = self.dialect.param(10**places // 2), self.dialect.param(10**places)
        return sql(
            "(({} + (CASE WHEN {} < 0 THEN -{} ELSE {} END)) / {})",
            product,
            product,
            half,
            half,
            unit,
        )
