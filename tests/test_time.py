"""Tests for custrec.model._time: the one reader for messy dates and datetimes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec import config
from custrec.errors import ValidationError
from custrec.model._time import from_excel_serial, now, parse_date, parse_datetime

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLUS_8 = timezone(timedelta(hours=8))


def at(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    *,
    second: int = 0,
    microsecond: int = 0,
    tz: tzinfo = UTC,
) -> datetime:
    """Build an aware datetime, UTC unless told otherwise."""
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=tz)


@pytest.fixture(autouse=True)
def _known_settings() -> Iterator[None]:
    """Pin the settings these tests assume, whatever the process default is."""
    with config.using(timezone="UTC", day_first=None):
        yield


def _fixed_offsets() -> st.SearchStrategy[tzinfo]:
    return st.builds(
        lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60, 23 * 60)
    )


# st.timezones() needs an IANA database; fixed offsets are tested either way.
ZONES = st.one_of(st.timezones(), _fixed_offsets()) if available_timezones() else _fixed_offsets()
FOUR_DIGIT_YEAR_DATES = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))


class TestFormats:
    """Every written form the reader promises to understand."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            # ISO 8601
            ("2024-10-05", at(2024, 10, 5)),
            ("2024-10-05T14:30:00", at(2024, 10, 5, 14, 30)),
            ("2024-10-05T14:30:00+08:00", at(2024, 10, 5, 14, 30, tz=PLUS_8)),
            ("2024-10-05T06:30:00Z", at(2024, 10, 5, 6, 30)),
            ("2024-10-05 14:30", at(2024, 10, 5, 14, 30)),
            ("2024-10-05T14:30:00.250", at(2024, 10, 5, 14, 30, microsecond=250000)),
            ("20241005", at(2024, 10, 5)),
            ("20241005T143000", at(2024, 10, 5, 14, 30)),
            # year first, other separators
            ("2024/10/05", at(2024, 10, 5)),
            ("2024/10/5 14:30", at(2024, 10, 5, 14, 30)),
            ("2024.10.05", at(2024, 10, 5)),
            # Chinese
            ("2024年10月5日", at(2024, 10, 5)),
            ("2024年10月5日 14:30", at(2024, 10, 5, 14, 30)),
            ("2024年10月5日14时30分", at(2024, 10, 5, 14, 30)),
            ("2024年10月5日 下午2点30分", at(2024, 10, 5, 14, 30)),
            ("２０２４年１０月５日", at(2024, 10, 5)),
            ("２０２４年１０月５日　１４：３０", at(2024, 10, 5, 14, 30)),
            ("2024年10月5号", at(2024, 10, 5)),
            ("2024年10月5日 9点05分30秒", at(2024, 10, 5, 9, 5, second=30)),
            # dotted year last: day first by convention
            ("05.10.2024", at(2024, 10, 5)),
            # Excel serials written as text
            ("45570", at(2024, 10, 5)),
            ("45570.5", at(2024, 10, 5, 12)),
            # month names, am/pm and offsets, through dateutil
            ("5 Oct 2024", at(2024, 10, 5)),
            ("October 5, 2024 2:30 PM", at(2024, 10, 5, 14, 30)),
            ("2024-10-05 2:30 pm", at(2024, 10, 5, 14, 30)),
            ("2024-10-05 14:30 +0800", at(2024, 10, 5, 14, 30, tz=PLUS_8)),
            ("2024-10-05 14:30 UTC", at(2024, 10, 5, 14, 30)),
            # dotted clock times, and fractions of a second that look like them
            ("2024-10-05 14.30", at(2024, 10, 5, 14, 30)),
            ("2024-10-05 14.30.15", at(2024, 10, 5, 14, 30, second=15)),
            ("5 Oct 2024 14.30", at(2024, 10, 5, 14, 30)),
            (
                "2024-10-05 14:30:00.50 +08:00",
                at(2024, 10, 5, 14, 30, microsecond=500000, tz=PLUS_8),
            ),
            # padding and doubled spaces are not errors
            ("  2024-10-05  ", at(2024, 10, 5)),
            ("2024-10-05   14:30", at(2024, 10, 5, 14, 30)),
        ],
    )
    def test_reads(self, text: str, expected: datetime) -> None:
        """Each supported form is read as the intended moment, with its offset."""
        result = parse_datetime(text)
        assert result == expected
        assert result.utcoffset() == expected.utcoffset()

    @pytest.mark.parametrize(
        ("text", "day_first", "expected"),
        [
            ("05/10/2024", True, date(2024, 10, 5)),
            ("05/10/2024", False, date(2024, 5, 10)),
            ("10-05-2024", False, date(2024, 10, 5)),
            ("10-05-2024", True, date(2024, 5, 10)),
            ("5/10/2024 14:30", True, date(2024, 10, 5)),
        ],
    )
    def test_reads_year_last_by_day_first(self, text: str, day_first: bool, expected: date) -> None:
        """Year-last dates are read in the order day_first names."""
        assert parse_date(text, day_first=day_first) == expected

    @pytest.mark.parametrize("text", ["2024-10-05 14:30 GMT+8", "2024-10-05 14:30 UTC+08:00"])
    def test_reads_gmt_plus_as_ahead_of_utc(self, text: str) -> None:
        """GMT+8 in a timestamp means eight hours ahead of UTC, not dateutil's POSIX reading."""
        assert parse_datetime(text).utcoffset() == timedelta(hours=8)


