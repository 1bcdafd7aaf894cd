"""The customer template: building, loading, error reports, validation and coercion."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.model import Customer, Phone
from custrec.template import (
    ENTRY_FIELDS,
    CustomField,
    DimensionSpec,
    FieldType,
    FollowUpPolicy,
    RuleSpec,
    Template,
)

DATA = Path(__file__).parent / "data" / "templates"

SHOP_TOML = """
name = "shop"
labels = { en = "Shop", zh = "门店" }
currency = "CNY"
home_region = ["北京市"]
required = ["name", "phones"]

[[custom_fields]]
key = "level"
type = "choice"
choices = ["silver", "gold"]
required = true
labels = { en = "Member level", zh = "会员等级" }

[[custom_fields]]
key = "points"
type = "integer"
min = 0
max = 100000

[[dimensions]]
name = "value_tier"
classifier = "value_tier"
options = { method = "thresholds", thresholds = { high = 10000, mid = 2000 } }

[[dimensions]]
name = "vip"
default = "regular"
rules = [
  { label = "vip", when = "has_tag('vip')", description = "tagged vip" },
  { label = "big", when = "total_spend >= 5000" },
]

[follow_up]
default_days = 90

[follow_up.segments]
"vip:vip" = 30
"""

SHOP_JSON = {
    "name": "shop",
    "labels": {"en": "Shop", "zh": "门店"},
    "currency": "CNY",
    "home_region": ["北京市"],
    "required": ["name", "phones"],
    "custom_fields": [
        {
            "key": "level",
            "type": "choice",
            "choices": ["silver", "gold"],
            "required": True,
            "labels": {"en": "Member level", "zh": "会员等级"},
        },
        {"key": "points", "type": "integer", "min": 0, "max": 100000},
    ],
    "dimensions": [
        {
            "name": "value_tier",
            "classifier": "value_tier",
            "options": {"method": "thresholds", "thresholds": {"high": 10000, "mid": 2000}},
        },
        {
            "name": "vip",
            "default": "regular",
            "rules": [
                {"label": "vip", "when": "has_tag('vip')", "description": "tagged vip"},
                {"label": "big", "when": "total_spend >= 5000"},
            ],
        },
    ],
    "follow_up": {"default_days": 90, "segments": {"vip:vip": 30}},
}


def shop_in_python() -> Template:
    """The template SHOP_TOML and SHOP_JSON describe, built in Python."""
    return Template(
        name="shop",
        labels={"en": "Shop", "zh": "门店"},
        currency="CNY",
        home_region=["北京市"],
        required=["name", "phones"],
        custom_fields=[
            CustomField(
                "level",
                FieldType.CHOICE,
                required=True,
                choices=["silver", "gold"],
                labels={"en": "Member level", "zh": "会员等级"},
            ),
            CustomField("points", "integer", min=0, max=100000),
        ],
        dimensions=[
            DimensionSpec(
                "value_tier",
                classifier="value_tier",
                options={"method": "thresholds", "thresholds": {"high": 10000, "mid": 2000}},
            ),
            DimensionSpec(
                "vip",
                rules=[
                    RuleSpec("vip", "has_tag('vip')", "tagged vip"),
                    RuleSpec("big", "total_spend >= 5000"),
                ],
                default="regular",
            ),
        ],
        follow_up=FollowUpPolicy(90, {"vip:vip": 30}),
    )


class TestBuildInPython:
    """A template built in Python holds what it was given and answers lookups."""

    def test_lookups(self) -> None:
        """custom_field() and dimension() find by key and name, KeyError otherwise."""
        shop = shop_in_python()
        assert shop.custom_field("points").type is FieldType.INTEGER
        assert shop.custom_field("points").min == Decimal(0)
        assert shop.dimension("vip").default == "regular"
        with pytest.raises(KeyError):
            shop.custom_field("nope")
        with pytest.raises(KeyError):
            shop.dimension("nope")

    def test_defaults(self) -> None:
        """A bare template requires a name, uses CNY and has no follow-up cadence."""
        bare = Template("bare")
        assert bare.required == ("name",)
        assert bare.currency == "CNY"
        assert bare.follow_up.default_days is None
        assert bare.custom_fields == ()

    def test_labels_in_languages(self) -> None:
        """Field labels fall back from the language asked to English to the key."""
        shop = shop_in_python()
        assert shop.label("custom.level", "zh") == "会员等级"
        assert shop.label("custom.level", "fr") == "Member level"
        assert shop.label("custom.points", "zh") == "points"
        assert shop.label("phones") == "phones"
        labelled = Template("t", field_labels={"phones": {"zh": "手机号码"}})
        assert labelled.label("phones", "zh") == "手机号码"

    def test_entry_standard_only_names_built_in_fields(self) -> None:
        """required may only name fields of ENTRY_FIELDS."""
        assert {"name", "phones", "company"} <= ENTRY_FIELDS
        with pytest.raises(ValidationError) as caught:
            Template("t", required=["name", "shoe_size"])
        assert caught.value.field == "required"
        assert caught.value.value == "shoe_size"

    def test_currency_is_checked(self) -> None:
        """A currency that is not ISO 4217 is refused."""
        with pytest.raises(ValidationError, match="ISO 4217"):
            Template("t", currency="RMB")

    def test_dimension_has_rules_or_classifier(self) -> None:
        """A dimension needs exactly one of rules and classifier, and rules need a default."""
        with pytest.raises(ValidationError, match="either rules or a classifier"):
            DimensionSpec("d")
        with pytest.raises(ValidationError, match="either rules or a classifier"):
            DimensionSpec("d", rules=[RuleSpec("a", "order_count > 1")], classifier="rfm")
        with pytest.raises(ValidationError, match="default"):
            DimensionSpec("d", rules=[RuleSpec("a", "order_count > 1")])

    def test_rule_text_is_parsed_when_built(self) -> None:
        """A rule with a syntax error is refused with the position in the reason."""
        with pytest.raises(ValidationError) as caught:
            RuleSpec("a", "total_spend >= ")
        assert caught.value.field == "when"
        assert "position 15" in caught.value.reason

    @pytest.mark.parametrize("days", [0, -1, True, 1.5, "30"])
    def test_cadence_is_whole_positive_days(self, days: object) -> None:
        """Cadences are whole numbers of days, at least 1."""
        with pytest.raises(ValidationError, match="whole number of days"):
            FollowUpPolicy(days)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="whole number of days"):
            FollowUpPolicy(None, {"a:b": days})  # type: ignore[dict-item]

    @pytest.mark.parametrize("segment", ["value_tier", "value_tier:", ":high", ""])
    def test_segment_is_dimension_colon_label(self, segment: str) -> None:
        """A follow-up segment must be written 'dimension:label'."""
        with pytest.raises(ValidationError, match="dimension:label"):
            FollowUpPolicy(30, {segment: 10})

    def test_duplicate_keys_and_dimensions(self) -> None:
        """Two custom fields with one key, or two dimensions with one name, are refused."""
        with pytest.raises(ValidationError) as caught:
            Template("t", custom_fields=[CustomField("a", "text"), CustomField("a", "integer")])
        assert (caught.value.field, caught.value.value) == ("custom_fields", "a")
        twice = [DimensionSpec("d", classifier="rfm"), DimensionSpec("d", classifier="rfm")]
        with pytest.raises(ValidationError) as caught:
            Template("t", dimensions=twice)
        assert (caught.value.field, caught.value.value) == ("dimensions", "d")


class TestCustomFieldDefinition:
    """CustomField refuses definitions that cannot work."""

    @pytest.mark.parametrize(
        ("kwargs", "field", "reason"),
        [
            ({"key": "1abc", "type": "text"}, "key", "letter or _"),
            ({"key": "a b", "type": "text"}, "key", "letter or _"),
            ({"key": "a", "type": "txt"}, "type", "not a field type"),
            ({"key": "a", "type": "choice"}, "choices", "needs choices"),
            ({"key": "a", "type": "multi_choice"}, "choices", "needs choices"),
            ({"key": "a", "type": "text", "choices": ["x"]}, "choices", "has no choices"),
            ({"key": "a", "type": "integer", "choices": ["x"]}, "choices", "has no choices"),
            ({"key": "a", "type": "text", "pattern": "[a"}, "pattern", "not a regular expr"),
            ({"key": "a", "type": "integer", "pattern": r"\d+"}, "pattern", "only text"),
            ({"key": "a", "type": "integer", "min": date(2020, 1, 1)}, "min", "is a number"),
            ({"key": "a", "type": "date", "max": 5}, "max", "is a date"),
            ({"key": "a", "type": "integer", "min": True}, "min", "number or a date"),
            ({"key": "a", "type": "integer", "min": "lots"}, "min", "number or a date"),
        ],
    )
    def test_refused(self, kwargs: dict[str, object], field: str, reason: str) -> None:
        """Each impossible definition names the attribute at fault and why."""
        with pytest.raises(ValidationError) as caught:
            CustomField(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
        assert reason in caught.value.reason

    def test_chinese_key_and_number_bounds(self) -> None:
        """Keys may be Chinese; numeric bounds become Decimals."""
        made = CustomField("积分", "decimal", min="0.5", max=10)
        assert (made.min, made.max) == (Decimal("0.5"), Decimal(10))


class TestLoad:
    """Templates load from TOML and JSON, as text or files, into what Python builds."""

    def test_toml_text_equals_python(self) -> None:
        """TOML text gives the same template as building it in Python."""
        assert Template.loads(SHOP_TOML) == shop_in_python()

    def test_json_text_equals_python(self) -> None:
        """JSON text gives the same template as building it in Python."""
        assert Template.loads(json.dumps(SHOP_JSON), format="json") == shop_in_python()

    def test_from_dict_equals_python(self) -> None:
        """Plain data gives the same template as building it in Python."""
        assert Template.from_dict(SHOP_JSON) == shop_in_python()

    @pytest.mark.parametrize("suffix", [".toml", ".json", ".TOML"])
    def test_files(self, tmp_path: Path, suffix: str) -> None:
        """load() reads .toml and .json files by their suffix."""
        path = tmp_path / f"shop{suffix}"
        text = json.dumps(SHOP_JSON) if suffix == ".json" else SHOP_TOML
        path.write_text(text, encoding="utf-8")
        assert Template.load(path) == shop_in_python()
        assert Template.load(str(path)) == shop_in_python()

    def test_fixture_files(self) -> None:
        """The fixture files under tests/data/templates load."""
        hotel = Template.load(DATA / "small_hotel.toml")
        assert [d.name for d in hotel.dimensions] == ["stay", "region"]
        assert hotel.custom_field("room").choices == ("大床", "双床")

    def test_json_date_bounds(self) -> None:
        """JSON has no dates, so a date field's bounds are read from ISO text."""
        data = {"name": "t", "custom_fields": [{"key": "d", "type": "date", "min": "2020-01-01"}]}
        loaded = Template.loads(json.dumps(data), format="json")
        assert loaded.custom_field("d").min == date(2020, 1, 1)

    def test_toml_datetime_bound_refused(self) -> None:
        """A TOML datetime is not a date bound (it could not be compared with dates)."""
        text = (
            'name = "t"\n[[custom_fields]]\nkey = "d"\ntype = "date"\nmin = 2020-01-01T00:00:00\n'
        )
        with pytest.raises(ValidationError) as caught:
            Template.loads(text)
        assert caught.value.field == "custom_fields[0].min"

    def test_other_suffix_refused(self, tmp_path: Path) -> None:
        """A file that is neither .toml nor .json is refused, naming the file."""
        path = tmp_path / "shop.yaml"
        path.write_text("name: shop\n", encoding="utf-8")
        with pytest.raises(ValidationError, match=r"\.toml or \.json") as caught:
            Template.load(path)
        assert caught.value.value == str(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        """A file that cannot be read is an error naming it."""
        path = tmp_path / "gone.toml"
        with pytest.raises(ValidationError, match="cannot read") as caught:
            Template.load(path)
        assert caught.value.value == str(path)

    def test_not_a_table(self) -> None:
        """A JSON document that is not an object is refused."""
        with pytest.raises(ValidationError, match="table of keys"):
            Template.loads("[1, 2]", format="json", source="list.json")


def _load_error(text: str, source: str = "shop.toml") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Template.loads(text, source=source)
    return caught.value


BASE = 'name = "t"\n'


class TestLoadErrors:
    """Every error loading a template names the source, the key's path and the reason."""

    @pytest.mark.parametrize(
        ("text", "path", "reason"),
        [
            # unknown keys, at every level
            (BASE + "colour = 1\n", "colour", "unknown field"),
            (
                BASE + '[[custom_fields]]\nkey = "a"\ntype = "text"\ncolour = 1\n',
                "custom_fields[0].colour",
                "unknown field",
            ),
            (
                BASE + '[[dimensions]]\nname = "d"\ndefault = "x"\n'
                'rules = [{ label = "a", when = "order_count > 1", colour = 1 }]\n',
                "dimensions[0].rules[0].colour",
                "unknown field",
            ),
            (BASE + "[follow_up]\nevery = 3\n", "follow_up.every", "unknown field"),
            # wrong types
            ("name = 3\n", "name", "expected str"),
            ('currency = "CNY"\n', "name", "missing"),
            (
                BASE + '[[custom_fields]]\nkey = "a"\ntype = "text"\nrequired = "yes"\n',
                "custom_fields[0].required",
                "expected bool",
            ),
            (BASE + 'home_region = "北京市"\n', "home_region", "expected a list"),
            (BASE + "custom_fields = 3\n", "custom_fields", "expected a list"),
            (BASE + "labels = 3\n", "labels", "expected an object"),
            (BASE + 'allow_undeclared = "no"\n', "allow_undeclared", "expected bool"),
            (
                BASE + '[follow_up]\ndefault_days = "30"\n',
                "follow_up.default_days",
                "expected int",
            ),
            (
                BASE + '[follow_up.segments]\n"a:b" = "30"\n',
                "follow_up.segments",
                "whole number of days",
            ),
            # bad values
            (
                BASE + '[[custom_fields]]\nkey = "a"\ntype = "txt"\n',
                "custom_fields[0].type",
                "not a field type",
            ),
            (
                BASE + '[[custom_fields]]\nkey = "a"\ntype = "text"\npattern = "[a"\n',
                "custom_fields[0].pattern",
                "not a regular expression",
            ),
            (
                BASE + '[[custom_fields]]\nkey = "a"\ntype = "text"\nchoices = ["x"]\n',
                "custom_fields[0].choices",
                "has no choices",
            ),
            (
                BASE + '[[custom_fields]]\nkey = "a"\ntype = "text"\n'
                '[[custom_fields]]\nkey = "a"\ntype = "integer"\n',
                "custom_fields",
                "defined twice",
            ),
            (
                BASE + '[[dimensions]]\nname = "d"\nclassifier = "rfm"\n'
                '[[dimensions]]\nname = "d"\nclassifier = "rfm"\n',
                "dimensions",
                "defined twice",
            ),
            (
                BASE + '[follow_up.segments]\n"value_tier" = 30\n',
                "follow_up.segments",
                "dimension:label",
            ),
            (
                BASE + '[[dimensions]]\nname = "d"\ndefault = "x"\nrules = [\n'
                '  { label = "a", when = "order_count > 1" },\n'
                '  { label = "b", when = "total_spend >> 3" },\n]\n',
                "dimensions[0].rules[1].when",
                "unexpected '>' at position 13",
            ),
            (
                BASE + '[[dimensions]]\nname = "d"\ndefault = "x"\n'
                'rules = [{ label = "a", when = "" }]\n',
                "dimensions[0].rules[0].when",
                "empty expression at position 0",
            ),
            (BASE + 'required = ["nme"]\n', "required", "not a built-in field"),
            (BASE + 'currency = "RMB"\n', "currency", "ISO 4217"),
        ],
    )
    def test_reports_path_reason_and_source(self, text: str, path: str, reason: str) -> None:
        """The error's field is the key's path; its reason says why and names the file."""
        error = _load_error(text)
        assert error.field == path
        assert reason in error.reason
        assert "shop.toml" in error.reason
        assert "shop.toml" in str(error)

    def test_every_problem_is_reported(self) -> None:
        """Several problems in one file are all in .errors, each with its path."""
        text = (
            BASE + "colour = 1\n"
            '[[custom_fields]]\nkey = "a"\ntype = "txt"\n'
            '[[custom_fields]]\nkey = "b"\ntype = "text"\nrequired = "yes"\n'
        )
        error = _load_error(text)
        paths = {e.field for e in error.errors}
        assert paths == {"colour", "custom_fields[0].type", "custom_fields[1].required"}
        assert all("shop.toml" in e.reason for e in error.errors)
        assert "2 more problem(s)" in str(error)

    def test_toml_syntax_error_names_file_and_line(self) -> None:
        """Broken TOML is reported with the file and the line."""
        error = _load_error(BASE + "\ncolour == 1\n")
        assert error.value == "shop.toml"
        assert "not valid TOML" in error.reason
        assert "line 3" in error.reason
        assert "shop.toml" in str(error)

    def test_json_syntax_error_names_file_and_line(self, tmp_path: Path) -> None:
        """Broken JSON in a file is reported with the file's path and the line."""
        path = tmp_path / "shop.json"
        path.write_text('{\n  "name": "t",\n  "currency": \n}\n', encoding="utf-8")
        with pytest.raises(ValidationError) as caught:
            Template.load(path)
        assert caught.value.value == str(path)
        assert "not valid JSON" in caught.value.reason
        assert "line 4" in caught.value.reason

    def test_file_path_in_value_errors(self, tmp_path: Path) -> None:
        """Errors in a file loaded by path name that path."""
        path = tmp_path / "broken.toml"
        path.write_text(BASE + '[[custom_fields]]\nkey = "a"\ntype = "txt"\n', encoding="utf-8")
        with pytest.raises(ValidationError) as caught:
            Template.load(path)
        assert caught.value.field == "custom_fields[0].type"
        assert str(path) in caught.value.reason

    def test_from_dict_without_source(self) -> None:
        """from_dict without a source reports the path and reason alone."""
        with pytest.raises(ValidationError) as caught:
            Template.from_dict({"name": "t", "colour": 1})
        assert caught.value.field == "colour"
        assert caught.value.reason == "unknown field"


VALIDATING = Template(
    "validating",
    required=["name", "phones", "company"],
    custom_fields=[
        CustomField("level", "choice", required=True, choices=["silver", "gold"]),
        CustomField("code", "text", pattern=r"[A-Z]{2}\d{4}"),
        CustomField("nick", "text", max=5),
        CustomField("points", "integer", min=0, max=1000),
        CustomField("ratio", "decimal", min="0", max="1"),
        CustomField("joined", "date", min=date(2000, 1, 1)),
        CustomField("vip", "boolean"),
        CustomField("rooms", "multi_choice", choices=["大床", "双床", "无烟"]),
        CustomField("owner_id", "text", required=True),
    ],
)


def _problems(customer: Customer) -> dict[str, str]:
    return {p.field: p.reason for p in VALIDATING.problems(customer)}


class TestProblems:
    """problems() returns every shortfall of a customer; validate() raises with them all."""

    def test_conforming_customer(self) -> None:
        """A customer meeting the template has no problems and validates to itself."""
        customer = Customer(
            name="张三",
            company="某公司",
            phones=[Phone("13812345678")],
            custom={
                "level": "gold",
                "code": "AB1234",
                "nick": "小张",
                "points": 1000,
                "ratio": "0.25",
                "joined": "2020-05-01",
                "vip": True,
                "rooms": ("大床", "无烟"),
                "owner_id": "u1",
            },
        )
        assert VALIDATING.problems(customer) == []
        assert VALIDATING.validate(customer) is customer

    def test_every_problem_at_once(self) -> None:
        """Every kind of shortfall is reported together, one problem per field."""
        customer = Customer(
            custom={
                "level": "platinum",
                "code": "ab12",
                "nick": "toolongname",
                "points": -1,
                "ratio": "1.5",
                "joined": "1999-12-31",
                "vip": "yes",
                "rooms": ("大床", "套房"),
                "shoe_size": 42,
            }
        )
        found = _problems(customer)
        assert found == {
            "name": "required by the entry standard",
            "phones": "required by the entry standard",
            "company": "required by the entry standard",
            "custom.level": "not one of the choices: silver, gold",
            "custom.code": r"does not match the pattern [A-Z]{2}\d{4}",
            "custom.nick": "length is above the maximum 5",
            "custom.points": "value is below the minimum 0",
            "custom.ratio": "value is above the maximum 1",
            "custom.joined": "date is below the minimum 2000-01-01",
            "custom.vip": "expected true or false",
            "custom.rooms": "套房 not among the choices: 大床, 双床, 无烟",
            "custom.owner_id": "required by the template",
            "custom.shoe_size": "not a field of this template",
        }

    @pytest.mark.parametrize(
        ("key", "value", "reason"),
        [
            ("level", 3, "expected text"),
            ("code", 1234, "expected text"),
            ("points", "12", "expected a whole number"),
            ("points", 1.5, "expected a whole number"),
            ("points", True, "expected a whole number"),
            ("ratio", 0.5, "expected a decimal written as text"),
            ("ratio", "half", "expected a decimal written as text"),
            ("joined", "2020/05/01", "expected an ISO date"),
            ("joined", 20200501, "expected an ISO date"),
            ("vip", 1, "expected true or false"),
            ("rooms", "大床", "expected a list of texts"),
        ],
    )
    def test_wrong_type(self, key: str, value: object, reason: str) -> None:
        """A value of the wrong type is reported for its field with the expected type."""
        customer = Customer(
            name="x", company="c", phones=[Phone("13812345678")], custom={key: value}
        )
        found = _problems(customer)
        assert found[f"custom.{key}"].startswith(reason)

    def test_validate_raises_with_every_error(self) -> None:
        """validate() raises the first problem and keeps them all in .errors."""
        customer = Customer(name="x", custom={"level": "platinum"})
        expected = VALIDATING.problems(customer)
        assert len(expected) == 4
        with pytest.raises(ValidationError) as caught:
            VALIDATING.validate(customer)
        assert [(e.field, e.reason) for e in caught.value.errors] == [
            (e.field, e.reason) for e in expected
        ]
        assert caught.value.field == expected[0].field

    def test_allow_undeclared(self) -> None:
        """With allow_undeclared, custom values no field declares are accepted."""
        lenient = Template("t", allow_undeclared=True)
        strict = Template("t")
        customer = Customer(name="x", custom={"anything": 1})
        assert lenient.problems(customer) == []
        assert [p.field for p in strict.problems(customer)] == ["custom.anything"]

    def test_empty_collections_fail_the_entry_standard(self) -> None:
        """A required list field that is empty counts as missing; a filled one does not."""
        template = Template("t", required=["name", "tags", "interests"])
        found = template.problems(Customer(name="x", tags=["vip"]))
        assert [p.field for p in found] == ["interests"]


class TestCoerce:
    """CustomField.coerce reads input as it arrives into the field's value."""

    @pytest.mark.parametrize(
        ("field", "raw", "value"),
        [
            (CustomField("t", "text"), "  门店A ", "门店A"),
            (CustomField("t", "text"), 42, "42"),
            (CustomField("i", "integer"), "1,234", 1234),
            (CustomField("i", "integer"), " 12 ", 12),
            (CustomField("i", "integer"), "3.0", 3),
            (CustomField("i", "integer"), 7, 7),
            (CustomField("d", "decimal"), "12.50", "12.50"),
            (CustomField("d", "decimal"), "1,234.5", "1234.5"),
            (CustomField("d", "decimal"), 3, "3"),
            (CustomField("d", "decimal"), Decimal("0.10"), "0.10"),
            (CustomField("dt", "date"), "2024年10月5日", "2024-10-05"),
            (CustomField("dt", "date"), "2024/10/05", "2024-10-05"),
            (CustomField("dt", "date"), date(2024, 10, 5), "2024-10-05"),
            (CustomField("b", "boolean"), "是", True),
            (CustomField("b", "boolean"), "否", False),
            (CustomField("b", "boolean"), "有", True),
            (CustomField("b", "boolean"), "无", False),
            (CustomField("b", "boolean"), "YES", True),
            (CustomField("b", "boolean"), " false ", False),
            (CustomField("b", "boolean"), "1", True),
            (CustomField("b", "boolean"), False, False),
            (CustomField("c", "choice", choices=["金卡", "银卡"]), " 金卡 ", "金卡"),
            (
                CustomField("m", "multi_choice", choices=["高楼层", "安静", "无烟", "大床"]),
                "高楼层、安静，无烟;大床",
                ("高楼层", "安静", "无烟", "大床"),
            ),
            (
                CustomField("m", "multi_choice", choices=["a", "b", "c"]),
                "a, b ; c / a",
                ("a", "b", "c"),
            ),
            (
                CustomField("m", "multi_choice", choices=["a", "b"]),
                "b；a",
                ("b", "a"),
            ),
            (CustomField("m", "multi_choice", choices=["a", "b"]), ["a", " b "], ("a", "b")),
            (CustomField("t", "text"), "   ", None),
            (CustomField("i", "integer"), "", None),
            (CustomField("b", "boolean"), None, None),
        ],
    )
    def test_reads(self, field: CustomField, raw: object, value: object) -> None:
        """Each input reads as the value of the field's type."""
        assert field.coerce(raw) == value

    @pytest.mark.parametrize(
        ("field", "raw", "reason"),
        [
            (CustomField("i", "integer"), "1.5", "integer"),
            (CustomField("i", "integer"), "abc", "integer"),
            (CustomField("i", "integer"), True, "integer"),
            (CustomField("i", "integer", min=0), "-3", "below the minimum 0"),
            (CustomField("d", "decimal"), 0.1, "not a decimal"),
            (CustomField("d", "decimal"), "NaN", "not a decimal"),
            (CustomField("d", "decimal"), "ten", "not a decimal"),
            (CustomField("b", "boolean"), "maybe", "not a boolean"),
            (CustomField("dt", "date"), "someday", ""),
            (CustomField("c", "choice", choices=["金卡"]), "铜卡", "not one of the choices"),
            (CustomField("m", "multi_choice", choices=["a"]), "a、z", "z not among the choices"),
            (CustomField("t", "text", pattern=r"\d+"), "12a", "does not match"),
        ],
    )
    def test_refuses(self, field: CustomField, raw: object, reason: str) -> None:
        """Input that cannot be read or is not acceptable names custom.<key> and why."""
        with pytest.raises(ValidationError) as caught:
            field.coerce(raw)
        assert caught.value.field == f"custom.{field.key}"
        assert caught.value.value == raw
        assert reason in caught.value.reason

    @given(
        st.one_of(
            st.integers(-(10**6), 10**6).map(str),
            st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
            st.dates().map(date.isoformat),
            st.sampled_from(["是", "否", "yes", "no", "true", "false", "√", "×"]),
            st.lists(st.sampled_from(["a", "b", "c"]), max_size=4).map("、".join),
            st.text(max_size=10),
        ),
        st.sampled_from(
            [
                CustomField("t", "text"),
                CustomField("i", "integer"),
                CustomField("d", "decimal"),
                CustomField("dt", "date"),
                CustomField("b", "boolean"),
                CustomField("m", "multi_choice", choices=["a", "b", "c"]),
            ]
        ),
    )
    def test_coerce_is_idempotent_and_checked(self, raw: str, field: CustomField) -> None:
        """A coerced value passes check() and coerces to itself."""
        try:
            value = field.coerce(raw)
        except ValidationError:
            return
        if value is None:
            return
        assert field.check(value) is None
        assert field.coerce(value) == value


class TestPresets:
    """The shipped presets load and hold their dimensions."""

    @pytest.mark.parametrize(
        ("name", "dimensions"),
        [
            ("retail", ["value_tier", "frequency", "rfm", "lifecycle", "region", "industry"]),
            ("hotel", ["guest_frequency", "purpose", "region", "nps"]),
            ("b2b", ["industry", "company_size", "role", "value_tier"]),
        ],
    )
    def test_loads(self, name: str, dimensions: list[str]) -> None:
        """Each preset loads, is named after itself and has its dimensions in order."""
        preset = Template.preset(name)
        assert preset.name == name
        assert [d.name for d in preset.dimensions] == dimensions
        assert preset.follow_up.default_days is not None
        for segment in preset.follow_up.segments:
            dimension, _, _ = segment.partition(":")
            assert dimension in dimensions

    def test_presets_are_package_data(self) -> None:
        """Presets ship inside the package, next to the template module."""
        import custrec.template

        folder = Path(custrec.template.__file__).parent / "presets"
        assert sorted(p.stem for p in folder.glob("*.toml")) == ["b2b", "hotel", "retail"]

    def test_unknown_preset_lists_presets(self) -> None:
        """Asking for an unknown preset says which presets exist."""
        with pytest.raises(ValidationError) as caught:
            Template.preset("nope")
        assert caught.value.field == "name"
        assert "b2b, hotel, retail" in caught.value.reason

    @pytest.mark.parametrize("name", ["../presets/retail", "presets/retail", "retail.toml"])
    def test_no_paths(self, name: str) -> None:
        """A preset name is a name, not a path."""
        with pytest.raises(ValidationError, match="no such preset"):
            Template.preset(name)
