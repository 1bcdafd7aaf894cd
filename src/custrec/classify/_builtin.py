"""The built-in dimension kinds.

Value tier, purchase frequency, RFM, lifecycle, region, industry, age band and NPS class, each
configurable through its template options.

Quantiles use one documented tie policy everywhere: a value's *percentile rank* is the share
of the population with a strictly smaller value, so equal values always share a rank (and a
score), and the smallest value has rank 0.
"""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, tzinfo
from decimal import Decimal
from typing import Any, Protocol, cast

from custrec import config
from custrec.classify._dimension import Label
from custrec.classify._facts import Facts
from custrec.classify._registry import register_classifier
from custrec.errors import ValidationError
from custrec.model import FrozenMap
from custrec.template import DimensionSpec, Template

__all__ = [
    "RFM_SEGMENTS",
    "AgeBand",
    "Industry",
    "Lifecycle",
    "NpsClass",
    "PurchaseFrequency",
    "Region",
    "Rfm",
    "ValueTier",
    "percentile_ranks",
    "quantile_scores",
]


def _first_below(values: Sequence[Any]) -> list[int]:
    """For each value, how many values are strictly smaller: one sort, then one walk.

    Walking the values in sorted order, a value starts a new run of equals when the one
    before it is smaller; every value of a run has the run's start position as its count.
    Whole numbers and decimals (what facts hold) take a shortcut: equal ones hash alike, so
    a dict from each value to its first position in sorted order gives the counts.
    """
    if {type(value) for value in values} <= _HASHED_NUMBERS:
        ordered = sorted(values)
        # Walking backwards, each value's entry ends at its first (smallest) position.
        first = {value: position for position, value in _backwards(ordered)}
        return [first[value] for value in values]
    order = sorted(range(len(values)), key=values.__getitem__)
    counts = [0] * len(values)
    start, previous = 0, None
    for position, index in enumerate(order):
        value = values[index]
        if position == 0 or previous < value:
            start, previous = position, value
        counts[index] = start
    return counts


_HASHED_NUMBERS = frozenset({int, bool, Decimal})
"""Types whose equal values hash alike and order totally (a NaN decimal cannot be sorted)."""


def _backwards(ordered: list[Any]) -> zip[tuple[int, Any]]:
    return zip(range(len(ordered) - 1, -1, -1), reversed(ordered), strict=True)


def percentile_ranks(values: Sequence[Any]) -> list[float]:
    """Return, for each value, the share of values strictly smaller (ties share a rank)."""
    n = len(values)
    return [below / n for below in _first_below(values)]


def quantile_scores(values: Sequence[Any], bins: int = 5) -> list[int]:
    """Score values 1..``bins`` by percentile rank: ``1 + floor(rank × bins)``.

    Equal values always get the same score; with many ties a score may go unused.
    """
    n = len(values)
    top = bins - 1
    counts = _first_below(values)
    score = {below: 1 + min(top, int(below / n * bins)) for below in set(counts)}
    return [score[below] for below in counts]


def _option(spec: DimensionSpec, name: str, default: Any) -> Any:
    return spec.options.get(name, default)


def _thresholds(spec: DimensionSpec, default: Mapping[str, Any]) -> list[tuple[str, Decimal]]:
    raw = _option(spec, "thresholds", default)
    if not isinstance(raw, Mapping) or not raw:
        raise ValidationError(
            f"{spec.name}.options.thresholds", raw, "thresholds map labels to least values"
        )
    try:
        pairs = [(str(label), Decimal(str(value))) for label, value in raw.items()]
    except ArithmeticError:
        raise ValidationError(f"{spec.name}.options.thresholds", raw, "not numbers") from None
    return sorted(pairs, key=lambda pair: pair[1], reverse=True)


class _ByValues(Protocol):
    name: str

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]: ...


def _by_values(dimension: _ByValues, population: Sequence[Facts]) -> dict[str, Label]:
    """``assign`` through ``assign_values``: one implementation for facts and fact values."""
    if not population:
        return {}
    labels = dimension.assign_values([facts.values for facts in population], population[0].as_of)
    return {facts.customer_id: label for facts, label in zip(population, labels, strict=True)}