class TestChineseClock:
    """上午/下午/晚上/中午/凌晨 and the 点/时/分/秒/半 markers."""

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("上午9点", time(9)),
            ("早上8点半", time(8, 30)),
            ("凌晨12点", time(0)),
            ("凌晨1点", time(1)),
            ("中午12点", time(12)),
            ("中午1点", time(13)),
            ("下午2点", time(14)),
            ("下午2点30分", time(14, 30)),
            ("下午2点半", time(14, 30)),
            ("下午12点", time(12)),
            ("下午 2:30", time(14, 30)),
            ("下午14:30", time(14, 30)),
            ("晚上8点", time(20)),
            ("14时30分15秒", time(14, 30, 15)),
        ],
    )
    def test_period_gives_24_hour_clock(self, text: str, expected: time) -> None:
        """The period word moves 12-hour clock times into the right half of the day."""
        assert parse_datetime(f"2024年10月5日 {text}").time() == expected

    @pytest.mark.parametrize(
        ("text", "words"),
        [("上午14点", "morning"), ("晚上12点", "midnight")],
    )
    def test_refuses_contradictory_period(self, text: str, words: str) -> None:
        """A period word that contradicts the hour is refused, not guessed around."""
        with pytest.raises(ValidationError) as caught:
            parse_datetime(f"2024年10月5日 {text}")
        assert words in caught.value.reason


