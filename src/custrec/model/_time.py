"""Reading dates and datetimes from the many ways people and spreadsheets write them.

Every record field that holds a day or a moment goes through this one reader. It accepts:

- ISO 8601: ``2024-10-05``, ``2024-10-05T14:30:00+08:00``, ``2024-10-05 14:30``, ``20241005``;
- year first with other separators: ``2024/10/5 14:30``, ``2024.10.05``;
- Chinese: ``2024年10月5日``, ``2024年10月5日14时30分``, ``2024年10月5日 下午2点半``, in
  full-width digits too;
- year last: ``05/10/2024``, ``10-05-2024``, ``05.10.2024``;
- month names, as dateutil reads them: ``5 Oct 2024``, ``October 5, 2024 2:30 PM``;
- Excel serial day numbers, as numbers or as text: ``45570``, ``"45570.5"``.

Text is first normalised (NFKC, then Chinese date and time markers rewritten as ISO-like
text). The date part is then settled here, so that day and month are never swapped by a
guess: year-first input is always year-month-day, and year-last input whose day and month
could be swapped is read by the ``day_first`` setting, or refused when that is ``None``. What
follows the date (time of day, am/pm, UTC offset) goes to :meth:`datetime.fromisoformat` when
it can and to dateutil's parser otherwise. Nothing is taken from today's date: year, month and
day must all be written, and a year must have four digits.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Context, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

from custrec import config
from custrec.errors import ValidationError

__all__ = ["from_excel_serial", "now", "parse_date", "parse_datetime"]

_UNRECOGNISED = (
    "not a date this library can read: write year, month and day, "
    "e.g. 2024-10-05, 2024/10/5, 05/10/2024, 2024年10月5日 or 5 Oct 2024"
)

# --- Excel's 1900 date system -----------------------------------------------------------------
# Serial 1 is 1900-01-01. Excel (after Lotus 1-2-3) counts a 1900-02-29 that never existed as
# serial 60, so serials after it are one day ahead of a plain count from 1899-12-31.
_EXCEL_FAKE_LEAP_DAY = 60
_EXCEL_LAST_SERIAL = 2958465  # 9999-12-31
_EXCEL_EPOCH_BEFORE_LEAP_DAY = datetime(1899, 12, 31)
_EXCEL_EPOCH_AFTER_LEAP_DAY = datetime(1899, 12, 30)
_SECONDS_PER_DAY = 86400
# Our own context, so a caller's decimal settings (precision, traps) cannot change the result.
_DECIMAL = Context(prec=40)

# --- Patterns, compiled once: this runs for every cell of a bulk import ------------------------
# An Excel serial written as text: five digits (1927-05-18 to 2173-10-14), optional fraction.
# Shorter numbers are refused rather than read as serials: "2024" is a year, not 1905-07-16.
# Eight digits are YYYYMMDD.
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?", re.ASCII)
# 2024-10-05, 2024/10/5, 2024.10.05: one separator, used twice.
_YEAR_FIRST = re.compile(
    r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})(?!\d)", re.ASCII
)
# 20241005, alone or before a time.
_COMPACT = re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})(?=T|\s|$)", re.ASCII)
# 05/10/2024, 10-05-2024, 05.10.2024: which of the first two is the day is settled later.
_YEAR_LAST = re.compile(
    r"(?P<first>\d{1,2})(?P<sep>[-/.])(?P<second>\d{1,2})(?P=sep)(?P<year>\d{4})(?!\d)", re.ASCII
)
# 05/10/24 or 24-10-05: no part has four digits, so the century is unknown.
_SHORT_YEAR = re.compile(r"\d{1,2}(?P<sep>[-/.])\d{1,2}(?P=sep)\d{1,2}(?!\d)", re.ASCII)
# 2024年10月5日 (日 or 号 for the day).
_CN_DATE = re.compile(r"(\d+)\s*年\s*(\d+)\s*月\s*(\d+)\s*[日号號]", re.ASCII)
# 14时30分15秒, 2点30, 2点半, 14点.
_CN_CLOCK = re.compile(
    r"(?<!\d)(?P<hour>\d{1,2})\s*[时時点點]\s*"
    r"(?:(?P<half>半)|(?P<minute>\d{1,2})\s*分?(?:\s*(?P<second>\d{1,2})\s*秒)?)?",
    re.ASCII,
)
# 下午2:30 (after _CN_CLOCK, every Chinese time reads H:MM).
_CN_PERIOD = re.compile(
    r"(?P<period>上午|早上|早晨|凌晨|中午|下午|傍晚|晚上)\s*(?P<hour>\d{1,2})(?=:)", re.ASCII
)
# GMT+8, UTC+05:30. In timestamps these mean "ahead of UTC"; dateutil reads them the POSIX way
# round (GMT+8 as UTC-8), so they are rewritten as plain offsets first.
_GMT_OFFSET = re.compile(
    r"(?<![A-Za-z])(?:UTC|GMT)\s*(?P<sign>[+-])(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?(?!\d)",
    re.ASCII,
)
# What may follow a date for datetime.fromisoformat to be trusted with it: Python 3.11 reads
# "14.30" as 14:00:00.3 and "14:30.5" as 14:30:00.5, so a fraction is allowed after seconds only.
_ISO_TIME = re.compile(
    r"[T ]\d{2}:?\d{2}(?::?\d{2}(?:[.,]\d+)?)?"  # 14:30, 143000, 14:30:00.250
    r"(?:Z|[+-]\d{2}(?::?\d{2}(?::\d{2}(?:\.\d+)?)?)?)?",  # Z, +08, +0800, +08:00, +08:05:43
    re.ASCII,
)
# 14.30 or 14.30.15 as a time of day; dateutil would read 14.30 as 14:00:00.3.
_DOTTED_CLOCK = re.compile(r"(?<![\d.:])\d{1,2}\.\d{2}(?:\.\d{2})?(?![\d.])", re.ASCII)
_WORD = re.compile(r"[A-Za-z]+", re.ASCII)
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)", re.ASCII)

_MORNING = frozenset({"上午", "早上", "早晨", "凌晨"})
_MONTH_NAMES = dateutil_parser.parserinfo()
# Two defaults that differ in year, month and day: a part dateutil had to take from the default
# (because the text lacks it) makes the two readings differ.
_PROBE_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))


class _Unreadable(Exception):  # noqa: N818 - internal signal, never escapes this module
    """The text cannot be read; the public functions turn this into a ValidationError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_datetime(
    value: str | int | float | Decimal | date | datetime,
    *,
    field: str = "",
    timezone: tzinfo | str | None = None,
    day_first: bool | None = None,
) -> datetime:
    """Read a moment in time, always returning a timezone-aware datetime.

    Input that carries a UTC offset (``...+08:00``, ``...Z``, an aware ``datetime``) keeps it.
    Input without one is taken as wall-clock time in ``timezone``: the zone is attached, not
    converted to. A date alone means midnight there. Numbers (and text of five digits with an
    optional fraction) are Excel serial dates, see :func:`from_excel_serial`.

    Args:
        value: Text in any format the module docstring lists, an Excel serial number, a
            ``date`` or a ``datetime``.
        field: The field name to report in errors.
        timezone: Zone for input without an offset: a ``tzinfo`` or an IANA name. ``None``
            uses ``config.get().zone``.
        day_first: How to read year-last dates whose day and month could be swapped, like
            ``05/10/2024``. ``None`` uses ``config.get().day_first``; if that is ``None`` too,
            such input is refused rather than guessed.

    Returns:
        An aware datetime.

    Raises:
        ValidationError: ``value`` is not a date that can be read (with ``field``, the
            original ``value`` and the reason), or ``timezone`` is not a known zone (on
            field ``"timezone"``).
    """
    zone = _zone(timezone)
    try:
        moment = _read(value, day_first)
    except _Unreadable as exc:
        raise ValidationError(field, value, exc.reason) from exc
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        return moment
    return moment.replace(tzinfo=zone)


