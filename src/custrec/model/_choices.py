"""Enumerations of the domain, each open to values it does not list.

Real data always holds more values than an enum: a channel called "Telegram", a payment by
"store credit". Every enumerated field therefore takes either a member of its enum or an
:class:`Other` holding free text. Text input is matched against the members' values and
their common English and Chinese names (``"微信"`` is :attr:`Channel.WECHAT`); text that
matches nothing becomes ``Other(text)``. Serialised, both are plain strings.
"""

from __future__ import annotations

import enum
import unicodedata
from typing import TypeVar

import attrs

from custrec.errors import ValidationError
from custrec.model._fields import Invalid, has_control, invalid

__all__ = [
    "AfterSalesKind",
    "Channel",
    "ConsentPurpose",
    "CustomerKind",
    "Direction",
    "FeedbackTopic",
    "Gender",
    "HandleNetwork",
    "Other",
    "Outcome",
    "PaymentMethod",
    "SalesChannel",
    "TransactionStatus",
    "open_choice",
]


@attrs.frozen
class Other:
    """A value outside an enumeration, kept as the free text it was given as.

    Attributes:
        text: The value, non-blank.
    """

    text: str = attrs.field()

    @text.validator
    def _check(self, attribute: attrs.Attribute[str], value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("text", value, "an 'other' value needs non-blank text")
        if has_control(value):
            raise ValidationError("text", value, "contains control characters")

    def __str__(self) -> str:
        return self.text


class CustomerKind(enum.StrEnum):
    """Whether a customer is a person or an organisation."""

    PERSON = "person"
    ORGANISATION = "organisation"


class Gender(enum.StrEnum):
    """A person's gender as recorded; anything else is kept as :class:`Other`."""

    FEMALE = "female"
    MALE = "male"


class Channel(enum.StrEnum):
    """How an interaction took place."""

    PHONE = "phone"
    EMAIL = "email"
    WECHAT = "wechat"
    SMS = "sms"
    SOCIAL = "social"
    IN_PERSON = "in_person"
    CHAT = "chat"


class Direction(enum.StrEnum):
    """Who started an interaction."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Outcome(enum.StrEnum):
    """How an interaction ended."""

    RESOLVED = "resolved"
    PENDING = "pending"
    NO_ANSWER = "no_answer"
    FOLLOW_UP = "follow_up"
    ESCALATED = "escalated"
    DECLINED = "declined"


class PaymentMethod(enum.StrEnum):
    """How a transaction was paid."""

    CASH = "cash"
    CARD = "card"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    BANK_TRANSFER = "bank_transfer"
    INVOICE = "invoice"


class SalesChannel(enum.StrEnum):
    """Where a transaction was made."""

    IN_STORE = "in_store"
    ONLINE = "online"
    PHONE = "phone"
    WECHAT = "wechat"
    MARKETPLACE = "marketplace"


class TransactionStatus(enum.StrEnum):
    """Where a transaction stands."""

    PENDING = "pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class AfterSalesKind(enum.StrEnum):
    """What happened after a sale (售后)."""

    REPAIR = "repair"
    RETURN = "return"
    EXCHANGE = "exchange"
    REFUND = "refund"


class FeedbackTopic(enum.StrEnum):
    """What a piece of feedback is about."""

    PRODUCT = "product"
    TRANSACTION = "transaction"
    INTERACTION = "interaction"
    SERVICE = "service"


class HandleNetwork(enum.StrEnum):
    """A messaging network on which a customer has a handle."""

    WECHAT = "wechat"
    QQ = "qq"
    WHATSAPP = "whatsapp"
    LINE = "line"
    TELEGRAM = "telegram"
    WEIBO = "weibo"
    DINGTALK = "dingtalk"


class ConsentPurpose(enum.StrEnum):
    """What a customer may (or may not) be contacted or processed for."""

    MARKETING_EMAIL = "marketing_email"
    MARKETING_SMS = "marketing_sms"
    MARKETING_PHONE = "marketing_phone"
    MARKETING_WECHAT = "marketing_wechat"
    PROFILING = "profiling"
    THIRD_PARTY_SHARING = "third_party_sharing"


# Names people write for the members, beyond their values. Keys are compared after
# NFKC folding, lower-casing and turning spaces and hyphens into underscores.
_ALIASES: dict[type[enum.StrEnum], dict[str, str]] = {
    CustomerKind: {
        "individual": "person",
        "个人": "person",
        "organization": "organisation",
        "company": "organisation",
        "business": "organisation",
        "企业": "organisation",
        "公司": "organisation",
        "单位": "organisation",
    },
    Gender: {"f": "female", "woman": "female", "女": "female", "m": "male", "man": "male"}
    | {"男": "male"},
    Channel: {
        "telephone": "phone",
        "call": "phone",
        "电话": "phone",
        "邮件": "email",
        "电子邮件": "email",
        "e_mail": "email",
        "微信": "wechat",
        "短信": "sms",
        "text": "sms",
        "社交媒体": "social",
        "面谈": "in_person",
        "当面": "in_person",
        "到店": "in_person",
        "拜访": "in_person",
        "visit": "in_person",
        "在线客服": "chat",
        "live_chat": "chat",
    },
    Direction: {
        "in": "inbound",
        "呼入": "inbound",
        "来电": "inbound",
        "out": "outbound",
        "呼出": "outbound",
        "去电": "outbound",
    },
    Outcome: {
        "已解决": "resolved",
        "done": "resolved",
        "待处理": "pending",
        "open": "pending",
        "未接通": "no_answer",
        "无人接听": "no_answer",
        "需跟进": "follow_up",
        "待跟进": "follow_up",
        "已升级": "escalated",
        "拒绝": "declined",
    },
    PaymentMethod: {
        "现金": "cash",
        "credit_card": "card",
        "debit_card": "card",
        "刷卡": "card",
        "银行卡": "card",
        "信用卡": "card",
        "支付宝": "alipay",
        "微信支付": "wechat_pay",
        "wechatpay": "wechat_pay",
        "银行转账": "bank_transfer",
        "转账": "bank_transfer",
        "对公转账": "bank_transfer",
        "wire": "bank_transfer",
        "发票": "invoice",
    },
    SalesChannel: {
        "store": "in_store",
        "门店": "in_store",
        "线下": "in_store",
        "线上": "online",
        "网店": "online",
        "电话": "phone",
        "微信": "wechat",
        "电商平台": "marketplace",
    },
    TransactionStatus: {
        "待付款": "pending",
        "已完成": "completed",
        "完成": "completed",
        "done": "completed",
        "已取消": "cancelled",
        "canceled": "cancelled",
        "已退款": "refunded",
    },
    AfterSalesKind: {"维修": "repair", "退货": "return", "换货": "exchange", "退款": "refund"},
    FeedbackTopic: {"产品": "product", "交易": "transaction", "服务": "service"},
    HandleNetwork: {"微信": "wechat", "微博": "weibo", "钉钉": "dingtalk", "weixin": "wechat"},
    ConsentPurpose: {},
}

E = TypeVar("E", bound=enum.StrEnum)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "_").replace("-", "_")


def open_choice(kind: type[E], value: E | Other | str) -> E | Other:
    """Read ``value`` as a member of ``kind``, or as :class:`Other` free text.

    Args:
        kind: The enumeration.
        value: A member, an :class:`Other`, or text (a value or a known alias).

    Returns:
        The member when the text names one, else ``Other(text)`` (the text as given).

    Raises:
        ValidationError: ``value`` is neither text, a member nor an ``Other``, or is blank.
    """
    if isinstance(value, kind):
        return value
    if isinstance(value, Other):
        text = value.text
    elif isinstance(value, str):
        text = value
    else:
        raise ValidationError("", value, f"expected a {kind.__name__} or text")
    folded = _fold(text)
    if not folded:
        raise ValidationError("", value, f"a {kind.__name__} cannot be blank")
    name = _ALIASES[kind].get(folded, folded)
    try:
        return kind(name)
    except ValueError:
        return value if isinstance(value, Other) else Other(text)


def to_choice(kind: type[E], value: E | Other | str) -> E | Other | Invalid:
    """Converter form of :func:`open_choice`: problems go to the field's validator."""
    try:
        return open_choice(kind, value)
    except ValidationError as exc:
        return invalid(value, exc.reason)


def to_opt_choice(kind: type[E], value: E | Other | str | None) -> E | Other | Invalid | None:
    """Like :func:`to_choice`, allowing ``None`` (and blank text, read as ``None``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return to_choice(kind, value)
