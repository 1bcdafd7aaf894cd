"""How to reach a customer: phones, emails, messaging handles and addresses."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import attrs
import phonenumbers

from custrec import config
from custrec.errors import ValidationError
from custrec.model._choices import HandleNetwork, Other, to_choice
from custrec.model._fields import Invalid, check_bool, checked, invalid, to_opt_text, to_text

__all__ = ["Address", "Email", "Handle", "Phone", "normalize_email", "normalize_phone"]


def _to_region(value: str | None) -> str | Invalid:
    region = config.get().phone_region if value is None else value
    if not isinstance(region, str) or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
        return invalid(value, "not a phone region (ISO 3166 alpha-2, e.g. 'CN')")
    return region.upper()


_DERIVE: Any = object()  # marks a Phone field still to be derived from raw and region
_E164 = re.compile(r"\+[1-9]\d{1,14}")


def parse_phone(raw: str, region: str | None = None) -> tuple[str | None, bool]:
    """Return a phone number's E.164 form (or ``None``) and whether it is valid.

    See :func:`normalize_phone` for what is understood.
    """
    return _parse_phone((region or config.get().phone_region).upper(), raw)


# Parsing costs tens of microseconds, and the same numbers come back (lookups of the same
# customers, imports with repeated numbers). The answer depends on the text and the region
# only, so a bounded cache gives exactly what parsing would.
@functools.lru_cache(maxsize=16384)
def _parse_phone(region: str, raw: str) -> tuple[str | None, bool]:
    text = unicodedata.normalize("NFKC", raw).strip()
    if region == "CN":
        e164 = _cn_mobile(text)
        if e164 is not None:
            return e164, True
    return _parse_with_phonenumbers(region, text)


# Chinese mobile numbers, the numbers custrec's users type most, read from phonenumbers' own
# metadata: 11 digits (spaces and hyphens between them, ``+86`` before them, allowed) that
# match the region's general and mobile patterns are what parsing makes them, valid,
# ``+86`` and the digits, at a fraction of the cost (tests compare the two on every prefix
# and on random writings). Anything else, or a number whose start could be read as a
# carrier or national prefix, goes through phonenumbers.
class _MobilePatterns(NamedTuple):
    general: re.Pattern[str]
    mobile: re.Pattern[str]
    national_prefix: re.Pattern[str]
    lengths: frozenset[int]


def _mobile_patterns(region: str) -> _MobilePatterns | None:
    """The region's patterns from phonenumbers' metadata; ``None`` if any is missing."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None or meta.mobile is None:
        return None
    general, mobile = meta.general_desc.national_number_pattern, meta.mobile.national_number_pattern
    prefix = meta.national_prefix_for_parsing
    if not (general and mobile and prefix and meta.mobile.possible_length):
        return None
    return _MobilePatterns(
        re.compile(general),
        re.compile(mobile),
        re.compile(prefix),
        frozenset(meta.mobile.possible_length),
    )


_CN = _mobile_patterns("CN")
_SPACES_AND_HYPHENS = str.maketrans("", "", " -")


def _cn_mobile(text: str) -> str | None:
    """``text``'s E.164 form when it is a Chinese mobile number in a plain writing, else None."""
    if _CN is None:
        return None
    digits = text.translate(_SPACES_AND_HYPHENS)
    if digits.startswith("+86"):
        digits = digits[3:]
    if (
        len(digits) in _CN.lengths
        and digits.isascii()
        and digits.isdigit()
        and _CN.general.fullmatch(digits)
        and _CN.mobile.fullmatch(digits)
        and not _CN.national_prefix.match(digits)
    ):
        return f"+86{digits}"
    return None


def _parse_with_phonenumbers(region: str, text: str) -> tuple[str | None, bool]:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, False
    valid = phonenumbers.is_valid_number(number)
    if not valid and not text.startswith("+"):
        try:
            international = phonenumbers.parse("+" + text, region)
        except phonenumbers.NumberParseException:
            international = None
        if international is not None and phonenumbers.is_valid_number(international):
            number, valid = international, True
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), valid


def normalize_phone(raw: str, region: str | None = None) -> str | None:
    """Return the E.164 form of a phone number as a person typed it, or ``None``.

    Full-width digits, spaces, hyphens, brackets and a leading ``00`` or ``+`` are all
    understood. Digits that start with the region's country code but lack the ``+``
    (``8613812345678``) are read as international when that gives a valid number.

    Args:
        raw: The number as typed.
        region: Region for numbers without a country code; the configured default if None.

    Returns:
        ``"+8613812345678"``-style text, or ``None`` when the text holds no phone number.
    """
    return parse_phone(raw, region)[0]


def normalize_email(address: str) -> str:
    """Return the lookup key of an email address: trimmed, NFKC-folded, lower-cased."""
    # NFKC leaves ASCII text as it is.
    folded = address if address.isascii() else unicodedata.normalize("NFKC", address)
    return folded.strip().lower()


class _Primary(Protocol):
    @property
    def primary(self) -> bool: ...


def check_one_primary(field: str, items: Sequence[_Primary]) -> None:
    """Raise ValidationError when more than one item of a contact list is primary."""
    if len(items) > 1 and sum(1 for item in items if item.primary) > 1:
        raise ValidationError(field, items, "at most one entry may be marked primary")


def primary_of(items: Sequence[Any]) -> Any:
    """The entry marked primary, else the first, else ``None``."""
    for item in items:
        if item.primary:
            return item
    return items[0] if items else None


