"""Masking personal data shown in findings (``138****5678``, ``z***@abc.com``, ``张*``)."""

from __future__ import annotations

__all__ = ["PERSONAL_FIELDS", "mask", "mask_email", "mask_name", "mask_phone", "mask_text"]

PERSONAL_FIELDS = frozenset(
    {
        "name",
        "phones",
        "emails",
        "handles",
        "addresses",
        "birth_date",
        "family",
        "special_needs",
        "notes",
    }
)
"""Customer fields whose values are personal data and are masked in findings."""


def mask_phone(text: str) -> str:
    """Keep the first three and the last four digits of a phone number: ``138****5678``.

    A leading ``+`` and country code are kept in place (``+86138****5678``); numbers too
    short to hide anything keep only their last two digits.
    """
    if len(text) <= 4:
        return "*" * len(text)
    if len(text) < 9:
        return "*" * (len(text) - 2) + text[-2:]
    keep_head = 3 + (len(text) - 11 if text.startswith("+") and len(text) > 11 else 0)
    keep_head = min(keep_head, len(text) - 6)
    return text[:keep_head] + "*" * (len(text) - keep_head - 4) + text[-4:]


def mask_email(text: str) -> str:
    """Keep the first character of the local part and the whole domain: ``z***@abc.com``."""
    local, at, domain = text.rpartition("@")
    if not at:
        return mask_text(text)
    return f"{local[:1]}***@{domain}"


def mask_name(text: str) -> str:
    """Keep the first character (the family name in Chinese): ``张*``, ``J*** Smith``.

    Latin names keep each word's first letter: ``John Smith`` becomes ``J*** S****``.
    """
    words = text.split()
    if len(words) > 1:
        return " ".join(word[:1] + "*" * (len(word) - 1) for word in words)
    return text[:1] + "*" * max(1, len(text) - 1)


def mask_text(text: str) -> str:
    """Keep the first and last characters of free text, hiding the rest."""
    if len(text) <= 2:
        return "*" * len(text)
    return text[:1] + "*" * (len(text) - 2) + text[-1:]


_BY_FIELD = {
    "name": mask_name,
    "phones": mask_phone,
    "phone": mask_phone,
    "emails": mask_email,
    "email": mask_email,
}


def mask(field: str, value: object) -> str | None:
    """Return ``value`` as text fit to show in a finding, masked when ``field`` is personal.

    The field's first path part decides (``phones[0].raw`` masks as a phone); fields that
    are not personal data come back as plain text.

    Args:
        field: The field path, e.g. ``"phones[0]"`` or ``"custom.member_level"``.
        value: The offending value; ``None`` stays ``None``.

    Returns:
        The text to show, or ``None`` for no value.
    """
    if value is None:
        return None
    text = str(value)
    head = field.split(".", 1)[0].split("[", 1)[0]
    masker = _BY_FIELD.get(head)
    if masker is not None:
        return masker(text)
    if head in PERSONAL_FIELDS:
        return mask_text(text)
    return text
