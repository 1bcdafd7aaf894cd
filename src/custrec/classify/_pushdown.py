"""Rule push-down: a rule dimension's conditions compiled to SQL conditions over facts.

When a classification runs over a store that matches rules in its database
(:class:`~custrec.store._sqlrules.SupportsRuleMatching`: SQLite and PostgreSQL) and every
dimension is a :class:`~custrec.classify.RuleDimension` whose rules all have an exact SQL
form, one statement gives each customer's first matching rule per dimension and the columns
of the facts the rules read; the labels and explanations are then made exactly as the Python
path makes them (:func:`classify_in_store`).

A rule has an SQL form when it is an expression (not a Python function) over the facts in
:data:`PUSHABLE_FACTS`, built from comparisons with constants or with facts of the same
unit, ``and``/``or``/``not``, ``in``, ``between`` and ``is null``. Anything else (customer
fields, user facts, arithmetic, function calls, ``contains``) keeps the run on the Python
path, so push-down never changes an answer, only where it is computed.

Every comparison becomes one between whole numbers: money in minor units (``total_spend >=
99.5`` is ``spend >= 9950``), times in epoch microseconds, and day counts as times
(``recency_days <= 30`` is "the last sale is at or after the start of the local day 30 days
before the as-of day", in the configured zone, on the as-of day the Python path uses).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Any, cast

import attrs

from custrec import config
from custrec.classify._dimension import Label, RuleDimension
from custrec.classify._facts import Deriver, Facts, cutoff_of, local_day
from custrec.classify._registry import user_facts
from custrec.classify._schema import FactSchema
from custrec.errors import ValidationError
from custrec.expr import And, Between, Compare, Const, Expr, F, In, IsNull, Not, Or
from custrec.expr._bind import BoundField, bind
from custrec.expr._evaluate import compare
from custrec.model import currency_exponent
from custrec.store import Store, aggregate_history
from custrec.store._sqlcompile import epoch_us
from custrec.store._sqlrules import (
    UNDECIDED,
    AllOf,
    AnyOf,
    Cmp,
    CmpOp,
    Column,
    Condition,
    Missing,
    Negate,
    RuleQuery,
    SupportsRuleMatching,
    Truth,
    Value,
)

__all__ = ["PUSHABLE_FACTS", "classify_in_store", "matched_rules", "rule_query"]


@attrs.frozen
class _Scaled:
    """A fact equal to a column divided by ``10 ** scale`` (counts, money)."""

    column: str
    scale: int


@attrs.frozen
class _Instant:
    """A datetime fact held as epoch microseconds."""

    column: str


@attrs.frozen
class _Days:
    """Whole days from the local day of a column's instant to the as-of day."""

    column: str


_Fact = _Scaled | _Instant | _Days

_MONEY = -1  # stands for the currency's exponent, known when compiling


def _facts(windows: Sequence[int]) -> dict[str, _Fact]:
    facts: dict[str, _Fact] = {
        "order_count": _Scaled("orders", 0),
        "total_spend": _Scaled("spend", _MONEY),
        "refund_total": _Scaled("refund", _MONEY),
        "refund_count": _Scaled("refunds", 0),
        "first_purchase": _Instant("first_us"),
        "last_purchase": _Instant("last_us"),
        "recency_days": _Days("last_us"),
        "other_currency_orders": _Scaled("other", 0),
        "interaction_count": _Scaled("contacts", 0),
        "last_contact": _Instant("contact_us"),
        "days_since_contact": _Days("contact_us"),
        "rating_count": _Scaled("ratings", 0),
        "tenure_days": _Days("created_us"),
    }
    for n in windows:
        facts[f"orders_{n}d"] = _Scaled(f"o{n}", 0)
        facts[f"spend_{n}d"] = _Scaled(f"s{n}", _MONEY)
        facts[f"interactions_{n}d"] = _Scaled(f"i{n}", 0)
    return facts


PUSHABLE_FACTS = frozenset(_facts((30, 90, 365)))
"""The built-in facts rules can be pushed down over (windowed ones for the run's windows)."""


class _NoSqlForm(Exception):  # noqa: N818 - internal signal, never escapes this module
    """The expression has no exact SQL form: the dimension stays on the Python path."""


