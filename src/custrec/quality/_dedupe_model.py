"""The Fellegi–Sunter model: how much each comparison level says about a match.

For each field and level, ``m`` is the probability of that level when the two records are
the same customer, ``u`` when they are not. A pair's match weight is the log2 prior odds
plus, for each field not missing, ``log2(m / u)``; its match probability follows from the
weight. Missing fields add nothing.

Without labels (the usual case) the model is estimated as Splink and recordlinkage do:
``u`` from randomly drawn pairs, which are almost all non-matches; then ``m`` and the share
of matches among the candidate pairs by expectation–maximisation over the candidate
pairs' comparison vectors. EM runs over the *distinct* vectors with their counts (a few
hundred), so it costs the same for ten thousand pairs as for ten million. With labelled
pairs, :meth:`MatchModel.from_labelled` counts ``m`` and ``u`` directly.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import attrs

from custrec.errors import ValidationError
from custrec.model import Customer
from custrec.quality._dedupe_compare import FIELDS, LEVELS, compare
from custrec.quality._dedupe_prepare import MatchView, view_of

__all__ = ["MatchModel"]

Vector = tuple[int, ...]
Table = tuple[tuple[float, ...], ...]

_FLOOR = 1e-6  # no level is ever impossible: one surprise must not veto a match outright


def _smooth(counts: Sequence[float], total: float) -> tuple[float, ...]:
    return tuple(max((c + 0.5) / (total + 0.5 * len(counts)), _FLOOR) for c in counts)


def _initial_m() -> Table:
    # The highest level is likely among matches, lower levels less so.
    out = []
    for levels in LEVELS:
        weights = [2.0**level for level in range(levels)]
        total = sum(weights)
        out.append(tuple(w / total for w in weights))
    return tuple(out)


@attrs.frozen
class MatchModel:
    """m and u probabilities per field and level, and the prior share of matches.

    Attributes:
        m: Per field (in the order of ``fields``), the probability of each level among
            matching pairs.
        u: The same among non-matching pairs.
        prior: Share of matches among the candidate pairs.
        fields: The compared fields.
    """

    m: Table
    u: Table
    prior: float
    fields: tuple[str, ...] = FIELDS

    def __attrs_post_init__(self) -> None:
        if self.fields != FIELDS:
            raise ValidationError("fields", self.fields, f"this version compares {FIELDS}")
        for name, table in (("m", self.m), ("u", self.u)):
            if tuple(len(row) for row in table) != LEVELS:
                raise ValidationError(name, table, f"expected levels per field {LEVELS}")
            if any(not 0 < p <= 1 for row in table for p in row):
                raise ValidationError(name, table, "probabilities must be in (0, 1]")
        if not 0 < self.prior < 1:
            raise ValidationError("prior", self.prior, "must be strictly between 0 and 1")

    def field_weight(self, field: int, level: int) -> float:
        """Return ``log2(m/u)`` of one field's level (0 for a missing field)."""
        if level < 0:
            return 0.0
        ratio: float = self.m[field][level] / self.u[field][level]
        return math.log2(ratio)

    def weight(self, vector: Vector) -> float:
        """Return a comparison vector's match weight: prior log-odds plus field weights."""
        total = math.log2(self.prior / (1 - self.prior))
        for field, level in enumerate(vector):
            total += self.field_weight(field, level)
        return total

    def probability(self, vector: Vector) -> float:
        """Return the probability that a pair with this comparison vector is a match."""
        return 1.0 / (1.0 + math.pow(2.0, -self.weight(vector)))

    def as_dict(self) -> dict[str, object]:
        """Return the model as JSON-ready data (fields, m, u, prior)."""
        return {
            "fields": list(self.fields),
            "m": [list(row) for row in self.m],
            "u": [list(row) for row in self.u],
            "prior": self.prior,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MatchModel:
        """Rebuild a model from :meth:`as_dict` output.

        Raises:
            ValidationError: The data is not a model of this version.
        """
        try:
            return cls(
                m=tuple(tuple(float(p) for p in row) for row in data["m"]),  # type: ignore[attr-defined]
                u=tuple(tuple(float(p) for p in row) for row in data["u"]),  # type: ignore[attr-defined]
                prior=float(data["prior"]),  # type: ignore[arg-type]
                fields=tuple(data["fields"]),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError("model", dict(data), f"not a match model: {exc}") from None

    # -- estimation ------------------------------------------------------------------------

    @staticmethod
    def estimate_u(views: Sequence[MatchView], sample_size: int, seed: int) -> Table:
        """Estimate ``u`` from ``sample_size`` random pairs of distinct records."""
        counts = [[0] * levels for levels in LEVELS]
        totals = [0] * len(LEVELS)
        n = len(views)
        if n >= 2:
            rng = random.Random(seed)  # noqa: S311 - a sample for statistics, not secrets
            for _ in range(sample_size):
                i, j = rng.randrange(n), rng.randrange(n - 1)
                j += j >= i
                for field, level in enumerate(compare(views[i], views[j])):
                    if level >= 0:
                        counts[field][level] += 1
                        totals[field] += 1
        return tuple(_smooth(row, total) for row, total in zip(counts, totals, strict=True))

    @classmethod
    def fit_em(
        cls,
        vectors: Mapping[Vector, int],
        u: Table,
        *,
        ignore: frozenset[int] = frozenset(),
        start: MatchModel | None = None,
        iterations: int = 100,
        tolerance: float = 1e-7,
    ) -> MatchModel:
        """Estimate ``m`` and the prior by EM over counted comparison vectors, ``u`` fixed.

        Args:
            vectors: Each distinct comparison vector of the pairs, with its count.
            u: The non-match probabilities (from :meth:`estimate_u`).
            ignore: Fields (by index) left out of this estimation, as Splink does for the
                fields of the blocking rule that chose the pairs (they agree by
                construction, so they would teach nothing); their ``m`` stays as it was.
            start: Starting values; the defaults when ``None``.
            iterations: Most EM rounds.
            tolerance: Stop when no probability moves more than this.

        Returns:
            The fitted model.
        """
        model = start or cls(_initial_m(), u, 0.3)
        model = attrs.evolve(model, u=u)
        total = sum(vectors.values())
        if not total:
            return model
        blank = tuple(-1 if i in ignore else 0 for i in range(len(LEVELS)))
        trimmed: Counter[Vector] = Counter()
        for vector, count in vectors.items():
            trimmed[tuple(-1 if b < 0 else v for v, b in zip(vector, blank, strict=True))] += count
        for _ in range(iterations):
            counts = [[0.0] * levels for levels in LEVELS]
            seen = [0.0] * len(LEVELS)
            matched = 0.0
            for vector, count in trimmed.items():
                share = count * model.probability(vector)
                matched += share
                for field, level in enumerate(vector):
                    if level >= 0:
                        counts[field][level] += share
                        seen[field] += share
            new_m = tuple(
                model.m[f] if f in ignore else _smooth(counts[f], seen[f])
                for f in range(len(LEVELS))
            )
            new_prior = min(max(matched / total, 1e-6), 1 - 1e-6)
            moved = max(
                abs(new_prior - model.prior),
                *(
                    abs(a - b)
                    for ra, rb in zip(new_m, model.m, strict=True)
                    for a, b in zip(ra, rb, strict=True)
                ),
            )
            model = cls(new_m, u, new_prior)
            if moved < tolerance:
                break
        return model

    def fit_prior(self, vectors: Mapping[Vector, int], iterations: int = 100) -> MatchModel:
        """Re-estimate only the prior share of matches over counted vectors (m, u fixed)."""
        total = sum(vectors.values())
        model = self
        for _ in range(iterations if total else 0):
            matched = sum(count * model.probability(v) for v, count in vectors.items())
            prior = min(max(matched / total, 1e-6), 1 - 1e-6)
            done = abs(prior - model.prior) < 1e-9
            model = attrs.evolve(model, prior=prior)
            if done:
                break
        return model

    @classmethod
    def from_labelled(
        cls, labelled: Iterable[tuple[Customer, Customer, bool]], prior: float | None = None
    ) -> MatchModel:
        """Count ``m`` and ``u`` from pairs a person has labelled match or not.

        Args:
            labelled: ``(customer, customer, is_match)`` triples, with both kinds present.
            prior: Share of matches among *all* pairs of the data the model will score
                (about duplicates / records² × 2); the labelled share when ``None``, which
                suits only data as rich in matches as the labels.

        Returns:
            The model.

        Raises:
            ValidationError: No matching or no non-matching pair was given.
        """
        tables = {True: [[0] * n for n in LEVELS], False: [[0] * n for n in LEVELS]}
        seen = {True: [0] * len(LEVELS), False: [0] * len(LEVELS)}
        pairs = {True: 0, False: 0}
        for left, right, is_match in labelled:
            key = bool(is_match)
            pairs[key] += 1
            for field, level in enumerate(compare(view_of(left), view_of(right))):
                if level >= 0:
                    tables[key][field][level] += 1
                    seen[key][field] += 1
        if not pairs[True] or not pairs[False]:
            raise ValidationError("labelled", pairs, "need matching and non-matching pairs")
        m = tuple(_smooth(r, s) for r, s in zip(tables[True], seen[True], strict=True))
        u = tuple(_smooth(r, s) for r, s in zip(tables[False], seen[False], strict=True))
        share = pairs[True] / (pairs[True] + pairs[False])
        return cls(m, u, share if prior is None else prior)
