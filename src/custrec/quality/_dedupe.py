"""Finding duplicate customers: block, compare, score, cluster.

>>> from custrec.quality import find_duplicates
>>> found = find_duplicates(customers)  # doctest: +SKIP
>>> for group in found.clusters:  # doctest: +SKIP
...     print(group.ids, group.decision)
"""

from __future__ import annotations

import itertools
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Literal

import attrs

from custrec._gcpause import without_collection
from custrec.errors import ValidationError
from custrec.model import Customer
from custrec.quality._dedupe_blocking import BlockingStats, block
from custrec.quality._dedupe_cluster import cluster
from custrec.quality._dedupe_compare import FIELDS, compare, compare_detail
from custrec.quality._dedupe_model import MatchModel
from custrec.quality._dedupe_prepare import MatchView, NameMemo, view_of
from custrec.quality._dedupe_settings import DuplicateSettings
from custrec.store import Store

__all__ = [
    "CandidatePair",
    "DuplicateCluster",
    "DuplicateReport",
    "FieldComparison",
    "find_duplicates",
    "find_duplicates_in_store",
    "train_model",
]

Decision = Literal["merge", "review"]
Stage = Callable[[str, int], None]
"""A progress callback: called with the stage (``"prepare"``, ``"compare"``) and a count."""

_ID = operator.attrgetter("id")
_STEP = 10_000


@attrs.frozen
class FieldComparison:
    """How one field of a pair compared.

    Attributes:
        field: The field (``"name"``, ``"phone"``…).
        level: 0 = different, higher = more alike, -1 = missing in a record.
        similarity: From 0 to 1, for reading.
        weight: The level's evidence, ``log2(m/u)``: positive for a match, negative against.
    """

    field: str
    level: int
    similarity: float
    weight: float


@attrs.frozen
class CandidatePair:
    """Two records that may be one customer, with the evidence.

    Attributes:
        left: The smaller id.
        right: The larger id.
        probability: Match probability.
        weight: Match weight (log2 odds).
        fields: The comparison of each field: why it matched.
        decision: ``"merge"`` from the merge threshold, else ``"review"``.
    """

    left: str
    right: str
    probability: float
    weight: float
    fields: tuple[FieldComparison, ...]
    decision: Decision


@attrs.frozen
class DuplicateCluster:
    """Records found to be one customer.

    Attributes:
        ids: The records, sorted.
        probability: The weakest match probability among the pairs that linked them.
        decision: ``"merge"`` when every linking pair reaches the merge threshold and the
            group was not capped; else ``"review"``.
        capped: Whether a link was left out to keep the group under the size limit.
    """

    ids: tuple[str, ...]
    probability: float
    decision: Decision
    capped: bool


@attrs.frozen
class DuplicateReport:
    """What :func:`find_duplicates` found.

    Attributes:
        pairs: Pairs at or above the review threshold, sorted by ids.
        clusters: Groups linked by those pairs.
        model: The Fellegi–Sunter model used (estimated, or given).
        blocking: What blocking did (candidate pairs, reduction ratio…).
    """

    pairs: tuple[CandidatePair, ...]
    clusters: tuple[DuplicateCluster, ...]
    model: MatchModel
    blocking: BlockingStats


def _views(customers: Iterable[Customer], progress: Stage | None) -> list[MatchView]:
    # Sorting by id makes everything after independent of the input order. The customers
    # are sorted before they are viewed, not the views after: the views are then made in
    # the order every later step reads them, one after another in memory, where sorting
    # them afterwards would scatter each step's reads over the whole heap (blocking
    # 377k generated records took 5.3 s of CPU that way, 4.4 s this way).
    ordered = sorted(customers, key=_ID)
    for before, after in itertools.pairwise(ordered):
        if before.id == after.id:
            raise ValidationError("customers", after.id, "the same id appears twice")
    views = []
    names = NameMemo()
    for count, customer in enumerate(ordered, start=1):
        views.append(view_of(customer, names))
        if progress is not None and count % _STEP == 0:
            progress("prepare", count)
    return views


