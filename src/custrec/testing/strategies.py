"""Hypothesis strategies for every custrec value and record type.

Use them in property tests of code that extends custrec (a store backend, a check, a
classifier, an importer)::

    from hypothesis import given
    from custrec.testing import strategies

    @given(strategies.customers())
    def test_my_store_keeps_customers(customer): ...

Every strategy builds only valid values, the kind real customer files hold: Chinese and
Latin names, Chinese addresses (北京市朝阳区, 广东省广州市天河区…), full-width and
half-width characters mixed (``ＡＢＣ公司``, ``１３８１２３４５６７８``, full-width spaces),
phone numbers in many writings (some foreign, some unreadable, which custrec keeps with
``valid=False``), money at its edges (zero, negative, one minor unit, amounts near the
64-bit limit of minor units, currencies with 0, 2, 3 and 4 decimal places), and aware
datetimes with fixed UTC offsets between 1970 and 2100.

Strategies that make a record take the id of its customer, or draw one; strategies that
make money take a currency, or draw one.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import NamedTuple, TypeVar

import attrs
from hypothesis import strategies as st

from custrec.model import (
    Address,
    AfterSalesEvent,
    AfterSalesKind,
    Channel,
    Consent,
    ConsentPurpose,
    Customer,
    CustomerKind,
    CustomValue,
    Direction,
    Email,
    Feedback,
    FeedbackTopic,
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
)

__all__ = [
    "MAX_MINOR",
    "addresses",
    "after_sales_events",
    "aware_datetimes",
    "chinese_addresses",
    "chinese_names",
    "company_names",
    "consents",
    "currencies",
    "custom_fields",
    "customers",
    "emails",
    "feedback",
    "handles",
    "ids",
    "interactions",
    "latin_names",
    "line_items",
    "money",
    "names",
    "phones",
    "records",
    "texts",
    "transactions",
]

T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)
_Primary = TypeVar("_Primary", Phone, Email, Handle, Address)

MAX_MINOR = 2**63 - 1
"""The largest count of minor units (cents, fen…) a :class:`~custrec.model.Money` may hold."""

# --- Characters -------------------------------------------------------------------------------

_DIGITS = st.sampled_from("0123456789")
_FULL_WIDTH_OFFSET = 0xFEE0  # '!' (U+0021) .. '~' (U+007E) map to U+FF01 .. U+FF5E
_IDEOGRAPHIC_SPACE = "\u3000"


def _full_width(char: str) -> str:
    if char == " ":
        return _IDEOGRAPHIC_SPACE
    if "!" <= char <= "~":
        return chr(ord(char) + _FULL_WIDTH_OFFSET)
    return char


_WIDTH_MODES = st.sampled_from(("as written", "full", "mixed"))
_MASKS = st.integers(0, 2**64 - 1)


def _widen(text: str, mode: str, mask: int) -> str:
    """``text`` as written, all full-width, or full-width where ``mask`` has a bit set."""
    if mode == "as written":
        return text
    if mode == "full":
        return "".join(_full_width(char) for char in text)
    return "".join(
        _full_width(char) if mask >> (index % 64) & 1 else char for index, char in enumerate(text)
    )


def _mixed_width(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(_widen, texts, _WIDTH_MODES, _MASKS)


def _width_variants(values: Sequence[str]) -> st.SearchStrategy[str]:
    return _mixed_width(st.sampled_from(values))


# Any character a customer's text may hold: no control characters (tab and line breaks
# excepted), no lone surrogates.
_TEXT_CHAR = st.one_of(
    st.characters(exclude_categories=("Cc", "Cs")),
    st.sampled_from("\t\n\r" + _IDEOGRAPHIC_SPACE),
)
# A character that is neither a control character nor white space: text that starts with
# one is never blank.
_SOLID_CHAR = st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"))

_PHRASES = (
    "客户要求周末送货",
    "VIP客户，对花生过敏",
    "老客户介绍",
    "prefers e-mail, not calls",
    "已回访，满意",
    "ＡＢＣ公司采购部",
    "电话：１３８１２３４５６７８",
    "地址变更，见新地址",
    "Tel. +44 20 7946 0018 (office)",
    "下次来店时赠送小礼品\n（已告知店长）",
    "素食\t不吃辣",
)


def texts(*, max_size: int = 40, blank: bool = True) -> st.SearchStrategy[str]:
    """Free text as customers and staff write it: Chinese, Latin, full-width, emoji.

    Args:
        max_size: The longest text made from random characters.
        blank: Whether empty and all-space texts may be drawn. Optional text fields read
            blank text as ``None``; required ones refuse it.

    Returns:
        Texts without control characters (tab and line breaks allowed).
    """
    solid = st.builds(
        lambda head, tail: head + tail, _SOLID_CHAR, st.text(_TEXT_CHAR, max_size=max_size)
    )
    made = st.one_of(_width_variants(_PHRASES), solid)
    if blank:
        made = st.one_of(made, st.sampled_from(("", " ", _IDEOGRAPHIC_SPACE, " \n\t")))
    return made


_SHORT_SOLID_TEXTS = texts(max_size=20, blank=False)


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


def _optional_text(words: Sequence[str] = ()) -> st.SearchStrategy[str | None]:
    if words:
        return st.one_of(st.none(), _width_variants(words), texts(max_size=20))
    return st.one_of(st.none(), texts(max_size=20))


# --- Ids --------------------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_TIME_BITS = 48
_ULID_RANDOM_BITS = 80


def _ulid(milliseconds: int, random_part: int) -> str:
    value = (milliseconds << _ULID_RANDOM_BITS) | random_part
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


_USER_IDS = ("001", "0001", "A-17", "C-2024-0001", "VIP-张三-01", "客户001", "ＡＢＣ-００１")


def ids() -> st.SearchStrategy[str]:
    """Record ids: user-given ones (``"001"``, ``"A-17"``), generated ones, and odd ones.

    Generated ids have the 26-character layout of :func:`custrec.model.new_id`, drawn
    deterministically so that failing examples replay.

    Returns:
        Texts that custrec accepts as ids.
    """
    padded = st.builds(
        lambda number, width: f"{number:0{width}d}", st.integers(0, 99_999), st.integers(1, 8)
    )
    generated = st.builds(
        _ulid,
        st.integers(0, 2**_ULID_TIME_BITS - 1),
        st.integers(0, 2**_ULID_RANDOM_BITS - 1),
    )
    # Anything else an id may be: no control characters, no white space at either end.
    inner = st.builds(
        lambda middle, last: middle + last,
        st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20),
        _SOLID_CHAR,
    )
    odd = st.builds(lambda first, rest: first + rest, _SOLID_CHAR, st.just("") | inner)
    return st.one_of(_width_variants(_USER_IDS), padded, generated, odd)


# --- Names ------------------------------------------------------------------------------------

_SURNAMES = (
    "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
)
_COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "慕容")
_GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬燕彩春菊凤洁梅琳素云"
    "莲真环雪荣爱香月瑞佳嘉琼珍莉晶妍秋珊锦青倩婷婉颖露瑶怡丹蓉君琴蕊薇梦岚馨韵悦冰宁欣"
    "毅俊峰辉力永健世广志义兴良海山仁波贵福生龙元全国胜学祥才发武新利清飞彬富顺信子"
    "昌成康星光天达安岩中茂进林有坚和博诚先敬振壮思群豪心邦承乐功松善厚庆民友裕河哲浩"
    "亮政谦奇之翰朗宏言鸣朋斌栋维启克伦翔旭鹏泽晨辰士建家致树德行泰盛雄钧冠策腾航弘"
)
_MINORITY_NAMES = ("阿依古丽·买买提", "买买提·艾力", "扎西·多吉", "巴特尔")


def chinese_names() -> st.SearchStrategy[str]:
    """Chinese personal names: a real surname and one or two given-name characters.

    Compound surnames (欧阳, 诸葛…) and names written with a middle dot (买买提·艾力)
    appear too.

    Returns:
        Names such as ``"张伟"``, ``"欧阳明华"``.
    """
    surname = st.one_of(st.sampled_from(_SURNAMES), st.sampled_from(_COMPOUND_SURNAMES))
    given = st.text(st.sampled_from(_GIVEN_CHARS), min_size=1, max_size=2)
    return st.one_of(
        st.builds(lambda family, own: family + own, surname, given),
        st.sampled_from(_MINORITY_NAMES),
    )


_LATIN_GIVEN = (
    "Anna", "James", "María", "José", "Zoë", "François", "Søren", "Łukasz", "Mary-Jane",
    "Wei", "Hiroshi", "Ng", "Olúwaseun",
)  # fmt: skip
_LATIN_FAMILY = (
    "Smith", "O'Brien", "Müller", "García Márquez", "van der Berg", "Nguyen", "Dvořák",
    "Ødegård", "Zhang", "Li", "MacDonald", "d'Artagnan",
)  # fmt: skip


def latin_names() -> st.SearchStrategy[str]:
    """Personal names in Latin script, accents and apostrophes included.

    Returns:
        Names such as ``"José García Márquez"``, ``"Zoë O'Brien"``, ``"Wei Zhang"``.
    """
    return st.builds(
        lambda given, middle, family: " ".join(part for part in (given, middle, family) if part),
        st.sampled_from(_LATIN_GIVEN),
        st.one_of(st.just(""), st.sampled_from(("A.", "Marie", "J."))),
        st.sampled_from(_LATIN_FAMILY),
    )


_COMPANY_NAMES = (
    "ABC公司",
    "北京星辰科技有限公司",
    "广州天河百货有限公司",
    "上海浦江国际贸易有限公司",
    "深圳市腾达电子有限公司",
    "杭州西湖茶业合作社",
    "Acme Ltd.",
    "Müller & Söhne GmbH",
    "O'Neil Consulting LLC",
    "3M 中国有限公司",
    "IBM (China) Co., Ltd.",
)


def company_names() -> st.SearchStrategy[str]:
    """Organisation names, Chinese and foreign, in half-, full- and mixed-width writing.

    Returns:
        Names such as ``"ＡＢＣ公司"``, ``"北京星辰科技有限公司"``, ``"Acme Ltd."``.
    """
    return _width_variants(_COMPANY_NAMES)


def names() -> st.SearchStrategy[str]:
    """Any customer name: a Chinese or Latin personal name, or an organisation's name.

    Returns:
        Non-blank names.
    """
    return st.one_of(chinese_names(), latin_names(), company_names())


# --- Money ------------------------------------------------------------------------------------

# Currencies with 0 (JPY, KRW, ISK), 2 (CNY, USD…), 3 (BHD, KWD, TND) and 4 (CLF) decimals.
_CURRENCIES = ("CNY", "USD", "EUR", "GBP", "HKD", "JPY", "KRW", "ISK", "BHD", "KWD", "TND", "CLF")
_ORDINARY_MINOR = 10**9
_CURRENCY_PICKS = st.sampled_from(_CURRENCIES)


def currencies() -> st.SearchStrategy[str]:
    """ISO 4217 codes with 0, 2, 3 and 4 decimal places (JPY, CNY, BHD, CLF…).

    Returns:
        Upper-case currency codes that :class:`~custrec.model.Money` accepts.
    """
    return _CURRENCY_PICKS


def _minor_units(min_minor: int, max_minor: int) -> st.SearchStrategy[int]:
    edges = sorted(
        {
            value
            for value in (0, 1, -1, 100, -100, min_minor, min_minor + 1, max_minor - 1, max_minor)
            if min_minor <= value <= max_minor
        }
    )
    choices = [st.sampled_from(edges), st.integers(min_minor, max_minor)]
    low, high = max(min_minor, -_ORDINARY_MINOR), min(max_minor, _ORDINARY_MINOR)
    if low <= high:
        choices.append(st.integers(low, high))
    return st.one_of(choices)


def money(
    currency: str | None = None, *, min_minor: int = -MAX_MINOR, max_minor: int = MAX_MINOR
) -> st.SearchStrategy[Money]:
    """Money, with its edge cases: zero, negative, one minor unit, the 64-bit limits.

    Args:
        currency: The currency of every amount drawn; any of :func:`currencies` if None.
        min_minor: The smallest amount, in minor units (``-100`` is -1.00 CNY or -100 JPY).
        max_minor: The largest amount, in minor units.

    Returns:
        :class:`~custrec.model.Money` values.

    Raises:
        ValueError: ``min_minor`` is above ``max_minor`` or the bounds exceed
            ±:data:`MAX_MINOR`.
    """
    if not -MAX_MINOR <= min_minor <= max_minor <= MAX_MINOR:
        raise ValueError(
            f"need -MAX_MINOR <= min_minor <= max_minor <= MAX_MINOR, got {min_minor}, {max_minor}"
        )
    codes = currencies() if currency is None else st.just(currency)
    return st.builds(Money.from_minor, _minor_units(min_minor, max_minor), codes)


# --- Contact details --------------------------------------------------------------------------

_CN_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150",
    "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176",
    "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
    "191", "198", "199",
)  # fmt: skip

_CN_MOBILE_WRITINGS: tuple[Callable[[str], str], ...] = (
    lambda d: d,
    lambda d: f"{d[:3]} {d[3:7]} {d[7:]}",
    lambda d: f"{d[:3]}-{d[3:7]}-{d[7:]}",
    lambda d: f"+86 {d[:3]} {d[3:7]} {d[7:]}",
    lambda d: f"+86-{d[:3]}-{d[3:7]}-{d[7:]}",
    lambda d: f"+86{d}",
    lambda d: f"86{d}",
    lambda d: f"0086 {d}",
    lambda d: f"(+86) {d}",
    lambda d: f"{d[:3]}{_IDEOGRAPHIC_SPACE}{d[3:7]}{_IDEOGRAPHIC_SPACE}{d[7:]}",
)

_OTHER_NUMBERS: tuple[tuple[str, str], ...] = (
    # (number as written, region it was entered under)
    ("010-6552 9988", "CN"),
    ("(021) 6234 5678", "CN"),
    ("0755-8888 1234", "CN"),
    ("+1 (650) 253-0000", "CN"),
    ("(650) 253-0000", "US"),
    ("212-555-0123", "US"),
    ("+44 20 7946 0018", "CN"),
    ("020 7946 0018", "GB"),
    ("+44 7911 123456", "US"),
    ("+81 3-1234-5678", "JP"),
    ("+49 30 123456", "DE"),
)

_UNREADABLE_NUMBERS = (
    "12345",
    "138 1234",
    "000-0000",
    "1381234567890123",
    "+86 123",
    "call after 6pm",
    "无",
    "13812345678 转 8001",
    "+999 1234 5678",
)

_PHONE_LABELS = _optional(
    st.sampled_from(("mobile", "work", "home", "手机", "办公电话", "住宅电话", "微信同号"))
)

_CN_MOBILES = _mixed_width(
    st.builds(
        lambda prefix, rest, writing: writing(prefix + rest),
        st.sampled_from(_CN_MOBILE_PREFIXES),
        st.text(_DIGITS, min_size=8, max_size=8),
        st.sampled_from(_CN_MOBILE_WRITINGS),
    )
)


def phones() -> st.SearchStrategy[Phone]:
    """Phone numbers as people write them, with a label now and then.

    Mostly Chinese mobiles in many writings (``13812345678``, ``138 1234 5678``,
    ``+86-138-1234-5678``, ``８６１３８１２３４５６７８``, full-width spaces), some
    Chinese landlines and foreign numbers (US, GB, JP, DE), and some unreadable ones,
    which custrec keeps with ``valid=False``. Every phone names its region, so the result
    does not depend on the configured default. None is marked primary.

    Returns:
        :class:`~custrec.model.Phone` values.
    """
    raw_and_region = st.one_of(
        st.tuples(_CN_MOBILES, st.just("CN")),
        st.tuples(_CN_MOBILES, st.just("CN")),
        st.sampled_from(_OTHER_NUMBERS),
        st.tuples(_width_variants(_UNREADABLE_NUMBERS), st.sampled_from(("CN", "US"))),
    )
    return st.builds(
        lambda pair, label: Phone(pair[0], label=label, region=pair[1]),
        raw_and_region,
        _PHONE_LABELS,
    )


_EMAIL_DOMAINS = (
    "qq.com", "163.com", "126.com", "gmail.com", "Example.COM", "outlook.com", "sina.com.cn",
    "abc-trading.cn", "公司.中国", "mail.例子.cn",
)  # fmt: skip
_ODD_EMAILS = ("zhangsan(at)qq.com", "li.si@", "@163.com", "wang wu@qq.com")
_EMAIL_LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"


def emails() -> st.SearchStrategy[Email]:
    """Email addresses: upper and lower case, full-width, padded, Chinese domains.

    A few do not look like addresses at all (``zhangsan(at)qq.com``): custrec keeps them
    and its quality checks report them. None is marked primary.

    Returns:
        :class:`~custrec.model.Email` values.
    """
    local = st.text(st.sampled_from(_EMAIL_LOCAL_CHARS), min_size=1, max_size=16)
    address = st.one_of(
        st.builds(lambda user, domain: f"{user}@{domain}", local, st.sampled_from(_EMAIL_DOMAINS)),
        st.sampled_from(_ODD_EMAILS),
    )
    padded = st.builds(
        lambda before, text, after: before + text + after,
        st.sampled_from(("", " ")),
        _mixed_width(address),
        st.sampled_from(("", " ", _IDEOGRAPHIC_SPACE)),
    )
    return st.builds(
        Email, padded, label=_optional(st.sampled_from(("work", "personal", "工作", "私人")))
    )


def _open_choice(kind: type[E], others: Sequence[str]) -> st.SearchStrategy[E | Other]:
    """Members of ``kind`` mostly, now and then an :class:`Other` with free text."""
    members = st.sampled_from(list(kind))
    other = st.one_of(st.sampled_from(others), _SHORT_SOLID_TEXTS).map(Other)
    return st.one_of(members, members, other)


_HANDLE_TEXTS = ("wxid_8k2m9x", "zhang_san_88", "12345678", "@li.si", "小张", "+8613812345678")
_OTHER_NETWORKS = ("Signal", "Facebook Messenger", "KakaoTalk", "抖音", "小红书")


def handles() -> st.SearchStrategy[Handle]:
    """Messaging handles on WeChat, QQ, WhatsApp, LINE… and networks custrec does not list.

    Returns:
        :class:`~custrec.model.Handle` values, none marked primary.
    """
    return st.builds(
        Handle,
        _open_choice(HandleNetwork, _OTHER_NETWORKS),
        st.one_of(_width_variants(_HANDLE_TEXTS), _SHORT_SOLID_TEXTS),
        label=_optional(st.sampled_from(("personal", "work", "工作号"))),
    )


# (province, city, districts, first three digits of the postal code)
_CN_PLACES: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("北京市", "北京市", ("朝阳区", "海淀区", "东城区", "西城区", "丰台区"), "100"),
    ("上海市", "上海市", ("浦东新区", "徐汇区", "静安区", "黄浦区"), "200"),
    ("天津市", "天津市", ("和平区", "南开区"), "300"),
    ("重庆市", "重庆市", ("渝中区", "江北区"), "400"),
    ("广东省", "广州市", ("天河区", "越秀区", "海珠区", "番禺区"), "510"),
    ("广东省", "深圳市", ("南山区", "福田区", "宝安区"), "518"),
    ("浙江省", "杭州市", ("西湖区", "余杭区", "滨江区"), "310"),
    ("江苏省", "苏州市", ("姑苏区", "吴中区"), "215"),
    ("四川省", "成都市", ("武侯区", "锦江区", "双流区"), "610"),
    ("湖北省", "武汉市", ("武昌区", "洪山区"), "430"),
    ("新疆维吾尔自治区", "乌鲁木齐市", ("天山区", "沙依巴克区"), "830"),
    ("云南省", "大理白族自治州", ("大理市", "洱源县"), "671"),
    ("香港特别行政区", "香港", ("中西区", "油尖旺区"), None),
)
_CN_ROADS = ("建国路", "中山路", "人民路", "解放路", "天河路", "南京西路", "长安街", "文三路")
_CN_BUILDINGS = ("", "A座", "3号楼", "国贸大厦", "SOHO现代城B座", "2单元")
_CN_COUNTRIES = ("CN", "中国", "中华人民共和国")


_CN_PLACE_PICKS = st.sampled_from(_CN_PLACES)
_DISTRICT_PICKS = st.integers(0, 4)
_ROAD_PICKS = st.sampled_from(_CN_ROADS)
_HOUSE_NUMBERS = st.integers(1, 999)
_BUILDING_PICKS = st.sampled_from(_CN_BUILDINGS)
_ROOMS = st.one_of(st.none(), st.integers(101, 3208))
_POSTAL_SUFFIXES = _optional(st.text(_DIGITS, min_size=3, max_size=3))
_CN_COUNTRY_PICKS = _optional(st.sampled_from(_CN_COUNTRIES))
_ADDRESS_LABELS = _optional(st.sampled_from(("home", "work", "billing", "家庭", "公司")))


@st.composite
def _chinese_address(draw: st.DrawFn) -> Address:
    province, city, districts, postal_prefix = draw(_CN_PLACE_PICKS)
    district = districts[draw(_DISTRICT_PICKS) % len(districts)]
    street = f"{draw(_ROAD_PICKS)}{draw(_HOUSE_NUMBERS)}号{draw(_BUILDING_PICKS)}"
    room = draw(_ROOMS)
    if room is not None:
        street += f"{room}室"
    postal_suffix = draw(_POSTAL_SUFFIXES)
    has_postal_code = postal_prefix is not None and postal_suffix is not None
    return Address(
        country=draw(_CN_COUNTRY_PICKS),
        province=province,
        city=city,
        district=district,
        street=_widen(street, draw(_WIDTH_MODES), draw(_MASKS)),
        postal_code=f"{postal_prefix}{postal_suffix}" if has_postal_code else None,
        label=draw(_ADDRESS_LABELS),
    )


def chinese_addresses() -> st.SearchStrategy[Address]:
    """Chinese postal addresses: province, city, district, street, often a postal code.

    Drawn from real places (北京市/朝阳区, 广东省/广州市/天河区, 新疆维吾尔自治区…),
    streets in half-, full- and mixed-width writing (``建国路８８号Ａ座１２０３室``).

    Returns:
        :class:`~custrec.model.Address` values, none marked primary.
    """
    return _chinese_address()


_FOREIGN_ADDRESSES = (
    Address(
        country="US",
        province="CA",
        city="Mountain View",
        street="1600 Amphitheatre Pkwy",
        postal_code="94043",
    ),
    Address(country="GB", city="London", street="10 Downing Street", postal_code="SW1A 2AA"),
    Address(country="DE", city="Berlin", street="Müllerstraße 12", postal_code="13353"),
    Address(country="JP", province="東京都", city="千代田区", street="丸の内1-1-1"),
    Address(city="Singapore", street="1 Raffles Place\n#20-01"),
    Address(street="见客户备注"),
)


def addresses() -> st.SearchStrategy[Address]:
    """Postal addresses: mostly Chinese, some foreign, some with only a part filled in.

    Returns:
        :class:`~custrec.model.Address` values, none marked primary.
    """
    return st.one_of(
        chinese_addresses(),
        chinese_addresses(),
        st.sampled_from(_FOREIGN_ADDRESSES),
        st.builds(Address, city=_optional_text(("广州", "上海")), street=_optional_text()),
    )


# --- Time ---------------------------------------------------------------------------------------

_OFFSETS = (
    UTC,
    timezone(timedelta(hours=8)),
    timezone(timedelta(hours=9)),
    timezone(timedelta(hours=-5)),
    timezone(timedelta(hours=5, minutes=30)),
    timezone(timedelta(hours=5, minutes=45)),
    timezone(timedelta(hours=-3, minutes=-30)),
    timezone(timedelta(hours=14)),
    timezone(timedelta(hours=-12)),
)
_QUARTER_HOURS_IN_DAY = 24 * 4
_FIXED_OFFSETS: st.SearchStrategy[tzinfo] = st.one_of(
    st.sampled_from(_OFFSETS),
    st.integers(-_QUARTER_HOURS_IN_DAY + 1, _QUARTER_HOURS_IN_DAY - 1).map(
        lambda quarters: timezone(timedelta(minutes=15 * quarters))
    ),
)


def aware_datetimes(*, min_year: int = 1970, max_year: int = 2100) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes with fixed UTC offsets (+08:00, UTC, +05:45…).

    Args:
        min_year: The earliest year of the wall-clock time.
        max_year: The latest year of the wall-clock time.

    Returns:
        Aware datetimes, microseconds included.
    """
    return st.datetimes(
        min_value=datetime(min_year, 1, 1),
        max_value=datetime(max_year, 12, 31, 23, 59, 59, 999_999),
        timezones=_FIXED_OFFSETS,
    ).map(lambda moment: moment.replace(fold=0))  # fold means nothing at a fixed offset


