"""Settings of duplicate detection, and reading them from a template's ``[checks.duplicates]``.

A template configures duplicate detection under its quality-check settings::

    [checks.duplicates]
    blocking = ["phone", "email", "name_birth", "name_street"]
    max_block_size = 200
    chance_limit = 0.1
    merge_threshold = 0.99
    review_threshold = 0.6
    max_cluster_size = 50
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from custrec.errors import ValidationError
from custrec.quality._dedupe_blocking import BLOCKING_PASSES, CHANCE_LIMIT, check_passes
from custrec.template import Template

__all__ = ["DEFAULT_BLOCKING", "DuplicateSettings"]

DEFAULT_BLOCKING: tuple[str, ...] = tuple(
    name for name in BLOCKING_PASSES if name != "name_postcode"
)
"""The default passes: all but ``name_postcode``, whose blocks grow with the file."""


def _probability(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValidationError(attribute.name, value, "a probability threshold is in (0, 1]")


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValidationError(attribute.name, value, "must be a number above 0")


def _count(low: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValidationError(attribute.name, value, f"must be a whole number from {low}")

    return check


def _passes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValidationError("blocking", value, "expected a list of pass names")
    return check_passes(value)


@attrs.frozen
class DuplicateSettings:
    """How duplicates are found.

    Attributes:
        blocking: Blocking passes to run (see :data:`~custrec.quality.BLOCKING_PASSES`).
        max_block_size: Blocks with more records are skipped (their pairs not compared).
        chance_limit: Most records a key of ``name_token_birth`` or ``birth_postcode`` may
            expect to gather by chance (from how many records have each of its parts);
            a key expected to gather more is split by a name initial, or dropped. Keeps
            their pairs growing with the file rather than its square.
        merge_threshold: Match probability from which a group may be merged without review.
        review_threshold: Match probability from which a pair is reported for review.
        max_cluster_size: Largest group; a pair that would make a group larger is left out
            and the group goes to review.
        u_sample_size: Most random pairs drawn to estimate the non-match probabilities (ten
            per record up to this).
        seed: Seed of that draw (results are deterministic).
    """

    blocking: tuple[str, ...] = attrs.field(default=DEFAULT_BLOCKING, converter=_passes)
    max_block_size: int = attrs.field(default=200, validator=_count(2))
    chance_limit: float = attrs.field(default=CHANCE_LIMIT, validator=_positive)
    merge_threshold: float = attrs.field(default=0.99, validator=_probability)
    review_threshold: float = attrs.field(default=0.6, validator=_probability)
    max_cluster_size: int = attrs.field(default=50, validator=_count(2))
    u_sample_size: int = attrs.field(default=20_000, validator=_count(1))
    seed: int = attrs.field(default=0, validator=_count(0))

    def __attrs_post_init__(self) -> None:
        if self.review_threshold > self.merge_threshold:
            raise ValidationError(
                "review_threshold", self.review_threshold, "must not exceed merge_threshold"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> DuplicateSettings:
        """Build settings from a mapping such as a template's ``checks["duplicates"]``.

        Raises:
            ValidationError: A key is unknown or a value out of range.
        """
        known = {field.name for field in attrs.fields(cls)}
        for key in values:
            if key not in known:
                raise ValidationError(
                    f"checks.duplicates.{key}", values[key], f"unknown; known: {sorted(known)}"
                )
        return cls(**dict(values))

    @classmethod
    def from_template(cls, template: Template) -> DuplicateSettings:
        """Read the settings from ``template.checks["duplicates"]`` (defaults if absent).

        Raises:
            ValidationError: The section has an unknown key or a value out of range.
        """
        section = template.checks.get("duplicates") or {}
        if not isinstance(section, Mapping):
            raise ValidationError("checks.duplicates", section, "expected a table of settings")
        return cls.from_mapping(section)
