"""The SQL layout of records, and the compiler from expressions and queries to SQL.

SQL stores keep one table per record type: the columns that queries, indexes and aggregates
need (ids, timestamps as integer microseconds since the epoch, amounts as integer minor
units) plus the whole record as a JSON document. :data:`TABLES` describes that layout; the
compiler turns a bound expression into a ``WHERE`` clause over it, and a :class:`Query` into
a complete ``SELECT`` with keyset pagination.

The compiled SQL gives exactly the answers of the Python evaluator
(:func:`custrec.expr.compile_predicate`) and the ordering of :func:`custrec.store.run_query`:

- Every value has a *family* (number, text, date, datetime, money in one currency). A
  comparison across families is unknown (``NULL``), never SQL's type-class comparison;
  custom (JSON) fields get their family from the document at run time, so each comparison
  with one is guarded by a ``CASE`` on its JSON type.
- Predicates produce ``1``, ``0`` or ``NULL`` exactly where Python gives ``True``, ``False``
  or ``None`` (anything else, such as a bare number used as a condition, is ``NULL``).
- Numbers compare exactly, including constants no double can hold (``Decimal("0.1")``,
  integers beyond 64 bits). Arithmetic is the one approximation: Python computes in
  ``Decimal``, SQL in 64-bit integers and doubles, so sums and products beyond 2**53 or
  fractional quotients may differ in the last digits. Division by zero is ``NULL`` in both.
- User text never becomes SQL: constants and JSON paths travel as bound parameters, and
  paths are built only from catalog names and keys that match ``CUSTOM_KEY_PATTERN``.

Dialect differences (JSON functions, case folding, parameter marks, how numbers bind) live
in :class:`Dialect`; :data:`SQLITE` spells them for SQLite, and
:class:`custrec.store._pgdialect.PostgresDialect` for PostgreSQL, which reuses the layout,
the compiler and the pagination unchanged.
"""

from __future__ import annotations

import abc
import enum
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

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
    bind,
    compile_value,
    field_spec,
)
from custrec.model import Customer, Feedback, Interaction, Money, Transaction
from custrec.store._query import Query, decode_cursor