class _Simple:
    """A dimension that labels each customer from its own facts."""

    name: str

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        return {facts.customer_id: self.label_for(facts) for facts in population}

    def label_for(self, facts: Facts) -> Label:
        raise NotImplementedError


class ValueTier:
    """Value tier (价值等级) by spend: fixed thresholds, or quantiles of the population.

    Options: ``method`` (``"thresholds"`` or ``"quantiles"``), ``fact`` (``total_spend``),
    ``thresholds`` (label to least value), ``quantiles`` (label to least percentile rank,
    e.g. ``{high = 0.8, mid = 0.5}``), ``default`` (``"low"``).
    """

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.fact = str(_option(spec, "fact", "total_spend"))
        self.facts = frozenset({self.fact})
        self.method = _option(spec, "method", "thresholds")
        self.default = str(_option(spec, "default", spec.default or "low"))
        if self.method == "thresholds":
            self.cuts = _thresholds(spec, {"high": 10000, "mid": 2000})
        elif self.method == "quantiles":
            raw = _option(spec, "quantiles", {"high": 0.8, "mid": 0.5})
            self.cuts = sorted(
                ((str(k), Decimal(str(v))) for k, v in raw.items()),
                key=lambda pair: pair[1],
                reverse=True,
            )
        else:
            raise ValidationError(
                f"{spec.name}.options.method", self.method, "use 'thresholds' or 'quantiles'"
            )
        self._cut_texts = [(label, cut, str(cut)) for label, cut in self.cuts]

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Label by spend."""
        return _by_values(self, population)

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]:
        """Label customers given only their fact values, in order (what :meth:`assign` does)."""
        values = [row.get(self.fact) or Decimal(0) for row in rows]
        if self.method == "quantiles":
            ranks = percentile_ranks(values)
            return [
                self._pick(value, Decimal(str(rank)), "rank")
                for value, rank in zip(values, ranks, strict=True)
            ]
        return [self._pick(value, value, self.fact) for value in values]

    def _pick(self, value: Any, measure: Decimal, what: str) -> Label:
        if what == self.fact:
            shown = FrozenMap.ordered({self.fact: value})
        else:
            shown = FrozenMap({self.fact: value, "rank": measure})
        # str() of a Decimal is what an f-string shows, several times faster.
        for label, cut, cut_text in self._cut_texts:
            if measure >= cut:
                return Label.made(self.name, label, f"{what} {measure!s} ≥ {cut_text}", None, shown)
        lowest = self._cut_texts[-1][2]
        return Label.made(self.name, self.default, f"{what} {measure!s} < {lowest}", None, shown)


class PurchaseFrequency(_Simple):
    """Purchase-frequency tier (购买频率) by orders in the last year.

    Options: ``fact`` (``orders_365d``), ``thresholds`` (label to least orders, default
    frequent 12, regular 4, occasional 1), ``default`` (``"inactive"``).
    """

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.fact = str(_option(spec, "fact", "orders_365d"))
        self.facts = frozenset({self.fact})
        self.cuts = _thresholds(spec, {"frequent": 12, "regular": 4, "occasional": 1})
        self.default = str(_option(spec, "default", spec.default or "inactive"))

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Label every customer by its order count."""
        if type(self).label_for is not PurchaseFrequency.label_for:  # a subclass's own decides
            return super().assign(population)
        return _by_values(self, population)

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]:
        """Label customers given only their fact values, in order (what :meth:`assign` does)."""
        return [self._label(row) for row in rows]

    def label_for(self, facts: Facts) -> Label:
        """Label by the order count."""
        return self._label(facts.values)

    def _label(self, row: Mapping[str, Any]) -> Label:
        value = row.get(self.fact) or 0
        for label, cut in self.cuts:
            if value >= cut:
                return Label(
                    self.name, label, f"{self.fact} {value} ≥ {cut}", None, {self.fact: value}
                )
        return Label(
            self.name,
            self.default,
            f"{self.fact} {value} below every threshold",
            None,
            {self.fact: value},
        )


