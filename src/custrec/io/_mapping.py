"""Column mapping: which record field each spreadsheet column fills.

Headers are matched after folding (NFKC, lower case, spaces, ``_``, ``-`` and a bracketed
note such as ``(必填)`` removed), against built-in English and Chinese synonyms, then the
template's custom fields (key or any label), then the caller's overrides, which win.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

import attrs

from custrec.errors import ValidationError
from custrec.model import CUSTOM_KEY_PATTERN, FrozenMap
from custrec.template import Template

__all__ = [
    "CUSTOMER_TARGETS",
    "FEEDBACK_TARGETS",
    "INTERACTION_TARGETS",
    "TRANSACTION_TARGETS",
    "ColumnMapping",
    "ResolvedColumns",
    "fold_header",
]

CUSTOMER_TARGETS: Mapping[str, tuple[str, ...]] = {
    "id": ("id", "customer id", "customer no", "客户编号", "客户id", "客户代码", "编号", "客户号"),
    "external_id": ("external id", "外部编号", "外部id"),
    "name": ("name", "full name", "customer name", "姓名", "客户名称", "名称", "客户姓名"),
    "kind": ("kind", "customer kind", "客户类型", "客户类别", "类型"),
    "gender": ("gender", "sex", "性别"),
    "birth_date": ("birth date", "birthday", "date of birth", "dob", "生日", "出生日期"),
    "age": ("age", "年龄"),
    "occupation": ("occupation", "profession", "职业"),
    "job_title": ("job title", "title", "position", "职位", "职务", "岗位"),
    "company": ("company", "company name", "organization", "organisation", "公司名称", "公司"),
    "industry": ("industry", "sector", "行业", "所属行业"),
    "phones": (
        "phone",
        "phones",
        "mobile",
        "telephone",
        "tel",
        "phone number",
        "手机号码",
        "手机",
        "电话",
        "联系方式",
        "联系电话",
        "手机号",
        "电话号码",
    ),
    "emails": (
        "email",
        "emails",
        "e-mail",
        "mail",
        "email address",
        "电子邮件",
        "邮箱",
        "电子邮箱",
    ),
    "handles": ("handles", "messaging", "社交账号"),
    "external_ids": ("external ids", "外部编号列表"),
    "wechat": ("wechat", "weixin", "微信", "微信号"),
    "qq": ("qq", "qq号"),
    "address": ("address", "地址", "联系地址", "通讯地址", "住址"),
    "country": ("country", "国家"),
    "province": ("province", "state", "region", "省份", "省", "所在省份"),
    "city": ("city", "城市", "市", "所在城市"),
    "district": ("district", "county", "区县", "区", "县"),
    "street": ("street", "street address", "街道地址", "详细地址", "街道"),
    "postal_code": ("postal code", "postcode", "zip", "zip code", "邮编", "邮政编码"),
    "interests": ("interests", "preferences", "兴趣爱好", "爱好", "兴趣", "偏好"),
    "family": ("family", "家庭情况", "家庭"),
    "special_needs": ("special needs", "特殊需求", "特殊要求"),
    "notes": ("notes", "note", "remarks", "comment", "comments", "备注", "说明"),
    "tags": ("tags", "labels", "标签"),
    "source": ("source", "来源", "客户来源"),
    "owner": ("owner", "account manager", "负责人", "客户经理", "跟进人"),
    "created_at": ("created at", "created", "创建时间", "建档日期", "录入时间"),
    "updated_at": ("updated at", "updated", "更新时间", "修改时间"),
    "reviewed_at": ("reviewed at", "reviewed", "复核时间", "审核时间"),
}
"""Customer fields a column can fill, with the headers that mean each by default."""

_HISTORY_COMMON: Mapping[str, tuple[str, ...]] = {
    "id": ("id", "编号", "记录编号"),
    "customer_id": ("customer id", "customer", "客户编号", "客户id", "客户代码", "客户号"),
    "at": ("at", "date", "time", "datetime", "日期", "时间", "日期时间"),
}
INTERACTION_TARGETS: Mapping[str, tuple[str, ...]] = {
    **_HISTORY_COMMON,
    "channel": ("channel", "渠道", "沟通方式", "方式"),
    "direction": ("direction", "方向"),
    "subject": ("subject", "topic", "主题"),
    "content": ("content", "details", "内容", "沟通内容"),
    "outcome": ("outcome", "result", "结果", "沟通结果"),
    "handled_by": ("handled by", "agent", "处理人", "经办人"),
    "next_follow_up": ("next follow up", "follow up", "下次跟进", "下次回访日期"),
}
"""Interaction fields a column can fill, with their default headers."""

TRANSACTION_TARGETS: Mapping[str, tuple[str, ...]] = {
    **_HISTORY_COMMON,
    "product": ("product", "item", "product name", "商品", "产品", "商品名称", "产品名称"),
    "product_id": ("product id", "sku", "商品编号", "产品编号"),
    "quantity": ("quantity", "qty", "数量"),
    "unit_price": ("unit price", "price", "单价"),
    "total": ("total", "amount", "金额", "总额", "合计", "订单金额"),
    "currency": ("currency", "币种", "货币"),
    "payment_method": ("payment method", "payment", "支付方式", "付款方式"),
    "channel": ("channel", "sales channel", "渠道", "销售渠道"),
    "status": ("status", "状态", "订单状态"),
    "note": ("note", "notes", "备注"),
}
"""Transaction fields a column can fill (one line item per row), with their default headers."""

FEEDBACK_TARGETS: Mapping[str, tuple[str, ...]] = {
    **_HISTORY_COMMON,
    "rating": ("rating", "stars", "评分", "星级", "满意度"),
    "nps": ("nps", "推荐值", "推荐意愿"),
    "text": ("text", "comment", "feedback", "评价", "反馈", "评价内容", "反馈内容"),
    "topic": ("topic", "about", "评价对象", "类别"),
    "about_id": ("about id", "关联编号"),
}
"""Feedback fields a column can fill, with their default headers."""

_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_SEPARATORS = re.compile(r"[\s_\-:：*]+")


def fold_header(header: str) -> str:
    """Return the form of a header that synonyms are compared in.

    ``" 手机号码（必填）"``, ``"Phone_Number"`` and ``"ＰＨＯＮＥ number"`` fold to
    ``"手机号码"``, ``"phonenumber"`` and ``"phonenumber"``.

    Args:
        header: The header as written.

    Returns:
        The folded header.
    """
    text = unicodedata.normalize("NFKC", header).strip().lower()
    text = _BRACKETED.sub("", text) or text
    return _SEPARATORS.sub("", text)


def _synonym_table(targets: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    table: dict[str, str] = {}
    for target, headers in targets.items():
        table[fold_header(target)] = target
        for header in headers:
            table.setdefault(fold_header(header), target)
    return table


@attrs.frozen
class ResolvedColumns:
    """What each column of one file fills.

    Attributes:
        headers: The headers as written.
        targets: Per column, the field it fills (``"phones"``, ``"custom.积分"``,
            ``"external_id.crm"``), or ``None`` when the column is not imported.
        unmapped: Headers no synonym, template field or override matched (not imported,
            unless the mapping keeps them as custom fields, in which case they are listed
            here too and their target is ``custom.<key>``).
    """

    headers: tuple[str, ...]
    targets: tuple[str | None, ...]
    unmapped: tuple[str, ...]


def _custom_key(header: str) -> str:
    key = re.sub(r"\W+", "_", unicodedata.normalize("NFKC", header).strip()).strip("_")[:64]
    if not key:
        return "column"
    return key if CUSTOM_KEY_PATTERN.fullmatch(key) else f"_{key}"[:64]


@attrs.frozen
class ColumnMapping:
    """How headers map to fields: the built-in synonyms, the template, and overrides.

    Attributes:
        overrides: Header (as written, or folded) to target field; ``None`` drops a column.
            Targets are the keys of :data:`CUSTOMER_TARGETS` (or the history tables),
            ``custom.<key>`` or ``external_id.<system>``.
        keep_unmapped: Keep columns nothing matched as custom fields (``custom.<header>``).
        synonyms: Whether to use the built-in English and Chinese synonyms.
    """

    overrides: FrozenMap[str, str | None] = attrs.field(factory=FrozenMap, converter=FrozenMap)
    keep_unmapped: bool = False
    synonyms: bool = True

    def resolve(
        self,
        headers: Sequence[str],
        *,
        targets: Mapping[str, tuple[str, ...]] = CUSTOMER_TARGETS,
        template: Template | None = None,
    ) -> ResolvedColumns:
        """Decide what each column fills.

        Args:
            headers: The header row, as written.
            targets: The record type's fields and their synonyms (default: customers).
            template: Custom fields are matched by key and by every label.

        Returns:
            The resolved columns.

        Raises:
            ValidationError: An override names a field that does not exist, or two columns
                would fill the same single-valued field.
        """
        table = _synonym_table(targets) if self.synonyms else {t: t for t in targets}
        customs: dict[str, str] = {}
        if template is not None and targets is CUSTOMER_TARGETS:
            for field in template.custom_fields:
                for name in (field.key, *field.labels.values()):
                    customs.setdefault(fold_header(name), f"custom.{field.key}")
        overrides = {fold_header(k): v for k, v in self.overrides.items()}
        for target in overrides.values():
            if target is not None:
                _check_target(target, targets)
        resolved: list[str | None] = []
        unmapped: list[str] = []
        for header in headers:
            folded = fold_header(header)
            if header in self.overrides:
                resolved.append(self.overrides[header])
            elif folded in overrides:
                resolved.append(overrides[folded])
            elif folded in customs:
                resolved.append(customs[folded])
            elif folded in table:
                resolved.append(table[folded])
            elif folded.startswith("custom.") and targets is CUSTOMER_TARGETS:
                resolved.append(f"custom.{header.strip()[7:]}")
            else:
                unmapped.append(header)
                keep = self.keep_unmapped and targets is CUSTOMER_TARGETS and header.strip()
                resolved.append(f"custom.{_custom_key(header)}" if keep else None)
        _check_unique(headers, resolved)
        return ResolvedColumns(tuple(headers), tuple(resolved), tuple(unmapped))


_MULTI = frozenset(
    {"phones", "emails", "handles", "wechat", "qq", "tags", "interests", "special_needs", "notes"}
)


def _check_target(target: str, targets: Mapping[str, tuple[str, ...]]) -> None:
    head, dot, rest = target.partition(".")
    if target in targets or (dot and rest and head in ("custom", "external_id")):
        return
    raise ValidationError(
        "mapping", target, f"not a field to import into; one of {', '.join(targets)}"
    )


def _check_unique(headers: Iterable[str], resolved: Sequence[str | None]) -> None:
    seen: dict[str, str] = {}
    for header, target in zip(headers, resolved, strict=True):
        if target is None or target in _MULTI:
            continue
        if target in seen:
            raise ValidationError(
                "mapping",
                header,
                f"columns {seen[target]!r} and {header!r} both fill {target}; "
                "map one of them elsewhere (or to None) with overrides",
            )
        seen[target] = header
