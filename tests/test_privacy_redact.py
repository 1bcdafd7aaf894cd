"""Redaction masks or removes personal data and keeps records valid."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest
from hypothesis import given

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
    ValidationError,
)
from custrec.model import Record
from custrec.privacy import (
    REMOVED_TEXT,
    RedactionPolicy,
    Treatment,
    mask_email,
    mask_name,
    mask_phone,
    redact,
    redact_dict,
)
from custrec.serialize import to_dict
from custrec.testing import strategies

AT = datetime(2024, 5, 1, 10, tzinfo=UTC)


def _customer() -> Customer:
    return Customer(
        id="001",
        name="张伟",
        phones=[Phone("138 1234 5678", region="CN", primary=True)],
        emails=[Email("zhangwei@abc.com")],
        addresses=[
            Address(
                country="CN",
                province="广东省",
                city="广州市",
                district="天河区",
                street="体育西路1号",
            )
        ],
        family="已婚，两个孩子",
        special_needs=["花生过敏"],
        notes="喜欢安静",
        birth_date="1985-03-02",
        tags=["vip"],
    )


class TestMasks:
    def test_phone(self) -> None:
        """A Chinese mobile shows its first three and last four digits, in any writing."""
        assert mask_phone("13812345678") == "138****5678"
        assert mask_phone("+86 138-1234-5678") == "138****5678"
        assert mask_phone("+8613812345678") == "138****5678"

    def test_short_phone_shows_little(self) -> None:
        """Short numbers keep at most their last two digits."""
        assert mask_phone("6552998") == "*****98"
        assert mask_phone("123") == "***"

    def test_email(self) -> None:
        """The local part shrinks to its first character; the domain stays."""
        assert mask_email("zhangsan@ABC.com") == "z***@abc.com"
        assert mask_email("@163.com") == "***"
        assert mask_email("zhangsan(at)qq.com") == "***"

    def test_names(self) -> None:
        """Chinese names keep the surname's first character, Latin names each initial."""
        assert mask_name("张伟") == "张*"
        assert mask_name("欧阳明华") == "欧***"
        assert mask_name("John Smith") == "J*** S****"


