"""custrec quick start: three customer files (客户档案), their history, kept in SQLite.

It builds the records, stores them, finds them by phone, imports the shop's customer table
from a spreadsheet (``data/customers_zh.csv`` as Chinese Excel saves it, in GBK, and the same
table as ``.xlsx``) and prints the import report, then loads the 1,000-customer sample set,
classifies everyone with the retail template (客户类型, with explanations) and lists the
customers due for a follow-up call (定期回访). Last, it copies the sample set into a store in
memory, adds a few records with the faults real data has (a full-width name and phone, a bad
email, a duplicate, a wrong total, marketing without consent), audits the copy (数据审核) and
shows what the normalisers would fix.

Run it from anywhere; it writes ``custrec-quickstart.db`` in the current directory (or the
path in the ``CUSTREC_QUICKSTART_DB`` environment variable). Running it again changes
nothing: every record has a fixed id and is added only if the store does not hold it yet, and
the import matches rows to stored customers on their ids, so it adds nothing twice.
"""

from __future__ import annotations

import importlib
import os
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import custrec
from custrec import (
    Address,
    AfterSalesEvent,
    Customer,
    Email,
    Feedback,
    Interaction,
    LineItem,
    Money,
    Phone,
    Transaction,
)
from custrec.classify import Classification, due_follow_ups
from custrec.io import import_customers
from custrec.quality import normalize_store, run_checks
from custrec.store import Store, open_store
from custrec.template import Template
from custrec.testing.synthetic import load_jsonl

SHANGHAI = ZoneInfo("Asia/Shanghai")
SAMPLE = Path(__file__).parent / "data" / "sample.jsonl"
SEED_TABLE = Path(__file__).parent / "data" / "customers_zh"  # .csv (GBK) and .xlsx
AS_OF = date(2025, 6, 30)  # the sample data runs to mid-2025
START = datetime(2024, 10, 1, 9, 30, tzinfo=SHANGHAI)

# 客户ID | 姓名 | 公司名称 | 职位 | 电子邮件 | 手机号码 | 地址 | 备注
TABLE = [
    ("001", "张三", "ABC公司", "经理", "zhangsan@abc.com", "13812345678", "北京市", "朝阳区", "高价值客户"),
    ("002", "李四", "XYZ公司", "销售", "lisi@xyz.com", "13998765432", "上海市", "浦东新区", "潜在客户"),
    ("003", "王五", "DEF公司", "技术", "wangwu@def.com", "13787654321", "广州市", "天河区", "新客户"),
]  # fmt: skip


def build_customers() -> list[Customer]:
    """Turn the seed table into Customer records."""
    return [
        Customer(
            id=ident,
            name=name,
            company=company,
            job_title=title,
            emails=[Email(email, primary=True)],
            phones=[Phone(phone, label="手机", primary=True)],
            addresses=[Address(country="CN", city=city, district=district, primary=True)],
            notes=notes,
            tags={notes},
            created_at=START,
            updated_at=START,
        )
        for ident, name, company, title, email, phone, city, district, notes in TABLE
    ]


def build_history(customer: Customer, n: int) -> list[Interaction | Transaction | Feedback]:
    """A few interactions, transactions and feedback for one customer, with fixed ids."""
    cid = customer.id
    day = timedelta(days=1)
    tea = LineItem("龙井茶礼盒", Money("388.00", "CNY"), Decimal(n), product_id="TEA-01")
    cups = LineItem("茶杯套装", Money("128.50", "CNY"), product_id="CUP-02")
    history: list[Interaction | Transaction | Feedback] = [
        Interaction(
            cid,
            START + day,
            "电话",
            id=f"{cid}-I1",
            direction="呼出",
            subject="首次回访",
            content="介绍新品茶礼盒",
            outcome="需跟进",
            handled_by="小刘",
            next_follow_up=(START + 8 * day).date(),
        ),
        Transaction(
            cid,
            START + 3 * day,
            [tea, cups],
            id=f"{cid}-T1",
            payment_method="微信支付",
            channel="门店",
        ),
        Interaction(
            cid, START + 9 * day, "微信", id=f"{cid}-I2", subject="发货通知", outcome="已解决"
        ),
        Feedback(
            cid, START + 10 * day, id=f"{cid}-F1", rating=5 - n % 2, nps=10 - n, text="包装精美"
        ),
    ]
    if n == 2:
        refund = AfterSalesEvent(
            "退货", START + 12 * day, Money("128.50", "CNY"), "茶杯破损", id=f"{cid}-T2-R1"
        )
        history.append(
            Transaction(
                cid,
                START + 11 * day,
                [cups],
                id=f"{cid}-T2",
                payment_method="支付宝",
                after_sales=[refund],
            )
        )
    return history


