"""Quality checks pushed down to SQLite and PostgreSQL give the findings the Python path gives.

Each property fills a store with random customers (faults included) and history, runs the
checks with and without push-down, and compares the reports finding for finding, in order.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgserver as pg
from custrec.model import Customer, Feedback, Interaction, Phone, Transaction
from custrec.quality import (
    Check,
    CheckContext,
    ExactDuplicates,
    NoFutureDates,
    PhoneValid,
    RequiredFields,
    Staleness,
    TotalMatchesItems,
    UnknownCustomer,
    run_checks,
)
from custrec.quality._pushdown import suspect_query
from custrec.store import Store
from custrec.store._quality import SupportsQualityPushdown, SuspectQuery
from custrec.template import Template
from custrec.testing import strategies
from test_quality_prefilter import AS_OF, TEMPLATES, faulty_customers

_PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_HISTORY = (Interaction, Transaction, Feedback)


def pushable_checks() -> list[Check]:
    """Every pushable check, some twice with other settings."""
    return [
        RequiredFields(),
        RequiredFields(fields=["name", "emails", "birth_date", "custom.level"], name="req2"),
        Staleness(audit_cycle_days=180),
        Staleness(audit_cycle_days=30, name="stale30"),
        NoFutureDates(),
        ExactDuplicates(),
        ExactDuplicates(on=["email"], name="same_email"),
        *(UnknownCustomer(record_type=kind) for kind in _HISTORY),
    ]


@st.composite
def datasets(draw: st.DrawFn) -> list[Any]:
    """Random faulty customers and some history of theirs."""
    size = draw(st.sampled_from([3, 6, 15]))
    people = draw(st.lists(faulty_customers(), max_size=size, unique_by=lambda c: c.id))
    history: list[Any] = []
    if people:
        owner = st.sampled_from([c.id for c in people])
        history += draw(st.lists(owner.flatmap(strategies.transactions), max_size=3))
        history += draw(st.lists(owner.flatmap(strategies.interactions), max_size=3))
    unique = {(type(record), record.id): record for record in history}
    return [*people, *unique.values()]


def both_ways(store: Store, template: Template, checks: list[Check], batch_size: int) -> None:
    """Run with and without push-down; the reports must be the same."""
    options: dict[str, Any] = {"template": template, "as_of": AS_OF, "batch_size": batch_size}
    pushed = run_checks(store, checks=checks, **options)
    plain = run_checks(store, checks=checks, pushdown=False, **options)
    assert pushed.findings == plain.findings
    assert pushed.records == plain.records
    assert pushed.by_check() == plain.by_check()


class TestPushdown:
    """Push-down changes what is read, never what is found."""

    @_PROPERTY
    @given(TEMPLATES, datasets(), st.integers(1, 6))
    def test_same_findings_as_python(
        self, sql_store: Store, template: Template, records: list[Any], batch_size: int
    ) -> None:
        """The pushable checks find the same, in the same order, with push-down."""
        pg.refill(sql_store, records)
        both_ways(sql_store, template, pushable_checks(), batch_size)
        # Customers pushed down, transactions read in full (a check SQL cannot narrow).
        both_ways(sql_store, template, [*pushable_checks(), TotalMatchesItems()], batch_size)

    @_PROPERTY
    @given(TEMPLATES, datasets())
    def test_suspects_cover_every_faulty_customer(
        self, sql_store: Store, template: Template, records: list[Any]
    ) -> None:
        """Every customer with a finding of a pushable check is among the store's suspects."""
        pg.refill(sql_store, records)
        assert isinstance(sql_store, SupportsQualityPushdown)
        context = CheckContext(template, AS_OF, sql_store.customers.get_many)
        # One check at a time: together, one check's suspects would hide another's misses.
        for check in pushable_checks()[:7]:
            report = run_checks(
                sql_store, checks=[check], template=template, as_of=AS_OF, pushdown=False
            )
            query = suspect_query([check], context)
            assert query is not None
            suspects = set(sql_store.quality_suspects(query))
            assert {f.record_id for f in report.findings} <= suspects, check.name

    def test_a_check_that_is_not_pushable_reads_everything(self, sql_store: Store) -> None:
        """With a phone check among them, customers are read in full; findings still agree."""
        people = [Customer(id=f"c{i}", name=None if i % 3 else "x") for i in range(7)]
        pg.refill(sql_store, people)
        checks: list[Check] = [RequiredFields(fields=["name"]), PhoneValid()]
        both_ways(sql_store, Template("t"), checks, 2)
        report = run_checks(sql_store, checks=checks, as_of=AS_OF)
        assert report.by_check() == {"required": 4, "phone": 0}

    def test_a_pair_sharing_a_phone(self, sql_store: Store) -> None:
        """Two customers with one phone are both suspects, and both get a finding."""
        phone = Phone("13912345678", region="CN")
        people = [Customer(id=i, phones=(phone,)) for i in ("a", "b")]
        pg.refill(sql_store, [*people, Customer(id="c")])
        both_ways(sql_store, Template("t"), [ExactDuplicates()], 1)
        found = run_checks(sql_store, checks=[ExactDuplicates()])
        assert [f.record_id for f in found.findings] == ["a", "b"]

    def test_progress_is_reported_per_record_type(self, sql_store: Store) -> None:
        """Pushed-down types report their whole count at once."""
        pg.refill(sql_store, [Customer(id=f"c{i}") for i in range(5)])
        seen: list[int] = []
        report = run_checks(
            sql_store, checks=[Staleness()], as_of=AS_OF, batch_size=2, progress=seen.append
        )
        assert seen == [5]
        assert report.records["customer"] == 5

    def test_empty_query_finds_no_suspects(self, sql_store: Store) -> None:
        """A query asking for nothing gives nothing, without scanning."""
        old = AS_OF - timedelta(days=400)
        pg.refill(sql_store, [Customer(id="a", created_at=old, updated_at=old)])
        assert isinstance(sql_store, SupportsQualityPushdown)
        assert sql_store.quality_suspects(SuspectQuery()) == []
        query = SuspectQuery(touched_before=AS_OF + timedelta(days=1))
        assert sql_store.quality_suspects(query) == ["a"]
