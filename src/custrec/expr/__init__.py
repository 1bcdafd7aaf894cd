"""One small expression language for store queries, classification rules and checks.

Build expressions in Python with :class:`F` and the node classes; the text parser arrives with
the classification layer and produces the same trees. Stores compile them to SQL; the
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
from custrec.expr._catalog import FieldKind, FieldSpec, field_spec, fields_of, read_field
from custrec.expr._evaluate import compare, compile_predicate, compile_value, sort_key

__all__ = [
    "MAX_DEPTH",
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
    "Scalar",
    "bind",
    "compare",
    "compile_predicate",
    "compile_value",
    "const",
    "field_spec",
    "fields_of",
    "has_tag",
    "read_field",
    "sort_key",
]
