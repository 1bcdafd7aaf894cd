"""The prefiltered run of the built-in customer checks gives exactly the plain run's findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import email_validator
import pytest
from benchmarks import quality as bench
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec.model import Customer, Email, Phone
from custrec.quality import (
    BirthDatePlausible,
    Check,
    CheckContext,
    CustomFieldsValid,
    EmailValid,
    ExactDuplicates,
    Finding,
    NoFutureDates,
    PhoneValid,
    RequiredFields,
    Staleness,
    run_checks,
)
from custrec.quality._email import ordinary_email
from custrec.template import CustomField, Template
from custrec.testing import strategies

AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
LEVELS = ("普通", "银卡", "金卡")
TEMPLATES = st.builds(
    lambda undeclared, low, pattern: Template(
        "prefilter",
        required=("name", "phones"),
        allow_undeclared=undeclared,
        custom_fields=(
            CustomField("level", "choice", choices=LEVELS, required=True),
            CustomField("points", "integer", min=low),
            CustomField("code", "text", pattern=pattern),
            CustomField("note", "text"),
            CustomField("ratio", "decimal", min=0, max=1),
        ),
    ),
    st.booleans(),
    st.sampled_from([0, -3, None]),
    st.sampled_from([None, r"[A-Z]{2}\d+"]),
)
PHONES = st.sampled_from(
    [
        Phone("13912345678", region="CN"),
        Phone("+86 139 1234 5679", region="CN"),
        Phone("139123", region="CN"),
        Phone("000", region="CN"),
        Phone("+1 650 253 0000"),
    ]
)
EMAILS = st.sampled_from(
    [
        Email("a@qq.com"),
        Email("A@QQ.com"),
        Email("b.c@163.com"),
        Email("x@example.test"),
        Email("bad(at)qq.com"),
        Email("a..b@qq.com"),
        Email("x@a--b.com"),
    ]
)
CUSTOM_VALUES = st.one_of(
    st.none(),
    st.sampled_from([*LEVELS, "白金", "", "AB12", "ab", 0, -5, 7, True, 2.5, "0.5", "x"]),
    st.integers(-10, 10),
)
MOMENTS = st.sampled_from(
    [AS_OF - timedelta(days=days) for days in (0, 30, 179, 181, 400, 4000)]
    + [AS_OF + timedelta(minutes=30), AS_OF + timedelta(days=2), None]
)
BIRTHS = st.one_of(
    st.none(),
    st.sampled_from([date(1890, 1, 1), date(1904, 12, 31), date(1905, 1, 1), date(2025, 1, 2)]),
    st.dates(date(1880, 1, 1), date(2030, 12, 31)),
)


@st.composite
def faulty_customers(draw: st.DrawFn) -> Customer:
    """A random customer with faults the built-in checks look for, often."""
    customer = draw(strategies.customers())
    custom = dict(customer.custom) if draw(st.booleans()) else {}
    for key in ("level", "points", "code", "note", "ratio"):
        if draw(st.booleans()):
            custom[key] = draw(CUSTOM_VALUES)
    reviewed = draw(MOMENTS)
    updated = draw(MOMENTS) or AS_OF - timedelta(days=10)
    return attrs.evolve(
        customer,
        name=draw(st.sampled_from([customer.name, None, "张三"])),
        phones=tuple(draw(st.lists(PHONES, max_size=3))),
        emails=tuple(draw(st.lists(EMAILS, max_size=3))),
        birth_date=draw(BIRTHS),
        custom={k: v for k, v in custom.items() if v is not None},
        created_at=min(customer.created_at, updated),
        updated_at=updated,
        reviewed_at=reviewed,
    )


def builtin_checks(template: Template) -> list[Check]:
    """Every prefiltered built-in customer check, configured both ways where it matters."""
    return [
        RequiredFields(),
        RequiredFields(fields=["name", "custom.points"], name="required_two"),
        PhoneValid(),
        EmailValid(),
        BirthDatePlausible(min_age=1, max_age=120),
        CustomFieldsValid(),
        CustomFieldsValid(fields=["level", "points"], name="choice_points"),
        Staleness(audit_cycle_days=180),
        NoFutureDates(),
        ExactDuplicates(),
        ExactDuplicates(on=["phone"], name="same_phone"),
    ]


@attrs.frozen
class Plain:
    """A check passed through as is: the run cannot recognise it, so it sees every record."""

    inner: Any

    @property
    def name(self) -> str:
        """The wrapped check's name."""
        return str(self.inner.name)

    @property
    def severity(self) -> Any:
        """The wrapped check's severity."""
        return self.inner.severity

    @property
    def record_type(self) -> type[Any]:
        """The wrapped check's record type."""
        return self.inner.record_type  # type: ignore[no-any-return]

    def check(self, records: Sequence[Any], context: CheckContext) -> Iterable[Finding]:
        """The wrapped check over the whole batch."""
        return self.inner.check(records, context)

    def finish(self, context: CheckContext) -> Iterable[Finding]:
        """The wrapped check's findings after the last batch."""
        return self.inner.finish(context)