RFM_SEGMENTS: tuple[tuple[str, str, str], ...] = (
    ("champions", "5", "45"),
    ("loyal", "34", "45"),
    ("potential_loyalist", "45", "23"),
    ("new", "5", "1"),
    ("promising", "4", "1"),
    ("need_attention", "3", "3"),
    ("about_to_sleep", "3", "12"),
    ("cant_lose", "12", "5"),
    ("at_risk", "12", "34"),
    ("lost", "1", "1"),
    ("hibernating", "2", "12"),
    ("hibernating", "1", "2"),
)
"""RFM segments on the recency × frequency grid: (segment, R scores, F scores).

Every (R, F) pair from 1-5 × 1-5 falls in exactly one row (hibernating takes two rows, as
lost takes its corner); the monetary score is shown in explanations. Champions bought
recently and often; Loyal buy often; Potential Loyalists are recent with a few orders; New
bought once, very recently; Promising once, recently; Need Attention are middling; About to
Sleep are slipping with few orders; Can't Lose were the best customers and have gone quiet;
At Risk bought often but long ago; Hibernating bought little, long ago; Lost bought once,
longest ago.
"""


_RFM_GRID = {
    (r, f): segment
    for segment, rs, fs in RFM_SEGMENTS
    for r in (int(score) for score in rs)
    for f in (int(score) for score in fs)
}
"""The RFM segment of each (R score, F score)."""