def parse_date(
    value: str | int | float | Decimal | date | datetime,
    *,
    field: str = "",
    day_first: bool | None = None,
) -> date:
    """Read a calendar date.

    Accepts everything :func:`parse_datetime` does. A time of day, if written, is dropped,
    even when it is not midnight, and so is a UTC offset: the result is the date as written,
    never converted to another zone. A ``datetime`` gives its own ``.date()``.

    Args:
        value: Text in any format the module docstring lists, an Excel serial number, a
            ``date`` or a ``datetime``.
        field: The field name to report in errors.
        day_first: How to read year-last dates whose day and month could be swapped, like
            ``05/10/2024``. ``None`` uses ``config.get().day_first``; if that is ``None`` too,
            such input is refused rather than guessed.

    Returns:
        The date.

    Raises:
        ValidationError: ``value`` is not a date that can be read.
    """
    try:
        return _read(value, day_first).date()
    except _Unreadable as exc:
        raise ValidationError(field, value, exc.reason) from exc


def from_excel_serial(serial: float | int | Decimal, *, field: str = "") -> datetime:
    """Turn an Excel serial date (1900 date system) into a naive datetime.

    Serial 1 is 1900-01-01 and 2958465 is 9999-12-31. Serial 60 is Excel's 1900-02-29, a day
    that never existed, and is refused. The fraction is the time of day, rounded to the
    nearest second (halves up).

    Args:
        serial: Days since Excel's epoch, as Excel stores them.
        field: The field name to report in errors.

    Returns:
        A naive datetime: Excel stores wall-clock time without a zone.

    Raises:
        ValidationError: ``serial`` is not a number, not finite, below 1, past 9999-12-31 or
            on the fake 1900-02-29.
    """
    if isinstance(serial, bool) or not isinstance(serial, int | float | Decimal):
        raise ValidationError(field, serial, "an Excel serial date must be a number")
    try:
        return _from_serial(serial)
    except _Unreadable as exc:
        raise ValidationError(field, serial, exc.reason) from exc


