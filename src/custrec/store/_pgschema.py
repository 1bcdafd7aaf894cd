"""The PostgreSQL schema of a custrec store: its migrations and fixed statements.

The layout is SQLite's (see :mod:`custrec.store._sqlschema`): a table per record type with the
query columns and the record as a ``jsonb`` document, contact keys, the audit trail and
document collections. Ids and other text columns use the ``"C"`` collation, so they order
by code point as Python orders text. Every table that holds a customer's data has
``customer_id`` (or is ``customers``), which is what distributing it by customer needs
(see ``docs/scaling.md``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from custrec.serialize import to_json
from custrec.store._sqlcompile import TABLES, Table
from custrec.store._sqlschema import Migration

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "encode_document"]

_ID = 'TEXT COLLATE "C" NOT NULL'
_HISTORY = f"""
    id {_ID} PRIMARY KEY,
    customer_id {_ID} REFERENCES customers(id),
    version BIGINT NOT NULL,
    at_us BIGINT NOT NULL"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "record tables, contact keys, audit trail",
        (
            f"""CREATE TABLE customers (
                id {_ID} PRIMARY KEY,
                version BIGINT NOT NULL,
                name TEXT COLLATE "C",
                company TEXT COLLATE "C",
                created_us BIGINT NOT NULL,
                updated_us BIGINT NOT NULL,
                reviewed_us BIGINT,
                doc JSONB NOT NULL)""",
            f"CREATE TABLE interactions ({_HISTORY},\n    doc JSONB NOT NULL)",
            f"""CREATE TABLE transactions ({_HISTORY},
                total_minor BIGINT NOT NULL,
                currency TEXT COLLATE "C" NOT NULL,
                status TEXT COLLATE "C" NOT NULL,
                refund_minor BIGINT NOT NULL,
                doc JSONB NOT NULL)""",
            f"""CREATE TABLE feedback ({_HISTORY},
                rating INTEGER,
                nps INTEGER,
                doc JSONB NOT NULL)""",
            "CREATE INDEX interactions_customer_at ON interactions (customer_id, at_us)",
            "CREATE INDEX transactions_customer_at ON transactions (customer_id, at_us)",
            "CREATE INDEX feedback_customer_at ON feedback (customer_id, at_us)",
            f"""CREATE TABLE contacts (
                key {_ID},
                customer_id {_ID} REFERENCES customers(id) ON DELETE CASCADE,
                PRIMARY KEY (key, customer_id))""",
            "CREATE INDEX contacts_customer ON contacts (customer_id)",
            f"""CREATE TABLE audit (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at_us BIGINT NOT NULL,
                actor TEXT,
                action TEXT NOT NULL,
                record_type TEXT NOT NULL,
                record_id {_ID},
                version BIGINT NOT NULL,
                changes JSONB NOT NULL)""",
            "CREATE INDEX audit_record ON audit (record_id, seq)",
            f"""CREATE TABLE documents (
                collection {_ID},
                key {_ID},
                doc JSONB NOT NULL,
                PRIMARY KEY (collection, key))""",
        ),
    ),
    Migration(
        2,
        "transactions: when the last refund was paid",
        ("ALTER TABLE transactions ADD COLUMN refund_last_us BIGINT",),
    ),
)
"""Every schema step, oldest first (``schema_migrations`` itself is made before them)."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this custrec writes."""

CREATE_MIGRATIONS = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY NOT NULL,
    applied_us BIGINT NOT NULL,
    description TEXT NOT NULL)"""


def statements(table: Table) -> dict[str, str]:
    """The fixed statements for one table (names from the layout, values as parameters)."""
    columns = (*table.column_names, table.doc)
    settable = ", ".join(f"{name} = %s" for name in columns[1:])
    name, doc = table.name, table.doc
    marks = ", ".join(["%s"] * len(columns))
    return {
        "insert": f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608 - layout names only
        "copy": f"COPY {name} ({', '.join(columns)}) FROM STDIN",
        "update": f"UPDATE {name} SET {settable} WHERE id = %s AND version = %s",  # noqa: S608 - layout names only
        "get": f"SELECT id, {doc} FROM {name} WHERE id = %s",  # noqa: S608 - layout names only
        "get_many": f"SELECT id, {doc} FROM {name} WHERE id = ANY(%s)",  # noqa: S608 - layout names only
        "ids": f"SELECT id FROM {name} WHERE id = ANY(%s)",  # noqa: S608 - layout names only
        "version": f"SELECT version FROM {name} WHERE id = %s",  # noqa: S608 - layout names only
        "delete": f"DELETE FROM {name} WHERE id = ANY(%s)",  # noqa: S608 - layout names only
    }


SQL = {kind: statements(table) for kind, table in TABLES.items()}
INSERT_CONTACT = "INSERT INTO contacts (key, customer_id) VALUES (%s, %s)"
COPY_CONTACTS = "COPY contacts (key, customer_id) FROM STDIN"
DELETE_CONTACTS = "DELETE FROM contacts WHERE customer_id = %s"
LOOKUP = "SELECT customer_id FROM contacts WHERE key = %s ORDER BY customer_id"
AUDIT_COLUMNS = "at_us, actor, action, record_type, record_id, version, changes"
INSERT_AUDIT = f"INSERT INTO audit ({AUDIT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)"  # noqa: S608 - fixed names
COPY_AUDIT = f"COPY audit ({AUDIT_COLUMNS}) FROM STDIN"
READ_AUDIT = f"SELECT {AUDIT_COLUMNS} FROM audit WHERE record_id = %s ORDER BY seq"  # noqa: S608 - fixed names

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
# A JSON string, or a number written with a positive exponent (how Python writes floats
# from 1e16 up). jsonb keeps a number's digits but not its form, so 1e+16 would come back
# as the integer 10000000000000000; written 10000000000000000.0 it comes back a float.
_BIG_FLOAT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?\d+(?:\.\d+)?[eE]\+\d+)')


def _positional(match: re.Match[str]) -> str:
    number = match.group(1)
    if number is None:
        return match.group(0)
    mantissa, _, exponent = number.lower().partition("e+")
    whole, _, fraction = mantissa.partition(".")
    shift = int(exponent)
    digits = whole + fraction.ljust(shift, "0")
    return f"{digits[: len(whole) + shift]}.{digits[len(whole) + shift :] or '0'}"


def encode_document(document: Any) -> str:
    """JSON text for a jsonb column that reads back as the same Python values."""
    return _jsonb_text(_ENCODE(document))


def encode_record(record: Any) -> str:
    """:func:`encode_document` of the record's document, written without building it."""
    return _jsonb_text(to_json(record))


def _jsonb_text(text: str) -> str:
    if "e+" in text or "E+" in text:
        text = _BIG_FLOAT.sub(_positional, text)
    return text
