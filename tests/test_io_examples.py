"""The shipped seed table (examples/data/customers_zh.*) imports as the quickstart shows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from custrec.io import detect_encoding, import_customers
from custrec.store import open_store
from custrec.template import Template

MOMENT = datetime(2025, 1, 1, tzinfo=UTC)
SEED = Path(__file__).resolve().parent.parent / "examples" / "data" / "customers_zh"


class TestSeedTable:
    def test_csv_is_gbk(self) -> None:
        """The CSV is what Chinese Excel saves: GBK, detected as GB18030."""
        with SEED.with_suffix(".csv").open("rb") as handle:
            assert detect_encoding(handle) == "gb18030"

    @pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
    def test_import_twice(self, suffix: str) -> None:
        """Both files import with the same counts, and a second import changes nothing."""
        store = open_store("memory://")
        retail = Template.preset("retail")
        first = import_customers(store, SEED.with_suffix(suffix), template=retail, id_width=4)
        assert (first.rows_read, first.stored, first.rejected, first.skipped) == (25, 20, 4, 1)
        assert [r.row for r in first.rejects] == [5, 6, 7, 10]
        assert [r.column for r in first.rejects] == ["手机号码", "出生日期", "手机号码", "会员等级"]
        assert store.customers.get("0107").name == "吴敏"  # the id Excel stored as 107
        assert [p.e164 for p in store.customers.get("0102").phones] == [
            "+8613998760102",
            "+8613600000102",
        ]
        again = import_customers(store, SEED.with_suffix(suffix), template=retail, id_width=4)
        assert (again.stored, again.updated, again.skipped) == (0, 0, 21)

    def test_csv_and_xlsx_hold_the_same_records(self) -> None:
        """Imported from either file, the customers are equal (but for when they were made)."""
        found = []
        retail = Template.preset("retail")
        for suffix in (".csv", ".xlsx"):
            store = open_store("memory://")
            import_customers(store, SEED.with_suffix(suffix), template=retail, id_width=4)
            found.append(
                {
                    c.id: attrs.evolve(c, created_at=MOMENT, updated_at=MOMENT)
                    for c in store.customers
                }
            )
        assert found[0] == found[1]