def train_model(
    customers: Iterable[Customer], settings: DuplicateSettings | None = None
) -> MatchModel:
    """Estimate a match model from unlabelled customers (u by sampling, m by EM).

    Args:
        customers: The customers to learn from.
        settings: Blocking and sampling settings; the defaults when ``None``.

    Returns:
        The model, to pass to :func:`find_duplicates` (or to store with
        :meth:`MatchModel.as_dict`).
    """
    settings = settings or DuplicateSettings()
    with without_collection():
        views = _views(customers, None)
        pairs, _ = block(views, settings.blocking, settings.max_block_size, settings.chance_limit)
        vectors = Counter(compare(views[i], views[j]) for i, j in pairs)
        return _fit(views, vectors, settings)


# Field indices in a comparison vector (see FIELDS).
_NAME, _PHONE, _EMAIL, _BIRTH, _ADDRESS, _GENDER, _HANDLE = range(len(FIELDS))
_MIN_SESSION = 20  # fewer pairs than this teach EM nothing; their fields keep the defaults


def _fit(
    views: list[MatchView], vectors: Counter[tuple[int, ...]], settings: DuplicateSettings
) -> MatchModel:
    """Estimate the model the way Splink does: u by sampling, m by EM in two sessions.

    Pairs that share a contact point teach what names, birth dates and addresses of
    matches look like; pairs with the same name and birth date teach what their contact
    points look like. A session never learns the fields that chose its pairs. Finally the
    prior is fitted over all candidate pairs.
    """
    # Ten random pairs per record (up to the setting) estimate u well; more is waste.
    sample = min(settings.u_sample_size, 10 * len(views))
    u = MatchModel.estimate_u(views, sample, settings.seed)
    model = MatchModel.fit_em(Counter(), u)
    contact = Counter(
        {v: c for v, c in vectors.items() if v[_PHONE] == 2 or v[_EMAIL] == 2 or v[_HANDLE] == 1}
    )
    if sum(contact.values()) >= _MIN_SESSION:
        model = MatchModel.fit_em(
            contact, u, ignore=frozenset({_PHONE, _EMAIL, _HANDLE}), start=model
        )
    person = Counter({v: c for v, c in vectors.items() if v[_NAME] >= 3 and v[_BIRTH] == 3})
    if sum(person.values()) >= _MIN_SESSION:
        model = MatchModel.fit_em(
            person,
            u,
            ignore=frozenset({_NAME, _BIRTH, _ADDRESS, _GENDER}),
            start=model,
        )
    model = model.fit_prior(vectors)
    # The prior over *all* pairs, like u: blocking chose the candidates, but the evidence
    # of a pair must be weighed against how rare a match is among pairs in general.
    n = len(views)
    everything = n * (n - 1) // 2
    matches = model.prior * sum(vectors.values())
    return attrs.evolve(
        model, prior=min(max(matches / everything, 1e-12), 0.5) if everything else 0.5
    )


def _name_frequencies(views: list[MatchView]) -> dict[str, float]:
    counts = Counter(view.roman for view in views if view.roman)
    total = len(views)
    return {name: count / total for name, count in counts.items()}


def _name_adjustment(model: MatchModel, level: int, frequency: float) -> float:
    """``log2(u / tf)``: added to the weight of an agreeing name with this frequency."""
    return math.log2(model.u[_NAME][level]) - math.log2(frequency)


def find_duplicates(
    customers: Iterable[Customer],
    *,
    settings: DuplicateSettings | None = None,
    model: MatchModel | None = None,
    progress: Stage | None = None,
) -> DuplicateReport:
    """Find customers that are probably the same person or organisation.

    Args:
        customers: The customers (ids must be distinct).
        settings: Blocking, thresholds and limits; the defaults when ``None`` (see
            :meth:`DuplicateSettings.from_template` to read them from a template).
        model: A fitted model; when ``None`` one is estimated from these customers.
        progress: Called with a stage name and a count as the work goes on.

    Returns:
        Scored pairs with per-field evidence, and clusters with a decision.

    Raises:
        ValidationError: Two customers have the same id.
    """
    with without_collection():
        return _find(customers, settings or DuplicateSettings(), model, progress)