def now() -> datetime:
    """Return the current moment as an aware datetime in UTC.

    Returns:
        ``datetime.now(UTC)``; records use it as the default for their timestamps.
    """
    return datetime.now(UTC)


def _zone(given: tzinfo | str | None) -> tzinfo:
    """Return the zone for naive input: ``given``, or the configured one."""
    if given is None:
        return config.get().zone
    if isinstance(given, tzinfo):
        return given
    if isinstance(given, str):
        try:
            return ZoneInfo(given)
        # ZoneInfo raises OSError for names that are directories ("America") or too long.
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ValidationError(
                "timezone", given, "not an IANA time zone name (e.g. 'Asia/Shanghai')"
            ) from exc
    raise ValidationError("timezone", given, "expected a tzinfo or an IANA time zone name")


def _read(value: object, day_first: bool | None) -> datetime:
    """Read any accepted input as a datetime, aware only if the input carried an offset."""
    if isinstance(value, bool):
        raise _Unreadable("a bool is not a date")
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float | Decimal):
        return _from_serial(value)
    if isinstance(value, str):
        return _read_text(value, day_first)
    raise _Unreadable(
        f"expected text, an Excel serial number, a date or a datetime, not {type(value).__name__}"
    )


def _from_serial(serial: int | float | Decimal) -> datetime:
    """Convert an Excel serial date; see :func:`from_excel_serial`."""
    number = Decimal(serial)  # exact for int and float alike
    if not number.is_finite():
        raise _Unreadable("an Excel serial date must be a finite number")
    if not 1 <= number < _EXCEL_LAST_SERIAL + 1:
        raise _Unreadable(
            f"an Excel serial date must be from 1 (1900-01-01) to {_EXCEL_LAST_SERIAL} (9999-12-31)"
        )
    seconds = int(
        _DECIMAL.multiply(number, _SECONDS_PER_DAY).to_integral_value(rounding=ROUND_HALF_UP)
    )
    # Checked after rounding: 59.9999999 rounds onto the fake leap day, and a time just
    # before midnight of 9999-12-31 rounds past the end of the calendar.
    days, seconds = divmod(seconds, _SECONDS_PER_DAY)
    if days == _EXCEL_FAKE_LEAP_DAY:
        raise _Unreadable(
            "Excel serial 60 is 1900-02-29, a day that never existed (an old Lotus 1-2-3 bug)"
        )
    if days > _EXCEL_LAST_SERIAL:
        raise _Unreadable("an Excel serial date must not be later than 9999-12-31 23:59:59")
    epoch = (
        _EXCEL_EPOCH_BEFORE_LEAP_DAY if days < _EXCEL_FAKE_LEAP_DAY else _EXCEL_EPOCH_AFTER_LEAP_DAY
    )
    return epoch + timedelta(days=days, seconds=seconds)


