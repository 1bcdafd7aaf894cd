"""Reading spreadsheet cells the way Excel and WPS leave them.

Cells arrive as text (CSV, vCard) or as typed values (``.xlsx``: numbers, datetimes,
booleans). Excel's habits handled here: ids and phones stored as numbers (``13812345678.0``,
or as text ``1.38123E+10`` with digits already lost, which is refused, never guessed); serial
dates; full-width digits; several phones in one cell; a whole address in one cell; and the
``'`` that :mod:`custrec.io` puts before formula-like cells on export.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from custrec.errors import ValidationError
from custrec.model import Address, Phone, from_excel_serial, parse_date

__all__ = [
    "LIST_SEPARATOR",
    "MAX_CELL",
    "cell_text",
    "read_date",
    "read_id",
    "read_phones",
    "split_address",
    "split_list",
]

MAX_CELL = 32_767
"""Longest cell accepted, in characters: Excel's own limit per cell."""

# Excel's own writing of a long number: one digit before the point, then E+ and at most
# two digits. Text of other shapes (an id such as "0000E800123") is kept as written.
_SCIENTIFIC = re.compile(r"[1-9](?:\.\d+)?[eE]\+\d{1,2}")
_INTEGRAL_FLOAT = re.compile(r"\d+\.0+")
_PHONE_SPLIT = re.compile(r"\s*[/;；,，、|\n／｜]\s*")
_LIST_SEPARATORS = "[,，;；、/|\n／｜]"
_LIST_SPLIT = re.compile(rf"\s*{_LIST_SEPARATORS}\s*")
LIST_SEPARATOR = re.compile(_LIST_SEPARATORS)
"""Any character :func:`split_list` splits at: text without one is a single value."""
# Excel keeps 15 significant digits of a number exactly.
_EXACT_DIGITS = 15


def cell_text(value: object, field: str) -> str | None:
    """Return a cell as text, exactly as written, or ``None`` when it is blank.

    Spaces around the text are kept: they are the customer's data as entered, and the
    quality normalisers, not the import, decide what to tidy.

    Numbers that are whole (``5.0``) lose their ``.0``; datetimes are written in ISO form.

    Args:
        value: The cell as the reader gave it.
        field: The field, for errors.

    Raises:
        ValidationError: The cell is longer than :data:`MAX_CELL` characters.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    if len(text) > MAX_CELL:
        raise ValidationError(field, text, f"a cell may hold at most {MAX_CELL} characters")
    return text if text.strip() else None


def _digits_from_number(value: object, field: str) -> str | None:
    """Whole-number text from a numeric cell, refusing one whose digits Excel has lost."""
    if isinstance(value, bool):
        raise ValidationError(field, value, "expected text or a number, not true/false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= 10**_EXACT_DIGITS:
            raise ValidationError(
                field,
                value,
                "the spreadsheet stored this as a number and digits were lost; "
                "format the column as text in the spreadsheet and export again",
            )
        return str(int(value))
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        if _INTEGRAL_FLOAT.fullmatch(text):
            return text.split(".", 1)[0]
        if _SCIENTIFIC.fullmatch(text):
            return _from_scientific(text, value, field)
    return None


def _from_scientific(text: str, value: object, field: str) -> str:
    """``1.3812345678E+10`` gives its digits; ``1.38123E+10`` (digits lost) is refused."""
    mantissa = text.lower().split("e", 1)[0].lstrip("+-")
    written = len(mantissa.replace(".", "").lstrip("0"))
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise ValidationError(field, value, "not a number") from None
    if number != number.to_integral_value() or number < 0:
        raise ValidationError(field, value, "not a whole number")
    digits = str(int(number))
    if written < len(digits.rstrip("0")) or written < len(digits) - 1:
        raise ValidationError(
            field,
            value,
            f"Excel shortened this number to {text}: digits were lost and cannot be "
            "restored; format the column as text in the spreadsheet and export again",
        )
    return digits


def read_id(value: object, field: str = "id", *, width: int | None = None) -> str | None:
    """Read an id cell: text as written (trimmed), a numeric cell as its whole number.

    Full-width digits are kept: ``"００１"`` is another id than ``"001"``.

    Args:
        value: The cell.
        field: The field, for errors.
        width: Pad an all-digit id with leading zeros to this many digits, for ids like
            ``001`` that a spreadsheet stored as the number 1.

    Returns:
        The id, or ``None`` when the cell is blank.

    Raises:
        ValidationError: A number with lost digits, or a fraction.
    """
    digits = _digits_from_number(value, field)
    text = digits if digits is not None else cell_text(value, field)
    if text is None:
        return None
    text = text.strip()
    if width is not None and text.isdigit() and text.isascii():
        text = text.zfill(width)
    return text


def read_phones(value: object, field: str = "phones", region: str | None = None) -> list[Phone]:
    """Read a phone cell: one number or several (``138…/139…``, ``；``, ``、``, ``,``).

    A landline stored as a number loses its leading ``0`` (``1088886666`` for
    ``010-88886666``); when the number is invalid as read but valid with the ``0``, the
    ``0`` is put back.

    Args:
        value: The cell.
        field: The field, for errors.
        region: Region for numbers without a country code; the configured default if None.

    Returns:
        The phones, first one first; none marked primary.

    Raises:
        ValidationError: A number whose digits Excel lost (``1.38123E+10``).
    """
    digits = _digits_from_number(value, field)
    if digits is not None:
        return [_with_trunk_zero(digits, region)]
    text = cell_text(value, field)
    if text is None:
        return []
    if _PHONE_SPLIT.search(text):
        parts = [part for part in _PHONE_SPLIT.split(text.strip()) if part]
    else:
        parts = [text]
    return [
        _with_trunk_zero(number, region) if number != part else Phone(part, region=region)
        for part in parts
        for number in [_digits_from_number(part, field) or part]
    ]


def _with_trunk_zero(digits: str, region: str | None) -> Phone:
    """A number stored as a number: put back the leading 0 it lost, if that makes it valid."""
    phone = Phone(digits, region=region)
    if not phone.valid:
        padded = Phone("0" + digits, region=region)
        if padded.valid:
            return padded
    return phone


def read_date(value: object, field: str) -> date | None:
    """Read a date cell: a date, a datetime, an Excel serial number or text.

    Raises:
        ValidationError: The cell is not a date that can be read.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_excel_serial(value, field=field).date()
    text = cell_text(value, field)
    return None if text is None else parse_date(text, field=field)


