"""The quality report: counts, scores, exports, and runs over stores in batches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.model import (
    Consent,
    Customer,
    Email,
    Feedback,
    Interaction,
    LineItem,
    Money,
    Phone,
    Record,
    Transaction,
)
from custrec.quality import (
    PENALTIES,
    Finding,
    QualityReport,
    Severity,
    build_checks,
    check,
    record_score,
    run_checks,
)
from custrec.serialize import record_type_name
from custrec.store import Store, open_store
from custrec.template import Template
from custrec.testing import strategies
from custrec.testing.synthetic import load_jsonl

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "data" / "sample.jsonl"
AS_OF = date(2025, 1, 1)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def faulty_sample(n_customers: int = 150) -> list[Record]:
    """The first customers of the sample data with their history, and a few seeded faults."""
    data = load_jsonl(SAMPLE)
    customers = list(data.customers[:n_customers])
    ids = {c.id for c in customers}
    history = [
        r for r in (*data.interactions, *data.transactions, *data.feedback) if r.customer_id in ids
    ]
    first, second, third = customers[0], customers[1], customers[2]
    customers[0] = attrs.evolve(first, name=None, phones=[Phone("12345", region="CN")])
    customers[1] = attrs.evolve(second, emails=[Email("li.si@"), Email("x@qq.com")])
    customers[2] = attrs.evolve(third, phones=second.phones, birth_date=date(1890, 1, 1))
    sale = Transaction(
        first.id,
        T0,
        [LineItem("茶", Money("50", "CNY"), Decimal(2))],
        total=Money("1000000", "CNY"),
        id="TFAULT1",
    )
    call = Interaction(second.id, T0, "sms", id="IFAULT1", direction="outbound", subject="促销短信")
    return [*customers, *history, sale, call]


@pytest.fixture(scope="module")
def sample_records() -> list[Record]:
    return faulty_sample()


def fill(store: Store, records: list[Record]) -> Store:
    for kind in (Customer, Interaction, Transaction, Feedback):
        store.repository(kind).add_many(r for r in records if type(r) is kind)
    return store


@pytest.fixture(params=["memory", "sqlite"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, sample_records: list[Record]
) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'q.db'}"
    opened = fill(open_store(url), sample_records)
    yield opened
    opened.close()


def keys(report: QualityReport) -> list[tuple[str, ...]]:
    return sorted(
        (f.check, f.record_type, f.record_id, f.field, f.message, f.value or "")
        for f in report.findings
    )


class TestStoreRuns:
    def test_store_gives_the_same_findings_as_memory(
        self, store: Store, sample_records: list[Record]
    ) -> None:
        """Checks over a store in small batches find exactly what they find in memory."""
        template = Template.preset("retail")
        in_memory = run_checks(sample_records, template=template, as_of=AS_OF)
        streamed = run_checks(store, template=template, as_of=AS_OF, batch_size=7)
        assert keys(streamed) == keys(in_memory)
        assert streamed.records == in_memory.records
        assert streamed.score == in_memory.score

    def test_seeded_faults_are_found(self, sample_records: list[Record]) -> None:
        """Each seeded fault shows up under its check."""
        report = run_checks(sample_records, template=Template.preset("retail"), as_of=AS_OF)
        counts = report.by_check()
        for name in ("required", "phone", "email", "birth_date", "exact_duplicates", "outliers"):
            assert counts[name] >= 1, name
        assert counts["total_matches_items"] >= 1
        first = sample_records[0]
        assert {f.field for f in report.for_record(first.id)} >= {"name", "phones[0]"}

    def test_progress_is_reported_per_batch(self, store: Store) -> None:
        """The callback gets growing counts, ending with every record."""
        seen: list[int] = []
        report = run_checks(store, as_of=AS_OF, batch_size=50, progress=seen.append)
        assert seen == sorted(seen)
        assert seen[-1] == report.total_records
        assert len(seen) > 4

    def test_bad_arguments_are_refused(self) -> None:
        """A bad batch size, a naive as-of or a non-check is refused with the argument's name."""
        with pytest.raises(ValidationError) as info:
            run_checks([], batch_size=0)
        assert info.value.field == "batch_size"
        with pytest.raises(ValidationError) as info:
            run_checks([], as_of=datetime(2025, 1, 1))
        assert info.value.field == "as_of"
        with pytest.raises(ValidationError) as info:
            run_checks([], checks=["phone"])  # type: ignore[list-item]
        assert info.value.field == "checks"
        odd = check(record_type=Customer)(lambda c: None)
        odd.record_type = dict
        with pytest.raises(ValidationError) as info:
            run_checks([], checks=[odd])
        assert "record_type" in info.value.reason


