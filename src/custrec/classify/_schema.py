"""What classification rules may name: facts, user facts and the customer's own fields."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from custrec.classify._facts import FACT_KINDS, FactKind
from custrec.errors import ValidationError
from custrec.expr import FUNCTIONS, FieldKind, FieldSpec, field_spec, fields_of, read_field
from custrec.model import Customer

__all__ = ["FactSchema"]

_KINDS = {
    FactKind.NUMBER: FieldKind.NUMBER,
    FactKind.DATETIME: FieldKind.DATETIME,
    FactKind.TEXT: FieldKind.TEXT,
}


@attrs.frozen
class FactSchema:
    """The names rules over :class:`~custrec.classify.Facts` may use.

    Facts by name (``total_spend``), user facts, and the customer's fields (``company``,
    ``industry``, ``tags`` through ``has_tag``, ``custom.<key>``).

    Attributes:
        extra: User facts and their kinds.
    """

    extra: Mapping[str, FactKind] = attrs.field(factory=dict)
    name: str = "facts"
    functions: frozenset[str] = frozenset(FUNCTIONS) - {"has_tag", "date", "money"}

    def names(self) -> frozenset[str]:
        """Every name a rule may start with (for the parser's unknown-name errors)."""
        return frozenset({*FACT_KINDS, *self.extra, *fields_of(Customer), "custom", "external_ids"})

    def fact_names(self) -> frozenset[str]:
        """The names of the facts (built-in and user facts), not the customer's fields."""
        return frozenset({*FACT_KINDS, *self.extra})

    def field(self, path: str) -> FieldSpec:
        """Return how to read ``path`` from facts.

        Raises:
            ValidationError: Neither a fact nor a customer field.
        """
        kind = FACT_KINDS.get(path) or self.extra.get(path)
        if kind is not None:
            return FieldSpec(
                path, _KINDS[kind], "values", key=path, reader=lambda facts: facts.get(path)
            )
        try:
            spec = field_spec(Customer, path)
        except ValidationError:
            raise ValidationError(
                "field", path, "neither a fact nor a customer field (see custrec.classify.FACTS)"
            ) from None
        return attrs.evolve(spec, reader=lambda facts: read_field(facts.customer, spec))
