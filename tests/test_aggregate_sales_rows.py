"""Sales rows: plain-number sales aggregates equal the reference, and so do facts made of them.

- SQLite's ``aggregate_sales_rows``, read back through ``sales_aggregates``, gives the Python
  reference's fields (``aggregate_history``) for every selection of the sales parts.
- ``local_day`` (integer day counting on epoch microseconds) equals converting a datetime,
  in zones with summer time, half-hour and historical offsets.
- ``Classification.run`` takes the sales-row path on SQLite and still equals
  ``classify(compute_facts(...))`` in a zone with summer time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec import config
from custrec.classify import Classification, compute_facts, cutoff_of
from custrec.classify._facts import local_day
from custrec.errors import ValidationError
from custrec.store import WINDOWS, aggregate_history, open_store
from custrec.store._aggregate import SALES_PARTS, SupportsSalesRows, sales_aggregates
from test_aggregate_parts import fill, projected, reference
from test_classify_facts import AS_OF, histories
from test_classify_fastpath import dimensions, label_tuple

SALES_SELECTIONS = [
    frozenset(chosen)
    for size in range(1, len(SALES_PARTS) + 1)
    for chosen in itertools.combinations(sorted(SALES_PARTS), size)
]
"""Every non-empty selection of the sales parts."""

_stores = itertools.count()

_PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    with config.using(timezone="UTC"):
        yield


class TestSalesRowsEqualTheReference:
    """aggregate_sales_rows equals aggregate_history on the sales parts."""

    @_PROPERTY
    @given(records=histories(), windows=st.sampled_from([WINDOWS, (7,), (365, 30), ()]))
    def test_every_selection(
        self, tmp_path: Path, records: list[Any], windows: tuple[int, ...]
    ) -> None:
        """For each selection of sales parts, the rows' fields equal the reference's."""
        cutoff = cutoff_of(AS_OF)
        with open_store("memory://") as memory:
            fill(memory, records)
            expected = aggregate_history(
                memory.transactions,
                memory.interactions,
                memory.feedback,
                cutoff=cutoff,
                currency="CNY",
                windows=windows,
            )
        with open_store(f"sqlite:///{tmp_path / f's{next(_stores)}.db'}") as store:
            fill(store, records)
            assert isinstance(store, SupportsSalesRows)
            for parts in [None, *SALES_SELECTIONS]:
                rows = store.aggregate_sales_rows(cutoff, "CNY", windows, parts)
                chosen = SALES_PARTS if parts is None else parts
                found = {cid: sales_aggregates(row, windows) for cid, row in rows.items()}
                assert (sorted(chosen), projected(found, chosen)) == (
                    sorted(chosen),
                    projected(expected, chosen),
                )
                # A row for every customer with a counted sale in the currency, and no other.
                assert set(rows) == {cid for cid, agg in expected.items() if agg.order_count}

    @_PROPERTY
    @given(records=histories())
    def test_same_as_default_windows_reference(self, tmp_path: Path, records: list[Any]) -> None:
        """With the default windows, the rows equal the shared reference helper's result."""
        cutoff = cutoff_of(AS_OF)
        expected = reference(records, cutoff)
        with open_store(f"sqlite:///{tmp_path / f'd{next(_stores)}.db'}") as store:
            fill(store, records)
            rows = store.aggregate_sales_rows(cutoff, "CNY", WINDOWS)
        found = {cid: sales_aggregates(row, WINDOWS) for cid, row in rows.items()}
        assert projected(found, SALES_PARTS) == projected(expected, SALES_PARTS)

    def test_other_parts_are_refused(self, tmp_path: Path) -> None:
        """Contacts are not a sales part; an unknown part is named too."""
        with open_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
            with pytest.raises(ValidationError) as caught:
                store.aggregate_sales_rows(cutoff_of(AS_OF), "CNY", WINDOWS, ["orders", "contacts"])
            assert caught.value.value == ["contacts"]
            with pytest.raises(ValidationError) as unknown:
                store.aggregate_sales_rows(cutoff_of(AS_OF), "CNY", WINDOWS, ["mood"])
            assert unknown.value.value == ["mood"]


