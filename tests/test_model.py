"""Tests for custrec.model: building every record and value type, and refusing bad input."""

from __future__ import annotations

import pickle
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given
from hypothesis import strategies as st

from custrec import config
from custrec.errors import ValidationError
from custrec.model import (
    CUSTOM_KEY_PATTERN,
    Address,
    AfterSalesEvent,
    AfterSalesKind,
    Channel,
    Consent,
    ConsentPurpose,
    Customer,
    CustomerKind,
    Direction,
    Email,
    Feedback,
    FeedbackTopic,
    FrozenMap,
    Gender,
    Handle,
    HandleNetwork,
    Interaction,
    LineItem,
    Money,
    Other,
    Outcome,
    PaymentMethod,
    Phone,
    Record,
    SalesChannel,
    Transaction,
    TransactionStatus,
    new_id,
    normalize_email,
)
from custrec.model._contact import _cn_mobile, _parse_with_phonenumbers, normalize_phone
from custrec.model._fields import CONTROL_CHARACTERS, has_control
from custrec.testing import strategies

AT = datetime(2024, 10, 5, 14, 30, tzinfo=timezone(timedelta(hours=8)))
CN_MOBILE_WRITINGS = (
    "{}{}{}",
    "{} {} {}",
    "{}-{}-{}",
    "+86 {} {} {}",
    "+86-{}-{}-{}",
    "86{}{}{}",
    "0086 {}{}{}",
    "(+86) {}{}{}",
    "{}\u3000{}\u3000{}",
)


def refused(build: Callable[[], object]) -> ValidationError:
    """Run ``build``, which must raise ValidationError, and return the error."""
    with pytest.raises(ValidationError) as caught:
        build()
    return caught.value


def cny(amount: str) -> Money:
    """Money in CNY."""
    return Money(amount, "CNY")


class TestIds:
    """Record ids: user-given text kept as is, or generated and time-sortable."""

    def test_generated_ids_have_26_characters(self) -> None:
        """A generated id is 26 Crockford base-32 characters."""
        ident = new_id()
        assert len(ident) == 26
        assert set(ident) <= set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    def test_generated_ids_sort_in_creation_order(self) -> None:
        """Ids made one after another, even in the same millisecond, sort in that order."""
        made = [new_id() for _ in range(1000)]
        assert sorted(made) == made
        assert len(set(made)) == 1000

    def test_records_get_a_generated_id_when_none_is_given(self) -> None:
        """Leaving the id out gives each record its own generated id."""
        first, second = Customer(), Customer()
        assert len(first.id) == 26
        assert first.id != second.id

    @pytest.mark.parametrize("ident", ["001", "0001", "A-17", "VIP 张三", "ＡＢＣ-００１"])
    def test_user_ids_are_kept_as_given(self, ident: str) -> None:
        """User ids keep their leading zeros and characters exactly."""
        assert Customer(id=ident).id == ident

    @pytest.mark.parametrize("ident", [1, 17, 1.0, True])
    def test_ids_given_as_numbers_are_refused(self, ident: object) -> None:
        """An id given as a number is refused: its leading zeros might already be lost."""
        error = refused(lambda: Customer(id=ident))  # type: ignore[arg-type]
        assert error.field == "id"
        assert error.value is ident
        assert "'001'" in error.reason

    @pytest.mark.parametrize("ident", ["", " ", " 001", "001 ", "a\x00b", "x" * 129, None])
    def test_malformed_ids_are_refused(self, ident: object) -> None:
        """Blank ids, outer spaces, control characters and over-long ids are refused."""
        error = refused(lambda: Interaction(ident, AT, "phone"))  # type: ignore[arg-type]
        assert error.field == "customer_id"
        assert error.value == ident


