"""How PostgreSQL spells what the SQL compiler needs (see :mod:`custrec.store._sqlcompile`).

The layout is SQLite's with PostgreSQL types: the document is ``jsonb``, text columns use
the ``"C"`` collation so that text orders by code point as Python orders it, and
conditions are real booleans. JSON paths travel as ``text[]`` parameters for ``#>``.

Numbers: a JSON number reads as ``numeric`` (exact, as jsonb holds it), integers bind as
integers (or ``numeric`` beyond 64 bits, exactly), floats as ``double precision``, and a
decimal constant no double holds takes the same inexact path as on SQLite.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from custrec.errors import ValidationError
from custrec.store._sqlcompile import (
    FALSE,
    INT64_MAX,
    INT64_MIN,
    TRUE,
    Dialect,
    Family,
    Sql,
    sql,
    texts_sort_key,
)

__all__ = ["PostgresDialect"]

_C = 'COLLATE "C"'


def _not_null_then(value: Sql, then: Sql) -> Sql:
    return sql("(CASE WHEN {} IS NULL THEN NULL ELSE {} END)", value, then)


class PostgresDialect(Dialect):
    """PostgreSQL's spelling (12 or later), for psycopg's ``%s`` parameters.

    Args:
        fold_collation: The collation whose ``lower()`` folds case like :meth:`str.lower`
            (an ICU collation where the server has one; the database default otherwise).
    """

    placeholder = "%s"

    def __init__(self, fold_collation: str = "default") -> None:
        if not fold_collation.replace("-", "_").replace("_", "a").isalnum():
            raise ValidationError("fold_collation", fold_collation, "a collation name")
        self.fold_collation = fold_collation

    def json_path(self, attribute: str, key: str | None) -> list[str]:
        """The path as a ``text[]`` of names (bound as a parameter, never spliced)."""
        for name in (attribute, key):
            if name is not None and not name.replace("_", "a").isalnum():
                raise ValidationError("field", name, "not a name a document path can hold")
        return [attribute] if key is None else [attribute, key]

    def _at(self, doc: str, path: Any) -> Sql:
        return sql(f"({doc} #> {{}}::text[])", self.param(path))

    def _type(self, doc: str, path: Any) -> Sql:
        return sql("jsonb_typeof({})", self._at(doc, path))

    def json_value(self, doc: str, path: Any, family: Family) -> Sql:
        """Numbers as ``numeric`` (bools as 1 and 0), text and dates as text, else jsonb."""
        at = self._at(doc, path)
        if family is Family.NUMBER:
            return sql(
                "(CASE jsonb_typeof({}) WHEN 'number' THEN ({})::numeric"
                " WHEN 'boolean' THEN ({})::boolean::int::numeric END)",
                at,
                at,
                at,
            )
        if family in (Family.TEXT, Family.DATE):
            return sql(f"(({doc} #>> {{}}::text[]) {_C})", self.param(path))
        return at

    def json_is(self, doc: str, path: Any, family: Family) -> Sql:
        """Python's bools are numbers, so JSON true and false are too."""
        if family is Family.NUMBER:
            return sql("({} IN ('number', 'boolean'))", self._type(doc, path))
        if family is Family.TEXT:
            return sql("({} = 'string')", self._type(doc, path))
        return FALSE

    def json_is_null(self, doc: str, path: Any) -> Sql:
        """A missing key and JSON null both read as ``None``."""
        return sql("(coalesce({}, 'null') = 'null')", self._type(doc, path))

    def json_truthy(self, doc: str, path: Any) -> Sql:
        """Python's ``bool()`` of the stored value."""
        at = self._at(doc, path)
        return sql(
            "(CASE jsonb_typeof({}) WHEN 'boolean' THEN ({})::boolean"
            " WHEN 'number' THEN ({})::numeric <> 0"
            " WHEN 'string' THEN ({} #>> ARRAY[]::text[]) <> ''"
            " WHEN 'array' THEN jsonb_array_length({}) > 0 END)",
            at,
            at,
            at,
            at,
            at,
        )

    def json_is_true(self, doc: str, path: Any) -> Sql:
        """Only the JSON literals are bools; the number 1 is not ``True``."""
        at = self._at(doc, path)
        return sql("(CASE jsonb_typeof({}) WHEN 'boolean' THEN ({})::boolean END)", at, at)

    def json_sort_keys(self, doc: str, path: Any) -> list[Sql]:
        """Rank (missing, number, text, list), then the number, the text, the list's key."""
        at = self._at(doc, path)
        return [
            sql(
                "(CASE jsonb_typeof({}) WHEN 'number' THEN 1 WHEN 'boolean' THEN 1"
                " WHEN 'string' THEN 2 WHEN 'array' THEN 4 ELSE 0 END)",
                at,
            ),
            self.json_value(doc, path, Family.NUMBER),
            sql(
                f"(CASE jsonb_typeof({{}}) WHEN 'string' THEN ({{}} #>> ARRAY[]::text[]) END {_C})",
                at,
                at,
            ),
            sql(
                "(CASE jsonb_typeof({}) WHEN 'array' THEN coalesce(("
                "SELECT string_agg(convert_to(item, 'UTF8') || '\\x0001'::bytea, ''::bytea"
                " ORDER BY position) FROM jsonb_array_elements_text({})"
                " WITH ORDINALITY AS element(item, position)), ''::bytea) END)",
                at,
                at,
            ),
        ]

    def json_sort_values(self, value: Any) -> list[Any]:
        """The four keys of :meth:`json_sort_keys` for a value read from a custom field."""
        if value is None:
            return [0, None, None, None]
        if isinstance(value, bool):
            return [1, int(value), None, None]
        if isinstance(value, int | float | Decimal):
            return [1, Decimal(value) if not isinstance(value, float) else value, None, None]
        if isinstance(value, str):
            return [2, None, value, None]
        if isinstance(value, tuple):
            return [4, None, None, texts_sort_key(value)]
        raise ValidationError("cursor", value, "a custom field cannot be ordered by this value")

    def array_length(self, doc: str, path: Any) -> Sql:
        """``jsonb_array_length``."""
        return sql("jsonb_array_length({})", self._at(doc, path))

    def has_element(self, doc: str, path: Any, element: Sql) -> Sql:
        """Jsonb's ``?``: the array holds the string."""
        return sql("jsonb_exists({}, {})", self._at(doc, path), element)

    def contains_folded(self, text: Sql, folded_needle: str) -> Sql:
        """``strpos`` over ``lower`` in a collation that folds beyond ASCII."""
        return sql(
            f'(strpos(lower(({{}}) COLLATE "{self.fold_collation}"), {{}}) > 0)',
            text,
            self.param(folded_needle),
        )

    def number(self, value: int | float | Decimal) -> Sql | None:
        """Integers (as ``numeric`` beyond 64 bits) and doubles bind exactly."""
        if isinstance(value, bool):
            return self.param(int(value))
        if isinstance(value, float):
            return self.param(value)
        if isinstance(value, Decimal):
            if value == value.to_integral_value():
                value = int(value)
            else:
                as_float = float(value)
                exact = Fraction(as_float) == Fraction(value)
                return self.param(Decimal(as_float)) if exact else None
        if INT64_MIN <= value <= INT64_MAX:
            return self.param(value)
        return self.param(Decimal(value))

    def compare_inexact(
        self, op: str, value: Sql, constant: int | Decimal, *, integral: bool
    ) -> Sql:
        """Compare with a decimal constant no double holds, as Python compares it.

        No stored number equals it. Integral values compare with its floor or ceiling;
        others (doubles in Python) with the nearest double, on the side it falls.
        """
        exact = Fraction(constant)
        if op in ("==", "!="):
            return _not_null_then(value, FALSE if op == "==" else TRUE)
        bound_op, bound = self._integer_bound(op, exact)
        as_int = sql(f"({{}} {bound_op} {{}})", value, self.param(Decimal(bound)))
        if integral:
            return as_int
        nearest = float(exact)
        above = Fraction(nearest) > exact
        below_op, above_op = ("<", "<=") if op in ("<", "<=") else (">=", ">")
        real_op = below_op if above else above_op
        as_real = sql(f"(({{}})::float8 {real_op} {{}})", value, self.param(nearest))
        return sql(
            "(CASE WHEN scale(({})::numeric) = 0 THEN {} ELSE {} END)", value, as_int, as_real
        )

    @staticmethod
    def _integer_bound(op: str, exact: Fraction) -> tuple[str, int]:
        if op in ("<", "<="):
            return "<=", math.ceil(exact) - 1 if op == "<" else math.floor(exact)
        return ">=", math.floor(exact) + 1 if op == ">" else math.ceil(exact)

    def divide(self, left: Sql, right: Sql) -> Sql:
        """A double quotient; division by zero is ``NULL`` (PostgreSQL would raise)."""
        return sql("(({})::float8 / NULLIF(({})::float8, 0))", left, right)

    def order_term(self, key: Sql, descending: bool) -> Sql:
        """Missing values first ascending and last descending, as on SQLite."""
        return sql("{} DESC NULLS LAST", key) if descending else sql("{} NULLS FIRST", key)

    def same(self, key: Sql, value: Sql) -> Sql:
        """``IS NOT DISTINCT FROM``: PostgreSQL's ``IS`` takes only NULL and booleans."""
        return sql("({} IS NOT DISTINCT FROM {})", key, value)

    def predicate_number(self, predicate: Sql) -> Sql:
        """A boolean as the integer Python's ``True`` and ``False`` are."""
        return sql("(({})::int)", predicate)