class TestTimeZones:
    """Naive input is read in the configured zone; aware input keeps its offset."""

    def test_naive_text_uses_timezone_argument(self) -> None:
        """A naive string is wall-clock time in the zone passed."""
        result = parse_datetime("2024-10-05 14:30", timezone="Asia/Shanghai")
        assert result == at(2024, 10, 5, 14, 30, tz=SHANGHAI)
        assert result.tzinfo == SHANGHAI

    def test_timezone_argument_may_be_a_tzinfo(self) -> None:
        """A tzinfo object is used as it is."""
        assert parse_datetime("2024-10-05", timezone=PLUS_8).tzinfo is PLUS_8

    def test_naive_text_uses_configured_zone(self) -> None:
        """Without a timezone argument, config.get().zone is used."""
        with config.using(timezone="Asia/Shanghai"):
            result = parse_datetime("2024-10-05 14:30")
        assert result.tzinfo == SHANGHAI
        assert result.utcoffset() == timedelta(hours=8)

    def test_default_zone_is_utc(self) -> None:
        """With the default settings a naive string is read as UTC."""
        assert parse_datetime("2024-10-05 14:30").tzinfo == ZoneInfo("UTC")

    def test_argument_wins_over_configuration(self) -> None:
        """An explicit timezone overrides the configured one."""
        with config.using(timezone="Asia/Shanghai"):
            result = parse_datetime("2024-10-05", timezone="Europe/Paris")
        assert result.tzinfo == ZoneInfo("Europe/Paris")

    @pytest.mark.parametrize(
        "value",
        [
            "2024-10-05T14:30:00+08:00",
            datetime(2024, 10, 5, 14, 30, tzinfo=PLUS_8),
        ],
    )
    def test_aware_input_keeps_its_offset(self, value: str | datetime) -> None:
        """Input with an offset is neither converted nor re-zoned."""
        result = parse_datetime(value, timezone="America/New_York")
        assert result.replace(tzinfo=None) == datetime(2024, 10, 5, 14, 30)
        assert result.utcoffset() == timedelta(hours=8)

    def test_aware_datetime_passes_through(self) -> None:
        """An aware datetime comes back as the very same object."""
        moment = datetime(2024, 10, 5, 14, 30, tzinfo=SHANGHAI)
        assert parse_datetime(moment) is moment

    def test_naive_datetime_gets_zone_attached_not_converted(self) -> None:
        """A naive datetime keeps its wall-clock time; only the zone is added."""
        result = parse_datetime(datetime(2024, 10, 5, 14, 30), timezone="Asia/Shanghai")
        assert result == datetime(2024, 10, 5, 14, 30, tzinfo=SHANGHAI)

    def test_date_is_midnight_in_zone(self) -> None:
        """A date object means the start of that day in the zone."""
        result = parse_datetime(date(2024, 10, 5), timezone="Asia/Shanghai")
        assert result == datetime(2024, 10, 5, tzinfo=SHANGHAI)

    def test_excel_number_is_wall_clock_in_zone(self) -> None:
        """An Excel serial number is naive and gets the zone attached."""
        result = parse_datetime(45570.5, timezone="Asia/Shanghai")
        assert result == datetime(2024, 10, 5, 12, tzinfo=SHANGHAI)

    @pytest.mark.parametrize("name", ["Nope/Zone", "", "America", "../etc/passwd", "utc"])
    def test_unknown_zone_name_is_refused_on_timezone_field(self, name: str) -> None:
        """A bad zone name is a ValidationError on the "timezone" field, quoting the name."""
        with pytest.raises(ValidationError) as caught:
            parse_datetime("2024-10-05", field="created", timezone=name)
        assert caught.value.field == "timezone"
        assert caught.value.value == name
        assert "time zone" in caught.value.reason

    def test_bad_zone_is_refused_even_for_aware_input(self) -> None:
        """The zone argument is checked whether or not the input needs it."""
        with pytest.raises(ValidationError):
            parse_datetime("2024-10-05T14:30:00Z", timezone="Nope/Zone")

    def test_zone_of_wrong_type_is_refused(self) -> None:
        """A timezone that is neither a name nor a tzinfo is refused."""
        with pytest.raises(ValidationError) as caught:
            parse_datetime("2024-10-05", timezone=8)  # type: ignore[arg-type]
        assert caught.value.field == "timezone"

    def test_unknown_zone_abbreviation_in_text_is_refused(self) -> None:
        """Abbreviations such as CST mean several zones, so they are refused, not guessed."""
        with pytest.raises(ValidationError) as caught:
            parse_datetime("2024-10-05 14:30 CST")
        assert "CST" in caught.value.reason
        assert "+08:00" in caught.value.reason