def rule_query(
    conditions: Sequence[Expr | None],
    schema: Any,
    *,
    as_of: date,
    currency: str,
    windows: Sequence[int],
    cutoff: datetime,
    user_facts: frozenset[str] = frozenset(),
) -> RuleQuery | None:
    """The SQL form of a dimension's rule conditions, or ``None`` when one has none.

    Args:
        conditions: Each rule's condition; ``None`` for a Python function (no SQL form).
        schema: The schema the rules are written against (bound here, as in Python).
        as_of: The day the facts hold for (day counts count to it).
        currency: The currency money facts are in.
        windows: The run's trailing windows.
        cutoff: The first instant after ``as_of`` in the configured zone.
        user_facts: Names whose values come from registered facts: never pushed down.

    Raises:
        ValidationError: A condition does not fit the schema (as the Python path would).
    """
    exponent = currency_exponent(currency)
    if exponent is None:
        return None
    compiler = _Compiler(_facts(windows), exponent, as_of, config.get().zone, user_facts)
    compiled: list[Condition] = []
    for condition in conditions:
        if condition is None:
            return None
        bound = bind(condition, schema)
        try:
            compiled.append(compiler.condition(bound))
        except _NoSqlForm:
            return None
    return RuleQuery(cutoff, currency, tuple(windows), (tuple(compiled),))


_FLIP: Mapping[str, CmpOp] = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _Compiler:
    def __init__(
        self,
        facts: Mapping[str, _Fact],
        exponent: int,
        as_of: date,
        zone: tzinfo,
        user_facts: frozenset[str],
    ) -> None:
        self.facts = facts
        self.exponent = exponent
        self.as_of = as_of
        self.zone = zone
        self.user_facts = user_facts

    def condition(self, node: Expr) -> Condition:
        if isinstance(node, Compare):
            return self.compare(node.op, node.left, node.right)
        if isinstance(node, And):
            return AllOf(self.condition(item) for item in node.items)
        if isinstance(node, Or):
            return AnyOf(self.condition(item) for item in node.items)
        if isinstance(node, Not):
            return Negate(self.condition(node.item))
        if isinstance(node, In):
            return AnyOf(self.compare("==", node.item, option) for option in node.options)
        if isinstance(node, Between):
            low = self.compare(">=", node.item, node.low)
            return AllOf((low, self.compare("<=", node.item, node.high)))
        if isinstance(node, IsNull):
            return self.missing(node.item)
        if isinstance(node, Const) and (node.value is None or isinstance(node.value, bool)):
            return Truth(node.value)
        raise _NoSqlForm

    def fact(self, node: Expr) -> _Fact | None:
        """The fact a bound field reads, ``None`` for a constant; no SQL form otherwise."""
        if isinstance(node, Const):
            return None
        if isinstance(node, BoundField) and node.path not in self.user_facts:
            found = self.facts.get(node.path)
            if found is not None:
                return found
        raise _NoSqlForm

    def scale(self, fact: _Scaled) -> int:
        return self.exponent if fact.scale == _MONEY else fact.scale

    def missing(self, node: Expr) -> Condition:
        if isinstance(node, Const):
            return Truth(node.value is None)
        if isinstance(node, BoundField):
            found = self.fact(node)
            assert found is not None  # noqa: S101 - a field is not a constant
            # Counts and money are never missing (a customer without sales has 0); times
            # and day counts are missing exactly when their column is.
            return Missing(Column(found.column))
        return Missing(self.condition(node))

    def compare(self, op: CmpOp, left: Expr, right: Expr) -> Condition:
        a, b = self.fact(left), self.fact(right)
        if a is None and b is None:
            assert isinstance(left, Const)  # noqa: S101 - neither side is a fact
            assert isinstance(right, Const)  # noqa: S101
            return Truth(compare(op, left.value, right.value))
        if a is None:
            op, left, right, a, b = _FLIP[op], right, left, b, a
        assert a is not None  # noqa: S101 - one side is a fact
        if b is not None:
            return self.between_facts(op, a, b)
        assert isinstance(right, Const)  # noqa: S101 - the other side is a constant
        value = right.value
        if value is None:
            return Truth(None)
        if isinstance(a, _Instant):
            if not isinstance(value, datetime):
                return Truth(None)  # another kind of value: unknown, as in Python
            return Cmp(op, Column(a.column), _value(epoch_us(value)))
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
            return Truth(None)
        if isinstance(a, _Scaled):
            return _whole(op, Column(a.column), Fraction(value) * 10 ** self.scale(a))
        return self.days(op, a, Fraction(value))

    def between_facts(self, op: CmpOp, a: _Fact, b: _Fact) -> Condition:
        same_unit = (
            isinstance(a, _Scaled) and isinstance(b, _Scaled) and self.scale(a) == self.scale(b)
        ) or (isinstance(a, _Instant) and isinstance(b, _Instant))
        if not same_unit:
            raise _NoSqlForm
        return Cmp(op, Column(a.column), Column(b.column))

    def days(self, op: CmpOp, fact: _Days, bound: Fraction) -> Condition:
        """``days op bound``, where days = as-of day - local day of the column's instant."""
        at = Column(fact.column)
        if bound.denominator != 1:
            if op in ("==", "!="):
                return _never(at) if op == "==" else _always(at)
            whole = math.floor(bound) if op in ("<", "<=") else math.ceil(bound)
            return self.days("<=" if op in ("<", "<=") else ">=", fact, Fraction(whole))
        n = int(bound)
        if op == "<":
            op, n = "<=", n - 1
        elif op == ">":
            op, n = ">=", n + 1
        # days <= n: the local day is on or after as_of - n; days >= n: on or before it.
        if op == "<=":
            return self.on_or_after(at, n)
        if op == ">=":
            return self.before(at, n - 1)
        if op == "==":
            return AllOf((self.on_or_after(at, n), self.before(at, n - 1)))
        return AnyOf((Negate(self.on_or_after(at, n)), Negate(self.before(at, n - 1))))

    def on_or_after(self, at: Column, days_before: int) -> Condition:
        """``at`` is on or after the local day ``days_before`` days before the as-of day."""
        start = self.day_start(days_before)
        if start is None:  # a day before the calendar (always) or after it (never)
            return _always(at) if days_before > 0 else _never(at)
        return Cmp(">=", at, _value(start))

    def before(self, at: Column, days_before: int) -> Condition:
        """``at`` is before the local day ``days_before`` days before the as-of day."""
        start = self.day_start(days_before)
        if start is None:
            return _never(at) if days_before > 0 else _always(at)
        return Cmp("<", at, _value(start))

    def day_start(self, days_before: int) -> int | None:
        """The first instant of the local day ``days_before`` days before the as-of day.

        ``None`` when that day is outside the calendar (years 1 to 9999).
        """
        if not _days_in_order(self.zone):
            raise _NoSqlForm
        try:
            day = self.as_of - timedelta(days=days_before)
        except OverflowError:
            return None
        try:
            start = epoch_us(datetime.combine(day, time(), tzinfo=self.zone))
            # Checked, not assumed: the instant is on that day and the one before it is not.
            in_order = _local_day(start, self.zone) == day > _local_day(start - 1, self.zone)
        except (OverflowError, ValueError):
            raise _NoSqlForm from None
        if not in_order:
            raise _NoSqlForm
        return start


