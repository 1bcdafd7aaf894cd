"""Import and export: spreadsheets in, spreadsheets out, nothing lost.

>>> from custrec.io import import_customers
>>> report = import_customers(store, "customers.csv")  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP

Customers come in from CSV (UTF-8, UTF-8 with BOM, GB18030/GBK or UTF-16, detected),
Excel ``.xlsx`` (the extra ``custrec[excel]``), JSON Lines and vCard 3.0/4.0; their
interactions, transactions and feedback from their own files, linked by customer id.
Columns are mapped by English and Chinese header synonyms, the template's custom fields and
the caller's overrides. Every row read is stored, updated, rejected (with its row number,
column, value and reason) or skipped. Export writes the same formats.
"""

from custrec.io._cells import MAX_CELL, read_phones, split_address
from custrec.io._csv import escape_formula
from custrec.io._encoding import ENCODINGS, detect_encoding
from custrec.io._export import CUSTOMER_COLUMNS, column_label, export_customers, export_history
from custrec.io._import import NATURAL_KEYS, import_customers, import_history
from custrec.io._mapping import (
    CUSTOMER_TARGETS,
    FEEDBACK_TARGETS,
    INTERACTION_TARGETS,
    TRANSACTION_TARGETS,
    ColumnMapping,
    ResolvedColumns,
    fold_header,
)
from custrec.io._report import ImportProgress, ImportReport, ProgressCallback, Reject
from custrec.io._table import FORMATS

__all__ = [
    "CUSTOMER_COLUMNS",
    "CUSTOMER_TARGETS",
    "ENCODINGS",
    "FEEDBACK_TARGETS",
    "FORMATS",
    "INTERACTION_TARGETS",
    "MAX_CELL",
    "NATURAL_KEYS",
    "TRANSACTION_TARGETS",
    "ColumnMapping",
    "ImportProgress",
    "ImportReport",
    "ProgressCallback",
    "Reject",
    "ResolvedColumns",
    "column_label",
    "detect_encoding",
    "escape_formula",
    "export_customers",
    "export_history",
    "fold_header",
    "import_customers",
    "import_history",
    "read_phones",
    "split_address",
]
