"""Dimensions of customer type, rules, and labels that explain themselves."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

import attrs

from custrec.classify._facts import Facts
from custrec.classify._schema import FactSchema
from custrec.errors import RuleSyntaxError, ValidationError
from custrec.expr import (
    And,
    Arith,
    Between,
    Call,
    Compare,
    Contains,
    Expr,
    Field,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
    compile_predicate,
    parse,
    read_field,
)
from custrec.model import FrozenMap, Money

__all__ = ["Dimension", "Label", "Rule", "RuleDimension", "fields_in", "show_value"]


def show_value(value: Any) -> str:
    """Render a fact's value for an explanation."""
    if value is None:
        return "none"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | Money):
        return str(value)
    if isinstance(value, tuple | frozenset):
        return ", ".join(sorted(map(str, value)))
    return str(value)


def _to_values(value: Mapping[str, Any] | None) -> FrozenMap[str, Any]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value or {})


@attrs.frozen
class Label:
    """One dimension's label for one customer, with why.

    Attributes:
        dimension: The dimension (``"value_tier"``).
        label: The label (``"high"``).
        reason: Why, in one sentence.
        rule: The rule that matched, as text; ``None`` when the default applied.
        values: The facts the decision used, by name.
    """

    dimension: str
    label: str
    reason: str
    rule: str | None = None
    values: FrozenMap[str, Any] = attrs.field(default=None, converter=_to_values)

    @classmethod
    def made(
        cls,
        dimension: str,
        label: str,
        reason: str,
        rule: str | None,
        values: FrozenMap[str, Any],
    ) -> Label:
        """Build a label whose ``values`` is already a :class:`~custrec.model.FrozenMap`.

        The same label as the constructor gives, without its conversion: for classifiers
        that label many customers at once.
        """
        made = _new_label(cls)
        set_dimension, set_label, set_reason, set_rule, set_values = _LABEL_SETTERS
        set_dimension(made, dimension)
        set_label(made, label)
        set_reason(made, reason)
        set_rule(made, rule)
        set_values(made, values)
        return made

    def explain(self) -> str:
        """Return the explanation as readable text."""
        shown = ", ".join(f"{name}={show_value(value)}" for name, value in self.values.items())
        return f"{self.dimension} = {self.label}: {self.reason}" + (f" [{shown}]" if shown else "")

    def to_dict(self) -> dict[str, Any]:
        """The label as JSON-ready data (fact values as text)."""
        return {
            "dimension": self.dimension,
            "label": self.label,
            "reason": self.reason,
            "rule": self.rule,
            "values": {name: _json_value(value) for name, value in self.values.items()},
        }


_new_label = object.__new__
_LABEL_SETTERS = tuple(
    Label.__dict__[field.name].__set__ for field in attrs.fields(Label)
)  # the slots' own setters: a frozen Label's fields are set once, as attrs sets them


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return show_value(value)


