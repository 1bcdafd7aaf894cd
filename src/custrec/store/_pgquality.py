"""Quality push-down in PostgreSQL: the SQL that picks suspect records (see ``store._quality``).

The same questions as :mod:`custrec.store._sqlquality`, over JSONB documents. Names in
the SQL come from fixed tables (:data:`TABLES`); every value, JSON keys included, is a
parameter.
"""

from __future__ import annotations

from typing import Any

import psycopg

from custrec.errors import ValidationError
from custrec.store._quality import SHARED_KEY_KINDS, SuspectQuery
from custrec.store._sqlcompile import TABLES, epoch_us
from custrec.template import ENTRY_FIELDS

__all__ = ["batch_starts", "quality_suspects", "unknown_customer_refs"]

_COLUMNS = frozenset({"name", "company"})
# JSON values a required field must not hold: the falsy ones, as Python judges them.
_EMPTY = "('null', '\"\"', '0', 'false', '[]', '{}')"


def suspect_sql(query: SuspectQuery) -> tuple[str, list[Any]]:
    """The statement giving the ids of the suspect customers, in id order, and its values."""
    parts: list[str] = []
    params: list[Any] = []
    for field in dict.fromkeys(query.empty_fields):
        if field in _COLUMNS:
            parts.append(f"({field} IS NULL OR {field} = '')")
        elif field.startswith("custom."):
            parts.append("coalesce(doc -> 'custom' -> %s, 'null'::jsonb) = 'null'::jsonb")
            params.append(field[7:])
        elif field in ENTRY_FIELDS:
            parts.append(f"coalesce(doc -> %s, 'null'::jsonb) IN {_EMPTY}")
            params.append(field)
        else:
            raise ValidationError("fields", field, "not a field an entry standard may require")
    if query.touched_before is not None:
        parts.append("(updated_us < %s AND (reviewed_us IS NULL OR reviewed_us < %s))")
        params += [epoch_us(query.touched_before)] * 2
    if query.dated_after is not None:
        parts.append("(created_us > %s OR updated_us > %s OR reviewed_us > %s)")
        params += [epoch_us(query.dated_after)] * 3
    for kind in dict.fromkeys(query.shared_keys):
        if kind not in SHARED_KEY_KINDS:
            raise ValidationError("shared_keys", kind, "compare on 'phone' or 'email'")
        # Keys are COLLATE "C": those of one kind sort from "phone:" up to "phone;".
        parts.append(
            "id IN (SELECT customer_id FROM contacts WHERE key IN ("
            "SELECT key FROM contacts WHERE key >= %s AND key < %s "
            "GROUP BY key HAVING count(*) > 1))"
        )
        params += [f"{kind}:", f"{kind};"]
    if not parts:
        return "SELECT id FROM customers WHERE false", []
    where = " OR ".join(parts)  # fixed SQL fragments; every value is a parameter
    return f"SELECT id FROM customers WHERE {where} ORDER BY id", params  # noqa: S608


def quality_suspects(conn: psycopg.Connection[Any], query: SuspectQuery) -> list[str]:
    """The ids of the customers meeting any part of ``query``, in id order."""
    if query.empty:
        return []
    sql, params = suspect_sql(query)
    return [row[0] for row in conn.execute(sql.encode(), params)]


def unknown_customer_refs(conn: psycopg.Connection[Any], record_type: type[Any]) -> list[str]:
    """The ids of the history records of ``record_type`` whose customer does not exist."""
    table = TABLES[record_type].name
    sql = (
        f"SELECT id FROM {table} AS h WHERE NOT EXISTS "  # noqa: S608 - a layout name
        "(SELECT 1 FROM customers AS c WHERE c.id = h.customer_id) ORDER BY id"
    )
    return [row[0] for row in conn.execute(sql.encode())]


def batch_starts(
    conn: psycopg.Connection[Any], record_type: type[Any], batch_size: int
) -> list[str]:
    """The first id of each batch of ``batch_size`` records in id order."""
    table = TABLES[record_type].name
    sql = (
        "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n "  # noqa: S608 - a layout name
        f"FROM {table}) AS r "
        "WHERE (n - 1) %% %s = 0 ORDER BY id"
    )
    return [row[0] for row in conn.execute(sql.encode(), (batch_size,))]