def _dates(min_year: int = 1900, max_year: int = 2100) -> st.SearchStrategy[date]:
    return st.dates(min_value=date(min_year, 1, 1), max_value=date(max_year, 12, 31))


# --- Customer -----------------------------------------------------------------------------------

_CUSTOM_KEYS = ("会员等级", "vip_level", "颜色偏好", "_internal", "积分", "shoe_size", "婚否")


def _custom_keys() -> st.SearchStrategy[str]:
    made = st.builds(
        lambda head, tail: head + tail,
        st.one_of(st.characters(categories=["L"]), st.just("_")),
        st.text(st.one_of(st.characters(categories=["L", "Nd"]), st.just("_")), max_size=20),
    )
    return st.one_of(st.sampled_from(_CUSTOM_KEYS), made)


def _custom_values() -> st.SearchStrategy[CustomValue]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        texts(max_size=20),
        st.lists(texts(max_size=10), max_size=4).map(tuple),
    )


def custom_fields() -> st.SearchStrategy[dict[str, CustomValue]]:
    """Custom field values as a template defines them: key to JSON scalar or list of texts.

    Keys match :data:`custrec.model.CUSTOM_KEY_PATTERN`, Chinese ones included (``会员等级``);
    numbers are finite.

    Returns:
        Dicts for :attr:`Customer.custom <custrec.model.Customer.custom>`.
    """
    return st.dictionaries(_custom_keys(), _custom_values(), max_size=4)