def _find(
    customers: Iterable[Customer],
    settings: DuplicateSettings,
    model: MatchModel | None,
    progress: Stage | None,
) -> DuplicateReport:
    views = _views(customers, progress)
    pairs, stats = block(views, settings.blocking, settings.max_block_size, settings.chance_limit)
    # Each pair is compared once: its levels score it, its similarities explain it.
    details = []
    vectors = []
    for count, (i, j) in enumerate(pairs, start=1):
        detail = compare_detail(views[i], views[j])
        details.append(detail)
        vectors.append(tuple([level for level, _ in detail]))
        if progress is not None and count % _STEP == 0:
            progress("compare", count)
    if model is None:
        model = _fit(views, Counter(vectors), settings)
    explain = _Explainer(model, settings)
    frequency = _name_frequencies(views)
    kept: list[CandidatePair] = []
    for (i, j), vector, detail in zip(pairs, vectors, details, strict=True):
        weight = explain.weight(vector)
        level = vector[_NAME]
        if level >= 3:
            # Term frequency: the same rare name says more than the same common one.
            weight += _name_adjustment(model, level, frequency[views[i].roman])
        p = 1.0 / (1.0 + math.pow(2.0, -weight))
        if p >= settings.review_threshold:
            kept.append(explain.pair(views[i], views[j], weight, detail, vector))
    groups = cluster(
        ((pair.left, pair.right, pair.probability) for pair in kept), settings.max_cluster_size
    )
    clusters = tuple(
        DuplicateCluster(
            ids=group.ids,
            probability=group.weakest,
            decision="merge"
            if group.weakest >= settings.merge_threshold and not group.capped
            else "review",
            capped=group.capped,
        )
        for group in groups
    )
    return DuplicateReport(tuple(kept), clusters, model, stats)


class _Explainer:
    """Builds the reported pairs of one run, reusing what repeats between them.

    Vectors repeat (a few hundred distinct among millions of pairs), and so does the
    comparison of every field but the name (its weight carries the pair's name-frequency
    adjustment): both are computed once. The comparisons are frozen, so sharing one
    object between pairs is safe.
    """

    def __init__(self, model: MatchModel, settings: DuplicateSettings) -> None:
        self.model = model
        self.merge_threshold = settings.merge_threshold
        self.weights: dict[tuple[int, ...], float] = {}
        self.fields: dict[tuple[int, int, float], FieldComparison] = {}

    def weight(self, vector: tuple[int, ...]) -> float:
        """The model's weight of ``vector`` (without the name-frequency adjustment)."""
        weight = self.weights.get(vector)
        if weight is None:
            weight = self.weights[vector] = self.model.weight(vector)
        return weight

    def field(self, index: int, level: int, similarity: float) -> FieldComparison:
        """The comparison of a field other than the name."""
        key = (index, level, similarity)
        found = self.fields.get(key)
        if found is None:
            weight = self.model.field_weight(index, level) + 0.0
            found = self.fields[key] = FieldComparison(FIELDS[index], level, similarity, weight)
        return found

    def pair(
        self,
        a: MatchView,
        b: MatchView,
        weight: float,
        detail: tuple[tuple[int, float], ...],
        vector: tuple[int, ...],
    ) -> CandidatePair:
        """The reported pair of ``a`` and ``b``, whose adjusted weight is ``weight``.

        ``detail`` is their comparison (:func:`compare_detail`), ``vector`` its levels.
        """
        (level, similarity), *rest = detail
        adjustment = weight - self.weight(vector)
        name = FieldComparison(
            FIELDS[_NAME],
            level,
            similarity,
            self.model.field_weight(_NAME, level) + adjustment,
        )
        fields = (
            name,
            *(self.field(index, *compared) for index, compared in enumerate(rest, start=1)),
        )
        p = 1.0 / (1.0 + math.pow(2.0, -weight))
        return CandidatePair(
            left=a.id,
            right=b.id,
            probability=p,
            weight=weight,
            fields=fields,
            decision="merge" if p >= self.merge_threshold else "review",
        )


def find_duplicates_in_store(
    store: Store,
    *,
    settings: DuplicateSettings | None = None,
    model: MatchModel | None = None,
    progress: Stage | None = None,
) -> DuplicateReport:
    """Find duplicates among a store's customers (read in batches).

    Args:
        store: The store.
        settings: As for :func:`find_duplicates`.
        model: As for :func:`find_duplicates`.
        progress: As for :func:`find_duplicates`.

    Returns:
        As :func:`find_duplicates`.
    """
    customers = (c for batch in store.customers.iter_batches(5_000) for c in batch)
    return find_duplicates(customers, settings=settings, model=model, progress=progress)
