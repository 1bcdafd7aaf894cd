"""Excel .xlsx, JSON Lines and vCard: each read with Excel's habits and every row counted."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from custrec import to_json
from custrec.errors import ValidationError
from custrec.io import ImportProgress, export_customers, import_customers
from custrec.model import Address, Customer, Email, Gender, Phone
from custrec.store import Store, open_store

DATA = Path(__file__).parent / "data" / "io"


@pytest.fixture
def store() -> Store:
    return open_store("memory://")


def workbook(rows: list[list[object]], sheet: str = "客户") -> io.BytesIO:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    first.title = "说明"
    first.append(["这一页是说明"])
    data = book.create_sheet(sheet)
    for row in rows:
        data.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


class TestXlsx:
    def test_typed_cells(self, store: Store) -> None:
        """Numbers for ids and phones, real dates and serial dates are read as Excel left them."""
        data = workbook(
            [
                ["客户编号", "姓名", "手机号码", "生日", "建档日期"],
                [1, "张三", 13812345678, datetime(1985, 3, 12), 45570],
                ["002", "李四", "1.38123E+10", "1990/7/1", None],
                [3.0, "王五", 13787654321.0, 31118, None],
            ]
        )
        report = import_customers(store, data, format="xlsx", sheet="客户", id_width=3)
        assert (report.stored, report.rejected, report.encoding) == (2, 1, None)
        assert report.rejects[0].row == 3
        zhang = store.customers.get("001")
        assert zhang.phones[0].e164 == "+8613812345678"
        assert zhang.birth_date == date(1985, 3, 12)
        assert zhang.created_at.date() == date(2024, 10, 5)
        assert store.customers.get("003").birth_date == date(1985, 3, 12)

    def test_first_sheet_by_default_and_missing_sheet(self, store: Store) -> None:
        """Without a sheet name the first sheet is read; an unknown sheet is refused."""
        with pytest.raises(ValidationError, match="no such sheet"):
            import_customers(store, workbook([["姓名"], ["张三"]]), format="xlsx", sheet="x")
        report = import_customers(store, workbook([["姓名"], ["张三"]]), format="xlsx")
        assert report.rejected == 0  # the first sheet is the notes page: one unmapped cell
        assert report.unmapped == ("这一页是说明",)

    def test_total_is_known(self, store: Store) -> None:
        """The progress callback gets the sheet's row count as the total."""
        rows: list[list[object]] = [["姓名"], *[[f"n{i}"] for i in range(5)]]
        seen: list[ImportProgress] = []
        import_customers(
            store, workbook(rows), format="xlsx", sheet="客户", batch_size=2, progress=seen.append
        )
        assert {p.total for p in seen} == {5}
        assert seen[-1].rows_done == 5

    def test_not_a_workbook(self, store: Store) -> None:
        """Bytes that are no workbook raise ValidationError."""
        with pytest.raises(ValidationError, match="xlsx"):
            import_customers(store, io.BytesIO(b"PK\x03\x04 not really"), format="xlsx")

    def test_export_headers_and_text_cells(self, tmp_path: Path) -> None:
        """The export has Chinese headers and writes formula-like text as text, never a formula."""
        path = tmp_path / "out.xlsx"
        export_customers([Customer(id="001", name="=1+1")], path, language="zh")
        book = openpyxl.load_workbook(path)
        sheet = book.worksheets[0]
        assert sheet["A1"].value == "客户编号"
        assert sheet["B2"].value == "=1+1"
        assert sheet["B2"].data_type == "s"