def consents() -> st.SearchStrategy[Consent]:
    """Consent events: a purpose granted or withdrawn, when, from where.

    Returns:
        :class:`~custrec.model.Consent` values.
    """
    return st.builds(
        Consent,
        _open_choice(ConsentPurpose, ("newsletter", "问卷调查")),
        st.booleans(),
        aware_datetimes(),
        source=_optional_text(("web form", "门店登记", "微信小程序", "phone call")),
        evidence=_optional_text(("form-2024-0001", "录音 #1234")),
    )


_PRIMARY_PICKS = st.integers(0, 4)  # 0: none is primary; n: the n-th entry, if there is one


def _one_primary(draw: st.DrawFn, items: list[_Primary]) -> list[_Primary]:
    """Mark at most one of ``items`` primary, as a customer's contact lists require."""
    chosen = draw(_PRIMARY_PICKS) - 1
    if not 0 <= chosen < len(items):
        return items
    return [
        attrs.evolve(item, primary=True) if i == chosen else item for i, item in enumerate(items)
    ]


_PERSON_NAMES = st.one_of(chinese_names(), latin_names())
_KINDS = _open_choice(CustomerKind, ("government", "个体工商户", "NGO"))
_GENDERS = _optional(_open_choice(Gender, ("non-binary", "未说明", "保密")))
_BIRTH_DATES = _optional(_dates(max_year=2024))
_COMPANIES = _optional(company_names())
_OCCUPATIONS = _optional_text(("教师", "工程师", "医生", "自由职业", "student", "个体户"))
_JOB_TITLES = _optional_text(("采购经理", "总经理", "CEO", "Head of Procurement"))
_INDUSTRIES = _optional_text(("零售", "制造业", "IT", "hospitality", "咨询", "餐饮"))
_INTERESTS = st.lists(
    st.one_of(_width_variants(("茶", "高尔夫", "旅游", "reading", "摄影")), _SHORT_SOLID_TEXTS),
    max_size=4,
)
_FAMILIES = _optional_text(("已婚，两个孩子", "single", "与父母同住"))
_SPECIAL_NEEDS = st.lists(
    _width_variants(("花生过敏", "素食", "wheelchair access", "无障碍客房", "不吃辣")), max_size=3
)
_TAGS = st.frozensets(
    st.one_of(st.sampled_from(("VIP", "老客户", "大客户", "wholesale")), _SHORT_SOLID_TEXTS),
    max_size=4,
)
_EXTERNAL_IDS = st.dictionaries(
    st.sampled_from(("erp", "有赞", "shopify", "SAP")), ids(), max_size=2
)
_SOURCES = _optional_text(("门店", "微信公众号", "朋友介绍", "trade fair", "website"))
_RECORD_AGES = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650))
_IDS = ids()
_MOMENTS = aware_datetimes()
_CREATION_MOMENTS = aware_datetimes(max_year=2090)
_PERSON_NAME_PICKS = _optional(_PERSON_NAMES)
_PHONE_LISTS = st.lists(phones(), max_size=3)
_EMAIL_LISTS = st.lists(emails(), max_size=3)
_HANDLE_LISTS = st.lists(handles(), max_size=2)
_ADDRESS_LISTS = st.lists(addresses(), max_size=2)
_NOTES = _optional(texts(max_size=200))
_CUSTOM_FIELDS = custom_fields()
_CONSENT_LISTS = st.lists(consents(), max_size=3)
_REVIEW_MOMENTS = _optional(_MOMENTS)
_CUSTOMER_VERSIONS = st.integers(1, 10**6)