__all__ = [
    "SQLITE",
    "TABLES",
    "Dialect",
    "SQLiteDialect",
    "Sql",
    "Table",
    "compile_count",
    "compile_scan",
    "compile_select",
    "compile_where",
    "epoch_us",
    "from_epoch_us",
    "list_sort_key",
    "texts_sort_key",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_us(moment: datetime) -> int:
    """Return an aware datetime as whole microseconds since 1970-01-01 UTC (exact)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_epoch_us(microseconds: int) -> datetime:
    """Return the aware UTC datetime ``microseconds`` after 1970-01-01 UTC."""
    return _EPOCH + timedelta(microseconds=microseconds)


# -- SQL fragments -------------------------------------------------------------------------


@attrs.frozen
class Sql:
    """A piece of SQL text and the parameters its placeholders take, in order.

    Attributes:
        text: The SQL; never holds user data, only placeholders for it.
        params: The values bound to the placeholders.
    """

    text: str
    params: tuple[Any, ...] = ()


def sql(template: str, *parts: Sql) -> Sql:
    """Fill each ``{}`` of ``template`` with a fragment, keeping parameters in text order."""
    pieces = template.split("{}")
    if len(pieces) != len(parts) + 1:
        raise ValueError(f"template {template!r} takes {len(pieces) - 1} parts, not {len(parts)}")
    text = [pieces[0]]
    params: list[Any] = []
    for part, piece in zip(parts, pieces[1:], strict=True):
        text.append(part.text)
        text.append(piece)
        params.extend(part.params)
    return Sql("".join(text), tuple(params))


def join(separator: str, parts: Iterable[Sql]) -> Sql:
    """Join fragments with ``separator``."""
    items = list(parts)
    return Sql(separator.join(p.text for p in items), tuple(v for p in items for v in p.params))


# SQLite reads TRUE and FALSE as the integers 1 and 0; PostgreSQL needs them as booleans.
TRUE = Sql("TRUE")
FALSE = Sql("FALSE")
NULL = Sql("NULL")


def _when(guard: Sql, then: Sql) -> Sql:
    """``then`` where ``guard`` holds, else ``NULL``."""
    if guard is TRUE:
        return then
    if guard is FALSE:
        return NULL
    return sql("(CASE WHEN {} THEN {} END)", guard, then)


def _not_null_then(value: Sql, then: Sql) -> Sql:
    """``NULL`` where ``value`` is ``NULL``, else ``then``."""
    return sql("(CASE WHEN {} IS NULL THEN NULL ELSE {} END)", value, then)


# -- the layout ----------------------------------------------------------------------------


def _opt_us(moment: datetime | None) -> int | None:
    return None if moment is None else epoch_us(moment)


@attrs.frozen
class Table:
    """Where one record type lives in an SQL store.

    Attributes:
        name: The table.
        record_type: The record class it holds.
        column_names: Its columns besides ``doc``, in insert order; ``id`` comes first.
        values: A record's values for :attr:`column_names`.
        fields: Catalog field path to the column holding it in comparable form.
        money: Catalog field path to its (minor units column, currency column).
        doc: The column holding the record's JSON document.
    """

    name: str
    record_type: type[Any]
    column_names: tuple[str, ...]
    values: Callable[[Any], tuple[Any, ...]]
    fields: Mapping[str, str]
    money: Mapping[str, tuple[str, str]] = attrs.field(factory=dict)
    doc: str = "doc"


def _customer_values(c: Customer) -> tuple[Any, ...]:
    return (
        c.id,
        c.version,
        c.name,
        c.company,
        epoch_us(c.created_at),
        epoch_us(c.updated_at),
        _opt_us(c.reviewed_at),
    )


def _interaction_values(i: Interaction) -> tuple[Any, ...]:
    return (i.id, i.customer_id, i.version, epoch_us(i.at))


def _transaction_values(t: Transaction) -> tuple[Any, ...]:
    total = t.total
    return (
        t.id,
        t.customer_id,
        t.version,
        epoch_us(t.at),
        total.minor,
        total.currency,
        str(t.status),
        t.refunded.minor,
        _opt_us(max((e.at for e in t.after_sales if e.amount is not None), default=None)),
    )


def _feedback_values(f: Feedback) -> tuple[Any, ...]:
    return (f.id, f.customer_id, f.version, epoch_us(f.at), f.rating, f.nps)


_HISTORY_FIELDS = {"id": "id", "customer_id": "customer_id", "version": "version", "at": "at_us"}

TABLES: Mapping[type[Any], Table] = MappingProxyType(
    {
        Customer: Table(
            "customers",
            Customer,
            ("id", "version", "name", "company", "created_us", "updated_us", "reviewed_us"),
            _customer_values,
            {
                "id": "id",
                "version": "version",
                "name": "name",
                "company": "company",
                "created_at": "created_us",
                "updated_at": "updated_us",
                "reviewed_at": "reviewed_us",
            },
        ),
        Interaction: Table(
            "interactions",
            Interaction,
            ("id", "customer_id", "version", "at_us"),
            _interaction_values,
            _HISTORY_FIELDS,
        ),
        Transaction: Table(
            "transactions",
            Transaction,
            (
                "id",
                "customer_id",
                "version",
                "at_us",
                "total_minor",
                "currency",
                "status",
                "refund_minor",
                "refund_last_us",
            ),
            _transaction_values,
            {**_HISTORY_FIELDS, "currency": "currency", "status": "status"},
            {"total": ("total_minor", "currency")},
        ),
        Feedback: Table(
            "feedback",
            Feedback,
            ("id", "customer_id", "version", "at_us", "rating", "nps"),
            _feedback_values,
            {**_HISTORY_FIELDS, "rating": "rating", "nps": "nps"},
        ),
    }
)
"""The table of each record type."""


# -- values and their families ---------------------------------------------------------------


class Family(enum.Enum):
    """What an operand holds, as far as comparisons go."""

    NULL = "null"  # always missing
    NUMBER = "number"
    TEXT = "text"
    DATE = "date"  # ISO text
    DATETIME = "datetime"  # microseconds since the epoch
    MONEY = "money"  # minor units, with a currency
    JSON = "json"  # a custom field: number, text, a list of texts, or missing; known per row
    OPAQUE = "opaque"  # present but comparable with nothing (tags)


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


# -- dialects -----------------------------------------------------------------------------------


class Dialect(abc.ABC):
    """How one database spells what the compiler needs. Subclass for another database."""

    placeholder: str = "?"

    def param(self, value: Any) -> Sql:
        """A bound parameter."""
        return Sql(self.placeholder, (value,))

    @abc.abstractmethod
    def json_path(self, attribute: str, key: str | None) -> Any:
        """The path parameter naming ``attribute`` (and ``key`` inside it) in a document."""

    @abc.abstractmethod
    def json_value(self, doc: str, path: Any, family: Family) -> Sql:
        """The value at ``path`` read as ``family`` (number, text or date)."""

    @abc.abstractmethod
    def json_is(self, doc: str, path: Any, family: Family) -> Sql:
        """Whether the value at ``path`` belongs to ``family`` (number or text)."""

    @abc.abstractmethod
    def json_is_null(self, doc: str, path: Any) -> Sql:
        """Whether the value at ``path`` is missing or JSON null."""

    @abc.abstractmethod
    def json_truthy(self, doc: str, path: Any) -> Sql:
        """Python truthiness of the value at ``path``; ``NULL`` when missing."""

    @abc.abstractmethod
    def json_is_true(self, doc: str, path: Any) -> Sql:
        """``1`` for JSON true, ``0`` for false, ``NULL`` for anything else."""

    @abc.abstractmethod
    def json_sort_keys(self, doc: str, path: Any) -> list[Sql]:
        """Keys ordering the values at ``path`` as :func:`custrec.expr.sort_key` does."""

    @abc.abstractmethod
    def json_sort_values(self, value: Any) -> list[Any]:
        """The :meth:`json_sort_keys` values of a Python value read from such a field."""

    @abc.abstractmethod
    def array_length(self, doc: str, path: Any) -> Sql:
        """The length of the JSON array at ``path``."""

    @abc.abstractmethod
    def has_element(self, doc: str, path: Any, element: Sql) -> Sql:
        """Whether the JSON array at ``path`` holds the text ``element``."""

    @abc.abstractmethod
    def contains_folded(self, text: Sql, folded_needle: str) -> Sql:
        """Whether ``text``, case-folded like :meth:`str.lower`, contains the needle."""

    @abc.abstractmethod
    def number(self, value: int | float | Decimal) -> Sql | None:
        """A number parameter, or ``None`` when the database cannot hold it exactly."""

    @abc.abstractmethod
    def compare_inexact(
        self, op: str, value: Sql, constant: int | Decimal, *, integral: bool
    ) -> Sql:
        """``value op constant`` for a constant :meth:`number` cannot bind exactly."""

    @abc.abstractmethod
    def divide(self, left: Sql, right: Sql) -> Sql:
        """``left / right`` as a fraction (not integer division); ``NULL`` for ``/ 0``."""

    def order_term(self, key: Sql, descending: bool) -> Sql:
        """``key`` in an ORDER BY: missing values first ascending, last descending."""
        return sql("{} DESC", key) if descending else key

    def same(self, key: Sql, value: Sql) -> Sql:
        """Whether ``key`` equals ``value``, two missing values being equal."""
        return sql("({} IS {})", key, value)

    def predicate_number(self, predicate: Sql) -> Sql:
        """A condition's value used as a number (``1``, ``0`` or ``NULL``)."""
        return predicate


def texts_sort_key(items: Sequence[str]) -> bytes:
    """Bytes that order lists of texts as Python orders tuples of them.

    Each text is written as UTF-8 (whose byte order is code point order) with NUL escaped
    as ``00 FF`` and ended by ``00 01``, so a list that is a prefix of another sorts first.
    """
    out = bytearray()
    for item in items:
        out += str(item).encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\xff")
        out += b"\x00\x01"
    return bytes(out)


def list_sort_key(document: str | None) -> bytes | None:
    """:func:`texts_sort_key` of a JSON list of texts, else ``None`` (for SQL)."""
    if not isinstance(document, str):
        return None
    try:
        items = json.loads(document)
    except ValueError:
        return None
    return texts_sort_key(items) if isinstance(items, list) else None


def fold_case(text: str | None) -> str | None:
    """:meth:`str.lower`, for SQL; ``None`` for anything but text."""
    return text.lower() if isinstance(text, str) else None


_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_SQL_OP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class SQLiteDialect(Dialect):
    """SQLite's spelling (3.38 or later: JSON functions built in).

    The connection must define ``custrec_lower`` (:func:`fold_case`) and
    ``custrec_listkey`` (:func:`list_sort_key`) as deterministic functions.
    """

    _NUMBER_TYPES = "('integer','real','true','false')"

    def json_path(self, attribute: str, key: str | None) -> str:
        """``$."attribute"."key"``; names are catalog names or CUSTOM_KEY_PATTERN keys."""
        for name in (attribute, key):
            if name is not None and not name.replace("_", "a").isalnum():
                raise ValidationError("field", name, "not a name a document path can hold")
        return f'$."{attribute}"' + ("" if key is None else f'."{key}"')

    def _type(self, doc: str, path: Any) -> Sql:
        return sql(f"json_type({doc}, {{}})", self.param(path))

    def json_value(self, doc: str, path: Any, family: Family) -> Sql:
        """SQLite's ``json_extract`` gives numbers as numbers (true as 1) and text as text."""
        return sql(f"json_extract({doc}, {{}})", self.param(path))

    def json_is(self, doc: str, path: Any, family: Family) -> Sql:
        """Python's bools are numbers, so JSON true and false are too."""
        if family is Family.NUMBER:
            return sql(f"({{}} IN {self._NUMBER_TYPES})", self._type(doc, path))
        if family is Family.TEXT:
            return sql("({} = 'text')", self._type(doc, path))
        return FALSE

    def json_is_null(self, doc: str, path: Any) -> Sql:
        """A missing key and JSON null both read as ``None``."""
        return sql("(coalesce({}, 'null') = 'null')", self._type(doc, path))

    def json_truthy(self, doc: str, path: Any) -> Sql:
        """Python's ``bool()`` of the stored value."""
        value = self.json_value(doc, path, Family.JSON)
        return sql(
            "(CASE {} WHEN 'true' THEN 1 WHEN 'false' THEN 0"
            " WHEN 'integer' THEN {} <> 0 WHEN 'real' THEN {} <> 0"
            " WHEN 'text' THEN {} <> '' WHEN 'array' THEN {} > 0 END)",
            self._type(doc, path),
            value,
            value,
            value,
            self.array_length(doc, path),
        )

    def json_is_true(self, doc: str, path: Any) -> Sql:
        """Only the JSON literals are bools; the number 1 is not ``True``."""
        return sql("(CASE {} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)", self._type(doc, path))

    def json_sort_keys(self, doc: str, path: Any) -> list[Sql]:
        """One key: SQLite orders NULL < numbers < text < blobs, as ``sort_key`` ranks."""
        return [
            sql(
                "(CASE WHEN {} = 'array' THEN custrec_listkey({}) ELSE {} END)",
                self._type(doc, path),
                self.json_value(doc, path, Family.JSON),
                self.json_value(doc, path, Family.JSON),
            )
        ]

    def json_sort_values(self, value: Any) -> list[Any]:
        """Bools order as the numbers 0 and 1 (as ``json_extract`` reads them), lists as blobs."""
        if isinstance(value, bool):
            return [int(value)]
        if value is None or isinstance(value, str):
            return [value]
        if isinstance(value, tuple):
            return [texts_sort_key(value)]
        if isinstance(value, int | float | Decimal):
            bound = self.number(value)
            return [bound.params[0] if bound is not None else float(value)]
        raise ValidationError("cursor", value, "a custom field cannot be ordered by this value")

    def array_length(self, doc: str, path: Any) -> Sql:
        """``json_array_length``."""
        return sql(f"json_array_length({doc}, {{}})", self.param(path))

    def has_element(self, doc: str, path: Any, element: Sql) -> Sql:
        """An ``EXISTS`` over ``json_each``."""
        return sql(
            f"EXISTS (SELECT 1 FROM json_each({doc}, {{}}) WHERE value = {{}})",  # noqa: S608 - doc is a layout column name
            self.param(path),
            element,
        )

    def contains_folded(self, text: Sql, folded_needle: str) -> Sql:
        """``instr`` over ``custrec_lower``: SQLite's own ``lower`` folds ASCII only."""
        return sql("(instr(custrec_lower({}), {}) > 0)", text, self.param(folded_needle))

    def number(self, value: int | float | Decimal) -> Sql | None:
        """Integers within 64 bits and any double bind exactly; other values do not."""
        if isinstance(value, bool):
            return self.param(int(value))
        if isinstance(value, float):
            return self.param(value)
        if isinstance(value, Decimal):
            if value == value.to_integral_value():
                value = int(value)
            else:
                as_float = float(value)
                return self.param(as_float) if Fraction(as_float) == Fraction(value) else None
        if INT64_MIN <= value <= INT64_MAX:
            return self.param(value)
        try:
            as_float = float(value)
        except OverflowError:
            return None
        return self.param(as_float) if int(as_float) == value else None

    def compare_inexact(
        self, op: str, value: Sql, constant: int | Decimal, *, integral: bool
    ) -> Sql:
        """Compare with a constant between doubles (and maybe beyond 64-bit integers).

        No stored number equals it, so ``==`` is false and ``!=`` true. For an order, an
        integer compares with the constant's floor or ceiling and a double with the nearest
        double, choosing ``<`` or ``<=`` by which side of the constant that double lies.
        """
        exact = Fraction(constant)
        if op in ("==", "!="):
            return _not_null_then(value, FALSE if op == "==" else TRUE)
        as_int = self._integer_branch(op, value, exact)
        if integral:
            return as_int
        try:
            nearest = float(exact)
        except OverflowError:
            nearest = math.inf if exact > 0 else -math.inf
        above = Fraction(nearest) > exact if math.isfinite(nearest) else nearest > 0
        below_op, above_op = ("<", "<=") if op in ("<", "<=") else (">=", ">")
        real_op = below_op if above else above_op
        as_real = sql(f"({{}} {real_op} {{}})", value, self.param(nearest))
        return sql(
            "(CASE typeof({}) WHEN 'integer' THEN {} WHEN 'real' THEN {} END)",
            value,
            as_int,
            as_real,
        )

    def _integer_branch(self, op: str, value: Sql, exact: Fraction) -> Sql:
        if op in ("<", "<="):
            bound = math.ceil(exact) - 1 if op == "<" else math.floor(exact)
            if bound > INT64_MAX:
                return _not_null_then(value, TRUE)
            if bound < INT64_MIN:
                return _not_null_then(value, FALSE)
            return sql("({} <= {})", value, self.param(bound))
        bound = math.floor(exact) + 1 if op == ">" else math.ceil(exact)
        if bound < INT64_MIN:
            return _not_null_then(value, TRUE)
        if bound > INT64_MAX:
            return _not_null_then(value, FALSE)
        return sql("({} >= {})", value, self.param(bound))

    def divide(self, left: Sql, right: Sql) -> Sql:
        """SQLite divides integers by truncation, so the left side becomes a double first."""
        return sql("(CAST({} AS REAL) / {})", left, right)


SQLITE = SQLiteDialect()
"""The SQLite dialect."""


# -- the expression compiler --------------------------------------------------------------------

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


# -- queries --------------------------------------------------------------------------------


def compile_where(table: Table, where: Expr | None, dialect: Dialect = SQLITE) -> Sql:
    """Compile a condition to a ``WHERE`` clause body (``1`` when there is none).

    Raises:
        ValidationError: The condition does not fit the table's record type.
    """
    if where is None:
        return TRUE
    return _Compiler(table, dialect).predicate(bind(where, table.record_type))


@attrs.frozen
class _SortPart:
    key: Sql
    descending: bool
    value: Any


def _sort_parts(
    table: Table, query: Query, dialect: Dialect
) -> tuple[list[tuple[Sql, bool]], list[_SortPart] | None, str | None]:
    """The ORDER BY keys, and the cursor position over them (when the query has a cursor)."""
    compiler = _Compiler(table, dialect)
    position: tuple[list[Any], str] | None = None
    if query.cursor is not None:
        position = decode_cursor(query.cursor, query.order)
    terms: list[tuple[Sql, bool]] = []
    parts: list[_SortPart] = []
    for index, order in enumerate(query.order):
        spec = field_spec(table.record_type, order.path)
        keys = _sort_keys(compiler, spec)
        terms.extend((key, order.descending) for key in keys)
        if position is not None:
            values = _sort_values(spec, position[0][index], dialect, query.cursor or "")
            parts.extend(
                _SortPart(key, order.descending, value)
                for key, value in zip(keys, values, strict=True)
            )
    if position is None:
        return terms, None, None
    return terms, parts, position[1]


def _sort_keys(compiler: _Compiler, spec: FieldSpec) -> list[Sql]:
    if spec.kind is FieldKind.TAGS:
        raise ValidationError(spec.path, None, "tags cannot order a query")
    if spec.kind is FieldKind.JSON:
        path = compiler.dialect.json_path(spec.attribute, spec.key)
        return compiler.dialect.json_sort_keys(compiler.doc, path)
    operand = compiler.field(spec)
    if operand.family is Family.MONEY:
        assert operand.currency is not None  # noqa: S101 - money has a currency
        return [operand.currency, operand.value]
    return [operand.value]


def _sort_values(spec: FieldSpec, value: Any, dialect: Dialect, cursor: str) -> list[Any]:
    """A cursor's value for one order field, as the field's sort keys hold it."""
    if spec.kind is FieldKind.JSON:
        return dialect.json_sort_values(value)
    if value is None:
        return [None, None] if spec.kind is FieldKind.MONEY else [None]
    expected: dict[FieldKind, type | tuple[type, ...]] = {
        FieldKind.TEXT: str,
        FieldKind.CHOICE: str,
        FieldKind.INT: int,
        FieldKind.DATE: date,
        FieldKind.DATETIME: datetime,
        FieldKind.MONEY: Money,
    }
    wanted = expected[spec.kind]
    if (
        not isinstance(value, wanted)
        or isinstance(value, bool)
        or (spec.kind is FieldKind.DATE and isinstance(value, datetime))
    ):
        raise ValidationError("cursor", cursor, "the cursor does not fit this query's order")
    if isinstance(value, Money):
        return [value.currency, value.minor]
    if isinstance(value, datetime):
        return [epoch_us(value)]
    if isinstance(value, date):
        return [value.isoformat()]
    return [value]


def _after(key: Sql, descending: bool, value: Any, dialect: Dialect) -> Sql | None:
    """Where ``key`` sorts strictly after ``value``; ``None`` where nothing does."""
    if value is None:
        return None if descending else sql("({} IS NOT NULL)", key)
    if descending:
        return sql("({} < {} OR {} IS NULL)", key, dialect.param(value), key)
    return sql("({} > {})", key, dialect.param(value))


def _keyset(parts: Sequence[_SortPart], last_id: str, id_column: str, dialect: Dialect) -> Sql:
    """Rows after the cursor: greater on the first key, or equal on it and greater after."""
    alternatives: list[Sql] = []
    equal: list[Sql] = []
    for part in [*parts, _SortPart(Sql(id_column), False, last_id)]:
        after = _after(part.key, part.descending, part.value, dialect)
        if after is not None:
            alternatives.append(sql("({})", join(" AND ", [*equal, after])))
        equal.append(dialect.same(part.key, dialect.param(part.value)))
    return sql("({})", join(" OR ", alternatives))


def compile_select(table: Table, query: Query, dialect: Dialect = SQLITE) -> Sql:
    """Compile a query to a ``SELECT id, doc`` in the query's order, one row past a page.

    The extra row tells the caller whether another page follows.

    Raises:
        ValidationError: The query does not fit the table, or its cursor is not one this
            query made.
    """
    where = compile_where(table, query.where, dialect)
    terms, parts, last_id = _sort_parts(table, query, dialect)
    if parts is not None and last_id is not None:
        where = sql("{} AND {}", where, _keyset(parts, last_id, "id", dialect))
    order = join(", ", [dialect.order_term(key, desc) for key, desc in terms] + [Sql("id")])
    select = f"SELECT id, {table.doc} FROM {table.name} WHERE {{}} ORDER BY {{}}"  # noqa: S608 - layout names only
    statement = sql(select, where, order)
    if query.size is not None:
        statement = sql("{} LIMIT {}", statement, dialect.param(query.size + 1))
    return statement


def compile_count(table: Table, where: Expr | None, dialect: Dialect = SQLITE) -> Sql:
    """Compile a count of the records matching ``where``."""
    count = f"SELECT count(*) FROM {table.name}"  # noqa: S608 - a layout table name
    if where is None:
        return Sql(count)
    return sql(count + " WHERE {}", compile_where(table, where, dialect))


def compile_scan(
    table: Table, after: str | None, limit: int, where: Expr | None, dialect: Dialect = SQLITE
) -> Sql:
    """Compile a read (``id, doc``) of up to ``limit`` matches with ids above ``after``."""
    condition = compile_where(table, where, dialect)
    if after is not None:
        condition = sql("id > {} AND {}", dialect.param(after), condition)
    select = f"SELECT id, {table.doc} FROM {table.name} WHERE {{}} ORDER BY id LIMIT {{}}"  # noqa: S608 - layout names only
    return sql(select, condition, dialect.param(limit))