class TestDayMonthOrder:
    """Day/month order is settled by configuration, never guessed."""

    @pytest.mark.parametrize("text", ["05/10/2024", "10-05-2024", "5/10/2024 14:30"])
    def test_ambiguous_without_setting_is_refused(self, text: str) -> None:
        """Both numbers <= 12 and different, no day_first: refused, naming both readings."""
        with pytest.raises(ValidationError) as caught:
            parse_datetime(text, field="born")
        error = caught.value
        assert error.field == "born"
        assert error.value == text
        assert "ambiguous" in error.reason
        assert "day_first" in error.reason

    def test_refusal_gives_both_readings(self) -> None:
        """The reason shows what each order would have meant."""
        with pytest.raises(ValidationError) as caught:
            parse_date("05/10/2024")
        assert "2024-10-05" in caught.value.reason
        assert "2024-05-10" in caught.value.reason

    @pytest.mark.parametrize(("day_first", "expected"), [(True, 10), (False, 5)])
    def test_configuration_settles_order(self, day_first: bool, expected: int) -> None:
        """config.using(day_first=...) is used when no argument is given."""
        with config.using(day_first=day_first):
            assert parse_date("05/10/2024").month == expected

    def test_argument_wins_over_configuration(self) -> None:
        """day_first passed to the call overrides the configured order."""
        with config.using(day_first=True):
            assert parse_date("05/10/2024", day_first=False) == date(2024, 5, 10)

    @pytest.mark.parametrize(
        ("text", "day_first", "expected"),
        [
            ("13/10/2024", False, date(2024, 10, 13)),
            ("13/10/2024", None, date(2024, 10, 13)),
            ("10/13/2024", True, date(2024, 10, 13)),
            ("10/13/2024", None, date(2024, 10, 13)),
            ("31.12.2024", False, date(2024, 12, 31)),
        ],
    )
    def test_only_valid_reading_is_used(
        self, text: str, day_first: bool | None, expected: date
    ) -> None:
        """When only one order gives a real date, it is used whatever day_first says."""
        assert parse_date(text, day_first=day_first) == expected

    def test_equal_day_and_month_are_not_ambiguous(self) -> None:
        """05/05/2024 reads the same either way."""
        assert parse_date("05/05/2024") == date(2024, 5, 5)

    @pytest.mark.parametrize("day_first", [True, False, None])
    @pytest.mark.parametrize("text", ["2024/10/05", "2024-10-05", "2024.10.05", "20241005"])
    def test_year_first_is_always_year_month_day(self, text: str, day_first: bool | None) -> None:
        """Year-first input ignores day_first."""
        assert parse_date(text, day_first=day_first) == date(2024, 10, 5)

    def test_dotted_is_day_first_by_default(self) -> None:
        """05.10.2024 is 5 October without any setting."""
        assert parse_date("05.10.2024") == date(2024, 10, 5)

    def test_dotted_follows_explicit_month_first(self) -> None:
        """day_first=False, by argument or configuration, makes dotted dates month first."""
        assert parse_date("05.10.2024", day_first=False) == date(2024, 5, 10)
        with config.using(day_first=False):
            assert parse_date("05.10.2024") == date(2024, 5, 10)


class TestErrors:
    """Unreadable input is a ValidationError quoting the original input."""

    @pytest.mark.parametrize(
        ("value", "words"),
        [
            ("", "empty"),
            ("   ", "empty"),
            ("\u3000", "empty"),
            ("10月5日", "year, month and day"),
            ("14:30", "year, month and day"),
            ("hello", "year, month and day"),
            ("2024-10", "year, month and day"),
            ("2024-W40", "year, month and day"),
            ("Oct 5", "incomplete"),
            ("Oct 2024", "incomplete"),
            ("05/10/24", "two-digit year"),
            ("24-10-05", "two-digit year"),
            ("24年10月5日", "two-digit year"),
            ("5 Oct 24", "two-digit year"),
            ("2024-02-30", "no such date"),
            ("2023-02-29", "no such date"),
            ("2024-13-01", "no such date"),
            ("２０２４年１３月５日", "no such date"),
            ("31/02/2024", "no such date"),
            ("2024-10-05 25:00", "time of day"),
            ("2024-10-05 14:30 +25:00", "time of day"),
            ("2024-10-05 星期六", "time of day"),
            ("60", "not a date"),
            ("0", "not a date"),
            ("2024", "not a date"),
        ],
    )
    def test_unreadable_text(self, value: str, words: str) -> None:
        """The error keeps field and original value, and says what is wrong."""
        with pytest.raises(ValidationError) as caught:
            parse_datetime(value, field="created_at")
        error = caught.value
        assert error.field == "created_at"
        assert error.value == value
        assert words in error.reason

    @pytest.mark.parametrize(
        ("value", "words"),
        [
            (True, "bool"),
            (False, "bool"),
            (None, "NoneType"),
            (b"2024-10-05", "bytes"),
            ([2024, 10, 5], "list"),
            (float("nan"), "finite"),
            (float("inf"), "finite"),
            (-1, "from 1"),
        ],
    )
    def test_unreadable_objects(self, value: object, words: str) -> None:
        """Values of the wrong kind are refused with the type or problem named."""
        with pytest.raises(ValidationError) as caught:
            parse_datetime(value, field="when")  # type: ignore[arg-type]
        assert caught.value.value is value
        assert words in caught.value.reason

    def test_parse_date_reports_the_same_way(self) -> None:
        """parse_date raises ValidationError with field, original value and reason too."""
        with pytest.raises(ValidationError) as caught:
            parse_date("2024-02-30", field="birthday")
        assert (caught.value.field, caught.value.value) == ("birthday", "2024-02-30")
        assert "no such date" in caught.value.reason

    def test_validation_error_is_a_value_error(self) -> None:
        """Callers catching ValueError still catch the refusal."""
        with pytest.raises(ValueError, match="empty date"):
            parse_date("")


