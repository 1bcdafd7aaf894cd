"""Rule matching in SQL: the first of several conditions each customer meets, by the database.

Classification rules are compiled (by :mod:`custrec.classify._pushdown`) into conditions over a
small per-customer *facts relation*: sales, contact and rating aggregates before a cut-off and
a few customer columns, every amount a whole number (minor units, epoch microseconds, counts).
A store offering :class:`SupportsRuleMatching` renders those conditions in its own SQL
dialect, as one ``CASE`` per customer, and returns the index of the first condition that holds.

Conditions follow SQL's three-valued logic, which is the expression language's. Only column
names from :data:`RULE_COLUMNS` and whole numbers reach the SQL text (windows, checked);
every value travels as a bound parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, Protocol, TypeAlias, runtime_checkable

import attrs

from custrec.errors import ValidationError
from custrec.store._aggregate import window_starts
from custrec.store._sqlcompile import epoch_us

__all__ = [
    "NO_MATCH",
    "RULE_COLUMNS",
    "UNDECIDED",
    "AllOf",
    "AnyOf",
    "Cmp",
    "Column",
    "Condition",
    "Missing",
    "Negate",
    "RuleQuery",
    "SupportsRuleMatching",
    "Truth",
    "Value",
    "match_rules_sql",
]

NO_MATCH = -1
"""The index given to a customer no condition holds for."""

UNDECIDED = -2
"""The index given to a customer the facts relation cannot describe exactly.