class TestOpenChoices:
    """Enumerated fields take members, their Chinese and English names, or free text."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("微信", Channel.WECHAT),
            ("wechat", Channel.WECHAT),
            ("ＷｅＣｈａｔ", Channel.WECHAT),
            (" In Person ", Channel.IN_PERSON),
            ("电话", Channel.PHONE),
            ("Telegram", Other("Telegram")),
            ("飞书", Other("飞书")),
        ],
    )
    def test_channel_from_text(self, text: str, expected: Channel | Other) -> None:
        """Known names become members; anything else is kept as Other(text)."""
        assert Interaction("c1", AT, text).channel == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("男", Gender.MALE), ("女", Gender.FEMALE), ("F", Gender.FEMALE), ("保密", Other("保密"))],
    )
    def test_gender_from_text(self, text: str, expected: Gender | Other) -> None:
        """Gender reads Chinese and English names; other answers are kept."""
        assert Customer(gender=text).gender == expected

    def test_members_and_others_are_accepted_directly(self) -> None:
        """A member or an Other is kept; an Other naming a member becomes the member."""
        assert Interaction("c1", AT, Channel.SMS).channel is Channel.SMS
        assert Interaction("c1", AT, Other("letter")).channel == Other("letter")
        assert Interaction("c1", AT, Other("微信")).channel is Channel.WECHAT

    def test_every_enumeration_reads_its_chinese_names(self) -> None:
        """Chinese names map to members across the domain's enumerations."""
        sale = Transaction(
            "c1",
            AT,
            total=cny("1"),
            payment_method="支付宝",
            channel="门店",
            status="已退款",
            after_sales=[AfterSalesEvent("退货", AT)],
        )
        assert sale.payment_method is PaymentMethod.ALIPAY
        assert sale.channel is SalesChannel.IN_STORE
        assert sale.status is TransactionStatus.REFUNDED
        assert sale.after_sales[0].kind is AfterSalesKind.RETURN
        call = Interaction("c1", AT, "电话", direction="来电", outcome="已解决")
        assert (call.direction, call.outcome) == (Direction.INBOUND, Outcome.RESOLVED)
        assert Customer(kind="公司").kind is CustomerKind.ORGANISATION
        assert Handle("微信", "wxid_1").network is HandleNetwork.WECHAT
        assert Feedback("c1", AT, rating=5, topic="产品").topic is FeedbackTopic.PRODUCT

    @pytest.mark.parametrize("text", ["", " ", "\u3000"])
    def test_blank_other_text_is_refused(self, text: str) -> None:
        """Other needs non-blank text."""
        error = refused(lambda: Other(text))
        assert error.field == "text"
        assert error.value == text
        assert "blank" in error.reason

    def test_other_text_with_control_characters_is_refused(self) -> None:
        """Other text follows the same rule as every text field."""
        error = refused(lambda: Other("Tele\x00gram"))
        assert error.field == "text"
        assert "control" in error.reason

    @pytest.mark.parametrize("value", ["", "  ", 5, None])
    def test_required_choice_must_be_given(self, value: object) -> None:
        """A required enumerated field refuses blank text, numbers and None."""
        error = refused(lambda: Interaction("c1", AT, value))  # type: ignore[arg-type]
        assert error.field == "channel"
        assert error.value == value

    def test_optional_choice_reads_blank_as_none(self) -> None:
        """An optional enumerated field reads blank text as not given."""
        assert Interaction("c1", AT, "sms", outcome="  ").outcome is None


class TestPhone:
    """Phone numbers: the raw text kept, the E.164 form derived."""

    @pytest.mark.parametrize(
        "raw",
        [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86-13812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "8613812345678",
            "008613812345678",
            "１３８１２３４５６７８",
            "８６１３８１２３４５６７８",
            "＋８６　１３８　１２３４　５６７８",
            "138\u30001234\u30005678",
        ],
    )
    def test_chinese_mobile_in_any_writing(self, raw: str) -> None:
        """Every common writing of a CN mobile normalises to the same E.164 number."""
        phone = Phone(raw, region="CN")
        assert phone.raw == raw
        assert phone.e164 == "+8613812345678"
        assert phone.valid is True

    @given(
        st.sampled_from(["130", "138", "159", "166", "186", "199"]),
        st.text(st.sampled_from("0123456789"), min_size=8, max_size=8),
        st.sampled_from(CN_MOBILE_WRITINGS),
        st.booleans(),
    )
    def test_any_chinese_mobile_writing_normalises(
        self, prefix: str, rest: str, writing: str, full_width: bool
    ) -> None:
        """Property: a CN mobile in any writing, half- or full-width, gives +86 and its digits."""
        raw = writing.format(prefix, rest[:4], rest[4:])
        if full_width:
            raw = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in raw)
        phone = Phone(raw, region="CN")
        assert phone.e164 == f"+86{prefix}{rest}"
        assert phone.valid is True

    @pytest.mark.parametrize(
        ("raw", "region", "e164"),
        [
            ("(650) 253-0000", "US", "+16502530000"),
            ("+1 650 253 0000", "CN", "+16502530000"),
            ("020 7946 0018", "GB", "+442079460018"),
            ("010-6552 9988", "CN", "+861065529988"),
        ],
    )
    def test_foreign_and_landline_numbers(self, raw: str, region: str, e164: str) -> None:
        """Numbers are read in their region, or by their country code."""
        phone = Phone(raw, region=region)
        assert (phone.e164, phone.valid) == (e164, True)

    @pytest.mark.parametrize("raw", ["12345", "138 1234", "call me", "无", "+86 123"])
    def test_invalid_numbers_are_kept_and_flagged(self, raw: str) -> None:
        """A number that cannot be valid is kept as given with valid=False."""
        phone = Phone(raw, region="CN")
        assert phone.raw == raw
        assert phone.valid is False

    def test_region_defaults_to_the_configured_one(self) -> None:
        """Without a region, the configured default is used and kept with the phone."""
        with config.using(phone_region="US"):
            phone = Phone("(650) 253-0000")
        assert phone.region == "US"
        assert phone.e164 == "+16502530000"
        with config.using(phone_region="CN"):
            assert Phone("138 1234 5678").region == "CN"

    def test_region_is_upper_cased(self) -> None:
        """Region codes are read case-insensitively."""
        assert Phone("138 1234 5678", region="cn").region == "CN"

    @pytest.mark.parametrize("region", ["XX", "China", 86])
    def test_unknown_region_is_refused(self, region: object) -> None:
        """A region phonenumbers does not know is refused."""
        error = refused(lambda: Phone("138 1234 5678", region=region))  # type: ignore[arg-type]
        assert error.field == "region"
        assert error.value == region

    @pytest.mark.parametrize("raw", ["", "  ", None, 13812345678, "138\x001234"])
    def test_raw_must_be_text(self, raw: object) -> None:
        """The raw number must be non-blank text without control characters."""
        error = refused(lambda: Phone(raw))  # type: ignore[arg-type]
        assert error.field == "raw"
        assert error.value == raw

    @pytest.mark.parametrize("flag", ["yes", 1, None])
    def test_primary_must_be_a_bool(self, flag: object) -> None:
        """Primary is True or False, not a truthy stand-in; refused as ValidationError."""
        error = refused(lambda: Phone("138 1234 5678", primary=flag))  # type: ignore[arg-type]
        assert error.field == "primary"
        assert error.value == flag