@st.composite
def _customer(draw: st.DrawFn) -> Customer:
    kind = draw(_KINDS)
    person = kind is CustomerKind.PERSON
    company = draw(_COMPANIES)
    created_at = draw(_CREATION_MOMENTS)
    return Customer(
        id=draw(_IDS),
        name=draw(_PERSON_NAME_PICKS) if person else company,
        kind=kind,
        gender=draw(_GENDERS) if person else None,
        birth_date=draw(_BIRTH_DATES) if person else None,
        occupation=draw(_OCCUPATIONS),
        job_title=draw(_JOB_TITLES),
        company=company,
        industry=draw(_INDUSTRIES),
        phones=_one_primary(draw, draw(_PHONE_LISTS)),
        emails=_one_primary(draw, draw(_EMAIL_LISTS)),
        handles=_one_primary(draw, draw(_HANDLE_LISTS)),
        addresses=_one_primary(draw, draw(_ADDRESS_LISTS)),
        interests=draw(_INTERESTS),
        family=draw(_FAMILIES),
        special_needs=draw(_SPECIAL_NEEDS),
        notes=draw(_NOTES),
        tags=draw(_TAGS),
        custom=draw(_CUSTOM_FIELDS),
        external_ids=draw(_EXTERNAL_IDS),
        consents=draw(_CONSENT_LISTS),
        source=draw(_SOURCES),
        owner=draw(_PERSON_NAME_PICKS),
        created_at=created_at,
        updated_at=created_at + draw(_RECORD_AGES),
        reviewed_at=draw(_REVIEW_MOMENTS),
        version=draw(_CUSTOMER_VERSIONS),
    )


