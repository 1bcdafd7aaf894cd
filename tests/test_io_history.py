"""History imports: interactions, transactions and feedback from their own files."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

from custrec.errors import ValidationError
from custrec.io import import_customers, import_history
from custrec.model import Channel, Customer, Feedback, Interaction, Money, Transaction
from custrec.store import Store, open_store


@pytest.fixture
def store() -> Store:
    store = open_store("memory://")
    store.customers.add_many([Customer(id="001", name="张三"), Customer(id="002", name="李四")])
    return store


def data(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("gbk"))


class TestInteractions:
    def test_chinese_headers(self, store: Store) -> None:
        """Interactions linked by 客户编号; unknown customers are rejected, not dropped."""
        text = (
            "编号,客户编号,日期,沟通方式,主题,结果,处理人,下次跟进\n"
            "I1,001,2024/10/5 14:30,电话,首次回访,已解决,小刘,2024-10-12\n"
            "I2,999,2024/10/6,微信,发货通知,,,\n"
            "I3,002,2024年10月7日,,缺渠道,,,\n"
        )
        report = import_history(store, data(text), Interaction, format="csv")
        assert (report.stored, report.rejected) == (1, 2)
        assert "names no customer" in report.rejects[0].reason
        assert report.rejects[0].row == 3
        assert "channel" in report.rejects[1].reason
        first = store.interactions.get("I1")
        assert (first.channel, first.next_follow_up) == (Channel.PHONE, date(2024, 10, 12))

    def test_reimport_is_idempotent(self, store: Store) -> None:
        """Rows with ids are matched on them: importing twice stores them once."""
        text = "编号,客户编号,日期,渠道\nI1,001,2024-10-05,电话\n"
        import_history(store, data(text), Interaction, format="csv")
        again = import_history(store, data(text), Interaction, format="csv")
        assert (again.stored, again.updated, again.skipped) == (0, 0, 1)
        changed = "编号,客户编号,日期,渠道,主题\nI1,001,2024-10-05,电话,改了\n"
        report = import_history(store, data(changed), Interaction, format="csv")
        assert report.updated == 1
        assert store.interactions.get("I1").subject == "改了"


class TestTransactions:
    def test_one_item_per_row(self, store: Store) -> None:
        """A row is a sale: product, quantity, unit price (with ￥ and thousands commas).

        A row with neither an item nor an amount is rejected: a transaction needs one.
        """
        text = (
            "客户编号,日期,商品,数量,单价,支付方式\n"
            '001,2024-10-05,龙井茶礼盒,2,"￥1,388.00",微信支付\n'
            "002,2024-10-06,,,,现金\n"
            "002,2024-10-07,茶杯,1,abc,现金\n"
        )
        report = import_history(store, data(text), Transaction, format="csv")
        assert (report.stored, report.rejected) == (1, 2)
        assert "total or line items" in report.rejects[0].reason
        assert report.rejects[1].column == "单价"
        (sale,) = store.transactions.for_customer("001")
        assert sale.total == Money("2776.00", "CNY")
        assert sale.items[0].quantity == Decimal(2)

    def test_total_only(self, store: Store) -> None:
        """A row with only an amount keeps it as the total."""
        text = "客户编号,日期,金额,币种\n001,2024-10-05,99.5,USD\n"
        import_history(store, data(text), Transaction, format="csv")
        (sale,) = store.transactions.for_customer("001")
        assert sale.total == Money("99.5", "USD")


class TestFeedback:
    def test_ratings(self, store: Store) -> None:
        """Ratings and NPS are whole numbers in range; others are rejected with the column."""
        text = (
            "客户编号,日期,评分,推荐值,评价\n"
            "001,2024-10-05,5,9,很好\n002,2024-10-05,4.5,,\n001,2024-10-06,6,,\n"
        )
        report = import_history(store, data(text), Feedback, format="csv")
        assert (report.stored, report.rejected) == (1, 2)
        assert [r.column for r in report.rejects] == ["评分", "评分"]

    def test_wrong_record_type(self, store: Store) -> None:
        """Only history record types can be imported with import_history."""
        with pytest.raises(ValidationError, match="record_type"):
            import_history(store, data("a\n1\n"), Customer, format="csv")  # type: ignore[arg-type]


class TestCustomersThenHistory:
    def test_whole_migration(self, tmp_path: object) -> None:
        """Customers, then their history, into SQLite: linked by customer id."""
        store = open_store("memory://")
        import_customers(store, data("客户编号,姓名\n001,张三\n"), format="csv")
        report = import_history(
            store, data("客户编号,日期,渠道\n001,2024-10-05,微信\n"), Interaction, format="csv"
        )
        assert report.stored == 1
        assert len(store.history("001")) == 1