def main() -> None:
    """Build the records, print them, keep them in SQLite, and read them back."""
    customers = build_customers()
    histories = {c.id: build_history(c, n) for n, c in enumerate(customers, start=1)}

    print("== The customers; the first one and a sale as readable JSON")
    for customer in customers:
        phone, email = customer.phones[0], customer.emails[0]
        print(f"{customer.id} {customer.name} {customer.company} {phone.e164} {email.address}")
    print(custrec.to_json(customers[0], indent=2))
    print(custrec.to_json(histories["001"][1], indent=2))
    print("\n== Every record as JSON, one per line (what stores and exports hold)")
    for customer in customers:
        print(custrec.to_json(customer))
        for record in histories[customer.id]:
            print(custrec.to_json(record))

    path = os.environ.get("CUSTREC_QUICKSTART_DB", "custrec-quickstart.db")
    with open_store(f"sqlite:///{path}", actor="quickstart") as store:
        added = 0
        with store.transaction():  # all or nothing
            for customer in customers:
                if not store.customers.exists(customer.id):
                    store.customers.add(customer)
                    added += 1
                for record in histories[customer.id]:
                    repository = store.repository(type(record))
                    if not repository.exists(record.id):
                        repository.add(record)
                        added += 1
        print(f"\n== Stored in {path}: {added} new record(s), {store.customers.count()} customers")

        print("\n== Found by phone, in the formats people type, with their history")
        for typed in ("138 1234 5678", "+86-139-9876-5432", "８６１３７８７６５４３２１"):
            for customer in store.customers.find_by_phone(typed):
                print(f"{typed!r} -> {customer.id} {customer.name}")
                for item in store.history(customer.id):
                    when = item.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                    print(f"    {when} {describe(item)}")

        import_seed_table(store)
        load_sample(store)
        classify(store)
    audit()


def import_seed_table(store: Store) -> None:
    """Import the shop's customer table from its spreadsheets and print what happened.

    Every row is accounted for: stored, updated (matched on its 客户编号), rejected with the
    reason, or skipped (blank, or already stored unchanged, as on a second run).
    """
    retail = Template.preset("retail")  # 会员等级 is its custom field member_level
    print("\n== Importing the customer table (Excel habits included)")
    csv_report = import_customers(
        store, SEED_TABLE.with_suffix(".csv"), template=retail, id_width=4
    )
    print(csv_report.summary())
    try:
        importlib.import_module("openpyxl")
    except ImportError:
        print(
            "(openpyxl is not installed: skipping customers_zh.xlsx; pip install 'custrec[excel]')"
        )
        return
    xlsx_report = import_customers(
        store, SEED_TABLE.with_suffix(".xlsx"), template=retail, id_width=4
    )
    print(xlsx_report.summary())


def load_sample(store: Store) -> None:
    """Add the sample set (customers first, then their history), once."""
    sample = load_jsonl(SAMPLE)
    if store.customers.exists(sample.customers[0].id):
        return
    for records in (sample.customers, sample.interactions, sample.transactions, sample.feedback):
        store.repository(type(records[0])).add_many(records, batch_size=500)
    print(f"\n== Loaded the sample set: {store.customers.count()} customers in all")


