"""Whole statements: ``WHERE`` clauses, counts, scans and ``SELECT`` with keyset pagination.

A page's ``SELECT`` orders by the query's fields and then ``id``; a cursor becomes a keyset
condition (rows strictly after the cursor's position), so pages never skip or repeat rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import attrs

from custrec.errors import ValidationError
from custrec.expr import Expr, FieldKind, FieldSpec, bind, field_spec
from custrec.model import Money
from custrec.store._query import Query, decode_cursor
from custrec.store._sqlcompile._compiler import _Compiler
from custrec.store._sqlcompile._dialect import SQLITE, Dialect, Family
from custrec.store._sqlcompile._fragments import TRUE, Sql, epoch_us, join, sql
from custrec.store._sqlcompile._layout import Table

__all__ = ["compile_count", "compile_scan", "compile_select", "compile_where"]


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
