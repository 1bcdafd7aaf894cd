"""The compiled row plan gives exactly what the reference row reader gives.

:class:`custrec.io._plan.CustomerRowPlan` picks one step per column when the header is
mapped and caches repeated dates and addresses; :func:`custrec.io._rows.customer_from_row`
decides per cell. On random columns and cells (plain text, Excel's number shapes,
separators, blanks, typed values as ``.xlsx`` gives them, cells over the size limit),
both give equal customers with the same filled fields, or the same reject; and a whole
import with the plan stores, updates, skips and rejects exactly what the reference does.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec import config
from custrec.errors import ImportRowError
from custrec.io import ImportReport, import_customers
from custrec.io import _import as import_module
from custrec.io import _plan as plan_module
from custrec.io._cells import MAX_CELL
from custrec.io._import import _CellsPlan
from custrec.io._plan import CustomerRowPlan
from custrec.io._rows import RowOptions, customer_from_row
from custrec.model import Customer
from custrec.serialize import to_dict
from custrec.store import Store, open_store

TARGETS = [
    "id",
    "name",
    "gender",
    "kind",
    "company",
    "job_title",
    "birth_date",
    "phones",
    "emails",
    "address",
    "province",
    "street",
    "notes",
    "tags",
    "wechat",
    "external_id",
    "custom.level",
    "created_at",
]
DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=16)
SAMPLES = st.sampled_from(
    [
        "",
        "  ",
        "001",
        "00123",
        "１２３",
        "13812345678",
        "1.38123E+10",
        "1.3812345678E+10",
        "13812345678.0",
        "138 1234 5678",
        "13812345678/13912345678",
        "+8613812345678",
        "1088886666",
        "1988-02-29",
        "1990-01-05",
        "05/10/2024",
        "2024年10月5日",
        "45570",
        "1988-13-45",
        "男",
        "女",
        "organisation",
        "北京市朝阳区建国路88号",
        "广东省广州市天河区体育西路1号 510000",
        "建国路88号",
        "a@b.cn",
        "A@B.CN; c@d.cn",
        "x\ny",
        "wx_id",
        "\x00",
        "'=1+2",
    ]
)
BLANKS = st.sampled_from(["", " ", "  ", "\u3000", "\t", " \x1f ", "\n"])
CELLS: st.SearchStrategy[object] = st.one_of(
    SAMPLES,
    SAMPLES,
    SAMPLES,
    DIGITS,
    BLANKS,
    BLANKS,
    st.text(max_size=20),
    st.builds(lambda n: "9" * n, st.sampled_from([MAX_CELL, MAX_CELL + 1])),
    st.none(),
    st.integers(min_value=-10, max_value=10**16),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=date(1900, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1)),
)
OPTIONS = st.builds(
    RowOptions,
    template=st.none(),
    external_system=st.just("import"),
    id_width=st.sampled_from([None, 3, 8]),
    region=st.sampled_from([None, "CN", "US"]),
)


def outcome(make: Any) -> object:
    """What building a row gave, in a form two runs can be compared by."""
    try:
        built = make()
    except ImportRowError as exc:
        return ("reject", exc.row, exc.column, exc.value, exc.reason)
    if built is None:
        return None
    customer, filled = built
    document = to_dict(customer)
    for key in ("created_at", "updated_at"):  # set to the moment of building
        document.pop(key, None)
    if "id" not in filled:  # generated
        document.pop("id")
    return document, filled


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[tuple[int, str, str]], list[list[object]]]:
    """Mapped columns (with gaps for unmapped ones) and rows that repeat cells often."""
    # The columns with short paths in the plan come up more often than the rest.
    hot = st.sampled_from(["id", "name", "birth_date", "phones", "address", "emails", "notes"])
    targets = draw(st.lists(st.one_of(hot, st.sampled_from(TARGETS)), min_size=1, max_size=6))
    columns = []
    index = 0
    for number, target in enumerate(targets):
        index += draw(st.integers(min_value=0, max_value=1))  # an unmapped column between
        columns.append((index, target, f"列{number}"))
        index += 1
    pool = draw(st.lists(CELLS, min_size=1, max_size=6))
    cell = st.one_of(st.sampled_from(pool), CELLS)
    rows = draw(st.lists(st.lists(cell, max_size=index + 1), min_size=1, max_size=6))
    return columns, rows


class TestPlanEqualsReference:
    @settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
    @given(tables(), OPTIONS)
    def test_every_row_builds_the_same(
        self,
        table: tuple[list[tuple[int, str, str]], list[list[object]]],
        options: RowOptions,
    ) -> None:
        """Row after row through one plan (caches warm): the reference's record or reject."""
        columns, rows = table
        plan = CustomerRowPlan(columns, options)
        for number, cells in enumerate(rows, start=2):
            mapped = [(t, h, cells[i]) for i, t, h in columns if i < len(cells)]
            expected = outcome(functools.partial(customer_from_row, number, mapped, options))
            values = plan.values(cells)
            assert values == [value for _, _, value in mapped]
            assert outcome(functools.partial(plan, number, values)) == expected, (columns, cells)

    @pytest.mark.parametrize("day_first", [True, False, None])
    def test_cached_date_follows_the_setting(self, day_first: bool | None) -> None:
        """A date read once is read again under another day_first setting, not reused."""
        plan = CustomerRowPlan([(0, "id", "编号"), (1, "birth_date", "生日")], RowOptions())
        with config.using(day_first=True):
            first = outcome(lambda: plan(2, ["1", "05/10/2024"]))
        with config.using(day_first=day_first):
            again = outcome(lambda: plan(3, ["1", "05/10/2024"]))
            expected = outcome(
                lambda: customer_from_row(
                    3, [("id", "编号", "1"), ("birth_date", "生日", "05/10/2024")], RowOptions()
                )
            )
        assert again == expected
        assert (again == first) is (day_first is True)

    def test_caches_emptied_when_full_give_the_same(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Caches of two entries, emptied again and again, still give the reference's records."""
        monkeypatch.setattr(plan_module, "_DATE_LIMIT", 2)
        monkeypatch.setattr(plan_module, "_ADDRESS_LIMIT", 2)
        columns = [(0, "id", "编号"), (1, "birth_date", "生日"), (2, "address", "地址")]
        plan = CustomerRowPlan(columns, RowOptions())
        dates = ["1990-01-05", "1988-02-29", "2001-12-31", "1988-13-45", "  "]
        places = ["北京市朝阳区建国路88号", "建国路88号", "广东省广州市天河区体育西路1号", ""]
        for number in range(2, 42):
            cells = [str(number), dates[number % 5], places[number % 4]]
            mapped = [(t, h, cells[i]) for i, t, h in columns]
            expected = outcome(functools.partial(customer_from_row, number, mapped, RowOptions()))
            assert outcome(functools.partial(plan, number, plan.values(cells))) == expected
        assert len(plan._dates) <= 2  # the bound held

    def test_cached_address_is_the_same_record(self) -> None:
        """Two rows with one address share an equal address, split as the reference splits."""
        plan = CustomerRowPlan([(0, "id", "编号"), (1, "address", "地址")], RowOptions())
        text = "广东省广州市天河区体育西路1号"
        built = [plan(row, [str(row), text]) for row in (2, 3)]
        reference = customer_from_row(
            2, [("id", "编号", "2"), ("address", "地址", text)], RowOptions()
        )
        assert built[0] is not None
        assert built[1] is not None
        assert reference is not None
        assert built[0][0].addresses == built[1][0].addresses == reference[0].addresses


# -- whole imports ---------------------------------------------------------------------------

HEADERS = ["客户编号", "姓名", "性别", "生日", "手机号码", "电子邮件", "地址", "备注", "其他"]
TEXT_CELLS = st.one_of(
    st.sampled_from(["", "13812345678", "13912345678", "1990-01-05", "1988-13-45", "男"]),
    st.sampled_from(["北京市朝阳区建国路88号", "a@b.cn", "c@d.cn", "1.38123E+10", "x", "  "]),
    st.text(max_size=12),
)


def _reference_plan(columns: Sequence[tuple[int, str, str]], options: RowOptions) -> _CellsPlan:
    """The row reader before the compiled plan: every cell through customer_from_row."""
    return _CellsPlan(columns, customer_from_row, options)


def _run(text: str, *, reference: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    store: Store = open_store("memory://")
    with monkeypatch.context() as patch:
        if reference:
            patch.setattr(import_module, "CustomerRowPlan", _reference_plan)
        report: ImportReport = import_customers(
            store, io.BytesIO(text.encode()), format="csv", batch_size=3
        )
    stored = {}
    for customer in (c for batch in store.customers.iter_batches() for c in batch):
        document = to_dict(customer)
        for key in ("created_at", "updated_at"):
            document.pop(key, None)
        stored[customer.id] = document
    counts = (report.rows_read, report.stored, report.updated, report.rejected, report.skipped)
    rejects = [(r.row, r.column, r.value, r.reason) for r in report.rejects]
    assert report.accounted
    assert report.stored + report.updated + report.rejected + report.skipped == report.rows_read
    return counts, rejects, stored


class TestImportEqualsReference:
    @settings(
        max_examples=60,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        rows=st.lists(
            st.tuples(st.sampled_from(["1", "2", "3", "004", "5"]), *[TEXT_CELLS] * 8),
            min_size=1,
            max_size=12,
        )
    )
    def test_same_report_and_records(
        self, rows: list[tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Ids repeat (updates, skips), cells are messy: the same counts, rejects and store."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADERS)
        writer.writerows(rows)
        text = buffer.getvalue()
        ours = _run(text, reference=False, monkeypatch=monkeypatch)
        theirs = _run(text, reference=True, monkeypatch=monkeypatch)
        assert ours == theirs


def test_reference_builds_customers() -> None:
    """The reference this file compares with builds customers at all (guards the setup)."""
    built = customer_from_row(2, [("id", "编号", "7"), ("name", "姓名", "王伟")], RowOptions())
    assert built is not None
    assert isinstance(built[0], Customer)
    assert built[1] == frozenset({"id", "name"})


class TestAddressPartRejects:
    def test_invalid_address_part_rejects_only_its_row(self) -> None:
        """A control character in a province column rejects that row; it used to stop the import."""
        store = open_store("memory://")
        text = "编号,姓名,省份\n1,王伟,0\x01\n2,李娜,广东\n"
        report = import_customers(store, io.BytesIO(text.encode()), format="csv")
        assert (report.rows_read, report.stored, report.rejected) == (2, 1, 1)
        reject = report.rejects[0]
        assert (reject.row, reject.column) == (2, "省份")
        assert "control characters" in reject.reason
        assert store.customers.get_many(["1", "2"]).keys() == {"2"}