def _writings(digits: str) -> list[str]:
    """Ways people type a Chinese mobile number, plus near misses the fast path must decline."""
    spaced = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    return [
        digits,
        spaced,
        f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
        f"+86{digits}",
        f"+86-{digits}",
        f"+86 {spaced}",
        f"+ 86 {digits}",
        f"86{digits}",
        f"0086{digits}",
        f"0{digits}",
        digits[:-1],
        f"{digits}0",
        f"({digits[:3]}) {digits[3:]}",
    ]


class TestChineseMobileFastPath:
    """The fast reading of plain Chinese mobile numbers gives what phonenumbers gives."""

    def test_every_four_digit_start_agrees_with_phonenumbers(self) -> None:
        """Every 11-digit number's first four digits (10 endings each), in every writing."""
        answered = 0
        for start in range(10_000):
            for ending in (
                "0000000",
                "1234567",
                "9999999",
                "5550123",
                "0000001",
                "7654321",
                "3141592",
                "2718281",
                "1000000",
                "8888888",
            ):
                digits = f"{start:04d}{ending}"
                for text in _writings(digits):
                    fast = _cn_mobile(text)
                    if fast is not None:
                        answered += 1
                        assert (fast, True) == _parse_with_phonenumbers("CN", text), text
        assert answered > 30_000  # it does answer the common numbers (36,519 here)

    @given(
        st.text(alphabet="0123456789", min_size=10, max_size=10).map(lambda rest: "1" + rest),
        st.lists(st.integers(0, 11), max_size=4),
        st.sampled_from(["", " -", "+86", "+86 ", "+ 86", "+86-", "+-86", "86", "+", "＋86"]),
    )
    def test_random_writings_agree_with_phonenumbers(
        self, digits: str, cuts: list[int], prefix: str
    ) -> None:
        """Spaces and hyphens anywhere, any prefix: the fast answer, if any, is parsing's."""
        text = digits
        for cut in sorted(cuts, reverse=True):
            text = f"{text[:cut]}{'-' if cut % 2 else ' '}{text[cut:]}"
        text = unicodedata.normalize("NFKC", prefix + text).strip()
        fast = _cn_mobile(text)
        if fast is not None:
            assert (fast, True) == _parse_with_phonenumbers("CN", text)

    def test_it_answers_the_usual_writings(self) -> None:
        """So the comparisons above are not of a path that never answers."""
        for text in ("13812345678", "138 1234 5678", "+86-138-1234-5678", "+86 13812345678"):
            assert _cn_mobile(text) == "+8613812345678"
        assert Phone("１３８ １２３４ ５６７８").e164 == "+8613812345678"

    def test_other_regions_are_not_read_as_chinese(self) -> None:
        """The fast path is for region CN only: in the US the same digits are parsed."""
        assert Phone("13812345678", region="US").e164 == normalize_phone("13812345678", "US")
        assert normalize_phone("13812345678", "US") != "+8613812345678"


class TestEmail:
    """Email addresses: normalised, with a case-blind lookup key."""

    def test_domain_is_lower_cased_local_part_kept(self) -> None:
        """The domain is lower-cased; the local part keeps its case."""
        email = Email(" Zhang.San@Example.COM ")
        assert email.address == "Zhang.San@example.com"
        assert email.key == "zhang.san@example.com"

    def test_full_width_address_is_folded(self) -> None:
        """Full-width characters are folded to their ASCII forms."""
        assert Email("ＺＳ＠ＱＱ．ＣＯＭ").address == "ZS@qq.com"

    def test_odd_addresses_are_kept(self) -> None:
        """Syntax is left to the quality checks: odd addresses are kept, not refused."""
        email = Email("zhangsan(at)qq.com")
        assert email.address == "zhangsan(at)qq.com"
        assert email.looks_valid is False
        assert Email("a@b.cn").looks_valid is True

    @pytest.mark.parametrize("address", ["", " ", None, 5, "a\x00@b.com", "a@b.com\x1b"])
    def test_blank_non_text_and_control_characters_are_refused(self, address: object) -> None:
        """An address must be non-blank text without control characters."""
        error = refused(lambda: Email(address))  # type: ignore[arg-type]
        assert error.field == "address"
        assert error.value == address

    @given(st.text())
    def test_the_lookup_key_folds_any_text_as_nfkc_does(self, text: str) -> None:
        """Property: the key (ASCII text skips the NFKC step) is NFKC, trimmed, lower-cased."""
        assert normalize_email(text) == unicodedata.normalize("NFKC", text).strip().lower()