class Dimension(Protocol):
    """Assigns one label per customer. Rules, built-in classifiers and yours all fit.

    A dimension may also say which facts it reads, as a ``facts`` attribute (a set of fact
    names); a classification then computes only the facts its dimensions read. Without it,
    every fact is computed.
    """

    @property
    def name(self) -> str:
        """The dimension's name."""
        ...

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Label every customer in ``population`` (all facts share one as-of date).

        Population-based dimensions (quantiles, RFM) see everyone at once.
        """
        ...


def fields_in(expr: Expr) -> list[str]:
    """Return the field paths an expression reads, in order of first appearance."""
    found: dict[str, None] = {}

    def walk(node: Expr) -> None:
        if isinstance(node, Field):
            found[node.path] = None
        elif isinstance(node, Compare | Arith):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, And | Or):
            for item in node.items:
                walk(item)
        elif isinstance(node, Not | IsNull | In | Contains):
            walk(node.item)
        elif isinstance(node, Between):
            walk(node.item)
            walk(node.low)
            walk(node.high)
        elif isinstance(node, Call):
            for arg in node.args:
                walk(arg)
        elif isinstance(node, HasTag):
            found["tags"] = None

    walk(expr)
    return list(found)


Condition = Expr | str | Callable[[Facts], bool]


@attrs.frozen
class Rule:
    """A label and the condition that earns it.

    The condition is expression text (``"total_spend >= 10000"``), an expression built with
    :class:`~custrec.expr.F`, or a Python function of :class:`~custrec.classify.Facts`.

    Attributes:
        label: The label given when the condition holds.
        when: The condition.
        description: What the rule means, for explanations.
        uses: For a Python function, the facts to show in explanations.
    """

    label: str
    when: Condition
    description: str | None = None
    uses: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def text(self) -> str:
        """The rule as text, for explanations."""
        if isinstance(self.when, str):
            return self.when
        if isinstance(self.when, Expr):
            return repr(self.when)
        return getattr(self.when, "__name__", "python rule")


@attrs.frozen
class _Compiled:
    rule: Rule
    test: Callable[[Facts], bool]
    fields: tuple[str, ...]


class RuleDimension:
    """A dimension of ordered rules: the first that matches gives the label, else the default.

    Args:
        name: The dimension's name.
        rules: The rules, in order.
        default: The label when no rule matches.
        schema: The names rules may use; built-in and registered facts when ``None``.

    Raises:
        RuleSyntaxError: A text rule is malformed or names something unknown (with the
            position in its text).
        ValidationError: A rule compares a fact with a constant of the wrong kind.
    """

    def __init__(
        self,
        name: str,
        rules: Iterable[Rule],
        default: str,
        *,
        schema: FactSchema | None = None,
    ) -> None:
        self.name = name
        self.rules = tuple(rules)
        self.default = default
        self.schema = schema or default_schema()
        self._parsed = [self._parse(rule) for rule in self.rules]
        self.facts: frozenset[str] | None = self._facts_read()
        self._compiled: dict[date, list[_Compiled]] = {}
        # Compile once now so a bad rule fails when the dimension is built, not when used.
        self._compile(date(2000, 1, 1))

    def _parse(self, rule: Rule) -> Expr | Callable[[Facts], bool]:
        if isinstance(rule.when, str):
            return parse(rule.when, names=self.schema.names())
        if isinstance(rule.when, Expr) or callable(rule.when):
            return rule.when
        raise ValidationError("when", rule.when, "a rule is text, an expression or a function")

    def _facts_read(self) -> frozenset[str] | None:
        """The facts the rules read; ``None`` when a Python rule may read any."""
        exprs = [parsed for parsed in self._parsed if isinstance(parsed, Expr)]
        if len(exprs) < len(self._parsed):
            return None
        names = self.schema.fact_names()
        return frozenset(path for expr in exprs for path in fields_in(expr) if path in names)

    def _compile(self, as_of: date) -> list[_Compiled]:
        compiled = self._compiled.get(as_of)
        if compiled is None:
            compiled = []
            for rule, parsed in zip(self.rules, self._parsed, strict=True):
                if isinstance(parsed, Expr):
                    try:
                        test = compile_predicate(parsed, self.schema, as_of=as_of)
                    except ValidationError as exc:
                        if isinstance(rule.when, str):
                            position = _position_of(rule.when, exc)
                            raise RuleSyntaxError(rule.when, position, exc.reason) from None
                        raise
                    compiled.append(_Compiled(rule, test, tuple(fields_in(parsed))))
                else:
                    compiled.append(_Compiled(rule, _truthy(parsed), rule.uses))
            self._compiled = {as_of: compiled}
        return compiled

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Label each customer by the first matching rule."""
        out: dict[str, Label] = {}
        if not population:
            return out
        compiled = self._compile(population[0].as_of)
        for facts in population:
            out[facts.customer_id] = self.label_for(facts, compiled)
        return out

    @property
    def conditions(self) -> tuple[Expr | None, ...]:
        """Each rule's condition as an expression, ``None`` for a Python function."""
        return tuple(parsed if isinstance(parsed, Expr) else None for parsed in self._parsed)

    def assign_matched(
        self, population: Sequence[Facts], matched: Mapping[str, int]
    ) -> dict[str, Label]:
        """Label each customer by the rule already found to match first (rule push-down).

        ``matched`` gives a customer's first matching rule by index, or ``-1`` for none;
        customers missing from it (or with another value) are decided here as by
        :meth:`assign`. The labels are the ones :meth:`assign` gives when the indexes are
        right.
        """
        out: dict[str, Label] = {}
        if not population:
            return out
        compiled = self._compile(population[0].as_of)
        size = len(compiled)
        for facts in population:
            index = matched.get(facts.customer_id)
            if index is None or not -1 <= index < size:
                out[facts.customer_id] = self.label_for(facts, compiled)
            else:
                out[facts.customer_id] = self._label(facts, compiled, index)
        return out

    def label_for(self, facts: Facts, compiled: list[_Compiled] | None = None) -> Label:
        """Label one customer."""
        if compiled is None:
            compiled = self._compile(facts.as_of)
        for index, item in enumerate(compiled):
            if item.test(facts):
                return self._label(facts, compiled, index)
        return self._label(facts, compiled, -1)

    def _label(self, facts: Facts, compiled: list[_Compiled], index: int) -> Label:
        """The label of rule ``index`` (the default for ``-1``), with its explanation."""
        if index >= 0:
            item = compiled[index]
            reason = item.rule.description or f"rule matched: {item.rule.text()}"
            values = {path: _read(facts, path, self.schema) for path in item.fields}
            return Label(self.name, item.rule.label, reason, item.rule.text(), values)
        every = dict.fromkeys(path for item in compiled for path in item.fields)
        values = {path: _read(facts, path, self.schema) for path in every}
        return Label(self.name, self.default, "no rule matched; the default applies", None, values)


def _position_of(text: str, exc: ValidationError) -> int:
    """Where in ``text`` the constant or name a binding error is about appears (else 0)."""
    value = exc.value if isinstance(exc.value, str) else None
    candidates = [f"'{value}'", f'"{value}"', value] if value else []
    for what in (*candidates, exc.field):
        found = text.find(what) if what else -1
        if found >= 0:
            return found
    return 0


def _truthy(function: Callable[[Facts], bool]) -> Callable[[Facts], bool]:
    return lambda facts: function(facts) is True


def _read(facts: Facts, path: str, schema: FactSchema) -> Any:
    return read_field(facts, schema.field(path))


def default_schema() -> FactSchema:
    """The schema of built-in and registered facts."""
    from custrec.classify._registry import user_facts  # noqa: PLC0415 - registry imports us

    return FactSchema({name: definition.kind for name, definition in user_facts().items()})
