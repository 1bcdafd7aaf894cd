"""vCard (RFC 6350 version 4.0, and RFC 2426 version 3.0): contact cards in and out.

Written here rather than taken from a library: vobject, the established Python package, reads
and writes version 3.0 only, and the part custrec needs (content lines, folding, escaping,
about a dozen properties) is small and fully specified by the RFCs.

A card becomes one row with the columns :data:`HEADERS`; what a customer holds beyond a card's
properties (custom fields, consents, history) is not written, and properties custrec has no
field for are not read.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from custrec.errors import ValidationError
from custrec.io._csv import _text_stream
from custrec.io._table import Row, Table
from custrec.model import Customer, Gender

__all__ = ["HEADERS", "read_vcard", "write_vcard"]

HEADERS = (
    "id", "name", "company", "job_title", "phones", "emails", "birth_date", "notes", "tags",
    "gender", "country", "province", "city", "street", "postal_code",
)  # fmt: skip
"""The columns of the rows a vCard file gives (customer fields)."""

_COLUMN = {name: index for index, name in enumerate(HEADERS)}
_LINE = re.compile(
    r"(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):(?P<value>.*)"
)
_UNESCAPE = re.compile(r"\\([\\,;nN])")
_VERSIONS = ("3.0", "4.0")
_GENDERS = {"M": "male", "F": "female"}
_FOLD_OCTETS = 75


def _unescape(text: str) -> str:
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split(text: str, separator: str) -> list[str]:
    """Split on an unescaped separator, then unescape each part."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append(_unescape("".join(current)))
            current = []
        else:
            current.append(char)
    parts.append(_unescape("".join(current)))
    return parts


def read_vcard(stream: BinaryIO, *, encoding: str | None = None) -> Table:
    """Read the cards of a vCard file as rows (one per card, numbered from 1).

    Args:
        stream: The file, binary.
        encoding: Its text encoding; detected if None (vCard 4.0 is always UTF-8).

    Returns:
        The table, with :data:`HEADERS` as its columns.

    Raises:
        ValidationError: The encoding cannot be told or is wrong.
    """
    text, chosen = _text_stream(stream, encoding)
    return Table(HEADERS, _cards(_unfold(text)), None, chosen, text.detach)


def _unfold(lines: Iterable[str]) -> Iterator[str]:
    current: str | None = None
    for raw in lines:
        line = raw.rstrip("\r\n")
        if line[:1] in (" ", "\t") and current is not None:
            current += line[1:]
            continue
        if current is not None:
            yield current
        current = line
    if current is not None:
        yield current


def _cards(lines: Iterator[str]) -> Iterator[Row]:
    number = 0
    card: list[tuple[str, str, str]] | None = None
    for line in lines:
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        name = match["name"].upper() if match else ""
        if name == "BEGIN" and match and match["value"].strip().upper() == "VCARD":
            if card is not None:
                number += 1
                yield number, ValidationError("", None, "a card without END:VCARD")
            card = []
        elif name == "END" and card is not None:
            number += 1
            yield number, _row(card)
            card = None
        elif card is not None and match is not None:
            card.append((name, match["params"].upper(), match["value"]))
        elif card is None:
            number += 1
            yield number, ValidationError("", line[:80], "text outside BEGIN:VCARD … END:VCARD")
    if card is not None:
        number += 1
        yield number, ValidationError("", None, "the file ends inside a card (no END:VCARD)")