def report_strategy() -> st.SearchStrategy[tuple[list[Record], QualityReport]]:
    """Generated customers and history (some for unknown customers), checked."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[list[Record], QualityReport]:
        people = draw(st.lists(strategies.customers(), max_size=6, unique_by=lambda c: c.id))
        owner = st.sampled_from([c.id for c in people] + ["nobody"])
        history: list[Record] = []
        history += draw(st.lists(owner.flatmap(strategies.transactions), max_size=4))
        history += draw(st.lists(owner.flatmap(strategies.interactions), max_size=4))
        records: list[Record] = [*people, *history]
        unique = {(type(r), r.id): r for r in records}
        records = list(unique.values())
        report = run_checks(records, template=Template.preset("retail"), as_of=AS_OF)
        return records, report

    return build()


class TestReportInvariants:
    @settings(suppress_health_check=[HealthCheck.too_slow], max_examples=50)
    @given(report_strategy())
    def test_counts_equal_the_findings(self, case: tuple[list[Record], QualityReport]) -> None:
        """Counts by check, field, severity and record each add up to the number of findings."""
        _, report = case
        total = len(report.findings)
        assert sum(report.by_check().values()) == total
        assert sum(report.by_field().values()) == total
        assert sum(report.by_severity().values()) == total
        assert sum(len(found) for found in report.by_record().values()) == total

    @settings(suppress_health_check=[HealthCheck.too_slow], max_examples=50)
    @given(report_strategy())
    def test_scores_stay_within_0_and_100(self, case: tuple[list[Record], QualityReport]) -> None:
        """Every record's score and the dataset's score lie from 0 to 100."""
        records, report = case
        assert 0 <= report.score <= 100
        for record in records:
            assert 0 <= report.record_score(record.id, record_type_name(record)) <= 100

    @settings(suppress_health_check=[HealthCheck.too_slow], max_examples=50)
    @given(report_strategy())
    def test_every_finding_names_a_real_record(
        self, case: tuple[list[Record], QualityReport]
    ) -> None:
        """Each finding's record type and id are those of a record that was checked."""
        records, report = case
        real = {(record_type_name(r), r.id) for r in records}
        for finding in report.findings:
            assert (finding.record_type, finding.record_id) in real

    @given(st.lists(st.sampled_from(list(Severity)), max_size=30))
    def test_record_score_formula(self, severities: list[Severity]) -> None:
        """A record's score is 100 less its penalties, never below 0."""
        found = [Finding("c", "customer", "1", "name", s, "m") for s in severities]
        expected = max(0, 100 - sum(PENALTIES[s] for s in severities))
        assert record_score(found) == expected


def small_report() -> QualityReport:
    old = T0 - timedelta(days=800)
    recent = datetime(2024, 12, 1, tzinfo=UTC)
    records: list[Record] = [
        Customer(
            id="1", name="张三", phones=[Phone("123", region="CN")], created_at=old, updated_at=old
        ),
        Customer(id="2", name="李四", created_at=recent, updated_at=recent),
        Customer(
            id="3",
            name="王五",
            created_at=recent,
            updated_at=recent,
            consents=[Consent("marketing_sms", True, recent)],
        ),
    ]
    return run_checks(records, template=Template("t"), as_of=AS_OF)


class TestReport:
    def test_dataset_score_is_the_mean_record_score(self) -> None:
        """Records without findings count 100 in the mean; the formula is the documented one."""
        report = small_report()
        scores = [report.record_score(i) for i in ("1", "2", "3")]
        assert scores[1:] == [100, 100]
        assert scores[0] == 100 - 20 - 5  # an invalid phone (error), stale (warning)
        assert report.score == pytest.approx(sum(scores) / 3, abs=0.05)

    def test_empty_run_scores_100(self) -> None:
        """No records, no findings: a perfect score."""
        assert run_checks([]).score == 100

    def test_json_export(self, tmp_path: Path) -> None:
        """JSON holds the score, the counts and every finding, masked."""
        report = small_report()
        path = tmp_path / "r.json"
        report.write_json(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["score"] == report.score
        assert len(data["findings"]) == len(report.findings)
        assert data["by_severity"]["error"] == 1
        assert "123" not in json.dumps(data["findings"])

    def test_csv_export(self, tmp_path: Path) -> None:
        """CSV has a header and one row per finding; the file opens in spreadsheets (BOM)."""
        report = small_report()
        rows = list(csv.DictReader(io.StringIO(report.to_csv())))
        assert len(rows) == len(report.findings)
        assert {row["check"] for row in rows} == {"phone", "staleness"}
        path = tmp_path / "r.csv"
        report.write_csv(path)
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    def test_summary_is_readable(self) -> None:
        """The text summary names the score, each check and the worst record."""
        text = small_report().summary()
        assert "score" in text
        for name in build_checks(Template("t")):
            assert name.name in text
        assert "customer 1 (75)" in text