def customers() -> st.SearchStrategy[Customer]:
    """Customer profiles, persons and organisations, sparse and full.

    Contact lists have at most one entry marked primary; ``updated_at`` is never before
    ``created_at``.

    Returns:
        :class:`~custrec.model.Customer` records.
    """
    return _customer()


# --- History ------------------------------------------------------------------------------------

# Bounds that keep a transaction's sums within the 64-bit limit of minor units:
# 10 items of 10**12 minor units times 10**4 stay below 2**63.
_ITEM_PRICE_MINOR = 10**12
_MAX_ITEMS = 10
_PRODUCT_NAMES = (
    "拿铁咖啡",
    "ABC牌 洗发水 500ml",
    "iPhone 15 Pro 256GB",
    "Consulting hours",
    "客房 - 豪华大床房",
    "会员年费",
    "龙井茶 250g",
)
_QUANTITIES = st.one_of(
    st.integers(1, 20).map(Decimal),
    st.sampled_from((Decimal(0), Decimal(-1), Decimal("0.5"), Decimal("1.25"))),
    st.decimals(min_value=-100, max_value=10_000, places=3),
)
_PRODUCT_IDS = _optional(st.one_of(st.sampled_from(("SKU-0001", "P-17")), ids()))


def line_items(currency: str | None = None) -> st.SearchStrategy[LineItem]:
    """Line items: a product, a quantity (fractional, zero or negative now and then), a price.

    Prices stay within ±10¹² minor units and quantities within ±10⁴, so that any ten items
    sum to an amount custrec can store.

    Args:
        currency: The currency of the unit price; any of :func:`currencies` if None.

    Returns:
        :class:`~custrec.model.LineItem` values.
    """
    return st.builds(
        LineItem,
        st.one_of(_width_variants(_PRODUCT_NAMES), _SHORT_SOLID_TEXTS),
        money(currency, min_minor=-_ITEM_PRICE_MINOR, max_minor=_ITEM_PRICE_MINOR),
        _QUANTITIES,
        product_id=_PRODUCT_IDS,
    )


