"""Masking personal data, the one place it is done: redaction, findings and error messages.

Each mask leaves a shortened, starred form that lets a person recognise a value they already
know (``138****5678``, ``z***@abc.com``, ``张*``, ``Z**** S**``) without giving it away to one
who does not. :func:`mask` masks a value by the field it was found in (quality findings);
:func:`show` renders any value for an exception message, masking what it recognises.

This module sits beside :mod:`custrec.errors` at the bottom of the package: it imports only
the standard library, attrs and phonenumbers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import attrs
import phonenumbers

__all__ = [
    "NAME_FIELDS",
    "PERSONAL_FIELDS",
    "PHONE_FIELDS",
    "mask",
    "mask_email",
    "mask_emails_in",
    "mask_name",
    "mask_phone",
    "mask_text",
    "show",
]

_STAR = "*"
_LONG_NUMBER = 10  # from here on, the first 3 and last 4 digits are shown (138****5678)
_SHORT_NUMBER = 6  # from here on, the last 2 digits are shown; below, nothing

# Field names and spreadsheet headers (folded: lower case, no spaces, '_' or '-') whose
# values are phone numbers, names or email addresses.
PHONE_FIELDS = frozenset(
    {
        "raw",
        "e164",
        "phone",
        "phones",
        "mobile",
        "tel",
        "telephone",
        "phonenumber",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "电话号码",
        "联系电话",
        "联系方式",
    }
)
"""Fields and headers holding phone numbers: digit runs under them are masked in messages."""

NAME_FIELDS = frozenset(
    {
        "name",
        "fullname",
        "customername",
        "姓名",
        "客户名称",
        "客户姓名",
        "名称",
        "联系人",
        "owner",
        "handledby",
    }
)
"""Fields and headers holding people's names: masked as names in messages."""

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

_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003ffff]"
)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _digits(text: str) -> str:
    return "".join(char for char in _nfkc(text) if char.isdigit())


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
    text = _nfkc(number).strip()
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


def mask_email(address: str) -> str:
    """Return an email address with its local part hidden: ``zhangsan@abc.com`` → ``z***@abc.com``.

    The domain is kept (it names a provider or an employer, rarely a person). Text without
    an ``@`` or with nothing before it is hidden entirely.

    Args:
        address: The address.

    Returns:
        The masked address.
    """
    text = _nfkc(address).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local:
        return _STAR * 3
    return f"{local[0]}{_STAR * 3}@{domain.lower()}"


def mask_name(name: str) -> str:
    """Return a name showing only its first character, or each word's first letter.

    Chinese, Japanese and Korean names keep their first character (usually the family name)
    whatever their spacing: ``张伟`` → ``张*``, ``欧阳明华`` → ``欧***``, ``张 三`` → ``张*``.
    Other names keep each word's first letter: ``Zhang San`` → ``Z**** S**``,
    ``José García`` → ``J*** G*****``. A name of one character still gets a star (``张*``).

    Args:
        name: A person's or an organisation's name.

    Returns:
        The masked name, words separated by single spaces.
    """
    text = _nfkc(name)
    if _CJK.search(text):
        joined = "".join(text.split())
        return joined[:1] + _STAR * max(len(joined) - 1, 1) if joined else _STAR
    words = text.split()
    if len(words) == 1:
        return words[0][0] + _STAR * max(len(words[0]) - 1, 1)
    return " ".join(word[0] + _STAR * (len(word) - 1) for word in words) or _STAR


def mask_text(text: str) -> str:
    """Return text with all but its first character hidden: ``wxid_8k2m9x`` → ``w**********``.

    Args:
        text: Any identifying text (a handle, an external id, a company name, a note).

    Returns:
        The first character, then one ``*`` per further character.
    """
    stripped = _nfkc(text).strip()
    return stripped[:1] + _STAR * (len(stripped) - 1) if stripped else _STAR


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


# -- messages ----------------------------------------------------------------------------------

_MAX_SHOWN = 80
_MAX_WALKED = 200  # items of a document looked at before the rest is cut
_EMAIL_SHAPE = re.compile(r"([^\s'\"@<>(),;:\[\]{}])[^\s'\"@<>(),;:\[\]{}]*@")
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s\-.()]*\d){4,}")


def _fold(field: object) -> str:
    """The last part of a field path or header, folded: ``phones[2].raw`` → ``raw``."""
    path = re.sub(r"\[[^\]]*\]", "", str(field or ""))
    last = path.rsplit(".", 1)[-1]
    return re.sub(r"[\s_\-（）()]|必填", "", _nfkc(last)).lower()


def _mask_digits(match: re.Match[str]) -> str:
    return mask_phone(match.group())


def mask_emails_in(text: str) -> str:
    """Return ``text`` with every email-shaped part's local part starred."""
    return _EMAIL_SHAPE.sub(r"\1***@", text)


class _Shown:
    """Text that ``repr`` shows as it is: a masked rendering of a record or value object."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _masked(value: object, field: str, budget: list[int]) -> object:
    """A copy of ``value`` with what ``field`` (or a document's keys) says is personal masked."""
    budget[0] -= 1
    if budget[0] < 0:
        return ...
    if isinstance(value, Mapping):
        return {key: _masked(item, str(key), budget) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_masked(item, field, budget) for item in value]
    kind = type(value)
    if attrs.has(kind):
        parts = (
            f"{part.name}={_masked(getattr(value, part.name), part.name, budget)!r}"
            for part in attrs.fields(kind)
        )
        return _Shown(f"{kind.__name__}({', '.join(parts)})")
    folded = _fold(field)
    if isinstance(value, int) and not isinstance(value, bool) and folded in PHONE_FIELDS:
        return _Shown(mask_phone(str(value)))
    if not isinstance(value, str):
        return value
    if folded in NAME_FIELDS:
        return mask_name(value)
    if folded in PHONE_FIELDS:
        return _DIGIT_RUN.sub(_mask_digits, value[: _MAX_SHOWN * 4])
    return value


def show(value: object, field: str | None = None) -> str:
    """Render ``value`` for an exception message: personal data masked, cut short.

    Email addresses are masked wherever they appear; names and phone numbers where the
    field (or, inside a document, the key) says that is what they are. Elsewhere digits
    stay (they are dates, amounts, ids). Only the start of a long value is shown.

    Args:
        value: The offending value.
        field: The field or column it was found in.

    Returns:
        Text of at most 80 characters.
    """
    if isinstance(value, str):
        value = value[: _MAX_SHOWN * 4]
    shown = _masked(value, field or "", [_MAX_WALKED])
    # Only the start is ever shown; cutting first keeps the masking linear in what is shown.
    text = mask_emails_in(repr(shown)[: _MAX_SHOWN * 4])
    if _fold(field) in PHONE_FIELDS:  # whatever the value's shape, no full number shows
        text = _DIGIT_RUN.sub(_mask_digits, text)
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 3] + "..."
    return text
