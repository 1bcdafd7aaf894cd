"""The SQLite store's schema: every migration step, oldest first.

A file records the steps applied to it in ``schema_migrations``; opening it applies the
missing ones in one transaction (see :class:`custrec.store._sqlite.SQLiteStore`). Published
steps never change; a new layout is a new step at the end. The PostgreSQL schema
(:mod:`custrec.store._pgschema`) uses the same :class:`Migration` record.
"""

from __future__ import annotations

import attrs

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration"]


@attrs.frozen
class Migration:
    """One step of the file's schema. Published steps never change; new ones are appended.

    Attributes:
        version: The schema version the step leads to.
        description: What it does.
        statements: The SQL it runs, in order.
    """

    version: int
    description: str
    statements: tuple[str, ...]


_HISTORY_COLUMNS = """
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    version INTEGER NOT NULL,
    at_us INTEGER NOT NULL"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "record tables, contact keys, audit trail",
        (
            """CREATE TABLE schema_migrations (
                version INTEGER PRIMARY KEY NOT NULL,
                applied_us INTEGER NOT NULL,
                description TEXT NOT NULL)""",
            """CREATE TABLE customers (
                id TEXT PRIMARY KEY NOT NULL,
                version INTEGER NOT NULL,
                name TEXT,
                company TEXT,
                created_us INTEGER NOT NULL,
                updated_us INTEGER NOT NULL,
                reviewed_us INTEGER,
                doc TEXT NOT NULL)""",
            f"CREATE TABLE interactions ({_HISTORY_COLUMNS},\n    doc TEXT NOT NULL)",
            f"""CREATE TABLE transactions ({_HISTORY_COLUMNS},
                total_minor INTEGER NOT NULL,
                currency TEXT NOT NULL,
                status TEXT NOT NULL,
                refund_minor INTEGER NOT NULL,
                doc TEXT NOT NULL)""",
            f"""CREATE TABLE feedback ({_HISTORY_COLUMNS},
                rating INTEGER,
                nps INTEGER,
                doc TEXT NOT NULL)""",
            "CREATE INDEX interactions_customer_at ON interactions (customer_id, at_us)",
            "CREATE INDEX transactions_customer_at ON transactions (customer_id, at_us)",
            "CREATE INDEX feedback_customer_at ON feedback (customer_id, at_us)",
            """CREATE TABLE contacts (
                key TEXT NOT NULL,
                customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                PRIMARY KEY (key, customer_id)) WITHOUT ROWID""",
            "CREATE INDEX contacts_customer ON contacts (customer_id)",
            """CREATE TABLE audit (
                seq INTEGER PRIMARY KEY,
                at_us INTEGER NOT NULL,
                actor TEXT,
                action TEXT NOT NULL,
                record_type TEXT NOT NULL,
                record_id TEXT NOT NULL,
                version INTEGER NOT NULL,
                changes TEXT NOT NULL)""",
            "CREATE INDEX audit_record ON audit (record_id, seq)",
            """CREATE TABLE documents (
                collection TEXT NOT NULL,
                key TEXT NOT NULL,
                doc TEXT NOT NULL,
                PRIMARY KEY (collection, key)) WITHOUT ROWID""",
        ),
    ),
    Migration(
        2,
        "transactions: when the last refund was paid",
        # Files written before this step leave it NULL: their refunds are dated the slow way.
        ("ALTER TABLE transactions ADD COLUMN refund_last_us INTEGER",),
    ),
    Migration(
        3,
        "contacts: keys stored as 64-bit hashes",
        # The text keys made the biggest index a bulk add writes at random places; their
        # 8-byte hashes (custrec_key_hash, see key_hash) make it less than half the size.
        # Two keys of one customer that share a hash keep one row; lookups check the key.
        (
            """CREATE TABLE contacts_hashed (
                key_hash INTEGER NOT NULL,
                customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                PRIMARY KEY (key_hash, customer_id)) WITHOUT ROWID""",
            "INSERT OR IGNORE INTO contacts_hashed (key_hash, customer_id)"
            " SELECT custrec_key_hash(key), customer_id FROM contacts ORDER BY 1, 2",
            "DROP TABLE contacts",
            "ALTER TABLE contacts_hashed RENAME TO contacts",
            "CREATE INDEX contacts_customer ON contacts (customer_id)",
        ),
    ),
    Migration(
        4,
        "contacts: new keys in a small side table, merged into the big one in bulk",
        # Random hashes land all over the contacts index, so every commit of a bulk add
        # rewrote most of its pages. New keys go to contacts_recent instead, whose few pages
        # stay hot; now and then (see _sqlcontacts.ContactMerger) they move to contacts in
        # one sorted pass, which rewrites each page of the big index once for many batches
        # (an LSM tree's trick). Readers see both tables (lookups query each by its index;
        # the contacts_all view joins them for anyone else).
        (
            """CREATE TABLE contacts_recent (
                key_hash INTEGER NOT NULL,
                customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                PRIMARY KEY (key_hash, customer_id)) WITHOUT ROWID""",
            "CREATE INDEX contacts_recent_customer ON contacts_recent (customer_id)",
            """CREATE VIEW contacts_all (key_hash, customer_id) AS
                SELECT key_hash, customer_id FROM contacts
                UNION ALL SELECT key_hash, customer_id FROM contacts_recent""",
        ),
    ),
)
"""Every schema step, oldest first."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this custrec writes."""