def after_sales_events(currency: str | None = None) -> st.SearchStrategy[AfterSalesEvent]:
    """After-sales events (售后): repairs, returns, exchanges, refunds, and others.

    Args:
        currency: The currency of a refunded amount; any of :func:`currencies` if None.

    Returns:
        :class:`~custrec.model.AfterSalesEvent` values.
    """
    return st.builds(
        AfterSalesEvent,
        _open_choice(AfterSalesKind, ("补发", "price adjustment")),
        aware_datetimes(),
        _optional(money(currency, min_minor=-_ITEM_PRICE_MINOR, max_minor=_ITEM_PRICE_MINOR)),
        _optional_text(("屏幕碎裂，已换新", "customer changed mind", "七天无理由退货")),
        id=ids(),
    )


def _customer_ids(customer_id: str | None) -> st.SearchStrategy[str]:
    return ids() if customer_id is None else st.just(customer_id)


class _InCurrency(NamedTuple):
    """The parts of a transaction that depend on its currency."""

    items: st.SearchStrategy[list[LineItem]]
    total: st.SearchStrategy[Money]
    after_sales: st.SearchStrategy[list[AfterSalesEvent]]


@functools.cache
def _in_currency(currency: str) -> _InCurrency:
    """Build the currency-bound strategies once per currency, not once per draw."""
    return _InCurrency(
        items=st.lists(line_items(currency), max_size=_MAX_ITEMS),
        total=money(currency),
        after_sales=st.lists(after_sales_events(currency), max_size=3),
    )


