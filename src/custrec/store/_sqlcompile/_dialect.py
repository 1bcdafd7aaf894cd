"""What the compiler asks of a database, and SQLite's answers.

:class:`Dialect` lists the spellings that differ between databases (JSON functions, case
folding, parameter marks, how numbers bind); :class:`SQLiteDialect` gives SQLite's, and
:data:`SQLITE` is its one instance. :class:`Family` tells a dialect what a value holds.
:func:`fold_case` and :func:`list_sort_key` are the Python functions an SQLite connection
registers for the dialect's SQL to call.
"""

from __future__ import annotations

import abc
import enum
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from custrec.errors import ValidationError
from custrec.store._sqlcompile._fragments import (
    FALSE,
    INT64_MAX,
    INT64_MIN,
    TRUE,
    Sql,
    _not_null_then,
    sql,
)

__all__ = [
    "SQLITE",
    "Dialect",
    "Family",
    "SQLiteDialect",
    "fold_case",
    "list_sort_key",
    "texts_sort_key",
]


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