class TestHandleAndAddress:
    """Messaging handles and postal addresses."""

    def test_handle_key_ignores_case(self) -> None:
        """A handle's key is its network and its lower-cased id."""
        assert Handle("WeChat", " WXID_Abc ").key == "wechat:wxid_abc"
        assert Handle("Signal", "Bob").key == "Signal:bob"

    def test_blank_handle_is_refused(self) -> None:
        """A handle needs an id on its network."""
        error = refused(lambda: Handle("qq", " "))
        assert error.field == "handle"

    def test_chinese_address_reads_province_to_street(self) -> None:
        """An address prints in Chinese order: province, city, district, street."""
        address = Address(
            country="CN", province="广东省", city="广州市", district="天河区", street="天河路385号"
        )
        assert str(address) == "广东省广州市天河区天河路385号"

    def test_address_parts_are_optional_and_blank_is_none(self) -> None:
        """Every part of an address is optional; blank parts are not kept."""
        address = Address(province="北京市", city=" ", district="朝阳区")
        assert (address.province, address.city, address.district) == ("北京市", None, "朝阳区")

    def test_address_refuses_non_text(self) -> None:
        """A part given as a number is refused with its name."""
        error = refused(lambda: Address(postal_code=100020))  # type: ignore[arg-type]
        assert error.field == "postal_code"
        assert error.value == 100020