class TestParseDate:
    """parse_date returns the calendar date as written."""

    @pytest.mark.parametrize(
        "value",
        [
            "2024-10-05",
            "2024/10/5",
            "2024年10月5日",
            "２０２４年１０月５日",
            "20241005",
            "45570",
            45570,
            45570.75,
            date(2024, 10, 5),
            datetime(2024, 10, 5, 23, 59),
        ],
    )
    def test_reads(self, value: str | int | float | date) -> None:
        """Every accepted kind of input gives the date."""
        assert parse_date(value) == date(2024, 10, 5)

    def test_returns_a_plain_date(self) -> None:
        """The result is a date, not a datetime (which is a date subclass)."""
        assert type(parse_date(datetime(2024, 10, 5, 12))) is date

    @pytest.mark.parametrize(
        "text", ["2024-10-05 23:59:59", "2024年10月5日 下午2点", "2024-10-05T23:30:00-05:00"]
    )
    def test_drops_time_and_offset(self, text: str) -> None:
        """A time of day and an offset are dropped; the date is not converted to UTC."""
        assert parse_date(text) == date(2024, 10, 5)

    def test_aware_datetime_keeps_its_own_date(self) -> None:
        """An aware datetime gives its own .date(), not the UTC one."""
        moment = datetime(2024, 10, 5, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
        assert parse_date(moment) == date(2024, 10, 5)


class TestExcelSerial:
    """Excel's 1900 date system, fake leap day included."""

    @pytest.mark.parametrize(
        ("serial", "expected"),
        [
            (1, datetime(1900, 1, 1)),
            (2, datetime(1900, 1, 2)),
            (59, datetime(1900, 2, 28)),
            (61, datetime(1900, 3, 1)),
            (45570, datetime(2024, 10, 5)),
            (45570.5, datetime(2024, 10, 5, 12)),
            (45570.25, datetime(2024, 10, 5, 6)),
            (Decimal("45570.75"), datetime(2024, 10, 5, 18)),
            (59.5, datetime(1900, 2, 28, 12)),
            (2958465, datetime(9999, 12, 31)),
            (2958465.99999, datetime(9999, 12, 31, 23, 59, 59)),
        ],
    )
    def test_converts(self, serial: float, expected: datetime) -> None:
        """Serials on both sides of the fake leap day land on the right naive datetime."""
        assert from_excel_serial(serial) == expected

    @pytest.mark.parametrize(
        ("fraction_seconds", "expected_second"),
        [(0.4, 0), (0.5, 1), (0.6, 1), (59.4, 59)],
    )
    def test_fraction_rounds_to_nearest_second(
        self, fraction_seconds: float, expected_second: int
    ) -> None:
        """The time of day is rounded to the nearest whole second, halves up."""
        serial = Decimal(45570) + Decimal(fraction_seconds) / 86400
        result = from_excel_serial(serial)
        assert result.second == expected_second
        assert result.microsecond == 0

    @pytest.mark.parametrize(
        ("serial", "words"),
        [
            (60, "1900-02-29"),
            (60.5, "1900-02-29"),
            (59.999999999, "1900-02-29"),
            (0, "from 1"),
            (0.5, "from 1"),
            (-45570, "from 1"),
            (2958466, "from 1"),
            (2958465.999999999, "9999-12-31"),
            (10**400, "from 1"),
            (float("nan"), "finite"),
            (float("-inf"), "finite"),
            (Decimal("NaN"), "finite"),
            (Decimal("sNaN"), "finite"),
            (True, "number"),
            ("45570", "number"),
        ],
    )
    def test_refuses(self, serial: object, words: str) -> None:
        """Out-of-range, fake-leap-day, non-finite and non-number serials are refused."""
        with pytest.raises(ValidationError) as caught:
            from_excel_serial(serial, field="order_date")  # type: ignore[arg-type]
        assert caught.value.field == "order_date"
        assert caught.value.value is serial
        assert words in caught.value.reason

    def test_eight_digit_text_is_a_date_not_a_serial(self) -> None:
        """ "20241005" is YYYYMMDD, even though it is all digits."""
        assert parse_date("20241005") == date(2024, 10, 5)

    def test_serial_text_with_surrounding_space(self) -> None:
        """Spreadsheet exports often pad numbers; padding does not matter."""
        assert parse_date(" 45570 ") == date(2024, 10, 5)


class TestNow:
    """now() is the aware UTC clock."""

    def test_is_aware_utc_and_current(self) -> None:
        """now() returns an aware UTC datetime between two readings of the real clock."""
        before = datetime.now(UTC)
        result = now()
        after = datetime.now(UTC)
        assert result.utcoffset() == timedelta(0)
        assert before <= result <= after


class TestProperties:
    """Invariants over generated input."""

    @given(
        st.datetimes(
            min_value=datetime(1900, 1, 1),
            max_value=datetime(9999, 12, 31, 23, 59, 59),
            timezones=ZONES,
        )
    )
    def test_isoformat_round_trips(self, moment: datetime) -> None:
        """parse_datetime(d.isoformat()) is d: same wall time, same offset."""
        result = parse_datetime(moment.isoformat())
        # Compared part by part: PEP 495 makes == False across zones for times in a fold or
        # gap, which would hide nothing but fail anyway.
        assert result.replace(tzinfo=None) == moment.replace(tzinfo=None)
        assert result.utcoffset() == moment.utcoffset()

    @given(FOUR_DIGIT_YEAR_DATES)
    def test_chinese_round_trips(self, day: date) -> None:
        """parse_date(f"{y}年{m}月{d}日") is the date."""
        assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day

    @given(FOUR_DIGIT_YEAR_DATES)
    def test_slashed_year_first_round_trips(self, day: date) -> None:
        """parse_date(d.strftime("%Y/%m/%d")) is the date."""
        assert parse_date(day.strftime("%Y/%m/%d")) == day

    @given(FOUR_DIGIT_YEAR_DATES)
    def test_year_last_round_trips_under_matching_setting(self, day: date) -> None:
        """DD/MM/YYYY with day_first=True and MM/DD/YYYY with day_first=False give the date."""
        assert parse_date(day.strftime("%d/%m/%Y"), day_first=True) == day
        assert parse_date(day.strftime("%m/%d/%Y"), day_first=False) == day

    @given(FOUR_DIGIT_YEAR_DATES.filter(lambda d: d.day <= 12 and d.day != d.month))
    def test_ambiguous_year_last_is_never_guessed(self, day: date) -> None:
        """Without day_first, a date whose day and month could swap is always refused."""
        with pytest.raises(ValidationError, match="ambiguous"):
            parse_date(day.strftime("%d/%m/%Y"))

    @given(
        st.datetimes(
            min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)
        ).map(lambda d: d.replace(microsecond=0))
    )
    def test_excel_serial_round_trips(self, moment: datetime) -> None:
        """A serial computed from a datetime (to the second) converts back to it."""
        elapsed = moment - datetime(1899, 12, 30)
        serial = elapsed.days + elapsed.seconds / 86400
        assert from_excel_serial(serial) == moment

    @given(
        st.one_of(
            st.text(),
            st.text(alphabet="0123456789-/.: T+Z年月日号时分秒点半上下午晚中凌晨PMAMOctUTCGMT"),
        )
    )
    def test_arbitrary_text_only_raises_validation_error(self, text: str) -> None:
        """Any text is either read (aware, for parse_datetime) or refused with ValidationError."""
        refusal = _refusal(parse_datetime, text)
        if refusal is None:
            assert parse_datetime(text).utcoffset() is not None
        else:
            assert (refusal.field, refusal.value) == ("f", text)
            assert refusal.reason
        refusal = _refusal(parse_date, text)
        assert refusal is None or refusal.value == text


def _refusal(read: Callable[..., object], text: str) -> ValidationError | None:
    """Return the ValidationError ``read`` raises for ``text``; any other exception escapes."""
    try:
        read(text, field="f")
    except ValidationError as error:
        return error
    return None