_PAYMENT_METHODS = _optional(_open_choice(PaymentMethod, ("store credit", "礼品卡")))
_SALES_CHANNELS = _optional(_open_choice(SalesChannel, ("展会", "vending machine")))
_STATUSES = _open_choice(TransactionStatus, ("部分退款", "on hold"))
_TRANSACTION_NOTES = _optional_text(("开具增值税专用发票", "gift wrap"))
_VERSIONS = st.integers(1, 1000)
_TOTAL_GIVEN = st.booleans()


@st.composite
def _transaction(
    draw: st.DrawFn, customer_ids: st.SearchStrategy[str], currency: str | None
) -> Transaction:
    parts = _in_currency(draw(_CURRENCY_PICKS) if currency is None else currency)
    items = draw(parts.items)
    # Without items a total is required; with them it is either summed or given.
    total = draw(parts.total) if not items or draw(_TOTAL_GIVEN) else None
    return Transaction(
        draw(customer_ids),
        draw(_MOMENTS),
        items,
        total,
        id=draw(_IDS),
        payment_method=draw(_PAYMENT_METHODS),
        channel=draw(_SALES_CHANNELS),
        status=draw(_STATUSES),
        after_sales=draw(parts.after_sales),
        note=draw(_TRANSACTION_NOTES),
        version=draw(_VERSIONS),
    )