class TestCustomer:
    """The customer profile."""

    def test_defaults(self) -> None:
        """An empty profile is a person, version 1, with aware timestamps."""
        customer = Customer()
        assert customer.kind is CustomerKind.PERSON
        assert customer.version == 1
        assert customer.created_at.tzinfo is not None
        assert customer.phones == ()
        assert customer.custom == {}

    def test_full_profile(self) -> None:
        """A profile with Chinese data keeps every field, normalised where promised."""
        customer = Customer(
            id="001",
            name="张伟",
            gender="男",
            birth_date="1985年3月12日",
            company="ＡＢＣ公司",
            phones=[Phone("138 1234 5678", label="手机", primary=True), Phone("010-6552 9988")],
            emails=[Email("Zhang.Wei@Example.com")],
            handles=[Handle("微信", "zhangwei_88")],
            addresses=[Address(province="北京市", city="北京市", district="朝阳区")],
            interests=["茶", "高尔夫", "茶"],
            tags=["VIP", "老客户", "VIP"],
            custom={"会员等级": "金卡", "积分": 1200, "colours": ["红", "蓝"]},
            notes="花生过敏",
        )
        assert customer.id == "001"
        assert customer.gender is Gender.MALE
        assert customer.birth_date == date(1985, 3, 12)
        assert customer.company == "ＡＢＣ公司"
        assert customer.primary_phone is customer.phones[0]
        assert customer.primary_phone.e164 == "+8613812345678"
        assert customer.primary_email == Email("Zhang.Wei@example.com")
        assert customer.interests == ("茶", "高尔夫")
        assert customer.tags == frozenset({"VIP", "老客户"})
        assert customer.custom == {"会员等级": "金卡", "积分": 1200, "colours": ("红", "蓝")}
        assert isinstance(customer.custom, FrozenMap)

    def test_primary_contact_falls_back_to_the_first(self) -> None:
        """Without an entry marked primary, the first one is the primary contact."""
        customer = Customer(phones=[Phone("138 1234 5678"), Phone("139 1234 5678")])
        assert customer.primary_phone is customer.phones[0]
        assert Customer().primary_phone is None

    @pytest.mark.parametrize(
        ("field", "items"),
        [
            (
                "phones",
                [Phone("138 1234 5678", primary=True), Phone("139 1234 5678", primary=True)],
            ),
            ("emails", [Email("a@b.cn", primary=True), Email("c@d.cn", primary=True)]),
            ("handles", [Handle("qq", "1", primary=True), Handle("wechat", "2", primary=True)]),
            ("addresses", [Address(city="广州", primary=True), Address(city="上海", primary=True)]),
        ],
    )
    def test_two_primary_contacts_are_refused(self, field: str, items: list[Any]) -> None:
        """At most one entry of each contact list may be primary."""
        error = refused(lambda: Customer(**{field: items}))
        assert error.field == field
        assert error.value == tuple(items)
        assert "primary" in error.reason

    def test_contact_list_of_the_wrong_type_is_refused(self) -> None:
        """Phones must be Phone values, not bare text."""
        error = refused(lambda: Customer(phones=["138 1234 5678"]))  # type: ignore[list-item]
        assert error.field == "phones"
        assert "Phone" in error.reason

    @pytest.mark.parametrize("field", ["name", "notes", "company", "family", "owner"])
    @pytest.mark.parametrize("text", ["张\x00伟", "bell\x07", "esc\x1b[0m", "del\x7f"])
    def test_control_characters_in_text_are_refused(self, field: str, text: str) -> None:
        """Control characters never enter a record's text."""
        error = refused(lambda: Customer(**{field: text}))
        assert error.field == field
        assert error.value == text
        assert "control characters" in error.reason

    @given(st.text())
    def test_the_printable_shortcut_agrees_with_the_pattern(self, text: str) -> None:
        """Property: has_control (isprintable first) answers as the pattern alone does."""
        assert has_control(text) == (CONTROL_CHARACTERS.search(text) is not None)

    def test_tabs_and_line_breaks_are_allowed(self) -> None:
        """Tab, CR and LF are ordinary in notes."""
        assert Customer(notes="第一行\r\n第二行\t备注").notes == "第一行\r\n第二行\t备注"

    def test_blank_text_is_none(self) -> None:
        """Blank optional text is stored as None."""
        assert Customer(name=" \u3000 ").name is None

    def test_text_of_the_wrong_type_is_refused(self) -> None:
        """A number where text belongs is refused, not converted."""
        error = refused(lambda: Customer(name=42))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("name", 42)

    @pytest.mark.parametrize(
        ("custom", "reason"),
        [
            ({"1st": 1}, "key"),
            ({"has space": 1}, "key"),
            ({"": 1}, "key"),
            ({"a" * 65: 1}, "key"),
            ({5: 1}, "key"),
            ({"nested": {"a": 1}}, "dict"),
            ({"price": Decimal("1.5")}, "Decimal"),
            ({"score": float("nan")}, "finite"),
            ({"score": float("inf")}, "finite"),
            ({"colours": ["红", 1]}, "texts"),
        ],
    )
    def test_bad_custom_fields_are_refused(self, custom: dict[Any, Any], reason: str) -> None:
        """Custom keys follow the key pattern; values are JSON scalars or lists of texts."""
        error = refused(lambda: Customer(custom=custom))
        assert error.field == "custom"
        assert error.value == custom
        assert reason in error.reason

    def test_custom_fields_take_chinese_keys_and_scalars(self) -> None:
        """Chinese keys, _-prefixed keys and every JSON scalar are accepted."""
        custom = {"会员等级": "金卡", "_x": None, "vip": True, "分数": 9.5, "n": -3}
        assert Customer(custom=custom).custom == custom

    @given(strategies.custom_fields())
    def test_custom_field_keys_follow_the_pattern(self, custom: dict[str, Any]) -> None:
        """Property: generated custom fields are accepted and their keys match the pattern."""
        assert all(CUSTOM_KEY_PATTERN.fullmatch(key) for key in Customer(custom=custom).custom)

    def test_external_ids_must_be_text(self) -> None:
        """External ids map system names to non-blank text ids."""
        assert Customer(external_ids={"erp": "C-001"}).external_ids == {"erp": "C-001"}
        error = refused(lambda: Customer(external_ids={"erp": 1}))  # type: ignore[dict-item]
        assert error.field == "external_ids"

    @pytest.mark.parametrize("version", [0, -1, True, "1", 1.0])
    def test_version_is_a_whole_number_from_one(self, version: object) -> None:
        """Versions start at 1 and are ints."""
        error = refused(lambda: Customer(version=version))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("version", version)

    @pytest.mark.parametrize(
        "birth", ["2000-02-29", "2000/2/29", "2000年2月29日", date(2000, 2, 29)]
    )
    def test_birth_date_accepts_text_dates(self, birth: str | date) -> None:
        """Birth dates are read by the one date reader."""
        assert Customer(birth_date=birth).birth_date == date(2000, 2, 29)

    @pytest.mark.parametrize("birth", ["2001-02-29", "yesterday", "29/02", 3.5j])
    def test_unreadable_birth_dates_are_refused(self, birth: object) -> None:
        """Dates that do not exist or cannot be read are refused, naming the field."""
        error = refused(lambda: Customer(birth_date=birth))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("birth_date", birth)
        assert error.reason

    @pytest.mark.parametrize(
        ("born", "on", "age"),
        [
            (date(2000, 2, 29), date(2001, 2, 28), 0),
            (date(2000, 2, 29), date(2001, 3, 1), 1),
            (date(2000, 2, 29), date(2004, 2, 28), 3),
            (date(2000, 2, 29), date(2004, 2, 29), 4),
            (date(2000, 2, 29), date(2000, 2, 29), 0),
            (date(1990, 12, 31), date(2024, 12, 30), 33),
            (date(1990, 12, 31), date(2024, 12, 31), 34),
        ],
    )
    def test_age_in_full_years(self, born: date, on: date, age: int) -> None:
        """Age counts full years; leap-day birthdays turn over on 1 March."""
        assert Customer(birth_date=born).age(on) == age

    def test_age_is_none_without_a_birth_date(self) -> None:
        """Without a birth date the age is unknown."""
        assert Customer().age(date(2024, 1, 1)) is None

    def test_age_defaults_to_today(self) -> None:
        """Without a day given, age is computed for today."""
        born = date(1990, 1, 1)
        today = datetime.now(UTC).date()
        assert Customer(birth_date=born).age() in {today.year - 1990, today.year - 1991}