def _value(number: int) -> Value:
    try:
        return Value(number)
    except ValidationError:
        raise _NoSqlForm from None


_INT64 = 1 << 63


def _whole(op: CmpOp, column: Column, bound: Fraction) -> Condition:
    """``column op bound`` for a whole-number (64-bit) column, with ``bound`` made whole."""
    if not -_INT64 <= bound < _INT64:
        # Beyond every value the column can hold: the answer is known for a present value.
        below = bound > 0
        holds = op == "!=" or (op in ("<", "<=") if below else op in (">", ">="))
        return _always(column) if holds else _never(column)
    if bound.denominator == 1:
        return Cmp(op, column, _value(int(bound)))
    if op == "==":
        return _never(column)
    if op == "!=":
        return _always(column)
    if op in ("<", "<="):
        return Cmp("<=", column, _value(math.floor(bound)))
    return Cmp(">=", column, _value(math.ceil(bound)))


def _never(column: Column) -> Condition:
    """False for a present value, unknown for a missing one."""
    return Cmp("!=", column, column)


def _always(column: Column) -> Condition:
    """True for a present value, unknown for a missing one."""
    return Cmp("==", column, column)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _local_day(us: int, zone: tzinfo) -> date:
    return (_EPOCH + timedelta(microseconds=us)).astimezone(zone).date()


@functools.cache
def _days_in_order(zone: tzinfo) -> bool:
    """Whether the zone's local day never goes back as time goes on (1800 to 2200).

    Day counts become thresholds on instants only if a later instant is never on an
    earlier local day. A zone that sets its clocks back across midnight breaks that; its
    day counts stay on the Python path.
    """
    return _ordered_between(zone, datetime(1800, 1, 1, tzinfo=UTC), 146_000)


def _ordered_between(zone: tzinfo, start: datetime, days: int) -> bool:
    step = timedelta(days=1)
    at, offset = start, start.astimezone(zone).utcoffset()
    for _ in range(days):
        later = at + step
        later_offset = later.astimezone(zone).utcoffset()
        if later_offset != offset:
            if not _change_in_order(zone, at, later):
                return False
            offset = later_offset
        at = later
    return True