class TestJsonLines:
    def test_records_and_bad_lines(self, store: Store) -> None:
        """Whole records are stored; bad lines are rejected with their line number."""
        lines = [
            to_json(Customer(id="001", name="张三")),
            "",
            "not json",
            '{"type":"customer","schema_version":1,"id":"002","phones":"oops"}',
            "[1, 2]",
        ]
        data = io.BytesIO("\n".join(lines).encode())
        report = import_customers(store, data, format="jsonl")
        assert (report.stored, report.skipped, report.rejected) == (1, 1, 3)
        assert [r.row for r in report.rejects] == [3, 4, 5]
        assert report.rejects[1].column is not None

    def test_update_replaces_the_record(self, store: Store) -> None:
        """A whole record for a stored id replaces it (a new version), unless it is the same."""
        store.customers.add(Customer(id="001", name="张三", notes="old"))
        out = io.BytesIO()
        export_customers([Customer(id="001", name="张三")], out, format="jsonl")
        report = import_customers(store, io.BytesIO(out.getvalue()), format="jsonl")
        assert report.updated == 1
        assert store.customers.get("001").notes is None
        assert store.customers.get("001").version == 2


class TestVCard:
    def test_version_3(self, store: Store) -> None:
        """A vCard 3.0 file: names, organisation, phones, address, folded and escaped text."""
        report = import_customers(store, DATA / "contacts_v3.vcf")
        assert (report.rows_read, report.stored) == (2, 2)
        zhang = store.customers.get("V001")
        assert (zhang.name, zhang.company, zhang.job_title) == ("张三", "ABC公司", "经理")
        assert [p.e164 for p in zhang.phones] == ["+8613812345678", "+861088886666"]
        assert zhang.addresses == (
            Address(
                country="CN",
                province="北京市",
                city="北京市",
                street="建国路88号",
                postal_code="100020",
            ),
        )
        assert zhang.notes == "老客户, 喜欢喝茶\n每季度回访"
        assert zhang.tags == {"VIP", "老客户"}
        assert zhang.birth_date == date(1985, 3, 12)
        (li,) = store.customers.find_by_email("lisi@example.com")
        assert li.notes is not None
        assert "limited to seventy-five" in li.notes

    def test_version_4_and_bad_cards(self, store: Store) -> None:
        """vCard 4.0 (tel: URIs, GENDER, compact BDAY); a 2.1 card and an unended card rejected."""
        report = import_customers(store, DATA / "contacts_v4.vcf")
        assert (report.rows_read, report.stored, report.rejected) == (3, 1, 2)
        wang = store.customers.get("4fbe8971-0bc3-424c-9c26-36c3e1eff6b1")
        assert (wang.gender, wang.birth_date) == (Gender.MALE, date(1990, 7, 1))
        assert wang.phones[0].e164 == "+8613787654321"
        assert "3.0 and 4.0" in report.rejects[0].reason

    @pytest.mark.parametrize("version", ["3.0", "4.0"])
    def test_round_trip(self, store: Store, version: str) -> None:
        """Export to vCard and import again: the card's fields come back equal."""
        customer = Customer(
            id="C1",
            name="欧阳娜娜",
            gender=Gender.FEMALE,
            birth_date=date(1990, 5, 1),
            company="ABC; 公司, 北京",
            job_title="经理",
            phones=[Phone("138 1234 5678"), Phone("+86 10 8888 6666")],
            emails=[Email("nana@abc.cn")],
            addresses=[
                Address(country="CN", province="广东省", city="广州市", street="体育西路1号")
            ],
            notes="第一行\n第二行，很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长",
            tags={"VIP", "老客户"},
        )
        out = io.BytesIO()
        export_customers([customer], out, format="vcard", vcard_version=version)
        text = out.getvalue().decode()
        assert f"VERSION:{version}" in text
        assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
        import_customers(store, io.BytesIO(out.getvalue()), format="vcard")
        got = store.customers.get("C1")
        fields = ("name", "birth_date", "company", "job_title", "phones", "emails", "addresses")
        for field in (*fields, "notes", "tags"):
            assert getattr(got, field) == getattr(customer, field), field
        assert got.gender == (Gender.FEMALE if version == "4.0" else None)

    def test_vcard_is_for_customers_only(self, store: Store) -> None:
        """History cannot come from a vCard file."""
        from custrec.io import import_history
        from custrec.model import Interaction

        with pytest.raises(ValidationError, match="customers only"):
            import_history(store, DATA / "contacts_v3.vcf", Interaction)
