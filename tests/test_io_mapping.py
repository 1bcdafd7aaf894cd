"""Column mapping: built-in English and Chinese synonyms, template fields, overrides."""

from __future__ import annotations

import pytest

from custrec.errors import ValidationError
from custrec.io import (
    CUSTOMER_COLUMNS,
    CUSTOMER_TARGETS,
    FEEDBACK_TARGETS,
    INTERACTION_TARGETS,
    TRANSACTION_TARGETS,
    ColumnMapping,
    column_label,
    fold_header,
)
from custrec.model import Feedback, Interaction, Transaction
from custrec.template import Template


class TestSynonyms:
    @pytest.mark.parametrize(
        ("header", "target"),
        [
            ("客户编号", "id"),
            ("客户ID", "id"),
            ("编号", "id"),
            ("姓名", "name"),
            ("客户名称", "name"),
            ("名称", "name"),
            ("公司名称", "company"),
            ("公司", "company"),
            ("职位", "job_title"),
            ("电子邮件", "emails"),
            ("邮箱", "emails"),
            ("手机号码", "phones"),
            ("手机", "phones"),
            ("电话", "phones"),
            ("联系方式", "phones"),
            ("地址", "address"),
            ("备注", "notes"),
            ("性别", "gender"),
            ("年龄", "age"),
            ("生日", "birth_date"),
            ("出生日期", "birth_date"),
            ("职业", "occupation"),
            ("行业", "industry"),
            ("客户类型", "kind"),
            ("Job Title", "job_title"),
            ("E-mail", "emails"),
            ("phone_number", "phones"),
            (" 手机号码（必填） ", "phones"),
            ("ＰＨＯＮＥ", "phones"),
        ],
    )
    def test_header_maps_to_field(self, header: str, target: str) -> None:
        """Each header the issue names, in any width or with a note, finds its field."""
        resolved = ColumnMapping().resolve([header])
        assert resolved.targets == (target,)
        assert resolved.unmapped == ()

    def test_unknown_header_is_reported(self) -> None:
        """A header nothing matches is not imported and is listed as unmapped."""
        resolved = ColumnMapping().resolve(["姓名", "会员卡号"])
        assert resolved.targets == ("name", None)
        assert resolved.unmapped == ("会员卡号",)

    def test_unmapped_kept_as_custom_fields(self) -> None:
        """keep_unmapped turns an unknown column into a custom field named after it."""
        resolved = ColumnMapping(keep_unmapped=True).resolve(["姓名", "会员卡号", "Shoe size"])
        assert resolved.targets == ("name", "custom.会员卡号", "custom.Shoe_size")
        assert resolved.unmapped == ("会员卡号", "Shoe size")

    def test_fold_header(self) -> None:
        """Folding removes width, case, separators and bracketed notes."""
        assert fold_header(" 手机号码（必填）") == "手机号码"
        assert fold_header("Phone_Number") == "phonenumber"
        assert fold_header("ＰＨＯＮＥ number") == "phonenumber"


class TestTemplateAndOverrides:
    def test_template_custom_fields_match_by_key_and_label(self) -> None:
        """The template's custom fields are found by key and by every label."""
        retail = Template.preset("retail")
        resolved = ColumnMapping().resolve(
            ["会员等级", "points", "Preferred store"], template=retail
        )
        assert resolved.targets == (
            "custom.member_level",
            "custom.points",
            "custom.preferred_store",
        )

    def test_override_wins(self) -> None:
        """An override maps a header elsewhere, or drops it with None."""
        mapping = ColumnMapping({"电话": "notes", "备注": None, "CRM号": "external_id.crm"})
        resolved = mapping.resolve(["电话", "备注", "CRM号"])
        assert resolved.targets == ("notes", None, "external_id.crm")

    def test_override_to_unknown_field_is_refused(self) -> None:
        """An override naming no field raises ValidationError naming the target."""
        with pytest.raises(ValidationError, match="not a field"):
            ColumnMapping({"电话": "telephone_nr"}).resolve(["电话"])

    def test_two_columns_for_one_field_are_refused(self) -> None:
        """Two columns filling one single-valued field raise, naming both."""
        with pytest.raises(ValidationError, match="both fill name"):
            ColumnMapping().resolve(["姓名", "客户名称"])

    def test_two_phone_columns_are_allowed(self) -> None:
        """Several phone columns all add phones."""
        assert ColumnMapping().resolve(["手机", "电话"]).targets == ("phones", "phones")


class TestLabelsReadBack:
    @pytest.mark.parametrize("language", ["en", "zh"])
    def test_customer_labels_map_back(self, language: str) -> None:
        """Every export header, in English and Chinese, maps back to its own column."""
        headers = [column_label(column, language) for column in CUSTOMER_COLUMNS]
        assert ColumnMapping().resolve(headers).targets == CUSTOMER_COLUMNS

    @pytest.mark.parametrize("language", ["en", "zh"])
    @pytest.mark.parametrize(
        ("kind", "targets"),
        [
            (Interaction, INTERACTION_TARGETS),
            (Transaction, TRANSACTION_TARGETS),
            (Feedback, FEEDBACK_TARGETS),
        ],
    )
    def test_history_labels_map_back(self, language: str, kind: type, targets: dict) -> None:
        """History export headers map back to their columns too."""
        headers = [column_label(c, language, record_type=kind) for c in targets]
        assert ColumnMapping().resolve(headers, targets=targets).targets == tuple(targets)

    def test_chinese_labels_are_chinese(self) -> None:
        """The Chinese labels are the names the practice uses."""
        assert column_label("id", "zh") == "客户编号"
        assert column_label("phones", "zh") == "手机号码"
        assert column_label("job_title", "en") == "job title"

    def test_template_label(self) -> None:
        """A template's custom field label heads its column."""
        retail = Template.preset("retail")
        assert column_label("custom.member_level", "zh", template=retail) == "会员等级"
        assert CUSTOMER_TARGETS["id"][0] == "id"