class Rfm:
    """RFM segments (RFM 分群) from recency, frequency and monetary quintile scores.

    Scores are 1-5 by :func:`quantile_scores` over customers with at least one purchase:
    recency is scored on ``-recency_days`` (recent is high), frequency on ``order_count``,
    monetary on ``total_spend``. Customers without purchases get ``default``
    (``"no_purchase"``). Options: ``recency``, ``frequency``, ``monetary`` (fact names),
    ``default``.
    """

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.recency = str(_option(spec, "recency", "recency_days"))
        self.frequency = str(_option(spec, "frequency", "order_count"))
        self.monetary = str(_option(spec, "monetary", "total_spend"))
        self.facts = frozenset({self.recency, self.frequency, self.monetary})
        self.default = str(_option(spec, "default", spec.default or "no_purchase"))

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Score the buyers and name their segments."""
        return _by_values(self, population)

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]:
        """Label customers given only their fact values, in order (what :meth:`assign` does)."""
        out: list[Label | None] = [None] * len(rows)
        recency, frequency, monetary = self.recency, self.frequency, self.monetary
        buyers: list[int] = []
        missing = Label.made(
            self.name, self.default, "no purchase yet", None, FrozenMap({recency: None})
        )
        for index, row in enumerate(rows):
            if row.get(recency) is None:
                out[index] = missing  # labels are frozen: one serves every non-buyer
            else:
                buyers.append(index)
        shown = [(rows[i][recency], rows[i].get(frequency), rows[i].get(monetary)) for i in buyers]
        r = quantile_scores([-days for days, _, _ in shown])
        fr = quantile_scores([orders or 0 for _, orders, _ in shown])
        m = quantile_scores([spend or 0 for _, _, spend in shown])
        names = (recency, frequency, monetary, "R", "F", "M")
        distinct = len(set(names)) == len(names)  # options may name one fact twice
        # The values' keys in FrozenMap order (by repr), sorted once for every buyer.
        order = sorted(range(len(names)), key=lambda i: repr(names[i]))
        keys = tuple(names[i] for i in order)
        arrange = operator.itemgetter(*order)
        wrap = FrozenMap.ordered
        name, made = self.name, Label.made
        # (R, F, M) takes 125 values at most: each one's segment and reason are made once.
        seen: dict[tuple[int, int, int], tuple[str, str]] = {}
        for index, (days, orders, spend), rs, fs, ms in zip(buyers, shown, r, fr, m, strict=True):
            found = seen.get((rs, fs, ms))
            if found is None:
                segment = _RFM_GRID[rs, fs]
                found = seen[rs, fs, ms] = (segment, f"R{rs} F{fs} M{ms} falls in {segment}")
            every = (days, orders, spend, rs, fs, ms)
            ordered = (
                wrap(dict(zip(keys, arrange(every), strict=True)))
                if distinct
                else FrozenMap(dict(zip(names, every, strict=True)))
            )
            out[index] = made(name, found[0], found[1], None, ordered)
        return cast("list[Label]", out)  # every index was filled


class Lifecycle(_Simple):
    """Lifecycle stage (生命周期): prospect, new, active, reactivated, at risk, lapsed, churned.

    In order: no purchase → ``prospect``; first purchase within ``new_days`` (90) → ``new``;
    last purchase within ``active_days`` (180) after a gap of at least ``at_risk_days`` →
    ``reactivated``; within ``active_days`` → ``active``; within ``at_risk_days`` (365) →
    ``at_risk``; within ``churned_days`` (730) → ``lapsed``; else ``churned``.
    """

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.facts = frozenset({"recency_days", "first_purchase", "previous_gap_days"})
        self.new_days = int(_option(spec, "new_days", 90))
        self.active_days = int(_option(spec, "active_days", 180))
        self.at_risk_days = int(_option(spec, "at_risk_days", 365))
        self.churned_days = int(_option(spec, "churned_days", 730))

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Place every customer in the lifecycle."""
        if type(self).label_for is not Lifecycle.label_for:  # a subclass's own decides
            zone = config.get().zone
            return {facts.customer_id: self.label_for(facts, zone) for facts in population}
        return _by_values(self, population)

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]:
        """Label customers given only their fact values, in order (what :meth:`assign` does)."""
        zone = config.get().zone
        return [self._place(row, as_of, zone) for row in rows]

    def label_for(self, facts: Facts, zone: tzinfo | None = None) -> Label:
        """Place the customer in the lifecycle (days counted in ``zone``, the configured one)."""
        return self._place(facts.values, facts.as_of, zone or config.get().zone)

    def _place(self, row: Mapping[str, Any], as_of: date, zone: tzinfo) -> Label:
        recency = row.get("recency_days")
        first = row.get("first_purchase")
        gap = row.get("previous_gap_days")
        # The keys in FrozenMap order (sorted by repr), so no sort per customer.
        values = FrozenMap.ordered(
            {"first_purchase": first, "previous_gap_days": gap, "recency_days": recency}
        )
        if recency is None:
            return Label.made(self.name, "prospect", "no purchase yet", None, values)
        # The day of the first purchase where it happened for the configured zone, as
        # recency_days counts it, whatever offset the store hands the datetime back in.
        first_day = None if first is None else first.astimezone(zone).date()
        since_first = (as_of - first_day).days if first_day is not None else None
        if since_first is not None and since_first <= self.new_days:
            reason = f"first purchase {since_first} days ago (≤ {self.new_days})"
            return Label.made(self.name, "new", reason, None, values)
        if recency <= self.active_days:
            if gap is not None and gap >= self.at_risk_days:
                reason = f"bought {recency} days ago after a {gap}-day gap"
                return Label.made(self.name, "reactivated", reason, None, values)
            return Label.made(
                self.name, "active", f"last purchase {recency} days ago", None, values
            )
        for label, limit in (("at_risk", self.at_risk_days), ("lapsed", self.churned_days)):
            if recency <= limit:
                return Label.made(
                    self.name, label, f"last purchase {recency} days ago (≤ {limit})", None, values
                )
        return Label.made(self.name, "churned", f"last purchase {recency} days ago", None, values)