class TestTime:
    """Timestamps on records are always aware."""

    def test_naive_datetimes_are_read_in_the_configured_zone(self) -> None:
        """A naive datetime gets the configured zone attached, not converted."""
        with config.using(timezone="Asia/Shanghai"):
            customer = Customer(created_at=datetime(2024, 10, 5, 14, 30))
        assert customer.created_at.tzinfo == ZoneInfo("Asia/Shanghai")
        assert customer.created_at.utcoffset() == timedelta(hours=8)
        assert customer.created_at.hour == 14

    def test_text_datetimes_are_accepted(self) -> None:
        """Text timestamps are read, in the configured zone when they carry no offset."""
        with config.using(timezone="Asia/Shanghai"):
            call = Interaction("c1", "2024年10月5日 下午2点半", "电话")
        assert call.at == datetime(2024, 10, 5, 6, 30, tzinfo=UTC)

    def test_offsets_are_kept(self) -> None:
        """An aware datetime keeps its own offset whatever the configured zone."""
        with config.using(timezone="Asia/Shanghai"):
            call = Interaction("c1", "2024-10-05T14:30:00-05:00", "phone")
        assert call.at.utcoffset() == timedelta(hours=-5)

    @pytest.mark.parametrize("moment", ["not a date", "2024-13-01", None, True])
    def test_unreadable_timestamps_are_refused(self, moment: object) -> None:
        """A timestamp that cannot be read is refused with its field."""
        error = refused(lambda: Interaction("c1", moment, "phone"))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("at", moment)

    def test_next_follow_up_reads_text_dates(self) -> None:
        """Follow-up dates accept the same written forms as every date."""
        assert Interaction("c1", AT, "sms", next_follow_up="2024年10月12日").next_follow_up == date(
            2024, 10, 12
        )


class TestTransaction:
    """Sales, their totals and their after-sales events."""

    def test_total_is_summed_from_items(self) -> None:
        """Without a total, the line items' amounts are summed."""
        sale = Transaction(
            "c1",
            AT,
            [LineItem("拿铁", cny("28.00"), Decimal(2)), LineItem("蛋糕", cny("15.50"))],
        )
        assert sale.total == cny("71.50")
        assert sale.currency == "CNY"
        assert sale.items_total == cny("71.50")

    def test_given_total_is_kept(self) -> None:
        """A given total (after a discount) is kept even if it differs from the items."""
        sale = Transaction("c1", AT, [LineItem("拿铁", cny("28.00"))], cny("25.00"))
        assert sale.total == cny("25.00")
        assert sale.items_total == cny("28.00")

    def test_total_without_items(self) -> None:
        """A total alone is a whole transaction."""
        assert Transaction("c1", AT, total=Money("5000", "JPY")).currency == "JPY"

    def test_no_total_and_no_items_is_refused(self) -> None:
        """A transaction needs a total or line items."""
        error = refused(lambda: Transaction("c1", AT))
        assert (error.field, error.value) == ("total", None)
        assert "line items" in error.reason

    def test_line_items_in_two_currencies_are_refused(self) -> None:
        """All line items share one currency."""
        items = [LineItem("a", cny("1")), LineItem("b", Money("1", "USD"))]
        error = refused(lambda: Transaction("c1", AT, items))
        assert (error.field, error.value) == ("items", ["CNY", "USD"])
        assert "mix currencies" in error.reason

    def test_total_in_another_currency_is_refused(self) -> None:
        """The total is in the items' currency."""
        error = refused(lambda: Transaction("c1", AT, [LineItem("a", cny("1"))], Money("1", "USD")))
        assert (error.field, error.value) == ("total", "1.00 USD")
        assert "CNY" in error.reason

    def test_after_sales_amount_in_another_currency_is_refused(self) -> None:
        """Refunds are in the transaction's currency; the error points at the event."""
        events = [
            AfterSalesEvent("repair", AT),
            AfterSalesEvent("refund", AT, Money("10", "USD")),
        ]
        error = refused(lambda: Transaction("c1", AT, total=cny("100"), after_sales=events))
        assert (error.field, error.value) == ("after_sales[1].amount", "10.00 USD")
        assert "CNY" in error.reason

    def test_refunds_and_net(self) -> None:
        """Refunded amounts are summed and taken off the total."""
        sale = Transaction(
            "c1",
            AT,
            total=cny("100"),
            after_sales=[
                AfterSalesEvent("退款", AT, cny("30")),
                AfterSalesEvent("维修", AT),
                AfterSalesEvent("refund", AT, cny("5.50")),
            ],
        )
        assert sale.refunded == cny("35.50")
        assert sale.net == cny("64.50")

    def test_line_item_amount_rounds_half_up(self) -> None:
        """A fractional quantity's amount is rounded half up to the currency."""
        assert LineItem("茶叶", cny("0.99"), Decimal("1.5")).amount == cny("1.49")
        assert LineItem("茶叶", cny("0.01"), Decimal("0.5")).amount == cny("0.01")

    def test_odd_quantities_are_kept(self) -> None:
        """Zero and negative quantities are kept for the quality checks to report."""
        assert LineItem("退货", cny("10"), Decimal(-1)).amount == cny("-10")
        assert LineItem("赠品", cny("10"), "0").quantity == Decimal(0)

    @pytest.mark.parametrize("name", [None, "", "  ", 5, "a\x00"])
    def test_line_item_needs_a_name(self, name: object) -> None:
        """A line item's name is required text; refused as ValidationError."""
        error = refused(lambda: LineItem(name, cny("1")))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("name", name)

    @pytest.mark.parametrize(
        ("quantity", "reason"), [(1.5, "float"), ("two", "number"), ("NaN", "finite")]
    )
    def test_line_item_quantity_is_exact(self, quantity: object, reason: str) -> None:
        """Quantities are exact numbers: floats, words and NaN are refused."""
        error = refused(lambda: LineItem("a", cny("1"), quantity))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("quantity", quantity)
        assert reason in error.reason

    @pytest.mark.parametrize("price", ["1.00", 1, None])
    def test_line_item_price_is_money(self, price: object) -> None:
        """The unit price must be Money, never a bare number."""
        error = refused(lambda: LineItem("a", price))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("unit_price", price)

    def test_items_of_the_wrong_type_are_refused(self) -> None:
        """Items must be LineItem values."""
        error = refused(lambda: Transaction("c1", AT, [{"name": "a"}]))  # type: ignore[list-item]
        assert error.field == "items"