class TestPrefilter:
    """Prefiltering only skips records a check would not find fault with."""

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        TEMPLATES,
        st.lists(faulty_customers(), max_size=25, unique_by=lambda c: c.id),
        st.integers(1, 7),
    )
    def test_same_findings_in_the_same_order(
        self, template: Template, customers: list[Customer], batch_size: int
    ) -> None:
        """Each built-in check gives the same findings, in order, with and without a prefilter."""
        checks = builtin_checks(template)
        plain = [Plain(check) for check in checks]
        fast = run_checks(
            customers, template=template, checks=checks, as_of=AS_OF, batch_size=batch_size
        )
        slow = run_checks(
            customers, template=template, checks=plain, as_of=AS_OF, batch_size=batch_size
        )
        assert fast.findings == slow.findings
        assert fast.by_check() == slow.by_check()

    @pytest.mark.parametrize("batch_size", [1, 97, 1000])
    def test_benchmark_customers_fail_every_check_the_same_way(self, batch_size: int) -> None:
        """The benchmark's seeded customers: every check finds faults, the same both ways."""
        customers = bench._customers(1_500)
        checks = bench._checks()
        plain = [Plain(check) for check in checks]
        template, as_of = bench.TEMPLATE, bench.AS_OF
        fast = run_checks(
            customers, checks=checks, template=template, as_of=as_of, batch_size=batch_size
        )
        slow = run_checks(
            customers, checks=plain, template=template, as_of=as_of, batch_size=batch_size
        )
        assert fast.findings == slow.findings
        assert all(count > 0 for count in fast.by_check().values()), fast.by_check()

    def test_the_plain_wrapper_really_sees_every_record(self) -> None:
        """The comparison is not vacuous: faults are found by both runs."""
        template = Template("t", required=("name",))
        customers = [Customer(id="a"), Customer(id="b", name="B", phones=(Phone("139123"),))]
        fast = run_checks(customers, template=template, checks=[RequiredFields(), PhoneValid()])
        assert [f.record_id for f in fast.findings] == ["a", "b"]


class TestOrdinaryEmail:
    """The fast path for ordinary addresses agrees with email-validator at its limits too."""

    @given(
        st.one_of(
            st.from_regex(r"\A[a-z0-9.+_%-]{55,70}@[a-z0-9.-]{1,12}\.[a-z]{1,5}\Z"),
            st.from_regex(r"\A[a-z]{1,3}@[a-z0-9-]{60,66}\.[a-z]{2,4}\Z"),
            st.text(max_size=30),
        )
    )
    def test_ordinary_addresses_are_valid(self, address: str) -> None:
        """An address the fast path accepts, email-validator accepts too."""
        if ordinary_email(address):
            email_validator.validate_email(address, check_deliverability=False)
