"""Running a classification: facts for every customer, labels per dimension, results kept.

>>> from custrec.classify import Classification
>>> from custrec.template import Template
>>> classification = Classification.from_template(Template.preset("retail"))

``classification.run(store, as_of)`` computes facts in one pass (in SQL where the store can),
labels every customer on every dimension, stores each customer's type with its as-of date, and
reports label changes to subscribers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, cast

import attrs

from custrec import config
from custrec._gcpause import without_collection
from custrec.classify._dimension import Dimension, Label, Rule, RuleDimension
from custrec.classify._facts import Deriver, Facts, cutoff_of
from custrec.classify._pushdown import classify_in_store
from custrec.classify._registry import classifiers, user_facts
from custrec.errors import ValidationError
from custrec.expr import Expr, F
from custrec.model import Customer, FrozenMap
from custrec.store import WINDOWS, Store, SupportsHistoryAggregation, aggregate_history
from custrec.store._aggregate import SupportsSalesRows
from custrec.template import DimensionSpec, Template

__all__ = [
    "CHANGES_COLLECTION",
    "LABELS_COLLECTION",
    "Classification",
    "ClassificationRun",
    "CustomerType",
    "LabelChange",
    "compute_facts",
    "label_changes",
    "stored_type",
]

LABELS_COLLECTION = "classify.labels"
"""Store collection holding each customer's latest type, keyed by customer id."""

CHANGES_COLLECTION = "classify.changes"
"""Store collection holding label changes, keyed ``<customer id>/<as-of>/<dimension>``."""

Progress = Callable[[int], None]


