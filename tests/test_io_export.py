"""Export: template labels in a chosen language, safe CSV cells, encodings, progress."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from custrec.errors import ValidationError
from custrec.io import CUSTOMER_COLUMNS, export_customers, export_history
from custrec.model import Customer, Email, Interaction, Phone
from custrec.store import open_store
from custrec.template import Template


def read_rows(data: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


class TestFormulaInjection:
    @pytest.mark.parametrize(
        "text", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"]
    )
    def test_cells_are_escaped(self, text: str) -> None:
        """Every cell that starts with = + - @ tab or CR is written with a leading quote."""
        out = io.BytesIO()
        export_customers([Customer(id="1", name=text, notes=text)], out, format="csv")
        header, row = read_rows(out.getvalue())
        assert row[header.index("name")] == "'" + text
        assert row[header.index("notes")] == "'" + text

    def test_harmless_cells_untouched(self) -> None:
        """Ordinary text and ids are written as they are."""
        out = io.BytesIO()
        export_customers([Customer(id="001", name="张三")], out, format="csv")
        _, row = read_rows(out.getvalue())
        assert row[:2] == ["001", "张三"]


class TestLabels:
    def test_chinese_headers_and_template_fields(self) -> None:
        """Headers in Chinese; the template's custom fields follow, with their labels."""
        retail = Template.preset("retail")
        customer = Customer(id="1", custom={"member_level": "金卡会员", "extra": "x"})
        out = io.BytesIO()
        export_customers([customer], out, format="csv", template=retail, language="zh")
        header, row = read_rows(out.getvalue())
        assert header[:3] == ["客户编号", "姓名", "客户类型"]
        assert header[len(CUSTOMER_COLUMNS) :] == ["会员等级", "常去门店", "积分", "custom.extra"]
        assert row[header.index("会员等级")] == "金卡会员"

    def test_english_headers(self) -> None:
        """Headers in English by default."""
        out = io.BytesIO()
        export_customers([Customer(id="1")], out, format="csv")
        assert read_rows(out.getvalue())[0][:4] == ["id", "name", "kind", "gender"]


class TestEncodingsAndTargets:
    def test_gbk_for_old_excel(self, tmp_path: Path) -> None:
        """GB18030 output for old Chinese Excel; a path target by its suffix."""
        path = tmp_path / "客户.csv"
        export_customers([Customer(id="1", name="张三")], path, encoding="gbk")
        assert read_rows(path.read_bytes(), "gb18030")[1][1] == "张三"

    def test_unwritable_character(self) -> None:
        """A character no encoding can hold (a lone surrogate) raises ValidationError."""
        customer = Customer(id="1", name="bad \ud800")
        with pytest.raises(ValidationError, match="cannot be written"):
            export_customers([customer], io.BytesIO(), format="csv", encoding="utf-8")

    def test_from_store_with_progress(self) -> None:
        """A store exports in batches; the callback sees every 1,000 records."""
        store = open_store("memory://")
        store.customers.add_many(
            Customer(id=f"{i:05d}", phones=[Phone("13812345678")], emails=[Email("a@b.cn")])
            for i in range(2500)
        )
        seen: list[int] = []
        out = io.BytesIO()
        assert export_customers(store, out, format="jsonl", progress=seen.append) == 2500
        assert seen == [1000, 2000]
        assert len(out.getvalue().splitlines()) == 2500

    def test_unknown_format(self) -> None:
        """An unknown format raises ValidationError."""
        with pytest.raises(ValidationError, match="format"):
            export_customers([], io.BytesIO(), format="pdf")
        with pytest.raises(ValidationError, match="customers only"):
            export_history([], io.BytesIO(), Interaction, format="vcard")