def _read_text(text: str, day_first: bool | None) -> datetime:
    """Read a date or datetime written as text."""
    normal = unicodedata.normalize("NFKC", text).strip()
    if not normal:
        raise _Unreadable("empty date")
    if _SERIAL.fullmatch(normal):
        return _from_serial(Decimal(normal))
    if not normal.isascii():
        normal = _from_chinese(normal)
    day, rest = _split_date(normal, day_first)
    if day is None:
        return _read_with_month_name(normal)
    if not rest:
        return datetime.combine(day, time())
    return _read_time_of_day(day, rest)


def _from_chinese(text: str) -> str:
    """Rewrite Chinese date and time markers as ISO-like text: 2024-10-5 14:30."""
    text = _CN_DATE.sub(r"\1-\2-\3 ", text)
    text = _CN_CLOCK.sub(_clock, text)
    text = _CN_PERIOD.sub(_period_hour, text)
    return " ".join(text.split())


def _clock(match: re.Match[str]) -> str:
    """Rewrite one 14时30分15秒 / 2点半 as H:MM[:SS]."""
    minute = "30" if match["half"] else (match["minute"] or "0")
    clock = f"{match['hour']}:{int(minute):02d}"
    if match["second"]:
        clock += f":{int(match['second']):02d}"
    return clock


def _period_hour(match: re.Match[str]) -> str:
    """Turn the hour after 上午/下午/晚上/… into a 24-hour clock hour."""
    period, hour = match["period"], int(match["hour"])
    if period in _MORNING:
        if hour > 12:
            raise _Unreadable(f"{period}{hour}点 is not a morning hour")
        return str(0 if hour == 12 else hour)  # 凌晨12点 is midnight, like 12 AM
    if period == "中午":  # around noon: 中午12点 is 12:00, 中午1点 is 13:00
        return str(hour + 12 if hour < 11 else hour)
    if period == "晚上" and hour == 12:
        raise _Unreadable("晚上12点 is midnight at the end of the day: write 0点 of the next day")
    # 下午/傍晚/晚上: 2点 is 14:00, and an hour already on the 24-hour clock (下午14点) stays.
    return str(hour + 12 if hour < 12 else hour)


def _split_date(text: str, day_first: bool | None) -> tuple[date | None, str]:
    """Settle a leading numeric date; return it and the text after it (or ``None``)."""
    for pattern in (_YEAR_FIRST, _COMPACT):
        match = pattern.match(text)
        if match:
            day = _calendar_date(int(match["year"]), int(match["month"]), int(match["day"]))
            return day, text[match.end() :]
    match = _YEAR_LAST.match(text)
    if match:
        day = _year_last(match, day_first)
        return day, text[match.end() :]
    if _SHORT_YEAR.match(text):
        raise _Unreadable(
            "two-digit year: the century is ambiguous, write the year with four digits"
        )
    return None, text


def _calendar_date(year: int, month: int, day: int) -> date:
    """Return the date, or refuse one that does not exist (2024-02-30)."""
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise _Unreadable(f"no such date: {year:04d}-{month:02d}-{day:02d} ({exc})") from exc


