"""Checks of the entry standard and of validity, the Check protocol, user checks, registry."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import email_validator
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.model import Address, Customer, Email, Money, Phone, Transaction
from custrec.quality import (
    BirthDatePlausible,
    Check,
    CustomFieldsValid,
    EmailValid,
    ExpressionCheck,
    Finding,
    NoFutureDates,
    PhoneValid,
    PostalCodeValid,
    RequiredFields,
    Severity,
    _registry,
    build_checks,
    check,
    check_factories,
    email_problem,
    mask,
    register_check,
    run_checks,
)
from custrec.template import CustomField, Template

AS_OF = datetime(2025, 6, 30, 12, tzinfo=UTC)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def customer(**fields: object) -> Customer:
    fields.setdefault("created_at", T0)
    fields.setdefault("updated_at", T0)
    return Customer(**fields)  # type: ignore[arg-type]


def findings(
    records: list[object], *checks: Check, template: Template | None = None
) -> list[Finding]:
    report = run_checks(records, checks=checks, template=template, as_of=AS_OF)  # type: ignore[arg-type]
    return list(report.findings)


class TestRequiredFields:
    def test_missing_required_fields_are_found(self) -> None:
        """Each empty required field, built-in or custom, is one error finding."""
        template = Template(
            "t",
            required=("name", "phones"),
            custom_fields=(CustomField("level", "choice", required=True, choices=("A", "B")),),
        )
        good = customer(id="1", name="张三", phones=[Phone("13812345678")], custom={"level": "A"})
        bad = customer(id="2")
        found = findings([good, bad], RequiredFields(), template=template)
        assert sorted(f.field for f in found) == ["custom.level", "name", "phones"]
        assert {f.record_id for f in found} == {"2"}
        assert {f.severity for f in found} == {Severity.ERROR}

    def test_explicit_fields_override_the_template(self) -> None:
        """Given fields are required instead of the template's entry standard."""
        found = findings([customer(id="1", name="x")], RequiredFields(fields=["emails"]))
        assert [f.field for f in found] == ["emails"]

    def test_unknown_field_is_refused(self) -> None:
        """A field that no entry standard can require is refused when the check is built."""
        with pytest.raises(ValidationError) as info:
            RequiredFields(fields=["shoe_size"])
        assert info.value.field == "fields"


class TestPhoneValid:
    def test_invalid_phone_is_an_error_with_masked_value(self) -> None:
        """An unreadable number is reported with its index and a masked value."""
        good = customer(id="1", phones=[Phone("13812345678", region="CN")])
        bad = customer(id="2", phones=[Phone("13812345678"), Phone("1381234", region="CN")])
        found = findings([good, bad], PhoneValid())
        assert len(found) == 1
        assert (found[0].record_id, found[0].field) == ("2", "phones[1]")
        assert found[0].value == "*****34"
        assert found[0].fix is not None


class TestEmailValid:
    @pytest.mark.parametrize(
        "address", ["zhang.wei@qq.com", "li+tag@mail.example.cn", "王@例子.中国", "a_b@x-y.com"]
    )
    def test_valid_addresses_pass(self, address: str) -> None:
        """Ordinary and internationalised addresses raise nothing."""
        assert findings([customer(emails=[Email(address)])], EmailValid()) == []

    @pytest.mark.parametrize(
        "address", ["zhangsan(at)qq.com", "li.si@", "a..b@qq.com", "x@host", "x@shop.test"]
    )
    def test_invalid_addresses_fail(self, address: str) -> None:
        """Bad syntax, a missing domain and special-use domains are errors."""
        found = findings([customer(id="9", emails=[Email(address)])], EmailValid())
        assert [(f.record_id, f.field) for f in found] == [("9", "emails[0]")]
        assert found[0].value == mask("emails[0]", Email(address).address)
        assert found[0].value != address

    @given(
        st.one_of(
            st.from_regex(r"\A[a-zA-Z0-9_.%+-]{1,12}@[a-z0-9.-]{1,15}\.[a-z]{2,6}\Z"),
            st.from_regex(r"\A[a-z0-9_%+-]{1,8}(\.[a-z0-9_%+-]{1,5})?@[a-z0-9]{1,8}\.[a-z]{2,6}\Z"),
            st.emails(),
        )
    )
    def test_fast_path_agrees_with_email_validator(self, address: str) -> None:
        """The fast path never accepts an address that email-validator refuses."""
        try:
            email_validator.validate_email(address, check_deliverability=False)
            expected = None
        except email_validator.EmailNotValidError as exc:
            expected = str(exc)
        assert (email_problem(address) is None) == (expected is None)


