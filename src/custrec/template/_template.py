"""The customer template (客户管理模板).

What a business records and requires, and how it classifies and follows up its customers.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import cattrs

from custrec.errors import RuleSyntaxError, ValidationError
from custrec.expr import parse
from custrec.model import Customer, FrozenMap, currency_exponent
from custrec.serialize import make_converter, structure
from custrec.template._fields import CustomField, FieldType

__all__ = [
    "ENTRY_FIELDS",
    "DimensionSpec",
    "FollowUpPolicy",
    "RuleSpec",
    "Template",
]

ENTRY_FIELDS = frozenset(
    {
        "name",
        "kind",
        "gender",
        "birth_date",
        "occupation",
        "job_title",
        "company",
        "industry",
        "phones",
        "emails",
        "handles",
        "addresses",
        "interests",
        "family",
        "special_needs",
        "notes",
        "tags",
        "source",
        "owner",
    }
)
"""Built-in customer fields an entry standard may require."""


def _frozen(value: Mapping[str, Any] | None) -> FrozenMap[str, Any]:
    return FrozenMap(value or {})


def _check_rule_text(instance: RuleSpec, attribute: attrs.Attribute[str], value: str) -> None:
    try:
        parse(value)
    except RuleSyntaxError as exc:
        raise ValidationError("when", value, f"{exc.reason} at position {exc.position}") from None


@attrs.frozen
class RuleSpec:
    """One rule of a dimension: the label to give when the condition holds.

    Attributes:
        label: The label, e.g. ``"high"``.
        when: The condition in the expression language, e.g. ``"total_spend >= 10000"``.
        description: What the rule means, for people.
    """

    label: str
    when: str = attrs.field(validator=_check_rule_text)
    description: str | None = None


@attrs.frozen
class DimensionSpec:
    """How one dimension of customer type is assigned (价值等级, 购买频率, 地域…).

    Either ordered ``rules`` (first match wins, else ``default``) or a built-in or
    registered ``classifier`` with its ``options``.

    Attributes:
        name: The dimension's name, e.g. ``"value_tier"``.
        labels: Its display name in several languages.
        rules: Ordered rules; the first that matches gives the label.
        default: The label when no rule matches.
        classifier: A classifier's name (``"rfm"``, ``"value_tier"``…) instead of rules.
        options: The classifier's settings.
        label_names: Display names of labels: label to language to text.
    """

    name: str
    labels: FrozenMap[str, str] = attrs.field(default=None, converter=_frozen)
    rules: tuple[RuleSpec, ...] = attrs.field(default=(), converter=tuple)
    default: str | None = None
    classifier: str | None = None
    options: FrozenMap[str, Any] = attrs.field(default=None, converter=_frozen)
    label_names: FrozenMap[str, Any] = attrs.field(default=None, converter=_frozen)

    def __attrs_post_init__(self) -> None:
        if bool(self.rules) == bool(self.classifier):
            raise ValidationError(
                "rules", self.name, "a dimension has either rules or a classifier (not both)"
            )
        if self.rules and self.default is None:
            raise ValidationError("default", None, "a dimension with rules needs a default label")


def _positive_days(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    values = value.values() if isinstance(value, Mapping) else [value]
    for days in values:
        if days is None:
            continue
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValidationError(attribute.name, days, "a cadence is a whole number of days")


@attrs.frozen
class FollowUpPolicy:
    """How often customers should be contacted (定期回访), by segment.

    Attributes:
        default_days: Cadence for customers no segment names; ``None`` means no follow-up.
        segments: ``"dimension:label"`` to days, e.g. ``{"value_tier:high": 30}``. When a
            customer is in several segments the shortest cadence applies.
    """

    default_days: int | None = attrs.field(default=None, validator=_positive_days)
    segments: FrozenMap[str, int] = attrs.field(
        default=None, converter=_frozen, validator=_positive_days
    )

    def __attrs_post_init__(self) -> None:
        for segment in self.segments:
            dimension, colon, label = segment.partition(":")
            if not (colon and dimension and label):
                raise ValidationError("segments", segment, "a segment is written 'dimension:label'")


def _check_currency(instance: Template, attribute: attrs.Attribute[str], value: str) -> None:
    if currency_exponent(value) is None:
        raise ValidationError("currency", value, "not an ISO 4217 currency code")


def _check_required(
    instance: Template, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]
) -> None:
    for name in value:
        if name not in ENTRY_FIELDS:
            raise ValidationError(
                "required", name, f"not a built-in field; use one of {sorted(ENTRY_FIELDS)}"
            )


@attrs.frozen
class Template:
    """What a business records about its customers, and how it manages them.

    Build one in Python, load one from TOML or JSON (:meth:`load`), or start from a preset
    (:meth:`preset`: ``"retail"``, ``"hotel"``, ``"b2b"``).

    Attributes:
        name: The template's name.
        labels: Its display name in several languages.
        description: What it is for.
        currency: The currency money facts are computed in.
        home_region: Provinces or cities that count as local (the rest is remote).
        required: Built-in fields every customer must have (the entry standard).
        custom_fields: The business's own fields.
        allow_undeclared: Whether customers may hold custom values no field declares.
        dimensions: How customers are classified.
        checks: Quality-check settings, by check name.
        follow_up: Contact cadence by segment.
        field_labels: Display names of built-in fields: field to language to text.
    """

    name: str
    labels: FrozenMap[str, str] = attrs.field(default=None, converter=_frozen)
    description: str | None = None
    currency: str = attrs.field(default="CNY", validator=_check_currency)
    home_region: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    required: tuple[str, ...] = attrs.field(
        default=("name",), converter=tuple, validator=_check_required
    )
    custom_fields: tuple[CustomField, ...] = attrs.field(default=(), converter=tuple)
    allow_undeclared: bool = False
    dimensions: tuple[DimensionSpec, ...] = attrs.field(default=(), converter=tuple)
    checks: FrozenMap[str, Any] = attrs.field(default=None, converter=_frozen)
    follow_up: FollowUpPolicy = attrs.field(factory=FollowUpPolicy)
    field_labels: FrozenMap[str, Any] = attrs.field(default=None, converter=_frozen)

    def __attrs_post_init__(self) -> None:
        for what, names in (
            ("custom_fields", [f.key for f in self.custom_fields]),
            ("dimensions", [d.name for d in self.dimensions]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValidationError(what, name, "defined twice")
                seen.add(name)

    # -- lookup ---------------------------------------------------------------------------

    def custom_field(self, key: str) -> CustomField:
        """Return the custom field with ``key``.

        Raises:
            KeyError: The template defines no such field.
        """
        for field in self.custom_fields:
            if field.key == key:
                return field
        raise KeyError(key)

    def dimension(self, name: str) -> DimensionSpec:
        """Return the dimension called ``name``.

        Raises:
            KeyError: The template defines no such dimension.
        """
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        raise KeyError(name)

    def label(self, field: str, language: str = "en") -> str:
        """Return a field's display name (built-in or custom) in ``language``."""
        names = self.field_labels.get(field) or {}
        if field.startswith("custom."):
            try:
                return self.custom_field(field[7:]).label(language)
            except KeyError:
                pass
        return str(names.get(language) or names.get("en") or field)

    # -- validation -----------------------------------------------------------------------

    def problems(self, customer: Customer) -> list[ValidationError]:
        """Return every way ``customer`` falls short of this template (empty when none).

        Checks the entry standard (required built-in fields), every custom field's type,
        choices, pattern and bounds, required custom fields, and undeclared custom values.
        """
        found: list[ValidationError] = []
        for name in self.required:
            value = getattr(customer, name)
            if value is None or (isinstance(value, tuple | frozenset) and not value):
                found.append(ValidationError(name, value, "required by the entry standard"))
        declared = set()
        for field in self.custom_fields:
            declared.add(field.key)
            value = customer.custom.get(field.key)
            path = f"custom.{field.key}"
            if value is None:
                if field.required:
                    found.append(ValidationError(path, None, "required by the template"))
                continue
            reason = field.check(value)
            if reason is not None:
                found.append(ValidationError(path, value, reason))
        if not self.allow_undeclared:
            for key, value in customer.custom.items():
                if key not in declared:
                    found.append(
                        ValidationError(f"custom.{key}", value, "not a field of this template")
                    )
        return found

    def validate(self, customer: Customer) -> Customer:
        """Return ``customer`` if it meets the template.

        Raises:
            ValidationError: The first problem, with every problem in ``.errors``.
        """
        found = self.problems(customer)
        if found:
            first = found[0]
            raise ValidationError(first.field, first.value, first.reason, errors=found)
        return customer

    # -- loading --------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "") -> Template:
        """Build a template from plain data (as TOML or JSON hold it).

        Raises:
            ValidationError: An unknown key, a wrong type or a bad value; ``field`` is the
                key's path (``custom_fields[2].type``) and the message names ``source``.
        """
        try:
            return structure(dict(data), cls, using=_converter)
        except ValidationError as exc:
            if not source:
                raise
            errors = [
                ValidationError(e.field, e.value, f"{e.reason} (in {source})") for e in exc.errors
            ]
            first = errors[0]
            raise ValidationError(first.field, first.value, first.reason, errors=errors) from None

    @classmethod
    def load(cls, path: str | Path) -> Template:
        """Load a template from a ``.toml`` or ``.json`` file.

        Raises:
            ValidationError: The file cannot be read or parsed (with its line), or holds an
                unknown key, a wrong type or a bad value (with the key's path).
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError("", str(path), f"cannot read the template file: {exc}") from None
        return cls.loads(text, format=path.suffix.lstrip(".").lower(), source=str(path))

    @classmethod
    def loads(cls, text: str, *, format: str = "toml", source: str = "<text>") -> Template:
        """Load a template from TOML or JSON text.

        Raises:
            ValidationError: As for :meth:`load`.
        """
        try:
            if format == "toml":
                data = tomllib.loads(text)
            elif format == "json":
                data = json.loads(text, parse_float=Decimal)
            else:
                raise ValidationError("", source, "a template is a .toml or .json file")
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError("", source, f"not valid TOML: {exc}") from None
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "", source, f"not valid JSON: {exc.msg} at line {exc.lineno}"
            ) from None
        if not isinstance(data, dict):
            raise ValidationError("", source, "a template is a table of keys")
        return cls.from_dict(data, source=source)

    @classmethod
    def preset(cls, name: str) -> Template:
        """Load a shipped preset: ``"retail"``, ``"hotel"`` or ``"b2b"``.

        Raises:
            ValidationError: No preset has that name.
        """
        presets = Path(__file__).parent / "presets"
        path = presets / f"{name}.toml"
        if not path.is_file() or path.parent != presets:
            known = sorted(p.stem for p in presets.glob("*.toml"))
            raise ValidationError("name", name, f"no such preset; presets: {', '.join(known)}")
        return cls.load(path)


def _make_converter() -> cattrs.Converter:
    conv = make_converter()
    # TOML holds its own types (dates, floats, nested tables) where a template has bounds and
    # options; those fields' converters and validators check them, so pass them through.
    conv.register_structure_hook_func(
        lambda tp: tp in (Decimal | date | None, FieldType), lambda value, _: value
    )
    return conv


_converter = _make_converter()
