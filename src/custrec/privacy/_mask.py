"""Masking of single values: phones, emails, names, free identifiers, addresses.

Each function returns a shortened, starred form that lets a person recognise a value they
already know (``138****5678``) without giving it away to one who does not.
"""

from __future__ import annotations

import unicodedata

import phonenumbers

from custrec.model import Address, Email, Handle, Phone

__all__ = [
    "mask_address",
    "mask_email",
    "mask_email_value",
    "mask_handle",
    "mask_name",
    "mask_phone",
    "mask_phone_value",
    "mask_text",
]

_STAR = "*"
_LONG_NUMBER = 10  # from here on, the first 3 and last 4 digits are shown (138****5678)
_SHORT_NUMBER = 6  # from here on, the last 2 digits are shown; below, nothing


def _digits(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKC", text) if char.isdigit())


def mask_phone(number: str) -> str:
    """Return a phone number with its middle digits hidden.

    Numbers of ten digits or more keep their first three and last four digits
    (``13812345678`` → ``138****5678``); shorter ones keep at most the last two; anything
    but digits is dropped, so spacing and country codes do not give the number away.

    Args:
        number: The number as written, or its E.164 form.

    Returns:
        The masked digits, one ``*`` per hidden digit.
    """
    digits = _digits(number)
    text = unicodedata.normalize("NFKC", number).strip()
    if text.startswith("+"):
        try:
            parsed = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None and parsed.national_number:
            digits = str(parsed.national_number)
    count = len(digits)
    if count >= _LONG_NUMBER:
        return digits[:3] + _STAR * (count - 7) + digits[-4:]
    if count >= _SHORT_NUMBER:
        return _STAR * (count - 2) + digits[-2:]
    return _STAR * max(count, 1)


def mask_phone_value(phone: Phone) -> Phone:
    """Return a :class:`~custrec.model.Phone` whose number is masked.

    The masked phone has no E.164 form and is not valid: it can no longer be dialled or
    looked up. Label, region and the primary mark are kept.
    """
    shown = mask_phone(phone.e164 or phone.raw)
    return Phone(
        shown,
        label=phone.label,
        primary=phone.primary,
        region=phone.region,
        _e164=None,
        _valid=False,
    )


def mask_email(address: str) -> str:
    """Return an email address with its local part hidden: ``zhangsan@abc.com`` → ``z***@abc.com``.

    The domain is kept (it names a provider or an employer, rarely a person). Text without
    an ``@`` or with nothing before it is hidden entirely.

    Args:
        address: The address.

    Returns:
        The masked address.
    """
    text = unicodedata.normalize("NFKC", address).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return _STAR * 3
    return f"{local[0]}{_STAR * 3}@{domain.lower()}"


def mask_email_value(email: Email) -> Email:
    """Return an :class:`~custrec.model.Email` whose address is masked (see :func:`mask_email`)."""
    return Email(mask_email(email.address), label=email.label, primary=email.primary)


def mask_name(name: str) -> str:
    """Return a name with all but the first character of each word hidden.

    ``张伟`` → ``张*``, ``欧阳明华`` → ``欧***``, ``José García`` → ``J*** G*****``.

    Args:
        name: A person's or an organisation's name.

    Returns:
        The masked name, words still separated by single spaces.
    """
    words = unicodedata.normalize("NFKC", name).split()
    return " ".join(word[0] + _STAR * (len(word) - 1) for word in words) or _STAR


def mask_text(text: str) -> str:
    """Return text with all but its first character hidden: ``wxid_8k2m9x`` → ``w**********``.

    Args:
        text: Any identifying text (a handle, an external id, a company name).

    Returns:
        The first character, then one ``*`` per further character.
    """
    stripped = unicodedata.normalize("NFKC", text).strip()
    return stripped[:1] + _STAR * (len(stripped) - 1) if stripped else _STAR


def mask_handle(handle: Handle) -> Handle:
    """Return a messaging handle whose id on the network is masked; the network is kept."""
    return Handle(
        handle.network, mask_text(handle.handle), label=handle.label, primary=handle.primary
    )


def mask_address(address: Address) -> Address:
    """Return an address cut to city level: no district, street or postal code."""
    return Address(
        country=address.country,
        province=address.province,
        city=address.city,
        label=address.label,
        primary=address.primary,
    )
