"""Fuzzed input: only CustrecError is ever raised, and no row is ever lost.

Random bytes, broken quoting, wrong encodings, huge cells and formula cells go through the
import. Either it refuses the whole file with a CustrecError before writing anything, or its
report accounts for every row: stored + updated + rejected + skipped == rows read, the rows
read are exactly the records in the file, and the store holds exactly the rows stored.
"""

from __future__ import annotations

import csv
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec.errors import CustrecError
from custrec.io import ImportReport, import_customers, import_history
from custrec.model import Customer, Transaction
from custrec.store import open_store

HEADERS = [
    "客户编号",
    "姓名",
    "手机号码",
    "电子邮件",
    "地址",
    "生日",
    "备注",
    "id",
    "tags",
    "自定义",
]
FORMULAS = ["=cmd|' /C calc'!A0", "=1+2", "+86 138", "-5", "@SUM(A1:A9)", '=HYPERLINK("x")']
CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(FORMULAS),
    st.sampled_from(["13812345678", "1.38123E+10", "1.3812345678E+10", "13812345678.0"]),
    st.sampled_from(["45570", "2024年10月5日", "1988-13-45", "", "  ", "001", "a@b.cn"]),
    st.sampled_from(['"', '""', 'a"b', "x\ny", "x\r\ny", ",", ";", "\t", "\x00"]),
    st.builds(lambda n: "长" * n, st.sampled_from([100, 33_000, 140_000])),
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le"])
FUZZ = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def check(report: ImportReport, store_count: int) -> None:
    assert report.accounted, report
    assert len(report.rejects) == report.rejected
    assert store_count == report.stored


def independent_count(text: str) -> int:
    """Records the csv module finds in the text after the header (refused ones included)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=False)
    count = 0
    while True:
        try:
            next(reader)
        except StopIteration:
            return max(count - 1, 0)
        except csv.Error:
            pass
        count += 1


def run(data: bytes, **options: object) -> None:
    store = open_store("memory://")
    try:
        report = import_customers(store, io.BytesIO(data), **options)  # type: ignore[arg-type]
    except CustrecError:
        assert store.customers.count() == 0
        return
    check(report, store.customers.count())


class TestRandomInput:
    @FUZZ
    @given(st.binary(max_size=2000))
    def test_random_bytes_as_csv(self, data: bytes) -> None:
        """Any bytes read as CSV: a CustrecError, or every row accounted for."""
        run(data, format="csv")

    @FUZZ
    @given(st.binary(max_size=2000), st.sampled_from(["utf-8", "gbk", "utf-16", "utf-16-be"]))
    def test_random_bytes_with_a_given_encoding(self, data: bytes, encoding: str) -> None:
        """Any bytes with any given encoding: a CustrecError, or every row accounted for."""
        run(data, format="csv", encoding=encoding)

    @FUZZ
    @given(st.binary(max_size=2000))
    def test_random_bytes_as_other_formats(self, data: bytes) -> None:
        """Any bytes read as JSON Lines, vCard or .xlsx: a CustrecError or a full account."""
        for kind in ("jsonl", "vcard", "xlsx"):
            run(data, format=kind)

    @FUZZ
    @given(st.lists(st.text(max_size=60), max_size=20))
    def test_random_text_lines(self, lines: list[str]) -> None:
        """Random text lines as CSV, JSON Lines and vCard: a CustrecError or a full account."""
        data = "\n".join(lines).encode("utf-8")
        for kind in ("csv", "jsonl", "vcard"):
            run(data, format=kind)


class TestSpreadsheets:
    @FUZZ
    @given(
        st.lists(st.sampled_from(HEADERS), min_size=2, max_size=6, unique=True),
        st.lists(st.lists(CELLS, max_size=8), max_size=12),
        ENCODINGS,
        st.booleans(),
    )
    def test_every_row_is_accounted_for(
        self, headers: list[str], rows: list[list[str]], encoding: str, break_quotes: bool
    ) -> None:
        """Messy tables in every encoding, with broken quoting: no row lost, none invented."""
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(row)
        text = out.getvalue()
        if break_quotes and len(text) > len(",".join(headers)) + 2:
            cut = len(",".join(headers)) + 2 + len(text) // 3
            text = text[:cut] + '"' + text[cut:]
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode("utf-8")
        store = open_store("memory://")
        try:
            report = import_customers(store, io.BytesIO(data), format="csv")
        except CustrecError:
            assert store.customers.count() == 0
            return
        check(report, store.customers.count())
        assert report.rows_read == independent_count(data.decode(report.encoding or "utf-8"))

    @FUZZ
    @given(st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=8))
    def test_wrong_encoding_given(self, rows: list[list[str]]) -> None:
        """GBK bytes imported as UTF-16 or UTF-8: refused, or every row accounted for."""
        out = io.StringIO(newline="")
        csv.writer(out).writerows([["姓名", "手机", "备注"], *rows])
        data = out.getvalue().encode("gb18030")
        run(data, format="csv", encoding="utf-16")
        run(data, format="csv", encoding="utf-8")


class TestDocuments:
    @FUZZ
    @given(
        st.lists(
            st.one_of(
                st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8)),
                st.just({"type": "customer", "id": "x", "name": "Ann"}),
                st.just({"type": "customer", "schema_version": 1, "id": "001"}),
                st.text(max_size=20),
            ),
            max_size=10,
        )
    )
    def test_json_lines(self, values: list[object]) -> None:
        """Odd JSON values, one per line: every line accounted for."""
        data = "\n".join(json.dumps(v, ensure_ascii=False) for v in values).encode()
        store = open_store("memory://")
        report = import_customers(store, io.BytesIO(data), format="jsonl")
        check(report, store.customers.count())
        assert report.rows_read == len(data.splitlines())

    @FUZZ
    @given(st.lists(st.lists(CELLS, min_size=4, max_size=4), max_size=8))
    def test_history_rows(self, rows: list[list[str]]) -> None:
        """Messy transaction rows: every row accounted for, even with no customers stored."""
        store = open_store("memory://")
        store.customers.add(Customer(id="001"))
        out = io.StringIO(newline="")
        csv.writer(out).writerows([["客户编号", "日期", "金额", "商品"], *rows])
        data = out.getvalue().encode("utf-8")
        try:
            report = import_history(store, io.BytesIO(data), Transaction, format="csv")
        except CustrecError:
            assert store.transactions.count() == 0
            return
        assert report.accounted
        assert store.transactions.count() == report.stored