def classify(store: Store) -> None:
    """Classify everyone with the retail preset; show some types and the due follow-ups."""
    retail = Template.preset("retail")
    classification = Classification.from_template(retail)
    run = classification.run(store, AS_OF)
    print(f"\n== Customer types as of {AS_OF} (retail template), three of {len(run.types)}")
    for customer_id in ("001", "C000001", "C000002"):
        kind = run.types[customer_id]
        print(f"{customer_id}: {kind.key}")
        for line in kind.explain().splitlines():
            print(f"    {line}")
    due = due_follow_ups(store, AS_OF, template=retail)
    print(f"\n== {len(due)} customers due for a follow-up; the five most overdue:")
    for item in due[:5]:
        why = ", ".join(item.segments) or "default cadence"
        print(
            f"{item.customer_id} {item.name}: every {item.cadence_days} days ({why}), "
            f"due {item.due}, {item.overdue_days} days overdue"
        )


def faulty_records(first: Customer) -> list[Customer | Interaction | Transaction]:
    """Records with the faults real customer data has; ``first`` gets a duplicate."""
    added = START + timedelta(days=30)
    tea = LineItem("龙井茶礼盒", Money("388.00", "CNY"), Decimal(1), product_id="TEA-01")
    return [
        Customer(
            id="Q01",
            name="ＪＯＨＮ　ＳＭＩＴＨ",  # typed with a Chinese input method: full width
            phones=[Phone("１３９ ０１２３ ４５６７", label="手机")],
            emails=[Email("john.smith(at)gmail.com")],
            addresses=[Address(country="CN", province="北京", city="北京", postal_code="10002")],
            created_at=added,
            updated_at=added,
        ),
        Customer(  # entered twice: the first customer's phone again, no name, a birth year typo
            id="Q02",
            phones=[Phone(first.phones[0].raw)],
            birth_date=date(1890, 3, 1),
            created_at=added,
            updated_at=added,
        ),
        Transaction(  # total typed as 3880.00 for one 388.00 box
            "C000002", added, [tea], total=Money("3880.00", "CNY"), id="Q-T1", payment_method="现金"
        ),
        Interaction(  # an SMS campaign to a customer who never agreed to marketing SMS
            first.id, added, "短信", id="Q-I1", direction="呼出", subject="双十一促销短信"
        ),
    ]


def audit() -> None:
    """Audit a copy of the sample set with seeded faults; show the report and the fixes."""
    sample = load_jsonl(SAMPLE)
    store = open_store("memory://", actor="quickstart")
    for records in (sample.customers, sample.interactions, sample.transactions, sample.feedback):
        store.repository(type(records[0])).add_many(records)
    with store.transaction():
        for record in faulty_records(sample.customers[0]):
            store.repository(type(record)).add(record)
    retail = Template.preset("retail")
    report = run_checks(store, template=retail, as_of=AS_OF)
    print(f"\n== Data quality audit as of {AS_OF} (retail template)")
    print(report.summary(top=5))
    print("\n== Findings on the seeded faults (personal data masked)")
    for kind, record_id in (("customer", "Q01"), ("customer", "Q02"), ("transaction", "Q-T1")):
        for finding in report.for_record(record_id, kind):
            fix = f" -> {finding.fix}" if finding.fix else ""
            print(f"{record_id} [{finding.severity}] {finding.field}: {finding.message}")
            print(f"    value {finding.value!r}{fix}")
    for finding in report.for_record("Q-I1", "interaction"):
        print(f"Q-I1 [{finding.severity}] {finding.field}: {finding.message}")
    changes = normalize_store(store, dry_run=True)
    print(f"\n== Normalisers would change {len(changes)} customers; Q01's changes:")
    for change in changes.get("Q01", []):
        print(f"    {change.field}: {change.old!r} -> {change.new!r}")


def describe(item: Interaction | Transaction | Feedback) -> str:
    """One line about a history record."""
    if isinstance(item, Interaction):
        return f"interaction via {item.channel}: {item.subject} ({item.outcome})"
    if isinstance(item, Transaction):
        refunded = f", refunded {item.refunded}" if item.after_sales else ""
        return f"transaction {item.total} by {item.payment_method}{refunded}"
    return f"feedback: {item.rating}★ NPS {item.nps} {item.text or ''}"


if __name__ == "__main__":
    main()
