"""One small expression language for store queries, classification rules and checks.

Build expressions in Python with :class:`F` and the node classes, or write them as text and
:func:`parse` them into the same trees. Stores compile them to SQL; the
evaluator here runs them over records in memory. Both follow SQL's three-valued logic.
"""

from custrec.expr._ast import (
    And,
    Arith,
    Between,
    Call,
    Compare,
    Const,
    Contains,
    Expr,
    F,
    Field,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
    Scalar,
    const,
    has_tag,
)
from custrec.expr._bind import MAX_DEPTH, BoundField, bind
from custrec.expr._catalog import (
    FieldKind,
    FieldSpec,
    RecordSchema,
    Schema,
    field_spec,
    fields_of,
    read_field,
    schema_of,
)
from custrec.expr._evaluate import compare, compile_predicate, compile_value, sort_key
from custrec.expr._parser import FUNCTIONS, MAX_LENGTH, parse

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "And",
    "Arith",
    "Between",
    "BoundField",
    "Call",
    "Compare",
    "Const",
    "Contains",
    "Expr",
    "F",
    "Field",
    "FieldKind",
    "FieldSpec",
    "HasTag",
    "In",
    "IsNull",
    "Not",
    "Or",
    "RecordSchema",
    "Scalar",
    "Schema",
    "bind",
    "compare",
    "compile_predicate",
    "compile_value",
    "const",
    "field_spec",
    "fields_of",
    "has_tag",
    "parse",
    "read_field",
    "schema_of",
    "sort_key",
]