class TestPostalCode:
    def test_chinese_postal_codes_are_six_digits(self) -> None:
        """CN (also by default and as 中国) wants six digits; unlisted countries pass."""
        records = [
            customer(id="1", addresses=[Address(country="CN", postal_code="100020")]),
            customer(id="2", addresses=[Address(postal_code="10002")]),
            customer(id="3", addresses=[Address(country="中国", postal_code="1000２0x")]),
            customer(id="4", addresses=[Address(country="ZZ", postal_code="whatever")]),
            customer(id="5", addresses=[Address(country="US", postal_code="94105-1234")]),
        ]
        found = findings(records, PostalCodeValid())
        assert [f.record_id for f in found] == ["2", "3"]
        assert found[0].field == "addresses[0].postal_code"

    def test_bad_pattern_is_refused(self) -> None:
        """A pattern that is not a regular expression is refused, naming it."""
        with pytest.raises(ValidationError):
            PostalCodeValid(patterns={"XX": "("})


class TestDates:
    def test_future_timestamps_are_found(self) -> None:
        """Timestamps beyond the run's time (plus slack) are errors; slightly ahead is fine."""
        ahead = AS_OF + timedelta(minutes=30)
        later = AS_OF + timedelta(days=3)
        records = [
            customer(id="1", updated_at=ahead),
            customer(id="2", created_at=T0, updated_at=later, reviewed_at=later),
        ]
        found = findings(records, NoFutureDates())
        assert sorted((f.record_id, f.field) for f in found) == [
            ("2", "reviewed_at"),
            ("2", "updated_at"),
        ]

    def test_future_history_and_after_sales(self) -> None:
        """History dated later than the run is found, after-sales events too."""
        from custrec.model import AfterSalesEvent

        event = AfterSalesEvent("refund", AS_OF + timedelta(days=2), Money("1", "CNY"))
        sale = Transaction("1", AS_OF + timedelta(days=1), total=Money("5", "CNY"), id="t1")
        ok = Transaction("1", T0, total=Money("5", "CNY"), id="t2", after_sales=[event])
        found = findings([sale, ok], NoFutureDates(record_type=Transaction))
        assert sorted((f.record_id, f.field) for f in found) == [
            ("t1", "at"),
            ("t2", "after_sales[0].at"),
        ]

    @pytest.mark.parametrize(
        ("birth", "bad"),
        [
            (date(1990, 5, 1), False),
            (date(2025, 6, 30), False),
            (date(1905, 7, 1), False),  # 119 years old
            (date(1904, 6, 29), True),  # 121
            (date(2025, 7, 1), True),  # not born yet
            (date(1800, 1, 1), True),
        ],
    )
    def test_birth_date_gives_age_0_to_120(self, birth: date, bad: bool) -> None:
        """Only birth dates giving an age from 0 to 120 on the run's day pass."""
        found = findings([customer(birth_date=birth)], BirthDatePlausible())
        assert bool(found) is bad

    @given(st.dates(min_value=date(1850, 1, 1), max_value=date(2030, 12, 31)))
    def test_birth_date_fast_path_matches_the_age(self, birth: date) -> None:
        """The check's shortcut agrees with the age computed the long way."""
        today = AS_OF.date()
        age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
        found = findings([customer(birth_date=birth)], BirthDatePlausible())
        assert bool(found) is not (0 <= age <= 120)