class TestRedact:
    def test_customer(self) -> None:
        """The standard policy masks contacts, cuts addresses to city and drops free text."""
        out = redact(_customer())
        assert isinstance(out, Customer)
        assert out.name == "张*"
        assert out.phones[0].raw == "138****5678"
        assert out.phones[0].e164 is None
        assert out.phones[0].primary
        assert out.emails[0].address == "z***@abc.com"
        address = out.addresses[0]
        assert (address.country, address.province, address.city) == ("CN", "广东省", "广州市")
        assert address.district is None
        assert address.street is None
        assert out.family is None
        assert out.special_needs == ()
        assert out.notes is None
        assert out.birth_date is None
        assert out.tags == frozenset({"vip"})
        assert out.id == "001"

    def test_history(self) -> None:
        """Interaction content, transaction notes (after-sales too) and feedback text go."""
        interaction = Interaction("001", AT, "phone", subject="投诉", content="客户说…")
        transaction = Transaction(
            "001",
            AT,
            [LineItem("茶", Money("10", "CNY"), Decimal(2))],
            note="送到家里",
            after_sales=[AfterSalesEvent("refund", AT, Money("5", "CNY"), "张伟 要求退款")],
        )
        feedback = Feedback("001", AT, rating=4, text="很好")
        assert redact(interaction).content is None
        assert redact(interaction).subject is None
        red = redact(transaction)
        assert red.note is None
        assert red.after_sales[0].note is None
        assert red.refunded == Money("5", "CNY")
        assert red.total == transaction.total
        assert redact(feedback).text is None
        assert redact(feedback).rating == 4

    def test_text_only_feedback_stays_valid(self) -> None:
        """Feedback that held only text keeps a placeholder instead of becoming invalid."""
        assert redact(Feedback("001", AT, text="张伟说很好")).text == REMOVED_TEXT

    def test_policy_can_keep(self) -> None:
        """A policy adjusted with with_rules keeps what it names."""
        policy = RedactionPolicy.standard().with_rules({"customer.notes": "keep"})
        assert redact(_customer(), policy).notes == "喜欢安静"
        assert policy.treatment("customer", "notes") is Treatment.KEEP

    def test_empty_policy_keeps_everything(self) -> None:
        """A policy without rules returns the record unchanged."""
        customer = _customer()
        assert redact(customer, RedactionPolicy()) == customer

    def test_dict_leaves_removed_fields_out(self) -> None:
        """The export form has no key for a removed field and masked values for the rest."""
        document = redact_dict(_customer())
        assert "notes" not in document
        assert "family" not in document
        assert document["name"] == "张*"
        assert document["type"] == "customer"

    @pytest.mark.parametrize(
        ("rules", "reason"),
        [
            ({"customer.birth_date": "mask"}, "no masked form"),
            ({"customer.id": "remove"}, "needed by the record"),
            ({"transaction.total": "remove"}, "needed by the record"),
            ({"transaction.items": "remove"}, "needed by the record"),
            ({"customer.created_at": "remove"}, "needed by the record"),
            ({"customer.shoe_size": "keep"}, "not a field"),
            ({"order.total": "keep"}, "not one of"),
            ({"customer.name": "hide"}, "keep, mask or remove"),
        ],
    )
    def test_bad_rules(self, rules: dict[str, str], reason: str) -> None:
        """A policy refuses rules it cannot carry out, saying why."""
        with pytest.raises(ValidationError, match=reason):
            RedactionPolicy(rules)

    def test_not_a_record(self) -> None:
        """Anything but a record is refused."""
        with pytest.raises(ValidationError):
            redact({"name": "张伟"})  # type: ignore[type-var]


def _kept_text(record: Record, policy: RedactionPolicy) -> str:
    """The input's text in the fields the policy keeps untouched."""
    kind = to_dict(record)["type"]
    fields = [f.name for f in attrs.fields(type(record))]
    kept = {
        name: value
        for name, value in to_dict(record).items()
        if name in fields and policy.treatment(kind, name) is Treatment.KEEP
    }
    return json.dumps(kept, ensure_ascii=False, default=str)


def _secrets(customer: Customer) -> list[str]:
    values = [customer.name or ""]
    for phone in customer.phones:
        values += [phone.raw.strip(), phone.e164 or ""]
    for email in customer.emails:
        if email.address.rpartition("@")[0]:  # "@163.com" is only a domain, which is kept
            values += [email.address, email.key]
    # Values of four characters or fewer are not identifying and occur in dates and ids.
    return [value for value in values if len(value) > 4]


class TestRedactionProperties:
    @given(strategies.customers())
    def test_no_contact_or_name_survives(self, customer: Customer) -> None:
        """No name, phone or email of a customer appears in its redacted export.

        Values that also sit in a field the policy keeps (an owner named like the
        customer, say) are the policy's choice and are not counted.
        """
        policy = RedactionPolicy.standard()
        text = json.dumps(redact_dict(customer, policy), ensure_ascii=False).lower()
        kept = _kept_text(customer, policy).lower()
        for secret in _secrets(customer):
            if secret.lower() not in kept:
                assert secret.lower() not in text

    @given(strategies.records())
    def test_same_type_and_valid(self, record: Record) -> None:
        """Redacting gives a valid record of the same type with the same id and version."""
        out = redact(record)
        assert type(out) is type(record)
        assert (out.id, out.version) == (record.id, record.version)
        assert attrs.evolve(out) == out

    @given(strategies.records())
    def test_idempotent_removal(self, record: Record) -> None:
        """Redacting twice removes nothing more than redacting once (removed stays removed)."""
        once = redact_dict(record)
        twice = redact_dict(redact(record))
        assert once.keys() == twice.keys()