def split_list(value: object, field: str) -> list[str]:
    """Split a cell holding several values (``a, b；c、d``) into its trimmed parts."""
    text = cell_text(value, field)
    if text is None:
        return []
    return [part for part in _LIST_SPLIT.split(text.strip()) if part.strip()]


_MUNICIPALITIES = ("北京", "上海", "天津", "重庆")
_ADDRESS = re.compile(
    r"(?P<province>(?:北京|上海|天津|重庆)市?|[^\d\s省市]{2,7}?(?:省|自治区|特别行政区))?"
    r"(?P<city>[^\d\s省市]{1,10}?(?:市|自治州|地区|盟))?"
    r"(?P<district>[^\d\s省市区县旗]{1,10}?(?:区|县|旗|市))?"
    r"(?P<street>.*)",
    re.DOTALL,
)
_POSTAL = re.compile(r"(?:邮编[:：]?\s*)?(?<!\d)(?P<code>\d{6})(?!\d)\s*$")


def split_address(text: str) -> Address:
    """Split a Chinese address written in one cell into province, city, district, street.

    ``北京市朝阳区建国路88号`` gives province and city ``北京市``, district ``朝阳区`` and
    street ``建国路88号``; ``广东省广州市天河区…`` gives all four. A six-digit postal code at
    the end is taken out. What cannot be split stays in ``street``, as written.

    Args:
        text: The address as written.

    Returns:
        The address, its parts filled where they could be told apart.
    """
    normal = unicodedata.normalize("NFKC", text).strip()
    postal = _POSTAL.search(normal)
    code = None
    if postal is not None and postal.start() > 0:
        code = postal.group("code")
        normal = normal[: postal.start()].rstrip(" ,，")
    match = _ADDRESS.fullmatch(normal)
    if match is None or not (match["province"] or match["city"]):
        return Address(street=text.strip(), postal_code=code)
    province, city, district = match["province"], match["city"], match["district"]
    if province and province.startswith(_MUNICIPALITIES):
        province = province if province.endswith("市") else province + "市"
        if city is None:
            city = province
    street = match["street"].strip() or None
    return Address(
        country="CN" if province or city else None,
        province=province,
        city=city,
        district=district,
        street=street,
        postal_code=code,
    )