def _year_last(match: re.Match[str], day_first: bool | None) -> date:
    """Read DD/MM/YYYY or MM/DD/YYYY, asking configuration whenever both could be meant."""
    first, second, year = int(match["first"]), int(match["second"]), int(match["year"])
    as_day_first = _date_or_none(year, second, first)
    as_month_first = _date_or_none(year, first, second)
    if as_day_first is None or as_month_first is None or as_day_first == as_month_first:
        # Only one reading is a real date (13/10/2024), or both agree (05/05/2024).
        only = as_day_first or as_month_first
        if only is None:
            raise _Unreadable(
                f"no such date: {match[0]} is neither day/month/year nor month/day/year"
            )
        return only
    if day_first is None:
        day_first = config.get().day_first
    if day_first is None and match["sep"] == ".":
        day_first = True  # dotted dates are day first wherever they are written
    if day_first is None:
        raise _Unreadable(
            f"ambiguous day/month order: {match[0]} is {as_day_first.isoformat()} read day "
            f"first or {as_month_first.isoformat()} read month first; set day_first (argument "
            "or config.using(day_first=...)) to choose"
        )
    return as_day_first if day_first else as_month_first


def _date_or_none(year: int, month: int, day: int) -> date | None:
    """Return the date, or ``None`` if it does not exist."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _read_time_of_day(day: date, rest: str) -> datetime:
    """Read what follows a settled date: a time of day, am/pm, a UTC offset."""
    iso = day.isoformat() + rest
    if _ISO_TIME.fullmatch(rest):
        try:
            return datetime.fromisoformat(iso)
        except ValueError:
            pass  # an hour of 25 and the like; dateutil's attempt below reports it
    moment = _dateutil(iso, datetime.combine(day, time()))
    if moment is None or moment.date() != day:
        raise _Unreadable(f"cannot read {rest.strip()!r} as a time of day or UTC offset")
    return moment


def _read_with_month_name(text: str) -> datetime:
    """Read a date written with a month name (5 Oct 2024) through dateutil."""
    if not any(_MONTH_NAMES.month(word) for word in _WORD.findall(text)):
        raise _Unreadable(_UNRECOGNISED)
    readings = [_dateutil(text, default) for default in _PROBE_DEFAULTS]
    if readings[0] is None or readings[1] is None:
        raise _Unreadable(_UNRECOGNISED)
    if readings[0].date() != readings[1].date():
        raise _Unreadable("incomplete date: year, month and day must all be written")
    if f"{readings[0].year:04d}" not in _FOUR_DIGITS.findall(text):
        raise _Unreadable(
            "two-digit year: the century is ambiguous, write the year with four digits"
        )
    return readings[0]


def _dateutil(text: str, default: datetime) -> datetime | None:
    """Parse with dateutil, strictly (no fuzzy matching); ``None`` if it cannot."""
    text = _GMT_OFFSET.sub(_plain_offset, text)
    text = _DOTTED_CLOCK.sub(_colon_clock, text)
    try:
        return dateutil_parser.parse(
            text, default=default, dayfirst=False, yearfirst=False, tzinfos=_offset_zone
        )
    except (ValueError, OverflowError):
        return None


def _plain_offset(match: re.Match[str]) -> str:
    """Rewrite GMT+8 / UTC+05:30 as +08:00 / +05:30."""
    return f" {match['sign']}{int(match['hours']):02d}:{match['minutes'] or '00'}"


def _colon_clock(match: re.Match[str]) -> str:
    """Rewrite 14.30 / 14.30.15 as 14:30 / 14:30:15."""
    return match[0].replace(".", ":")


def _offset_zone(name: str | None, offset: int | None) -> tzinfo | None:
    """Give dateutil a stdlib zone for an offset, and refuse zone abbreviations it cannot place.

    Passing this as ``tzinfos`` also stops dateutil from reading names like ``CST`` through the
    machine's local zone, so results never depend on where the program runs.
    """
    if offset is None:
        if name is None:
            return None
        raise _Unreadable(
            f"unknown time zone abbreviation {name!r}: write a UTC offset such as +08:00"
        )
    if offset == 0:
        return UTC
    return timezone(timedelta(seconds=offset))
