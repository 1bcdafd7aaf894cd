"""CSV import: every row stored, updated, rejected or skipped; upserts; dry runs; progress."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from custrec.errors import CustrecError, ValidationError
from custrec.io import ColumnMapping, ImportProgress, import_customers
from custrec.model import Customer, Email, Phone
from custrec.store import Store, open_store
from custrec.template import Template

DATA = Path(__file__).parent / "data" / "io"
GBK_FILE = DATA / "customers_gbk.csv"


@pytest.fixture
def store() -> Store:
    return open_store("memory://")


def csv_bytes(text: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


class TestSeedFile:
    def test_counts_and_rejects(self, store: Store) -> None:
        """The GBK file with Excel's habits: good rows stored, bad ones rejected with reasons."""
        report = import_customers(store, GBK_FILE)
        assert report.encoding == "gb18030"
        assert (report.rows_read, report.stored, report.updated) == (7, 4, 0)
        assert (report.rejected, report.skipped) == (2, 1)
        assert report.accounted
        assert [(r.row, r.column) for r in report.rejects] == [(3, "手机号码"), (6, "生日")]
        assert "digits were lost" in report.rejects[0].reason
        assert report.rejects[0].value == "1.38123E+10"
        assert report.unmapped == ("会员等级",)
        assert store.customers.count() == 4

    def test_cells_are_read(self, store: Store) -> None:
        """Dates, split addresses, several phones and formula text arrive as they should."""
        import_customers(store, GBK_FILE, id_width=3)
        zhang = store.customers.get("001")
        assert str(zhang.birth_date) == "1985-03-12"
        assert zhang.addresses[0].district == "朝阳区"
        wang = store.customers.get("003")
        assert [p.e164 for p in wang.phones] == ["+8613787654321", "+8613900001111"]
        assert wang.addresses[0].postal_code == "510000"
        assert wang.addresses[0].city == "广州市"
        assert store.customers.get("005").name == '=HYPERLINK("http://evil")'
        assert store.customers.get("006").name == "孙七"

    def test_template_reads_custom_fields(self, store: Store) -> None:
        """With the retail template, 会员等级 fills the custom field member_level."""
        report = import_customers(store, GBK_FILE, template=Template.preset("retail"))
        assert report.unmapped == ()
        assert store.customers.get("001").custom["member_level"] == "金卡会员"

    def test_reject_report_files(self, store: Store, tmp_path: Path) -> None:
        """Rejects are written as CSV (Excel-readable) and JSON, one line per rejected row."""
        report = import_customers(store, GBK_FILE)
        report.write_rejects(tmp_path / "rejects.csv")
        report.write_rejects(tmp_path / "rejects.json")
        with (tmp_path / "rejects.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [row["row"] for row in rows] == ["3", "6"]
        assert rows[0]["column"] == "手机号码"
        loaded = json.loads((tmp_path / "rejects.json").read_text(encoding="utf-8"))
        assert [item["row"] for item in loaded] == [3, 6]
        assert {"row", "column", "value", "reason"} == set(loaded[0])
        with pytest.raises(ValidationError):
            report.write_rejects(tmp_path / "rejects.txt")

    def test_summary_names_counts_and_rejects(self, store: Store) -> None:
        """The summary a person reads has the counts and the first rejects."""
        text = import_customers(store, GBK_FILE).summary()
        assert "7 rows read, 4 stored, 0 updated, 2 rejected, 1 skipped" in text
        assert "row 3 [手机号码]" in text


class TestDryRunAndIdempotence:
    def test_dry_run_writes_nothing_and_counts_the_same(self, store: Store) -> None:
        """A dry run reports what a real run does, and the store stays empty."""
        dry = import_customers(store, GBK_FILE, dry_run=True)
        assert store.customers.count() == 0
        assert dry.dry_run
        real = import_customers(store, GBK_FILE)
        assert (dry.stored, dry.updated, dry.rejected, dry.skipped) == (
            real.stored,
            real.updated,
            real.rejected,
            real.skipped,
        )

    def test_dry_run_on_sqlite(self, tmp_path: Path) -> None:
        """On SQLite too, a dry run leaves no record behind."""
        with open_store(f"sqlite:///{tmp_path / 'x.db'}") as sqlite:
            report = import_customers(sqlite, GBK_FILE, dry_run=True)
            assert report.stored == 4
            assert sqlite.customers.count() == 0

    def test_second_import_changes_nothing(self, store: Store) -> None:
        """Importing the same file again stores nothing new and bumps no version."""
        import_customers(store, GBK_FILE)
        before = {c.id: c for c in store.customers}
        again = import_customers(store, GBK_FILE)
        assert (again.stored, again.updated, again.skipped) == (0, 0, 5)
        assert {c.id: c for c in store.customers} == before


class TestNaturalKeys:
    def test_update_by_id_keeps_what_the_row_leaves_out(self, store: Store) -> None:
        """A row with a stored id updates it: given cells win, blank ones erase nothing."""
        store.customers.add(
            Customer(id="001", name="张三", notes="老客户", emails=[Email("a@b.cn")])
        )
        report = import_customers(
            store, csv_bytes("客户编号,公司名称,备注\n001,新公司,\n"), format="csv"
        )
        assert (report.updated, report.stored) == (1, 0)
        got = store.customers.get("001")
        assert (got.company, got.notes, got.version) == ("新公司", "老客户", 2)
        assert got.emails == (Email("a@b.cn"),)

    def test_match_by_phone(self, store: Store) -> None:
        """A row without an id finds the customer by phone, in any writing."""
        store.customers.add(Customer(id="C1", name="张三", phones=[Phone("13812345678")]))
        data = csv_bytes("姓名,手机,邮箱\n张三,+86 138-1234-5678,zs@new.cn\n")
        report = import_customers(store, data, format="csv")
        assert report.updated == 1
        assert [e.address for e in store.customers.get("C1").emails] == ["zs@new.cn"]

    def test_match_by_email_and_external_id(self, store: Store) -> None:
        """Rows match by email, and by an external id in a named system."""
        store.customers.add(Customer(id="C1", emails=[Email("Li@Example.com")]))
        store.customers.add(Customer(id="C2", external_ids={"crm": "K-9"}))
        data = csv_bytes("邮箱,CRM号,职位\nli@example.com,,经理\n,K-9,会计\n")
        mapping = ColumnMapping({"CRM号": "external_id.crm"})
        report = import_customers(store, data, format="csv", mapping=mapping)
        assert (report.updated, report.stored) == (2, 0)
        assert store.customers.get("C1").job_title == "经理"
        assert store.customers.get("C2").job_title == "会计"

    def test_ambiguous_match_is_rejected(self, store: Store) -> None:
        """A row whose phone and email... matching two customers is rejected, not guessed."""
        store.customers.add(Customer(id="A", phones=[Phone("13812345678")]))
        store.customers.add(Customer(id="B", phones=[Phone("13812345678")]))
        report = import_customers(store, csv_bytes("姓名,手机\n张三,13812345678\n"), format="csv")
        assert report.rejected == 1
        assert "several customers" in report.rejects[0].reason

    def test_keys_can_be_narrowed(self, store: Store) -> None:
        """With natural_keys=("id",) a row without an id is always a new customer."""
        store.customers.add(Customer(id="C1", phones=[Phone("13812345678")]))
        data = csv_bytes("姓名,手机\n张三,13812345678\n")
        report = import_customers(store, data, format="csv", natural_keys=("id",))
        assert report.stored == 1
        assert store.customers.count() == 2

    def test_unknown_key_refused(self, store: Store) -> None:
        """An unknown natural key raises before anything is read."""
        with pytest.raises(ValidationError, match="natural_keys"):
            import_customers(store, GBK_FILE, natural_keys=("wechat",))

    def test_same_id_twice_in_a_file(self, store: Store) -> None:
        """The second row for an id updates the record the first row stored."""
        data = csv_bytes("id,name,company\n7,Ann,\n7,,Acme\n")
        report = import_customers(store, data, format="csv")
        assert (report.stored, report.updated) == (1, 1)
        assert (store.customers.get("7").name, store.customers.get("7").company) == ("Ann", "Acme")

    def test_same_phone_twice_in_a_file(self, store: Store) -> None:
        """Two id-less rows with one phone make one customer, across batches too."""
        data = csv_bytes("name,phone,company\nAnn,13812345678,\n,13812345678,Acme\n")
        report = import_customers(store, data, format="csv", batch_size=1)
        assert (report.stored, report.updated) == (1, 1)
        assert store.customers.count() == 1

    def test_one_bad_record_rejects_only_its_row(self, store: Store) -> None:
        """When a batch's write fails, only the failing record's rows are rejected."""
        store.customers.add(Customer(id="2", name="existing"))
        data = csv_bytes("id,name\n1,a\n2,b\n3,c\n")
        report = import_customers(store, data, format="csv", natural_keys=("phone",))
        assert (report.stored, report.rejected) == (2, 1)
        assert report.rejects[0].row == 3
        assert "exists already" in report.rejects[0].reason
        assert store.customers.get("2").name == "existing"


class TestRows:
    def test_stray_cells_are_rejected(self, store: Store) -> None:
        """A row with more filled cells than headers is rejected, not cut short."""
        report = import_customers(store, csv_bytes("id,name\n1,Ann,extra\n2,Bob,\n"), format="csv")
        assert (report.stored, report.rejected) == (1, 1)
        assert "header only 2" in report.rejects[0].reason

    def test_values_only_in_unmapped_columns_are_rejected(self, store: Store) -> None:
        """A row whose only values sit in columns not imported is rejected, never dropped."""
        report = import_customers(store, csv_bytes("id,whatever\n,x\n"), format="csv")
        assert report.rejected == 1

    def test_unmapped_kept(self, store: Store) -> None:
        """keep_unmapped stores unknown columns as custom fields."""
        data = csv_bytes("id,name,会员卡号\n1,Ann,VIP-01\n")
        import_customers(store, data, format="csv", mapping=ColumnMapping(keep_unmapped=True))
        assert store.customers.get("1").custom["会员卡号"] == "VIP-01"

    def test_template_problems_reject(self, store: Store) -> None:
        """A value outside the template's choices is rejected, naming the column."""
        data = csv_bytes("id,name,phone,会员等级\n1,Ann,13812345678,黑卡\n")
        report = import_customers(store, data, format="csv", template=Template.preset("retail"))
        assert report.rejected == 1
        assert report.rejects[0].column == "会员等级"

    def test_entry_standard_is_enforced_with_a_template(self, store: Store) -> None:
        """The retail entry standard requires phones: a row without one is rejected."""
        data = csv_bytes("id,name\n1,Ann\n")
        report = import_customers(store, data, format="csv", template=Template.preset("retail"))
        assert report.rejected == 1
        assert report.rejects[0].column == "phones"

    def test_utf16_tab_separated(self, store: Store) -> None:
        """Excel's "Unicode text" (UTF-16, tabs) imports."""
        data = io.BytesIO("姓名\t手机\r\n张三\t13812345678\r\n".encode("utf-16"))
        report = import_customers(store, data, format="csv")
        assert (report.encoding, report.stored) == ("utf-16", 1)

    def test_wrong_explicit_encoding_refused_before_writing(self, store: Store) -> None:
        """An encoding that does not fit the bytes raises, and nothing is stored."""
        with pytest.raises(ValidationError, match="not utf-8"):
            import_customers(store, GBK_FILE, encoding="utf-8")
        assert store.customers.count() == 0

    def test_non_seekable_stream_with_encoding(self, store: Store) -> None:
        """A pipe (not seekable) imports when its encoding is given, and asks for it if not."""

        class Pipe(io.RawIOBase):
            def __init__(self, data: bytes) -> None:
                self._inner = io.BytesIO(data)

            def readable(self) -> bool:
                return True

            def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
                chunk = self._inner.read(len(buffer))
                buffer[: len(chunk)] = chunk
                return len(chunk)

        data = "姓名\n张三\n".encode("gbk")
        report = import_customers(
            store, io.BufferedReader(Pipe(data)), format="csv", encoding="gbk"
        )
        assert report.stored == 1
        with pytest.raises(ValidationError, match="encoding"):
            import_customers(store, io.BufferedReader(Pipe(data)), format="csv")

    def test_broken_header(self, store: Store) -> None:
        """A header with a huge or unclosed quoted cell raises; the caller's stream stays open."""
        huge = io.BytesIO(('a,"' + "x" * 200_000 + '"\n1,2\n').encode())
        with pytest.raises(ValidationError, match="header row"):
            import_customers(store, huge, format="csv")
        assert not huge.closed
        unclosed = io.BytesIO(('id,"name\n' + "1,Ann\n" * 200_000).encode())
        with pytest.raises(ValidationError, match="unclosed quote"):
            import_customers(store, unclosed, format="csv")

    def test_empty_file(self, store: Store) -> None:
        """A file without a header row raises ValidationError."""
        with pytest.raises(ValidationError, match="no header"):
            import_customers(store, io.BytesIO(b""), format="csv")

    def test_unknown_format(self, store: Store, tmp_path: Path) -> None:
        """A file whose format cannot be told raises ValidationError."""
        path = tmp_path / "x.dat"
        path.write_bytes(b"id\n1\n")
        with pytest.raises(ValidationError, match="format"):
            import_customers(store, path)
        with pytest.raises(CustrecError):
            import_customers(store, tmp_path / "missing.csv")


class TestProgress:
    def test_progress_after_each_batch(self, store: Store) -> None:
        """The callback runs after each batch written, with rows done and rejects so far.

        A batch holds ``batch_size`` rows to write; a row rejected while reading is done at
        once, so the second report comes after nine rows (eight to write, one rejected).
        """
        lines = ["id,name,birthday"] + [f"{i},n{i},{'bad' if i == 5 else ''}" for i in range(1, 11)]
        seen: list[ImportProgress] = []
        data = csv_bytes("\n".join(lines) + "\n")
        import_customers(store, data, format="csv", batch_size=4, progress=seen.append)
        assert [p.rows_done for p in seen] == [4, 9, 10]
        assert [p.rejected for p in seen] == [0, 1, 1]
        assert all(p.total is None for p in seen)