class TestFeedback:
    """Ratings, NPS answers and comments."""

    def test_rating_nps_and_text(self) -> None:
        """Any of rating, NPS and text makes feedback; NPS is classed."""
        assert Feedback("c1", AT, rating=5).rating == 5
        assert Feedback("c1", AT, nps=9).nps_class == "promoter"
        assert Feedback("c1", AT, nps=7).nps_class == "passive"
        assert Feedback("c1", AT, nps=0).nps_class == "detractor"
        assert Feedback("c1", AT, text="服务很好").nps_class is None

    @pytest.mark.parametrize("rating", [0, 6, -1, 10, True, 4.5, "5"])
    def test_rating_outside_one_to_five_is_refused(self, rating: object) -> None:
        """Ratings are whole stars from 1 to 5."""
        error = refused(lambda: Feedback("c1", AT, rating=rating))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("rating", rating)
        assert "1" in error.reason
        assert "5" in error.reason

    @pytest.mark.parametrize("nps", [11, -1, 100, False, 9.0])
    def test_nps_outside_zero_to_ten_is_refused(self, nps: object) -> None:
        """NPS answers are whole numbers from 0 to 10."""
        error = refused(lambda: Feedback("c1", AT, nps=nps))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("nps", nps)
        assert "10" in error.reason

    @pytest.mark.parametrize("text", [None, "", "   "])
    def test_feedback_with_nothing_in_it_is_refused(self, text: str | None) -> None:
        """Feedback without rating, NPS or (non-blank) text is refused."""
        error = refused(lambda: Feedback("c1", AT, text=text))
        assert error.field == "rating"
        assert "rating" in error.reason
        assert "text" in error.reason


class TestConsent:
    """Consent events."""

    def test_consent(self) -> None:
        """A consent names its purpose, whether it was granted, and when."""
        consent = Consent("marketing_sms", True, AT, source="门店登记")
        assert consent.purpose is ConsentPurpose.MARKETING_SMS
        assert consent.granted is True

    @pytest.mark.parametrize("granted", ["yes", 1, None, "true"])
    def test_granted_must_be_a_bool(self, granted: object) -> None:
        """Granted is True or False; refused as ValidationError otherwise."""
        error = refused(lambda: Consent("profiling", granted, AT))  # type: ignore[arg-type]
        assert (error.field, error.value) == ("granted", granted)


class TestFrozenMap:
    """The read-only mapping records use for custom fields and external ids."""

    def test_equal_to_a_dict_with_the_same_items(self) -> None:
        """A FrozenMap compares equal to a dict (and another FrozenMap) with its items."""
        frozen = FrozenMap({"b": 2, "a": 1})
        assert frozen == {"a": 1, "b": 2}
        assert frozen == FrozenMap({"a": 1, "b": 2})
        assert frozen != {"a": 1}
        assert list(frozen) == ["a", "b"]

    def test_immutable(self) -> None:
        """Items cannot be set or deleted."""
        frozen: Any = FrozenMap({"a": 1})
        with pytest.raises(TypeError):
            frozen["a"] = 2
        with pytest.raises(TypeError):
            del frozen["a"]
        assert not hasattr(frozen, "update")

    def test_hashable(self) -> None:
        """Equal maps hash equal, so records holding them are hashable."""
        assert hash(FrozenMap({"a": 1, "b": (1, 2)})) == hash(FrozenMap({"b": (1, 2), "a": 1}))
        assert len({FrozenMap({"a": 1}), FrozenMap({"a": 1})}) == 1

    @given(strategies.custom_fields())
    def test_picklable(self, items: dict[str, Any]) -> None:
        """Property: a FrozenMap survives pickling unchanged."""
        frozen = FrozenMap(items)
        assert pickle.loads(pickle.dumps(frozen)) == frozen  # noqa: S301 - our own data