def _change_in_order(zone: tzinfo, low: datetime, high: datetime) -> bool:
    """Whether the offset change between ``low`` and ``high`` keeps local days in order."""
    first = low.astimezone(zone).utcoffset()
    tick = timedelta(microseconds=1)
    while high - low > tick:
        middle = low + (high - low) // 2
        if middle.astimezone(zone).utcoffset() == first:
            low = middle
        else:
            high = middle
    return high.astimezone(zone).date() >= low.astimezone(zone).date()


def matched_rules(
    store: object,
    dimensions: Sequence[object],
    *,
    as_of: date,
    currency: str,
    windows: Sequence[int],
) -> dict[str, dict[str, int]]:
    """Each pushable rule dimension's first matching rule per customer, found by ``store``.

    Only plain :class:`~custrec.classify.RuleDimension` objects (not subclasses that change
    how they label) whose rules all have an SQL form are asked for; the others are left out.
    Empty when the store cannot match rules.
    """
    if not isinstance(store, SupportsRuleMatching):
        return {}
    out: dict[str, dict[str, int]] = {}
    for dimension in dimensions:
        query = _query_of(dimension, as_of=as_of, currency=currency, windows=windows)
        if query is not None:
            rows = store.match_rules(query)
            out[cast("RuleDimension", dimension).name] = {row[0]: row[1] for row in rows}
    return out


def _query_of(
    dimension: object, *, as_of: date, currency: str, windows: Sequence[int]
) -> RuleQuery | None:
    """The SQL form of a plain rule dimension's rules, or ``None``."""
    if not _plain(dimension):
        return None
    assert isinstance(dimension, RuleDimension)  # noqa: S101 - _plain checked it
    query = rule_query(
        dimension.conditions,
        dimension.schema,
        as_of=as_of,
        currency=currency,
        windows=windows,
        cutoff=cutoff_of(as_of),
        user_facts=frozenset(user_facts()) | frozenset(dimension.schema.extra),
    )
    return query if query is not None and query.rules[0] else None


def classify_in_store(
    store: object,
    dimensions: Sequence[object],
    *,
    as_of: date,
    currency: str,
    windows: Sequence[int],
    batch_size: int = 1000,
) -> dict[str, tuple[Label, ...]] | None:
    """Every customer's labels on ``dimensions``, decided by the store; ``None`` if it cannot.

    It can when the store matches rules in its database and every dimension is a plain
    rule dimension whose rules have an SQL form. One statement then gives each customer's
    first matching rule per dimension and the columns of the facts the rules read; the
    labels and explanations are made from those as :meth:`RuleDimension.assign` makes them.
    Customers the database cannot describe exactly (see
    :data:`~custrec.store._sqlrules.UNDECIDED`) get their facts from their own history in
    Python and their labels from the rules in Python; when they are more than one in
    twenty, ``None`` (the Python path's one pass costs less).
    """
    if not dimensions or not isinstance(store, SupportsRuleMatching):
        return None
    queries = [
        _query_of(dimension, as_of=as_of, currency=currency, windows=windows)
        for dimension in dimensions
    ]
    exponent = currency_exponent(currency)
    if exponent is None or any(query is None for query in queries):
        return None
    rules = cast("list[RuleDimension]", list(dimensions))
    table = _facts(windows)
    names = sorted({name for dimension in rules for name in dimension.facts or ()})
    columns = list(dict.fromkeys(table[name].column for name in names))
    query = RuleQuery(
        cutoff_of(as_of),
        currency,
        tuple(windows),
        [cast("RuleQuery", found).rules[0] for found in queries],
        columns,
    )
    rows = store.match_rules(query)
    count = len(rules)
    read = _readers(names, table, columns, first=1 + count, exponent=exponent, as_of=as_of)
    load = cast("Store", store).customers.get
    undecided = [row[0] for row in rows if UNDECIDED in row[1 : 1 + count]]
    if len(undecided) * _MOST_UNDECIDED > len(rows):
        # Many customers' refunds cannot be dated in SQL (PostgreSQL dates none): reading
        # each one's history costs more than the Python path's one pass over the store.
        return None
    population: list[Facts] = []
    matched: list[dict[str, int]] = [{} for _ in rules]
    for row in rows:
        cid = row[0]
        if UNDECIDED in row[1 : 1 + count]:
            continue
        values = {name: make(row) for name, make in read}
        population.append(Facts(cid, as_of, values, load=load))
        for index in range(count):
            matched[index][cid] = row[1 + index]
    assigned = [
        dimension.assign_matched(population, found)
        for dimension, found in zip(rules, matched, strict=True)
    ]
    if undecided:
        exact = _exact_facts(
            cast("Store", store),
            undecided,
            as_of=as_of,
            currency=currency,
            windows=windows,
            names=names,
            batch_size=batch_size,
        )
        for labels, dimension in zip(assigned, rules, strict=True):
            labels.update(dimension.assign(exact))
    first = assigned[0]
    return {cid: tuple(labels[cid] for labels in assigned) for cid in sorted(first)}