class TestCustomFields:
    TEMPLATE = Template(
        "t",
        custom_fields=(
            CustomField("level", "choice", choices=("普通", "金卡")),
            CustomField("code", "text", pattern=r"[A-Z]{2}\d{3}"),
            CustomField("points", "integer", min=0),
        ),
    )

    def test_choices_patterns_and_bounds(self) -> None:
        """Values outside choices, patterns or bounds are found; good values pass."""
        good = customer(id="1", custom={"level": "金卡", "code": "AB123", "points": 5})
        bad = customer(id="2", custom={"level": "钻石", "code": "ab1", "points": -3})
        found = findings([good, bad], CustomFieldsValid(), template=self.TEMPLATE)
        assert sorted(f.field for f in found) == ["custom.code", "custom.level", "custom.points"]
        assert {f.record_id for f in found} == {"2"}

    def test_undeclared_values_are_info(self) -> None:
        """A custom value the template does not declare is an info finding."""
        found = findings(
            [customer(custom={"shoe": 42})], CustomFieldsValid(), template=self.TEMPLATE
        )
        assert [(f.field, f.severity) for f in found] == [("custom.shoe", Severity.INFO)]

    def test_only_named_fields(self) -> None:
        """With ``fields`` only those custom fields are checked."""
        bad = customer(custom={"level": "钻石", "points": -1})
        check_ = CustomFieldsValid(fields=["points"])
        found = findings([bad], check_, template=self.TEMPLATE)
        assert [f.field for f in found] == ["custom.points"]


class TestMasking:
    @pytest.mark.parametrize(
        ("field", "value", "shown"),
        [
            ("phones[0]", "13812345678", "138****5678"),
            ("phones[1]", "+8613812345678", "138****5678"),
            ("emails[0]", "zhang@abc.com", "z***@abc.com"),
            ("name", "张三", "张*"),
            ("name", "John Smith", "J*** S****"),
            ("custom.level", "钻石", "钻石"),
            ("total", None, None),
        ],
    )
    def test_personal_values_are_masked(
        self, field: str, value: str | None, shown: str | None
    ) -> None:
        """Phones, emails and names are masked; other fields are shown as they are."""
        assert mask(field, value) == shown

    @given(st.text(min_size=5, max_size=30))
    def test_masking_hides_part_of_any_phone(self, text: str) -> None:
        """A masked phone shows at most seven digits of any text, and never all of them."""
        shown = mask("phones[0]", text)
        assert shown is not None
        digits = [char for char in shown if char != "*"]
        assert len(digits) <= 7
        assert shown != text or set(text) == {"*"}


class TestUserChecks:
    def test_function_check(self) -> None:
        """A decorated function becomes a check; its messages become findings."""

        @check(field="company", severity="error")
        def b2b_needs_company(c: Customer) -> str | None:
            return "a B2B customer needs a company" if "b2b" in c.tags and not c.company else None

        records = [customer(id="1", tags=["b2b"]), customer(id="2", tags=["b2b"], company="X")]
        found = findings(records, b2b_needs_company)
        assert [(f.check, f.record_id, f.field, f.severity) for f in found] == [
            ("b2b_needs_company", "1", "company", Severity.ERROR)
        ]

    def test_expression_check(self) -> None:
        """A condition in the expression language flags the records where it is true."""
        rule = ExpressionCheck(
            "diamond_needs_owner",
            "custom.level == '钻石' and owner is null",
            message="a diamond member needs an owner",
            field="owner",
        )
        records = [
            customer(id="1", custom={"level": "钻石"}),
            customer(id="2", custom={"level": "钻石"}, owner="王"),
            customer(id="3"),
        ]
        assert [f.record_id for f in findings(records, rule)] == ["1"]

    def test_bad_expression_is_refused(self) -> None:
        """A condition that does not parse is refused with its position."""
        with pytest.raises(ValidationError) as info:
            ExpressionCheck("x", "owner ==", message="m")
        assert info.value.field == "when"

    def test_checks_satisfy_the_protocol(self) -> None:
        """Built-in and user checks are all ``Check``s."""
        for built in build_checks(Template.preset("retail")):
            assert isinstance(built, Check)