RECORD_FIELDS: list[tuple[Callable[[], Record], str]] = [
    (lambda: Customer(name="张三"), "name"),
    (lambda: Interaction("c1", AT, "phone"), "channel"),
    (lambda: Transaction("c1", AT, total=cny("1")), "total"),
    (lambda: Feedback("c1", AT, rating=5), "rating"),
]


class TestRecordsAreValues:
    """Records are frozen, hashable where their fields are, and picklable."""

    @pytest.mark.parametrize(("build", "field"), RECORD_FIELDS)
    def test_assignment_is_refused(self, build: Callable[[], Record], field: str) -> None:
        """Setting a field on a record raises FrozenInstanceError."""
        record = build()
        with pytest.raises(FrozenInstanceError):
            setattr(record, field, None)

    @pytest.mark.parametrize(
        "value",
        [
            Money("1", "CNY"),
            Phone("138 1234 5678"),
            Email("a@b.cn"),
            Address(city="广州"),
            Other("x"),
            Consent("profiling", True, AT),
        ],
    )
    def test_value_types_are_frozen(self, value: object) -> None:
        """Value types cannot be changed either."""
        name = attrs.fields(type(value))[0].name
        with pytest.raises(FrozenInstanceError):
            setattr(value, name, None)

    def test_evolve_validates(self) -> None:
        """Changing a record through attrs.evolve runs the same validation."""
        feedback = Feedback("c1", AT, rating=5)
        assert attrs.evolve(feedback, rating=4).rating == 4
        error = refused(lambda: attrs.evolve(feedback, rating=6))
        assert error.field == "rating"

    @given(strategies.records())
    def test_records_are_picklable(self, record: Record) -> None:
        """Property: every record survives pickling unchanged."""
        assert pickle.loads(pickle.dumps(record)) == record  # noqa: S301 - our own data

    @given(strategies.records())
    def test_generated_records_are_valid(self, record: Record) -> None:
        """Property: the test kit's records pass the model's own validation again."""
        assert attrs.evolve(record) == record


class TestStrategies:
    """The shipped test kit builds what it promises."""

    @given(strategies.customers())
    def test_customers_have_at_most_one_primary_contact(self, customer: Customer) -> None:
        """Property: generated customers never mark two contacts primary."""
        for items in (customer.phones, customer.emails, customer.handles, customer.addresses):
            assert sum(item.primary for item in items) <= 1
        assert customer.updated_at >= customer.created_at

    @given(strategies.aware_datetimes())
    def test_datetimes_are_aware_and_in_range(self, moment: datetime) -> None:
        """Property: generated datetimes carry an offset and fall in 1970..2100."""
        assert moment.utcoffset() is not None
        assert 1970 <= moment.year <= 2100

    @given(strategies.transactions(customer_id="001", currency="BHD"))
    def test_transactions_follow_their_arguments(self, sale: Transaction) -> None:
        """Property: a fixed customer and currency apply to every amount drawn."""
        assert sale.customer_id == "001"
        amounts = [sale.total, *(item.unit_price for item in sale.items)]
        amounts += [event.amount for event in sale.after_sales if event.amount is not None]
        assert {amount.currency for amount in amounts} == {"BHD"}

    @given(strategies.interactions(customer_id="A-17"), strategies.feedback(customer_id="A-17"))
    def test_history_strategies_take_a_customer_id(
        self, interaction: Interaction, feedback: Feedback
    ) -> None:
        """Property: interactions and feedback belong to the customer asked for."""
        assert interaction.customer_id == "A-17"
        assert feedback.customer_id == "A-17"

    def test_importing_the_kit_does_not_import_hypothesis(self) -> None:
        """custrec.testing itself needs no test-only dependency; only its submodules do."""
        script = "import sys, custrec.testing; sys.exit('hypothesis' in sys.modules)"
        done = subprocess.run([sys.executable, "-c", script], check=False)  # noqa: S603 - fixed script
        assert done.returncode == 0

    @given(strategies.chinese_names())
    def test_chinese_names_start_with_a_surname(self, name: str) -> None:
        """Property: Chinese names are 2-4 CJK characters, or a name with a middle dot."""
        assert "·" in name or 2 <= len(name) <= 4

    def test_money_refuses_impossible_bounds(self) -> None:
        """money() refuses bounds no Money could satisfy."""
        with pytest.raises(ValueError, match="min_minor"):
            strategies.money(min_minor=1, max_minor=0)
        with pytest.raises(ValueError, match="min_minor"):
            strategies.money(max_minor=2**63)