def _readers(
    names: Sequence[str],
    table: Mapping[str, _Fact],
    columns: Sequence[str],
    *,
    first: int,
    exponent: int,
    as_of: date,
) -> list[tuple[str, Callable[[Sequence[Any]], Any]]]:
    """How to make each fact's value, as the Python path makes it, from a result row.

    The columns start at ``first`` in a row.
    """
    quantum = Decimal(1).scaleb(-exponent)
    day = local_day(config.get().zone)
    today = as_of.toordinal()
    out: list[tuple[str, Callable[[Sequence[Any]], Any]]] = []
    for name in names:
        fact = table[name]
        where = first + columns.index(fact.column)
        reader = _reader(fact, where, exponent=exponent, quantum=quantum, day=day, today=today)
        out.append((name, reader))
    return out


def _reader(
    fact: _Fact,
    where: int,
    *,
    exponent: int,
    quantum: Decimal,
    day: Callable[[int], int],
    today: int,
) -> Callable[[Sequence[Any]], Any]:
    """One fact's value from a row: what :class:`~custrec.classify.Deriver` makes of it."""
    if isinstance(fact, _Instant):
        return lambda row: None if row[where] is None else _EPOCH + timedelta(0, 0, row[where])
    if isinstance(fact, _Days):
        return lambda row: None if row[where] is None else today - day(row[where])
    if fact.scale == _MONEY:
        return lambda row: Decimal(row[where]).scaleb(-exponent).quantize(quantum)
    return lambda row: int(row[where])


def _exact_facts(
    store: Store,
    ids: Sequence[str],
    *,
    as_of: date,
    currency: str,
    windows: Sequence[int],
    names: Sequence[str],
    batch_size: int,
) -> list[Facts]:
    """The facts of a few customers from their own history, by the Python reference."""
    cutoff = cutoff_of(as_of)
    history: list[list[Any]] = []
    needs = Deriver(as_of=as_of, currency=currency, windows=windows, facts=names).parts
    kinds = (
        (store.transactions, bool(needs & {"orders", "spend", "windows", "previous", "other"})),
        (store.interactions, "contacts" in needs),
        (store.feedback, bool(needs & {"ratings", "nps"})),
    )
    for repository, needed in kinds:
        found: list[Any] = []
        if not needed:
            history.append(found)
            continue
        for start in range(0, len(ids), _IDS_AT_ONCE):
            chunk = list(ids[start : start + _IDS_AT_ONCE])
            where = F("customer_id").is_in(chunk)
            for batch in repository.iter_batches(batch_size, where):
                found.extend(batch)
        history.append(found)
    transactions, interactions, feedback = history
    aggregates = aggregate_history(
        transactions, interactions, feedback, cutoff=cutoff, currency=currency, windows=windows
    )
    customers = store.customers.get_many(list(ids))
    make = Deriver(as_of=as_of, currency=currency, windows=windows, facts=names)
    out = []
    for cid in ids:
        customer = customers[cid]
        values = make(
            aggregates.get(cid), customer.created_at, customer.birth_date, customer.addresses
        )
        # SQL stores hand back times in UTC (their Python path's facts are so): as here.
        utc = {
            name: value.astimezone(UTC) if isinstance(value, datetime) else value
            for name, value in values.items()
        }
        out.append(Facts(customer, as_of, utc))
    return out


_IDS_AT_ONCE = 500
_MOST_UNDECIDED = 20
"""Push-down gives way to the Python path when more than 1 customer in this many is undecided."""


def _plain(dimension: object) -> bool:
    """A RuleDimension whose labelling, and whose schema, are the library's own.

    A schema of another class may read a fact's name from somewhere else: not pushed down.
    """
    if not isinstance(dimension, RuleDimension) or type(dimension.schema) is not FactSchema:
        return False
    kind = type(dimension)
    return all(
        getattr(kind, name) is getattr(RuleDimension, name)
        for name in ("assign", "assign_matched", "label_for", "_label")
    )
