"""Quality push-down in SQLite: the SQL that picks suspect records (see ``store._quality``).

Names in the SQL come from fixed tables (:data:`TABLES`); every value, JSON paths
included, is a parameter.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from custrec.errors import ValidationError
from custrec.store._keyhash import key_hash_range
from custrec.store._quality import SHARED_KEY_KINDS, SuspectQuery
from custrec.store._sqlcompile import TABLES, epoch_us
from custrec.template import ENTRY_FIELDS

__all__ = ["batch_starts", "quality_suspects", "unknown_customer_refs"]

# Customer fields that are columns (besides the document): read there, no JSON parsing.
_COLUMNS = frozenset({"name", "company"})


def _field_path(field: str) -> tuple[str, bool]:
    """The JSON path of a required field, and whether it is a custom one."""
    if field.startswith("custom."):
        key = field[7:]
        if not key or '"' in key:
            raise ValidationError("fields", field, "not a custom field key")
        return f'$.custom."{key}"', True
    if field not in ENTRY_FIELDS:
        raise ValidationError("fields", field, "not a field an entry standard may require")
    return f'$."{field}"', False


def suspect_sql(query: SuspectQuery) -> tuple[str, list[Any]]:
    """The statement giving the ids of the suspect customers, in id order, and its values."""
    parts: list[str] = []
    params: list[Any] = []
    for field in dict.fromkeys(query.empty_fields):
        if field in _COLUMNS:
            parts.append(f"({field} IS NULL OR {field} = '')")
            continue
        path, custom = _field_path(field)
        if custom:
            # The check wants the value present and not null.
            parts.append("json_extract(doc, ?) IS NULL")
        else:
            parts.append("coalesce(json_extract(doc, ?), '') IN ('', 0, '[]', '{}')")
        params.append(path)
    if query.touched_before is not None:
        parts.append("(updated_us < ? AND (reviewed_us IS NULL OR reviewed_us < ?))")
        params += [epoch_us(query.touched_before)] * 2
    if query.dated_after is not None:
        parts.append("(created_us > ? OR updated_us > ? OR reviewed_us > ?)")
        params += [epoch_us(query.dated_after)] * 3
    for kind in dict.fromkeys(query.shared_keys):
        if kind not in SHARED_KEY_KINDS:
            raise ValidationError("shared_keys", kind, "compare on 'phone' or 'email'")
        # The file indexes contact keys by hash (see _sqlite.key_hash), the kind in the top
        # byte, so one kind's keys are one range; a shared hash is a suspect, judged later.
        parts.append(
            "id IN (SELECT customer_id FROM contacts_all WHERE key_hash IN ("
            "SELECT key_hash FROM contacts_all WHERE key_hash >= ? AND key_hash < ? "
            "GROUP BY key_hash HAVING count(*) > 1))"
        )
        params += list(key_hash_range(kind))
    if not parts:
        return "SELECT id FROM customers WHERE 0", []
    where = " OR ".join(parts)  # fixed SQL fragments; every value is a parameter
    return f"SELECT id FROM customers WHERE {where} ORDER BY id", params  # noqa: S608


def quality_suspects(conn: sqlite3.Connection, query: SuspectQuery) -> list[str]:
    """The ids of the customers meeting any part of ``query``, in id order."""
    if query.empty:
        return []
    sql, params = suspect_sql(query)
    return [row[0] for row in conn.execute(sql, params)]


def unknown_customer_refs(conn: sqlite3.Connection, record_type: type[Any]) -> list[str]:
    """The ids of the history records of ``record_type`` whose customer does not exist."""
    table = TABLES[record_type].name
    sql = (
        f"SELECT id FROM {table} AS h WHERE NOT EXISTS "  # noqa: S608 - a layout name
        "(SELECT 1 FROM customers AS c WHERE c.id = h.customer_id) ORDER BY id"
    )
    return [row[0] for row in conn.execute(sql)]


def batch_starts(conn: sqlite3.Connection, record_type: type[Any], batch_size: int) -> list[str]:
    """The first id of each batch of ``batch_size`` records in id order (the id index only)."""
    table = TABLES[record_type].name
    sql = (
        "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n "  # noqa: S608 - a layout name
        f"FROM {table}) "
        "WHERE (n - 1) % ? = 0 ORDER BY id"
    )
    return [row[0] for row in conn.execute(sql, (batch_size,))]