class TestRegistry:
    def test_template_configures_thresholds(self) -> None:
        """``[checks.<name>]`` options reach the check; ``enabled = false`` drops it."""
        template = Template.loads(
            """
            name = "t"
            [checks.staleness]
            audit_cycle_days = 30
            [checks.phone]
            severity = "warning"
            [checks.outliers]
            enabled = false
            [checks.vip_owner]
            when = "owner is null"
            message = "needs an owner"
            field = "owner"
            """
        )
        built = {c.name: c for c in build_checks(template)}
        assert built["staleness"].audit_cycle_days == 30  # type: ignore[attr-defined]
        assert built["phone"].severity is Severity.WARNING
        assert "outliers" not in built
        assert isinstance(built["vip_owner"], ExpressionCheck)

    @pytest.mark.parametrize(
        ("table", "path"),
        [
            ("[checks.no_such_check]\nx = 1", "checks.no_such_check"),
            ("[checks.staleness]\naudit_cycle_dayz = 3", "checks.staleness.audit_cycle_dayz"),
            ("[checks.staleness]\naudit_cycle_days = 0", "checks.staleness.audit_cycle_days"),
            ("[checks.phone]\nseverity = 'fatal'", "checks.phone.severity"),
            ("[checks.x]\nwhen = 'owner is null'", "checks.x.message"),
        ],
    )
    def test_bad_configuration_names_its_path(self, table: str, path: str) -> None:
        """Unknown checks and options and bad values are refused with their path."""
        template = Template.loads(f'name = "t"\n{table}')
        with pytest.raises(ValidationError) as info:
            build_checks(template)
        assert info.value.field == path

    def test_registered_check_runs_by_default(self) -> None:
        """A registered factory is built with the template's options and runs."""

        def factory(*, severity: str = "info") -> Check:
            return check("always", severity=severity)(lambda c: "hello")

        register_check("always_hello", factory)
        try:
            assert "always_hello" in check_factories()
            template = Template.loads('name = "t"\n[checks.always_hello]\nseverity = "error"')
            report = run_checks([customer(id="1", name="x")], template=template, as_of=AS_OF)
            assert [f.severity for f in report.findings if f.check == "always"] == [Severity.ERROR]
        finally:
            _registry._registered.pop("always_hello")

    def test_builtin_names_are_reserved(self) -> None:
        """A third party cannot replace a built-in check by registering its name."""
        with pytest.raises(ValidationError):
            register_check("phone", PhoneValid)

    def test_decimal_options(self) -> None:
        """Options in the template reach typed parameters (Decimal tolerances)."""
        template = Template.loads('name = "t"\n[checks.total_matches_items]\ntolerance = "0.5"')
        built = {c.name: c for c in build_checks(template)}
        assert built["total_matches_items"].tolerance == Decimal("0.5")  # type: ignore[attr-defined]


class TestEntryPoints:
    """Third-party checks are found through the ``custrec.checks`` entry-point group."""

    @pytest.fixture
    def site(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        package = tmp_path / "fake_custrec_checks"
        package.mkdir()
        (package / "__init__.py").write_text(
            textwrap.dedent(
                """
                from custrec.model import Customer
                from custrec.quality import RecordCheck

                class NoNotes(RecordCheck):
                    def __init__(self, *, severity="info", name="no_notes"):
                        super().__init__(name, severity, Customer)

                    def check(self, records, context):
                        for customer in records:
                            if customer.notes is None:
                                yield self.finding(customer.id, "notes", "no notes")
                """
            )
        )
        info = tmp_path / "fake_custrec_checks-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: fake-custrec-checks\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(
            "[custrec.checks]\nno_notes = fake_custrec_checks:NoNotes\n"
            "broken = fake_custrec_checks:Missing\n"
        )
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setattr(_registry, "_registered", {})
        monkeypatch.setattr(_registry, "_loaded", False)
        return tmp_path

    def test_entry_point_check_runs_configured(
        self, site: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A declared check is imported, configured by the template and run."""
        (site / "fake_custrec_checks-1.0.dist-info" / "entry_points.txt").write_text(
            "[custrec.checks]\nno_notes = fake_custrec_checks:NoNotes\n"
        )
        template = Template.loads('name = "t"\n[checks.no_notes]\nseverity = "warning"')
        report = run_checks([customer(id="1", name="x")], template=template, as_of=AS_OF)
        assert [(f.check, f.severity) for f in report.findings] == [("no_notes", Severity.WARNING)]

    def test_broken_entry_point_is_explained(self, site: Path) -> None:
        """An entry point that cannot be imported fails with the group and its target."""
        with pytest.raises(ValidationError) as info:
            check_factories()
        assert info.value.field == "custrec.checks"
        assert "fake_custrec_checks:Missing" in str(info.value.value)