@attrs.frozen(field_transformer=checked)
class Phone:
    """A phone number: the text as given, plus its E.164 form.

    A number that cannot be read is kept, not refused, with ``valid`` false; the quality
    checks report it. ``e164`` and ``valid`` are derived from ``raw`` and ``region`` when a
    phone is built; a stored document hands back the values derived when it was written
    (well-formed ones are taken as they are, so reading records never re-parses phones).

    Attributes:
        raw: The number exactly as it was given.
        label: What kind of number it is (``"mobile"``, ``"work"``, ``"手机"``…).
        primary: Whether this is the customer's main number.
        region: Region used for a number without a country code; the configured default
            (``custrec.config``) when not given, then kept with the record.
        e164: The normalised ``+<country><number>`` form, or ``None`` if unreadable.
        valid: Whether phonenumbers considers the number valid for its region.
    """

    raw: str = attrs.field(converter=to_text)
    label: str | None = attrs.field(default=None, converter=to_opt_text)
    primary: bool = attrs.field(default=False, validator=check_bool)
    region: str = attrs.field(default=None, converter=_to_region)
    # Derived from raw and region. The private keywords let a stored document hand back
    # what was derived when it was written, so reading a record does not re-parse phones.
    e164: str | None = attrs.field(default=_DERIVE, alias="_e164", kw_only=True)
    valid: bool = attrs.field(default=_DERIVE, alias="_valid", kw_only=True)

    def __attrs_post_init__(self) -> None:
        e164, valid = self.e164, self.valid
        if e164 is _DERIVE or valid is _DERIVE or not _derived_fit(e164, valid):
            e164, valid = parse_phone(self.raw, self.region)
            object.__setattr__(self, "e164", e164)
            object.__setattr__(self, "valid", valid)


def _derived_fit(e164: object, valid: object) -> bool:
    return isinstance(valid, bool) and (
        e164 is None or (isinstance(e164, str) and _E164.fullmatch(e164) is not None)
    )


_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+")


def _to_email(value: str) -> str | Invalid:
    checked_text = to_text(value)
    if isinstance(checked_text, Invalid):
        return checked_text
    # NFKC leaves ASCII text as it is.
    text = (
        checked_text if checked_text.isascii() else unicodedata.normalize("NFKC", checked_text)
    ).strip()
    local, at, domain = text.rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else text


@attrs.frozen(field_transformer=checked)
class Email:
    """An email address, trimmed and with its domain lower-cased.

    Syntax is not enforced here (a quality check reports bad addresses); lookups compare
    :attr:`key`, which ignores case entirely.

    Attributes:
        address: The address, normalised (NFKC, trimmed, domain lower-cased).
        label: What kind of address it is (``"work"``, ``"personal"``…).
        primary: Whether this is the customer's main address.
    """

    address: str = attrs.field(converter=_to_email)
    label: str | None = attrs.field(default=None, converter=to_opt_text)
    primary: bool = attrs.field(default=False, validator=check_bool)

    @property
    def key(self) -> str:
        """The lookup key: the whole address lower-cased."""
        return normalize_email(self.address)

    @property
    def looks_valid(self) -> bool:
        """A cheap shape test (``x@y``); the quality checks validate properly."""
        return _EMAIL_SHAPE.fullmatch(self.address) is not None


def _to_network(value: HandleNetwork | Other | str) -> HandleNetwork | Other | Invalid:
    return to_choice(HandleNetwork, value)


@attrs.frozen(field_transformer=checked)
class Handle:
    """A messaging handle: a network (WeChat, QQ, WhatsApp, LINE…) and the id on it.

    Attributes:
        network: The network, or :class:`~custrec.model.Other` for one not listed.
        handle: The customer's id on that network, as given.
        label: A free label.
        primary: Whether this is the customer's main handle.
    """

    network: HandleNetwork | Other = attrs.field(converter=_to_network)
    handle: str = attrs.field(converter=to_text)
    label: str | None = attrs.field(default=None, converter=to_opt_text)
    primary: bool = attrs.field(default=False, validator=check_bool)

    @property
    def key(self) -> str:
        """The lookup key: ``network:handle``, the handle trimmed and lower-cased."""
        return f"{self.network}:{normalize_email(self.handle)}"


@attrs.frozen(field_transformer=checked)
class Address:
    """A postal address, split into the parts Chinese and international forms use.

    Attributes:
        country: The country, preferably an ISO 3166 alpha-2 code (``"CN"``).
        province: Province, state or region (省/自治区/直辖市).
        city: City (市).
        district: District or county (区/县).
        street: Street and number, building, room.
        postal_code: Postal code as written.
        label: What kind of address it is (``"home"``, ``"billing"``…).
        primary: Whether this is the customer's main address.
    """

    country: str | None = attrs.field(default=None, converter=to_opt_text)
    province: str | None = attrs.field(default=None, converter=to_opt_text)
    city: str | None = attrs.field(default=None, converter=to_opt_text)
    district: str | None = attrs.field(default=None, converter=to_opt_text)
    street: str | None = attrs.field(default=None, converter=to_opt_text)
    postal_code: str | None = attrs.field(default=None, converter=to_opt_text)
    label: str | None = attrs.field(default=None, converter=to_opt_text)
    primary: bool = attrs.field(default=False, validator=check_bool)

    def __str__(self) -> str:
        parts = (self.province, self.city, self.district, self.street)
        return "".join(part for part in parts if part)