def transactions(
    customer_id: str | None = None, currency: str | None = None
) -> st.SearchStrategy[Transaction]:
    """Transactions: with or without line items, a summed or a given total, after-sales.

    Args:
        customer_id: The customer every transaction belongs to; drawn by :func:`ids` if None.
        currency: The currency of every amount in a transaction; drawn per transaction from
            :func:`currencies` if None.

    Returns:
        :class:`~custrec.model.Transaction` records.
    """
    return _transaction(_customer_ids(customer_id), currency)


def interactions(customer_id: str | None = None) -> st.SearchStrategy[Interaction]:
    """Interactions: calls, messages and visits, over every channel and a few others.

    Args:
        customer_id: The customer every interaction was with; drawn by :func:`ids` if None.

    Returns:
        :class:`~custrec.model.Interaction` records.
    """
    return st.builds(
        Interaction,
        _customer_ids(customer_id),
        aware_datetimes(),
        _open_choice(Channel, ("Telegram", "钉钉", "letter")),
        id=ids(),
        direction=_optional(_open_choice(Direction, ("internal",))),
        subject=_optional_text(("回访", "投诉：送货延迟", "quote follow-up")),
        content=_optional(texts(max_size=200)),
        outcome=_optional(_open_choice(Outcome, ("客户再考虑", "voicemail left"))),
        handled_by=_optional(_PERSON_NAMES),
        next_follow_up=_optional(_dates(min_year=1970)),
        version=st.integers(1, 1000),
    )


def _make_feedback(
    *,
    customer_id: str,
    at: datetime,
    said: tuple[int | None, int | None, str | None],
    topic: FeedbackTopic | Other | None,
    about_id: str | None,
    feedback_id: str,
    version: int,
) -> Feedback:
    rating, nps, text = said
    return Feedback(
        customer_id,
        at,
        rating=rating,
        nps=nps,
        text=text,
        topic=topic,
        about_id=about_id,
        id=feedback_id,
        version=version,
    )


_RATINGS = st.integers(1, 5)
_NPS_ANSWERS = st.integers(0, 10)
_FEEDBACK_TEXTS = st.one_of(
    _width_variants(("服务很好", "送货太慢了", "Great coffee!", "一般般", "会推荐给朋友")),
    texts(max_size=100, blank=False),
)
# Feedback says something: a rating, an NPS answer or text, or any mix of them.
_SAID = st.one_of(
    st.tuples(_RATINGS, _optional(_NPS_ANSWERS), _optional(_FEEDBACK_TEXTS)),
    st.tuples(_optional(_RATINGS), _NPS_ANSWERS, _optional(_FEEDBACK_TEXTS)),
    st.tuples(_optional(_RATINGS), _optional(_NPS_ANSWERS), _FEEDBACK_TEXTS),
)


def feedback(customer_id: str | None = None) -> st.SearchStrategy[Feedback]:
    """Feedback: a star rating, an NPS answer, text, or any mix of them.

    Args:
        customer_id: The customer who gave it; drawn by :func:`ids` if None.

    Returns:
        :class:`~custrec.model.Feedback` records.
    """
    return st.builds(
        _make_feedback,
        customer_id=_customer_ids(customer_id),
        at=aware_datetimes(),
        said=_SAID,
        topic=_optional(_open_choice(FeedbackTopic, ("delivery", "环境"))),
        about_id=_optional(ids()),
        feedback_id=ids(),
        version=_VERSIONS,
    )


def records() -> st.SearchStrategy[Record]:
    """Any record a store keeps: a customer, an interaction, a transaction or feedback.

    Returns:
        Records of all four types.
    """
    return st.one_of(customers(), interactions(), transactions(), feedback())