def _row(card: list[tuple[str, str, str]]) -> list[str | None] | ValidationError:  # noqa: PLR0912 - one branch per vCard property
    cells: list[str | None] = [None] * len(HEADERS)
    phones: list[str] = []
    emails: list[str] = []
    tags: list[str] = []
    version = next((value.strip() for name, _, value in card if name == "VERSION"), None)
    if version not in _VERSIONS:
        return ValidationError("VERSION", version, "custrec reads vCard 3.0 and 4.0")
    structured_name = None
    for name, _params, value in card:
        if name == "UID":
            cells[_COLUMN["id"]] = _unescape(value).removeprefix("urn:uuid:")
        elif name == "FN":
            cells[_COLUMN["name"]] = _unescape(value)
        elif name == "N":
            structured_name = "".join(part for part in _split(value, ";")[:2][::1] if part)
        elif name == "ORG":
            cells[_COLUMN["company"]] = _split(value, ";")[0]
        elif name == "TITLE":
            cells[_COLUMN["job_title"]] = _unescape(value)
        elif name == "TEL":
            phones.append(_unescape(value).removeprefix("tel:"))
        elif name == "EMAIL":
            emails.append(_unescape(value))
        elif name == "BDAY":
            cells[_COLUMN["birth_date"]] = _bday(_unescape(value))
        elif name == "NOTE":
            cells[_COLUMN["notes"]] = _unescape(value)
        elif name == "CATEGORIES":
            tags.extend(part.strip() for part in _split(value, ",") if part.strip())
        elif name == "GENDER":
            sex = _split(value, ";")[0].upper()
            cells[_COLUMN["gender"]] = _GENDERS.get(sex) if sex else None
        elif name == "ADR" and cells[_COLUMN["street"]] is None:
            parts = [*_split(value, ";"), "", "", "", "", "", "", ""][:7]
            street = "\n".join(p for p in (parts[1], parts[2]) if p) or None
            cells[_COLUMN["street"]] = street
            cells[_COLUMN["city"]] = parts[3] or None
            cells[_COLUMN["province"]] = parts[4] or None
            cells[_COLUMN["postal_code"]] = parts[5] or None
            cells[_COLUMN["country"]] = parts[6] or None
    if cells[_COLUMN["name"]] is None:
        cells[_COLUMN["name"]] = structured_name or None
    cells[_COLUMN["phones"]] = "\n".join(phones) or None
    cells[_COLUMN["emails"]] = "\n".join(emails) or None
    cells[_COLUMN["tags"]] = "\n".join(tags) or None
    return cells


def _bday(value: str) -> str:
    """4.0 writes ``19900501``; 3.0 ``1990-05-01``; both read as ISO dates."""
    text = value.strip()
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


# -- writing ------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never inside a character."""
    out: list[str] = []
    piece: list[str] = []
    size, limit = 0, _FOLD_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append("".join(piece))
            piece, size, limit = [], 0, _FOLD_OCTETS - 1
        piece.append(char)
        size += width
    out.append("".join(piece))
    return "\r\n ".join(out) + "\r\n"


def _card(customer: Customer, version: str) -> str:
    lines = ["BEGIN:VCARD", f"VERSION:{version}", f"UID:{_escape(customer.id)}"]
    name = customer.name or customer.company or customer.id
    lines.append(f"FN:{_escape(name)}")
    if version == "3.0" or customer.name:
        lines.append(f"N:{_escape(customer.name or '')};;;;")
    if customer.company:
        lines.append(f"ORG:{_escape(customer.company)}")
    if customer.job_title:
        lines.append(f"TITLE:{_escape(customer.job_title)}")
    if version == "4.0" and customer.gender in (Gender.MALE, Gender.FEMALE):
        lines.append(f"GENDER:{'M' if customer.gender is Gender.MALE else 'F'}")
    for phone in customer.phones:
        kind = ";VALUE=text" if version == "4.0" else ""
        lines.append(f"TEL{kind}:{_escape(phone.raw)}")
    lines.extend(f"EMAIL:{_escape(email.address)}" for email in customer.emails)
    if customer.birth_date is not None:
        day = customer.birth_date
        lines.append(f"BDAY:{day.strftime('%Y%m%d') if version == '4.0' else day.isoformat()}")
    address = customer.primary_address
    if address is not None:
        street = address.street or ""
        parts = ("", "", street, address.city, address.province, address.postal_code)
        fields = [_escape(part or "") for part in (*parts, address.country)]
        lines.append("ADR:" + ";".join(fields))
    if customer.notes:
        lines.append(f"NOTE:{_escape(customer.notes)}")
    if customer.tags:
        lines.append("CATEGORIES:" + ",".join(_escape(tag) for tag in sorted(customer.tags)))
    lines.append("END:VCARD")
    return "".join(_fold(line) for line in lines)


def write_vcard(stream: BinaryIO, customers: Iterable[Customer], *, version: str = "4.0") -> int:
    """Write customers as vCards (UTF-8, CRLF line ends, lines folded at 75 octets).

    Args:
        stream: Binary output.
        customers: The customers.
        version: ``"4.0"`` (RFC 6350) or ``"3.0"`` (RFC 2426).

    Returns:
        How many cards were written.

    Raises:
        ValidationError: ``version`` is neither.
    """
    if version not in _VERSIONS:
        raise ValidationError("version", version, "write vCard '3.0' or '4.0'")
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="", write_through=True)
    count = 0
    try:
        for customer in customers:
            text.write(_card(customer, version))
            count += 1
        text.flush()
    finally:
        text.detach()
    return count