@attrs.frozen
class CustomerType:
    """A customer's type: one label per dimension, as of a date (客户类型).

    Attributes:
        customer_id: The customer.
        as_of: The day the labels hold for.
        labels: One :class:`Label` per dimension, in the classification's order.
    """

    customer_id: str
    as_of: date
    labels: tuple[Label, ...]

    def __getitem__(self, dimension: str) -> str:
        return self.label(dimension).label

    def label(self, dimension: str) -> Label:
        """Return the label on ``dimension``.

        Raises:
            KeyError: No such dimension.
        """
        for label in self.labels:
            if label.dimension == dimension:
                return label
        raise KeyError(dimension)

    @property
    def key(self) -> str:
        """The type as one text: ``"value_tier=high, rfm=champions"``."""
        return ", ".join(f"{label.dimension}={label.label}" for label in self.labels)

    @property
    def segments(self) -> frozenset[str]:
        """The segments the customer is in, as ``"dimension:label"``."""
        return frozenset(f"{label.dimension}:{label.label}" for label in self.labels)

    def explain(self) -> str:
        """Every label with its explanation, one per line."""
        return "\n".join(label.explain() for label in self.labels)

    def to_dict(self) -> dict[str, Any]:
        """The type as JSON-ready data."""
        return {
            "customer_id": self.customer_id,
            "as_of": self.as_of.isoformat(),
            "labels": {label.dimension: label.to_dict() for label in self.labels},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerType:
        """Read a type written by :meth:`to_dict` (fact values come back as text)."""
        labels = tuple(
            Label(item["dimension"], item["label"], item["reason"], item["rule"], item["values"])
            for item in data["labels"].values()
        )
        return cls(data["customer_id"], date.fromisoformat(data["as_of"]), labels)


@attrs.frozen
class LabelChange:
    """A customer moved to another label on a dimension (or got a first label).

    Attributes:
        customer_id: The customer.
        dimension: The dimension.
        old: The label before (``None`` on the first classification).
        new: The label now.
        as_of: The as-of date of the run that saw the change.
    """

    customer_id: str
    dimension: str
    old: str | None
    new: str
    as_of: date


@attrs.frozen
class ClassificationRun:
    """What one run found.

    Attributes:
        as_of: The day classified for.
        types: Customer id to :class:`CustomerType`, in customer-id order.
        changes: The label changes the run recorded.
    """

    as_of: date
    types: FrozenMap[str, CustomerType]
    changes: tuple[LabelChange, ...]


def _today() -> date:
    return datetime.now(config.get().zone).date()


def compute_facts(
    store: Store,
    as_of: date | None = None,
    *,
    currency: str = "CNY",
    windows: Sequence[int] = WINDOWS,
    batch_size: int = 1000,
    progress: Progress | None = None,
    facts: Collection[str] | None = None,
    customers: bool = True,
) -> list[Facts]:
    """Compute every customer's facts as of a day, in one pass over the store.

    Stores that aggregate in their database (``aggregate_history``) do the sums there;
    others stream their history through Python once. Customers created after ``as_of``
    are left out. Registered user facts are added after the built-in ones (each sees the
    built-in facts).

    Args:
        store: The store.
        as_of: The day; today in the configured zone when ``None``.
        currency: Money facts count transactions in this currency only.
        windows: Trailing windows, in days, of the windowed facts.
        batch_size: Customers read at a time.
        progress: Called with the number of customers done after each batch.
        facts: The facts wanted, built-in or registered; every fact when ``None``. Asking
            for a registered fact computes every built-in one, which it may read.
        customers: Read every customer record now, so each ``Facts.customer`` is there
            whatever happens to the store. With ``False`` only the customer fields the
            facts need are read (much faster on SQL stores), and ``Facts.customer`` reads
            its batch of records on first use, which needs the store still open.

    Raises:
        ValidationError: A fact is unknown, or the currency is not an ISO 4217 currency.
    """
    as_of = as_of or _today()
    cutoff = cutoff_of(as_of)
    extra = user_facts()
    builtin: set[str] | None = None
    if facts is not None:
        builtin = {name for name in facts if name not in extra}
        extra = {name: d for name, d in extra.items() if name in set(facts)}
        if extra:
            builtin = None
    make = Deriver(as_of=as_of, currency=currency, windows=windows, facts=builtin)
    population: list[Facts] = []
    for batch, derived in _derived(store, make, cutoff, currency, batch_size, whole=customers):
        load = _BatchLoader(store, [row[0] for row in batch])
        for row, values in zip(batch, derived, strict=True):
            who = row[-1] if customers else row[0]
            # The deriver's keys come in FrozenMap order, so the map is not sorted again.
            found = Facts(who, as_of, FrozenMap.ordered(values), load=load)
            if extra:
                more = {name: d.function(found) for name, d in extra.items()}
                found = Facts(who, as_of, {**values, **more}, load=load)
            population.append(found)
        if progress is not None:
            progress(len(population))
    return population


def _derived(
    store: Store,
    make: Deriver,
    cutoff: datetime,
    currency: str,
    batch_size: int,
    *,
    whole: bool,
    rows: bool = False,
) -> Iterator[tuple[list[tuple[Any, ...]], list[dict[str, Any]]]]:
    """Batches of customer rows (see :func:`_rows`) and their built-in facts, in id order.

    Stores that aggregate in their database do the sums there; others stream their history
    through Python once. Customers created at or after ``cutoff`` are left out. With
    ``rows``, a store that hands out sales rows (``aggregate_sales_rows``) does, when every
    fact wanted is made of sales and customer fields: the same facts, fewer objects.
    """
    if rows and make.by_rows and isinstance(store, SupportsSalesRows):
        yield from _derived_from_rows(store, make, cutoff, currency, batch_size)
        return
    if isinstance(store, SupportsHistoryAggregation):
        aggregates = store.aggregate_history(cutoff, currency, make.windows, make.parts)
    else:
        aggregates = aggregate_history(
            store.transactions,
            store.interactions,
            store.feedback,
            cutoff=cutoff,
            currency=currency,
            windows=make.windows,
        )
    # Only the customer fields the facts need are read: rows are the id, then created_at,
    # birth_date and addresses, each only when needed.
    needed = [name for name in ("created_at", "birth_date", "addresses") if name in make.fields]
    existing = F("created_at") < cutoff
    find = aggregates.get
    for batch in _rows(store, needed, batch_size, existing, whole=whole):
        if needed:
            derived = []
            for row in batch:
                got = dict(zip(needed, row[1:], strict=False))
                derived.append(
                    make(
                        find(row[0]),
                        got.get("created_at"),
                        got.get("birth_date"),
                        got.get("addresses", ()),
                    )
                )
        else:
            derived = [make(find(row[0]), None, None, ()) for row in batch]
        yield batch, derived


def _derived_from_rows(
    store: SupportsSalesRows, make: Deriver, cutoff: datetime, currency: str, batch_size: int
) -> Iterator[tuple[list[tuple[Any, ...]], list[dict[str, Any]]]]:
    """What :func:`_derived` gives, from the store's sales rows (see ``make.from_row``)."""
    sales = store.aggregate_sales_rows(cutoff, currency, make.windows, make.parts)
    needed = [name for name in ("created_at", "birth_date", "addresses") if name in make.fields]
    existing = F("created_at") < cutoff
    find, derive = sales.get, make.from_row
    for batch in _rows(cast("Store", store), needed, batch_size, existing, whole=False):
        if needed:
            derived = []
            for row in batch:
                got = dict(zip(needed, row[1:], strict=False))
                derived.append(
                    derive(
                        find(row[0]),
                        got.get("created_at"),
                        got.get("birth_date"),
                        got.get("addresses", ()),
                    )
                )
        else:
            derived = [derive(find(row[0]), None, None, ()) for row in batch]
        yield batch, derived


def _rows(
    store: Store, fields: Sequence[str], batch_size: int, where: Expr, *, whole: bool
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of ``(id, *fields)``, with the whole record appended when ``whole``."""
    if not whole:
        yield from store.customers.project(fields, batch_size, where)
        return
    for batch in store.customers.iter_batches(batch_size, where):
        yield [(c.id, *(getattr(c, name) for name in fields), c) for c in batch]


class _BatchLoader:
    """Reads a batch's customers, all at once, the first time any of them is asked for."""

    def __init__(self, store: Store, ids: Sequence[str]) -> None:
        self._store = store
        self._ids = ids
        self._found: dict[str, Customer] | None = None

    def __call__(self, customer_id: str) -> Customer:
        if self._found is None:
            self._found = self._store.customers.get_many(self._ids)
        found = self._found.get(customer_id)
        return found if found is not None else self._store.customers.get(customer_id)


def build_dimension(spec: DimensionSpec, template: Template | None = None) -> Dimension:
    """Build the dimension a template spec describes (rules or a named classifier).

    Raises:
        ValidationError: The classifier is unknown or its options are wrong.
        RuleSyntaxError: A rule's text is malformed or names something unknown.
    """
    if spec.classifier is None:
        rules = [Rule(rule.label, rule.when, rule.description) for rule in spec.rules]
        return RuleDimension(spec.name, rules, spec.default or "unknown")
    factories = classifiers()
    factory = factories.get(spec.classifier)
    if factory is None:
        known = ", ".join(sorted(factories))
        raise ValidationError(
            f"dimensions.{spec.name}.classifier", spec.classifier, f"unknown; known: {known}"
        )
    return factory(spec, template)


class _AssignsValues(Protocol):
    """A built-in dimension: it labels customers from their fact values alone, in order."""

    def assign_values(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> list[Label]: ...


class Classification:
    """A set of dimensions that together give each customer a type.

    Args:
        dimensions: The dimensions, in the order types list them.
        currency: The currency money facts are computed in.
        windows: Trailing windows of the windowed facts.
    """

    def __init__(
        self,
        dimensions: Iterable[Dimension],
        *,
        currency: str = "CNY",
        windows: Sequence[int] = WINDOWS,
    ) -> None:
        self.dimensions = tuple(dimensions)
        names = [dimension.name for dimension in self.dimensions]
        if len(set(names)) != len(names):
            raise ValidationError("dimensions", names, "two dimensions share a name")
        self.currency = currency
        self.windows = tuple(windows)
        self._subscribers: list[Callable[[LabelChange], None]] = []

    @property
    def facts(self) -> frozenset[str] | None:
        """The facts the dimensions read; ``None`` when one of them may read any."""
        needed: set[str] = set()
        for dimension in self.dimensions:
            reads = getattr(dimension, "facts", None)
            if reads is None:
                return None
            needed |= reads
        return frozenset(needed)

    @classmethod
    def from_template(cls, template: Template) -> Classification:
        """Build the template's dimensions, in its currency."""
        return cls(
            (build_dimension(spec, template) for spec in template.dimensions),
            currency=template.currency,
        )

    def on_change(self, callback: Callable[[LabelChange], None]) -> Callable[[LabelChange], None]:
        """Call ``callback`` for every label change a run records (usable as a decorator).

        Callbacks run after the change is stored, batch by batch.
        """
        self._subscribers.append(callback)
        return callback

    def classify(self, population: Sequence[Facts]) -> dict[str, CustomerType]:
        """Label every customer of a population (sharing one as-of date) on every dimension."""
        if not population:
            return {}
        as_of = population[0].as_of
        if any(facts.as_of != as_of for facts in population):
            raise ValidationError("as_of", None, "a population shares one as-of date")
        assigned = [dimension.assign(population) for dimension in self.dimensions]
        types = {}
        for facts in sorted(population, key=lambda f: f.customer_id):
            cid = facts.customer_id
            types[cid] = CustomerType(cid, as_of, tuple(found[cid] for found in assigned))
        return types

    def run(
        self,
        store: Store,
        as_of: date | None = None,
        *,
        save: bool = True,
        batch_size: int = 1000,
        progress: Progress | None = None,
        pushdown: bool = True,
    ) -> ClassificationRun:
        """Classify every customer of a store as of a day.

        Args:
            store: The store.
            as_of: The day; today in the configured zone when ``None``.
            save: Keep each customer's type in the store and record label changes (one unit
                of work per batch), then tell subscribers.
            batch_size: Customers per batch.
            progress: Called with customers done, for facts and then for saving.
            pushdown: When every dimension is a rule dimension whose rules have an SQL form
                and the store matches rules in its database (SQLite, PostgreSQL), let the
                database compute the facts the rules read and find each customer's first
                matching rule, in one statement (see :mod:`custrec.classify._pushdown`).
                ``False`` computes facts and decides rules in Python. The labels and
                explanations are the same either way.

        Returns:
            Every customer's type, and the changes recorded.
        """
        as_of = as_of or _today()
        pushed = (
            classify_in_store(
                store,
                self.dimensions,
                as_of=as_of,
                currency=self.currency,
                windows=self.windows,
                batch_size=batch_size,
            )
            if pushdown
            else None
        )
        if pushed is not None:
            types = {cid: _customer_type(cid, as_of, labels) for cid, labels in pushed.items()}
            if progress is not None:
                progress(len(types))
        elif self._by_values():
            with without_collection():
                types = self._classify_values(store, as_of, batch_size, progress)
        else:
            population = compute_facts(
                store,
                as_of,
                currency=self.currency,
                windows=self.windows,
                batch_size=batch_size,
                progress=progress,
                facts=self.facts,
                customers=False,
            )
            types = self.classify(population)
        changes: list[LabelChange] = []
        if save:
            ordered = list(types.values())
            for start in range(0, len(ordered), batch_size):
                batch_changes = self._save(store, ordered[start : start + batch_size])
                changes.extend(batch_changes)
                for change in batch_changes:
                    for callback in self._subscribers:
                        callback(change)
                if progress is not None:
                    progress(min(start + batch_size, len(ordered)))
        return ClassificationRun(as_of, FrozenMap(types), tuple(changes))

    def _by_values(self) -> bool:
        """Whether every dimension labels from fact values alone, all built-in facts.

        Built-in dimensions offer ``assign_values`` (their ``assign`` goes through it); a
        subclass may change ``assign``, so only the built-in classes themselves count.
        """
        wanted = self.facts
        if wanted is None or wanted & user_facts().keys():
            return False
        return all(type(d).__dict__.get("assign_values") is not None for d in self.dimensions)

    def _classify_values(
        self, store: Store, as_of: date, batch_size: int, progress: Progress | None
    ) -> dict[str, CustomerType]:
        """What ``classify(compute_facts(...))`` gives, without a Facts object per customer.

        The fact values go straight to the dimensions' ``assign_values``.
        """
        make = Deriver(as_of=as_of, currency=self.currency, windows=self.windows, facts=self.facts)
        ids: list[str] = []
        rows: list[dict[str, Any]] = []
        cutoff = cutoff_of(as_of)
        batches = _derived(store, make, cutoff, self.currency, batch_size, whole=False, rows=True)
        for batch, derived in batches:
            ids.extend(row[0] for row in batch)
            rows.extend(derived)
            if progress is not None:
                progress(len(ids))
        if not ids:
            return {}
        columns = [
            cast("_AssignsValues", dimension).assign_values(rows, as_of)
            for dimension in self.dimensions
        ]
        labels = zip(*columns, strict=True) if columns else itertools.repeat((), len(ids))
        made: Iterable[tuple[str, tuple[Label, ...]]] = zip(ids, labels, strict=True)
        if any(later <= earlier for earlier, later in itertools.pairwise(ids)):
            made = sorted(made, key=lambda pair: pair[0])
        return {cid: _customer_type(cid, as_of, labels) for cid, labels in made}

    def _save(self, store: Store, batch: Sequence[CustomerType]) -> list[LabelChange]:
        labels = store.collection(LABELS_COLLECTION)
        history = store.collection(CHANGES_COLLECTION)
        changes = []
        with store.transaction():
            for kind in batch:
                previous = labels.get(kind.customer_id)
                before = {} if previous is None else previous["labels"]
                for label in kind.labels:
                    name = label.dimension
                    old = before.get(name, {}).get("label")
                    if old != label.label:
                        change = LabelChange(kind.customer_id, name, old, label.label, kind.as_of)
                        changes.append(change)
                        key = f"{kind.customer_id}/{kind.as_of.isoformat()}/{name}"
                        history.put(key, {"old": old, "new": label.label})
                labels.put(kind.customer_id, kind.to_dict())
        return changes


_new_type = object.__new__
_TYPE_SETTERS = tuple(
    CustomerType.__dict__[field.name].__set__ for field in attrs.fields(CustomerType)
)  # the slots' own setters: a frozen CustomerType's fields are set once, as attrs sets them


def _customer_type(customer_id: str, as_of: date, labels: tuple[Label, ...]) -> CustomerType:
    """The same CustomerType as the constructor makes, for many customers at once."""
    made = _new_type(CustomerType)
    set_id, set_as_of, set_labels = _TYPE_SETTERS
    set_id(made, customer_id)
    set_as_of(made, as_of)
    set_labels(made, labels)
    return made


def stored_type(store: Store, customer_id: str) -> CustomerType | None:
    """Return the customer's type from the last saved run, or ``None``."""
    data = store.collection(LABELS_COLLECTION).get(customer_id)
    return None if data is None else CustomerType.from_dict(data)


def label_changes(store: Store, customer_id: str) -> list[LabelChange]:
    """Return every recorded label change of a customer, oldest first."""
    out = []
    prefix = f"{customer_id}/"
    for key, data in store.collection(CHANGES_COLLECTION).items(prefix=prefix):
        # Keys are <id>/<YYYY-MM-DD>/<dimension>; ids may hold "/", so "A/" also finds the
        # changes of customer "A/B", whose rest does not start with a date.
        as_of, slash, dimension = key[len(prefix) :].partition("/")
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            continue
        if slash and len(as_of) == len("YYYY-MM-DD"):
            out.append(LabelChange(customer_id, dimension, data["old"], data["new"], day))
    return out