_ZONES = st.sampled_from(
    [
        "UTC",
        "Asia/Shanghai",
        "America/New_York",
        "Europe/London",
        "Europe/Dublin",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/St_Johns",
        "Pacific/Kiritimati",
        "Africa/Monrovia",
    ]
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR = 3_600_000_000


class TestLocalDay:
    """Day counting on microseconds equals converting each instant."""

    @settings(max_examples=500)
    @given(
        zone=_ZONES,
        us=st.integers(-(2**31) * 1_000_000, 2**32 * 1_000_000)
        | st.integers(1_700_000_000, 1_720_000_000).map(lambda s: s * 1_000_000 - 1),
    )
    def test_equals_astimezone(self, zone: str, us: int) -> None:
        """Any instant from 1901 to 2106, any of the zones."""
        tz = ZoneInfo(zone)
        expected = (_EPOCH + timedelta(microseconds=us)).astimezone(tz).date().toordinal()
        assert local_day(tz)(us) == expected

    @settings(max_examples=300)
    @given(
        zone=_ZONES,
        day=st.dates(date(1901, 1, 1), date(2100, 12, 31)),
        shift=st.sampled_from([-1, 0, 1]),
    )
    def test_around_local_midnight(self, zone: str, day: date, shift: int) -> None:
        """The microsecond before, at and after a local midnight."""
        tz = ZoneInfo(zone)
        midnight = datetime.combine(day, time(), tzinfo=tz)
        us = (midnight - _EPOCH) // timedelta(microseconds=1) + shift
        expected = (_EPOCH + timedelta(microseconds=us)).astimezone(tz).date().toordinal()
        assert local_day(tz)(us) == expected

    @pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe"])
    def test_every_minute_around_a_change(self, zone: str) -> None:
        """Every minute of the days around 2024's offset changes, one day function for all."""
        tz = ZoneInfo(zone)
        day = local_day(tz)
        for month in range(1, 13):
            start = int(datetime(2024, month, 1, tzinfo=UTC).timestamp()) * 1_000_000
            for minute in range(0, 31 * 24 * 60, 7):
                us = start + minute * 60_000_000 + (minute % 3) * (_HOUR // 2 - 1)
                moment = (_EPOCH + timedelta(microseconds=us)).astimezone(tz)
                assert day(us) == moment.date().toordinal()


class TestRunTakesTheSalesRows:
    """On SQLite, Classification.run derives from sales rows, with the same result."""

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        records=histories(),
        zone=st.sampled_from(["America/New_York", "Asia/Shanghai", "Australia/Lord_Howe"]),
        method=st.sampled_from(["thresholds", "quantiles"]),
    )
    def test_same_types_in_a_zone_with_summer_time(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        records: list[Any],
        zone: str,
        method: str,
    ) -> None:
        """Same labels, reasons and values as the facts path; aggregate_history is not asked."""
        from custrec.store._sqlite import SQLiteStore

        with config.using(timezone=zone):
            # Sales and customer fields (age, region), no NPS: every fact can come from rows.
            every = dimensions(method)
            classification = Classification([*every[:5], every[6]])
            with open_store(f"sqlite:///{tmp_path / f'z{next(_stores)}.db'}") as store:
                fill(store, records)
                population = compute_facts(
                    store, AS_OF, facts=classification.facts, customers=False
                )
                expected = classification.classify(population)
                with monkeypatch.context() as patch:

                    def refuse(*_: Any, **__: Any) -> Any:
                        raise AssertionError("the sales-row path was not taken")

                    patch.setattr(SQLiteStore, "aggregate_history", refuse)
                    fast = classification.run(store, AS_OF, save=False).types
        assert list(fast) == list(expected)
        for customer_id, kind in fast.items():
            assert [label_tuple(x) for x in kind.labels] == [
                label_tuple(x) for x in expected[customer_id].labels
            ]