A sale refunded after the cut-off, or with refunds the table cannot date, makes the net spend
unknown to SQL alone; such customers are left for the caller to decide in Python.
"""

RULE_COLUMNS: Mapping[str, str] = {
    "orders": "counted sales before the cut-off",
    "spend": "their total in minor units, net of refunds paid before the cut-off",
    "refund": "refunds paid before the cut-off, in minor units",
    "refunds": "counted sales with a refund paid before the cut-off",
    "first_us": "the first counted sale, in epoch microseconds (NULL without one)",
    "last_us": "the last counted sale, in epoch microseconds (NULL without one)",
    "other": "sales in another currency",
    "contacts": "interactions before the cut-off",
    "contact_us": "the last interaction, in epoch microseconds (NULL without one)",
    "ratings": "feedback with a rating",
    "created_us": "when the customer was created, in epoch microseconds",
}
"""The columns of the facts relation (plus ``o<n>``, ``s<n>`` and ``i<n>`` per window: orders,
spend and interactions in the trailing ``n`` days)."""

_WINDOWED = ("o", "s", "i")

CmpOp = Literal["==", "!=", "<", "<=", ">", ">="]


def _check_column(instance: Column, attribute: attrs.Attribute[str], name: str) -> None:
    head, digits = name[:1], name[1:]
    if name not in RULE_COLUMNS and not (head in _WINDOWED and digits.isdigit()):
        raise ValidationError("column", name, "not a column of the facts relation")


@attrs.frozen
class Column:
    """A column of the facts relation.

    Attributes:
        name: One of :data:`RULE_COLUMNS`, or ``o<n>`` / ``s<n>`` / ``i<n>`` for a window.
    """

    name: str = attrs.field(validator=_check_column)


_INT64 = 1 << 63


def _check_value(instance: Value, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int or not -_INT64 <= value < _INT64:
        raise ValidationError("value", value, "a rule value is a 64-bit whole number")


@attrs.frozen
class Value:
    """A whole number, bound as a parameter.

    Attributes:
        value: The number (64-bit).
    """

    value: int = attrs.field(validator=_check_value)


@attrs.frozen
class Cmp:
    """``left op right`` (unknown when either side is NULL).

    Attributes:
        op: The operator.
        left: Left operand.
        right: Right operand.
    """

    op: CmpOp
    left: Column | Value
    right: Column | Value


def _conditions(value: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(value)


@attrs.frozen
class AllOf:
    """Every condition holds (true for none).

    Attributes:
        items: The conditions.
    """

    items: tuple[Condition, ...] = attrs.field(converter=_conditions)


@attrs.frozen
class AnyOf:
    """Some condition holds (false for none).

    Attributes:
        items: The conditions.
    """

    items: tuple[Condition, ...] = attrs.field(converter=_conditions)


@attrs.frozen
class Negate:
    """The condition does not hold (unknown stays unknown).

    Attributes:
        item: The condition.
    """

    item: Condition


@attrs.frozen
class Missing:
    """The column, or the condition, is NULL (unknown).

    Attributes:
        item: A column or a condition.
    """

    item: Column | Condition


@attrs.frozen
class Truth:
    """A constant truth value: true, false or unknown (``None``).

    Attributes:
        value: The value.
    """

    value: bool | None


Condition: TypeAlias = Cmp | AllOf | AnyOf | Negate | Missing | Truth
"""A condition over the facts relation."""


def _windows(value: Sequence[int]) -> tuple[int, ...]:
    windows = tuple(value)
    for n in windows:
        if type(n) is not int or n <= 0:
            raise ValidationError("windows", n, "a window is a positive whole number of days")
    return windows


def _rule_lists(value: Iterable[Iterable[Condition]]) -> tuple[tuple[Condition, ...], ...]:
    return tuple(tuple(conditions) for conditions in value)


def _names(value: Iterable[str]) -> tuple[str, ...]:
    names = tuple(value)
    for name in names:
        Column(name)
    return names


@attrs.frozen
class RuleQuery:
    """Which condition of each list every customer created before ``cutoff`` meets first.

    Attributes:
        cutoff: History at or after it is left out, and so are customers created at or after.
        currency: Sales count in this currency only (others count in ``other``).
        windows: The trailing windows the ``o<n>``/``s<n>``/``i<n>`` columns may name.
        rules: Lists of conditions, in order: one list per dimension.
        columns: Columns of the facts relation to hand back too (for explanations).
    """

    cutoff: datetime
    currency: str
    windows: tuple[int, ...] = attrs.field(converter=_windows)
    rules: tuple[tuple[Condition, ...], ...] = attrs.field(converter=_rule_lists)
    columns: tuple[str, ...] = attrs.field(default=(), converter=_names)

    def read(self) -> frozenset[str]:
        """The columns the conditions read or the query hands back."""
        found: set[str] = set(self.columns)
        for conditions in self.rules:
            for condition in conditions:
                _collect(condition, found)
        return frozenset(found)


def _collect(node: Condition | Column | Value, found: set[str]) -> None:
    if isinstance(node, Column):
        found.add(node.name)
    elif isinstance(node, Cmp):
        _collect(node.left, found)
        _collect(node.right, found)
    elif isinstance(node, AllOf | AnyOf):
        for item in node.items:
            _collect(item, found)
    elif isinstance(node, Negate | Missing):
        _collect(node.item, found)


@runtime_checkable
class SupportsRuleMatching(Protocol):
    """A store that finds, in its database, the first rule condition each customer meets."""

    def match_rules(self, query: RuleQuery) -> list[tuple[Any, ...]]:
        """Each customer's first condition that holds in each list, in id order.

        A row is the customer's id, then for each list of :attr:`RuleQuery.rules` the index
        of its first condition that holds (:data:`NO_MATCH` when none does, :data:`UNDECIDED`
        when the facts relation cannot describe the customer exactly), then the values of
        :attr:`RuleQuery.columns`.
        """
        ...


@attrs.frozen
class _Dialect:
    param: Callable[[str], str]
    true: str
    false: str
    null: str
    count_if: Callable[[str], str]
    sum_if: Callable[[str, str], str]
    big: str  # a cast suffix making sums 64-bit


_SQLITE = _Dialect(
    param=lambda name: f":{name}",
    true="1",
    false="0",
    null="NULL",
    count_if=lambda cond: f"SUM({cond})",
    sum_if=lambda cond, value: f"SUM(CASE WHEN {cond} THEN {value} ELSE 0 END)",
    big="",
)

_POSTGRES = _Dialect(
    param=lambda name: f"%({name})s",
    true="TRUE",
    false="FALSE",
    null="NULL::boolean",
    count_if=lambda cond: f"COUNT(*) FILTER (WHERE {cond})",
    sum_if=lambda cond, value: f"coalesce(SUM({value}) FILTER (WHERE {cond}), 0)::bigint",
    big="::bigint",
)

DIALECTS = {"sqlite": _SQLITE, "postgresql": _POSTGRES}

_NETTED = frozenset({"spend", "refund", "refunds"})
"""The columns refunds change (and every ``s<n>``)."""
_SALES_COLUMNS = frozenset({"orders", "spend", "refund", "refunds", "first_us", "last_us"})
_NULLABLE = {"first_us": "s", "last_us": "s", "contact_us": "i", "created_us": "c"}


def _source(name: str) -> str:
    """The joined relation a column comes from."""
    if name in _NULLABLE:
        return _NULLABLE[name]
    if name in _SALES_COLUMNS or (name[0] in "os" and name[1:].isdigit()):
        return "s"
    if name == "other":
        return "x"
    if name == "ratings":
        return "r"
    return "i"


def _reference(name: str) -> str:
    source = _source(name)
    if name in _NULLABLE:
        return f"{source}.{name}"
    return f"coalesce({source}.{name}, 0)"


class _Renderer:
    def __init__(self, dialect: _Dialect) -> None:
        self.dialect = dialect
        self.params: dict[str, Any] = {}

    def value(self, node: Column | Value) -> str:
        if isinstance(node, Column):
            return _reference(node.name)
        name = f"v{len(self.params)}"
        self.params[name] = node.value
        return self.dialect.param(name)

    def condition(self, node: Condition) -> str:
        d = self.dialect
        if isinstance(node, Cmp):
            op = "=" if node.op == "==" else "<>" if node.op == "!=" else node.op
            return f"({self.value(node.left)} {op} {self.value(node.right)})"
        if isinstance(node, AllOf | AnyOf):
            if not node.items:
                return d.true if isinstance(node, AllOf) else d.false
            joiner = " AND " if isinstance(node, AllOf) else " OR "
            return "(" + joiner.join(self.condition(item) for item in node.items) + ")"
        if isinstance(node, Negate):
            return f"(NOT {self.condition(node.item)})"
        if isinstance(node, Missing):
            inner = node.item
            shown = self.value(inner) if isinstance(inner, Column) else self.condition(inner)
            return f"({shown} IS NULL)"
        if node.value is None:
            return d.null
        return d.true if node.value else d.false


def match_rules_sql(query: RuleQuery, dialect: str) -> tuple[str, dict[str, Any]]:
    """The statement answering ``query`` in ``dialect`` (``"sqlite"``, ``"postgresql"``).

    It returns the rows :meth:`SupportsRuleMatching.match_rules` describes, in id order.

    Raises:
        ValidationError: A window column names a window the query does not have.
    """
    d = DIALECTS[dialect]
    columns = query.read()
    for name in columns:
        if name[0] in _WINDOWED and name[1:].isdigit() and int(name[1:]) not in query.windows:
            raise ValidationError("column", name, "names a window the query does not have")
    render = _Renderer(d)
    sources = {_source(name) for name in columns}
    # A customer whose net spend SQL cannot know is left undecided when anything netted of
    # refunds is read: deciding it in Python is always right.
    sales = "s" in sources
    netted = any(name in _NETTED or (name[0] == "s" and name[1:].isdigit()) for name in columns)
    undecided = f" WHEN s.undated > 0 THEN {UNDECIDED}" if netted else ""
    cases = []
    for conditions in query.rules:
        arms = "".join(
            f" WHEN {render.condition(condition)} THEN {index}"
            for index, condition in enumerate(conditions)
        )
        cases.append(f"CASE{undecided}{arms} ELSE {NO_MATCH} END")
    shown = ", ".join([*cases, *(_reference(name) for name in query.columns)])
    p = d.param
    joins = []
    if sales:
        joins.append(f"LEFT JOIN ({_sales(d, query.windows)}) AS s ON s.customer_id = c.id")
    if "i" in sources:
        joins.append(f"LEFT JOIN ({_contacts(d, query.windows)}) AS i ON i.customer_id = c.id")
    if "x" in sources:
        joins.append(
            "LEFT JOIN (SELECT customer_id, COUNT(*) AS other FROM transactions"  # noqa: S608 - names and parameter markers only
            f" WHERE at_us < {p('cutoff')} AND status <> 'cancelled'"
            f" AND currency <> {p('currency')} GROUP BY customer_id) AS x"
            " ON x.customer_id = c.id"
        )
    if "r" in sources:
        joins.append(
            "LEFT JOIN (SELECT customer_id, COUNT(rating) AS ratings FROM feedback"  # noqa: S608 - names and parameter markers only
            f" WHERE at_us < {p('cutoff')} GROUP BY customer_id) AS r ON r.customer_id = c.id"
        )
    sql = (
        f"SELECT c.id, {shown} FROM customers AS c {' '.join(joins)}"  # noqa: S608 - names and parameter markers only
        f" WHERE c.created_us < {p('cutoff')} ORDER BY c.id"
    )
    params: dict[str, Any] = {"cutoff": epoch_us(query.cutoff), "currency": query.currency}
    starts = window_starts(query.cutoff, query.windows)
    params.update({f"w{n}": epoch_us(start) for n, start in starts.items()})
    params.update(render.params)
    return sql, params


def _sales(d: _Dialect, windows: Sequence[int]) -> str:
    """Counted sales per customer: the sales columns, windows, and the undated refunds."""
    p = d.param
    if d is _SQLITE:
        # Refunds dated before the cut-off are netted here; the others make the row undated.
        paid = f"(CASE WHEN refund_last_us < {p('cutoff')} THEN refund_minor ELSE 0 END)"
        undated = (
            f"refund_minor <> 0 AND (refund_last_us IS NULL OR refund_last_us >= {p('cutoff')})"
        )
    else:
        # PostgreSQL keeps no refund dates in columns: every refunded sale is undated.
        paid, undated = "0", "refund_minor <> 0"
    net = f"(total_minor - {paid})"
    per_window = "".join(
        f", {d.count_if(_since(d, n))} AS o{n}, {d.sum_if(_since(d, n), net)} AS s{n}"
        for n in windows
    )
    return (
        f"SELECT customer_id, COUNT(*) AS orders, SUM({net}){d.big} AS spend,"  # noqa: S608 - names and parameter markers only
        f" SUM({paid}){d.big} AS refund, {d.count_if(f'{paid} > 0')} AS refunds,"
        f" MIN(at_us) AS first_us, MAX(at_us) AS last_us,"
        f" {d.count_if(undated)} AS undated{per_window}"
        f" FROM transactions WHERE at_us < {p('cutoff')} AND status <> 'cancelled'"
        f" AND currency = {p('currency')} GROUP BY customer_id"
    )


def _contacts(d: _Dialect, windows: Sequence[int]) -> str:
    p = d.param
    per_window = "".join(f", {d.count_if(_since(d, n))} AS i{n}" for n in windows)
    return (
        f"SELECT customer_id, COUNT(*) AS contacts, MAX(at_us) AS contact_us{per_window}"  # noqa: S608 - names and parameter markers only
        f" FROM interactions WHERE at_us < {p('cutoff')} GROUP BY customer_id"
    )


def _since(d: _Dialect, n: int) -> str:
    """The condition "within the trailing ``n`` days"."""
    return f"at_us >= {d.param(f'w{n}')}"