class Region(_Simple):
    """Local or remote (本地/外地) relative to the home region.

    Options: ``home`` (provinces or cities; the template's ``home_region`` by default).
    A customer without an address is ``unknown``.
    """

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.facts = frozenset({"region", "city"})
        home = _option(spec, "home", template.home_region if template else ())
        if isinstance(home, str):  # one place, not a list of its characters
            home = [home]
        self.home = {_fold(place) for place in home}

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Place every customer as local or remote."""
        if type(self).label_for is not Region.label_for:  # a subclass's own decides
            return super().assign(population)
        return _by_values(self, population)

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]:
        """Label customers given only their fact values, in order (what :meth:`assign` does)."""
        return [self._label(row) for row in rows]

    def label_for(self, facts: Facts) -> Label:
        """Compare the address with the home region."""
        return self._label(facts.values)

    def _label(self, row: Mapping[str, Any]) -> Label:
        region, city = row.get("region"), row.get("city")
        values = {"region": region, "city": city}
        if region is None and city is None:
            return Label(self.name, "unknown", "no address", None, values)
        if {_fold(region), _fold(city)} & self.home:
            return Label(self.name, "local", "address in the home region", None, values)
        return Label(self.name, "remote", "address outside the home region", None, values)


def _fold(place: Any) -> str:
    """Compare places without the 省/市/区 suffixes people leave off (北京 = 北京市)."""
    text = str(place or "").strip()
    return text[:-1] if len(text) > 2 and text[-1] in "省市区县" else text


class Industry(_Simple):
    """Industry (行业): the customer's industry, optionally grouped.

    Options: ``groups`` (label to list of industries), ``default`` (``"unknown"``).
    """

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.facts: frozenset[str] = frozenset()  # it reads the customer's own field
        groups = _option(spec, "groups", {})
        self.groups = {member: label for label, members in groups.items() for member in members}
        self.default = str(_option(spec, "default", spec.default or "unknown"))

    def label_for(self, facts: Facts) -> Label:
        """Label by the customer's industry."""
        industry = facts.customer.industry
        values = {"industry": industry}
        if industry is None:
            return Label(self.name, self.default, "no industry recorded", None, values)
        label = self.groups.get(industry, industry)
        return Label(self.name, label, f"industry is {industry}", None, values)


class AgeBand(_Simple):
    """Age band (年龄段) from the birth date.

    Options: ``bands`` (lower bounds, default ``[18, 30, 40, 50, 60]``) give ``"<18"``,
    ``"18-29"``, …, ``"60+"``; ``unknown`` without a birth date.
    """

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.facts = frozenset({"age"})
        self.bands = sorted(int(b) for b in _option(spec, "bands", [18, 30, 40, 50, 60]))

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Band every customer's age."""
        if type(self).label_for is not AgeBand.label_for:  # a subclass's own decides
            return super().assign(population)
        return _by_values(self, population)

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]:
        """Label customers given only their fact values, in order (what :meth:`assign` does)."""
        return [self._label(row) for row in rows]

    def label_for(self, facts: Facts) -> Label:
        """Band the age."""
        return self._label(facts.values)

    def _label(self, row: Mapping[str, Any]) -> Label:
        age = row.get("age")
        if age is None:
            return Label(self.name, "unknown", "no birth date", None, {"age": None})
        index = bisect.bisect_right(self.bands, age)
        if index == 0:
            label = f"<{self.bands[0]}"
        elif index == len(self.bands):
            label = f"{self.bands[-1]}+"
        else:
            label = f"{self.bands[index - 1]}-{self.bands[index] - 1}"
        return Label(self.name, label, f"age {age}", None, {"age": age})


class NpsClass(_Simple):
    """NPS class (推荐意愿): promoter (9-10), passive (7-8), detractor (0-6), or unknown."""

    def __init__(self, spec: DimensionSpec, template: Template | None = None) -> None:
        self.name = spec.name
        self.facts = frozenset({"latest_nps"})

    def assign(self, population: Sequence[Facts]) -> dict[str, Label]:
        """Class every customer's latest NPS answer."""
        if type(self).label_for is not NpsClass.label_for:  # a subclass's own decides
            return super().assign(population)
        return _by_values(self, population)

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]:
        """Label customers given only their fact values, in order (what :meth:`assign` does)."""
        return [self._label(row) for row in rows]

    def label_for(self, facts: Facts) -> Label:
        """Class the latest NPS answer."""
        return self._label(facts.values)

    def _label(self, row: Mapping[str, Any]) -> Label:
        score = row.get("latest_nps")
        if score is None:
            return Label(self.name, "unknown", "no NPS answer", None, {"latest_nps": None})
        label = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
        return Label(self.name, label, f"latest NPS {score}", None, {"latest_nps": score})


_BUILTINS: Mapping[str, Callable[[DimensionSpec, Template | None], Any]] = {
    "value_tier": ValueTier,
    "purchase_frequency": PurchaseFrequency,
    "rfm": Rfm,
    "lifecycle": Lifecycle,
    "region": Region,
    "industry": Industry,
    "age_band": AgeBand,
    "nps_class": NpsClass,
}
for _name, _factory in _BUILTINS.items():
    register_classifier(_name, _factory)
