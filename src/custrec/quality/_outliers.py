"""Outliers: negative or extreme amounts and quantities, by median and MAD."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Sequence
from decimal import Decimal

from custrec.model import Transaction
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity

__all__ = ["Outliers", "robust_scores", "robust_z"]

_MAD_SCALE = 0.6745  # makes the MAD of normal data estimate its standard deviation


def robust_z(value: float, median: float, mad: float) -> float:
    """The modified z-score of Iglewicz and Hoaglin: ``0.6745 × (x − median) / MAD``."""
    return _MAD_SCALE * (value - median) / mad


def robust_scores(values: list[float]) -> list[float] | None:
    """Each value's robust z-score against all of them, or ``None`` when there is no spread.

    The scale is the median absolute deviation (MAD). When more than half the values are
    equal (quantities of 1) the MAD is 0 and no score is given: a fallback such as the mean
    absolute deviation would call every 2 or 3 among the 1s extreme.
    """
    median = statistics.median(values)
    mad = statistics.median(abs(value - median) for value in values)
    if mad == 0:
        return None
    return [robust_z(value, median, mad) for value in values]


class Outliers(RecordCheck):
    """Transaction totals and line-item quantities that are negative or extreme.

    Negative totals and quantities that are not positive are reported as they are seen.
    Extreme values are those whose robust z-score exceeds ``threshold``, or which pass
    ``max_amount`` / ``max_quantity``; they are reported when the run ends, with
    ``warning`` severity. Where the MAD is 0 (most quantities are 1) only the caps apply.
    The score is taken on the logarithm of the values by default
    (amounts are skewed: many small sales, a few large ones), against the median and MAD of
    all positive totals in that currency, or of all quantities.

    Args:
        threshold: The robust z-score beyond which a value is extreme (3.5, Iglewicz and
            Hoaglin's usual cut-off).
        log_scale: Score the logarithm of values (``True``) or the values themselves.
        min_count: Fewer values than this and no statistics are drawn.
        max_amount: An absolute cap on totals, if any.
        max_quantity: An absolute cap on quantities (1000 by default; None for none).
        severity: The severity of negative values.
        name: The check's name.
    """

    def __init__(
        self,
        *,
        threshold: float = 3.5,
        log_scale: bool = True,
        min_count: int = 30,
        max_amount: Decimal | int | str | None = None,
        max_quantity: Decimal | int | str | None = 1000,
        severity: Severity | str = Severity.ERROR,
        name: str = "outliers",
    ) -> None:
        super().__init__(name, severity, Transaction)
        self.threshold, self.min_count = float(threshold), int(min_count)
        self.log_scale = bool(log_scale)
        self.max_amount = None if max_amount is None else Decimal(str(max_amount))
        self.max_quantity = None if max_quantity is None else Decimal(str(max_quantity))

    def check(self, records: Sequence[Transaction], context: CheckContext) -> Iterator[Finding]:
        """Report negative values; remember the rest for :meth:`finish`."""
        state = context.state(self)
        totals: dict[str, list[tuple[str, float]]] = state.setdefault("totals", {})
        quantities: list[tuple[str, int, float]] = state.setdefault("quantities", [])
        for record in records:
            total = record.total
            if total.amount < 0:
                yield self.finding(record.id, "total", "negative total", str(total))
            elif total.amount > 0:  # a free sale is neither negative nor extreme
                totals.setdefault(total.currency, []).append((record.id, float(total.amount)))
            for index, item in enumerate(record.items):
                if item.quantity <= 0:
                    yield self.finding(
                        record.id,
                        f"items[{index}].quantity",
                        "quantity is not positive",
                        str(item.quantity),
                    )
                else:
                    quantities.append((record.id, index, float(item.quantity)))

    def finish(self, context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each extreme total and quantity."""
        state = context.state(self)
        for currency, values in sorted(state.get("totals", {}).items()):
            cap = None if self.max_amount is None else float(self.max_amount)
            for record_id, value, why in self._extremes(values, cap):
                yield self.finding(
                    record_id,
                    "total",
                    f"extreme total ({why})",
                    f"{value:.2f} {currency}",
                    severity=Severity.WARNING,
                )
        quantities = state.get("quantities", [])
        pairs = [(f"{record_id}#{index}", value) for record_id, index, value in quantities]
        cap = None if self.max_quantity is None else float(self.max_quantity)
        for key, value, why in self._extremes(pairs, cap):
            record_id, _, index = key.rpartition("#")
            yield self.finding(
                record_id,
                f"items[{index}].quantity",
                f"extreme quantity ({why})",
                f"{value:g}",
                severity=Severity.WARNING,
            )

    def _extremes(
        self, values: list[tuple[str, float]], cap: float | None
    ) -> Iterator[tuple[str, float, str]]:
        scores = None
        if len(values) >= self.min_count:
            scale = math.log if self.log_scale else float
            scores = robust_scores([scale(value) for _, value in values])
        for index, (record_id, value) in enumerate(values):
            if cap is not None and value > cap:
                yield record_id, value, f"above the cap {cap:g}"
            elif scores is not None and abs(scores[index]) > self.threshold:
                yield record_id, value, f"robust z-score {scores[index]:.1f}"
