"""Excel's habits in cells: numbers for ids and phones, serial dates, full width, addresses."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.io import escape_formula, read_phones, split_address
from custrec.io._cells import read_date, read_id
from custrec.io._csv import unescape_formula


class TestPhones:
    def test_scientific_notation_with_lost_digits_is_refused(self) -> None:
        """1.38123E+10 lost digits: refused with a reason that says how to fix it."""
        with pytest.raises(ValidationError, match="digits were lost"):
            read_phones("1.38123E+10")

    @pytest.mark.parametrize("text", ["00000000E80000000000000623", "1E5", "2e-3", "1.5E+999"])
    def test_text_that_excel_would_not_write_is_kept_as_written(self, text: str) -> None:
        """Only Excel's shape of a long number (1.38123E+10) is read as one; ids stay text."""
        assert read_id(text) == text

    def test_scientific_notation_with_all_digits_is_read(self) -> None:
        """1.3812345678E+10 holds every digit and is read exactly."""
        assert [p.e164 for p in read_phones("1.3812345678E+10")] == ["+8613812345678"]

    def test_number_cell_is_read(self) -> None:
        """A phone that .xlsx stored as a float is read as its digits."""
        assert [p.e164 for p in read_phones(13812345678.0)] == ["+8613812345678"]
        assert [p.raw for p in read_phones("13812345678.0")] == ["13812345678"]

    def test_fraction_is_refused(self) -> None:
        """A phone number with a fraction is not a phone number."""
        with pytest.raises(ValidationError):
            read_phones(1381234.5)

    @pytest.mark.parametrize(
        "cell",
        [
            "13812345678/13998765432",
            "13812345678；13998765432",
            "13812345678、13998765432",
            "13812345678, 13998765432",
            "１３８１２３４５６７８／１３９９８７６５４３２",
            "13812345678\n13998765432",
        ],
    )
    def test_several_phones_in_one_cell(self, cell: str) -> None:
        """Several numbers in one cell, with any usual separator, become several phones."""
        assert [p.e164 for p in read_phones(cell)] == ["+8613812345678", "+8613998765432"]

    def test_full_width_digits(self) -> None:
        """Full-width digits are read; the raw text is kept as written."""
        (phone,) = read_phones("１３８１２３４５６７８")
        assert phone.e164 == "+8613812345678"
        assert phone.raw == "１３８１２３４５６７８"

    def test_blank(self) -> None:
        """A blank cell holds no phone."""
        assert read_phones("  ") == []
        assert read_phones(None) == []


class TestIds:
    def test_number_cell_keeps_its_digits(self) -> None:
        """An id stored as 1.0 reads as "1"; with a width, as "001"."""
        assert read_id(1.0) == "1"
        assert read_id(1.0, width=3) == "001"
        assert read_id("7", width=3) == "007"

    def test_text_is_kept(self) -> None:
        """A text id keeps its leading zeros and its full-width digits: it is as written."""
        assert read_id("001") == "001"
        assert read_id("００７") == "００７"

    def test_lost_digits_refused(self) -> None:
        """A long id Excel turned into 1.23457E+17 is refused."""
        with pytest.raises(ValidationError, match="digits were lost"):
            read_id("1.23457E+17")


class TestDates:
    @pytest.mark.parametrize(
        "cell",
        [
            45570,
            45570.0,
            "45570",
            "2024-10-05",
            "2024/10/5",
            "2024年10月5日",
            "２０２４年１０月５日",
            datetime(2024, 10, 5, 9, 30),
            date(2024, 10, 5),
        ],
    )
    def test_forms(self, cell: object) -> None:
        """Serial numbers, text in several writings and typed cells all read as the date."""
        assert read_date(cell, "birth_date") == date(2024, 10, 5)

    def test_unreadable(self) -> None:
        """Text that is no date raises ValidationError naming the field."""
        with pytest.raises(ValidationError, match="birth_date"):
            read_date("last spring", "birth_date")


class TestAddresses:
    @pytest.mark.parametrize(
        ("text", "parts"),
        [
            ("北京市朝阳区建国路88号", ("北京市", "北京市", "朝阳区", "建国路88号")),
            ("上海浦东新区世纪大道100号", ("上海市", "上海市", "浦东新区", "世纪大道100号")),
            ("广东省广州市天河区体育西路1号", ("广东省", "广州市", "天河区", "体育西路1号")),
            (
                "新疆维吾尔自治区乌鲁木齐市天山区人民路2号",
                ("新疆维吾尔自治区", "乌鲁木齐市", "天山区", "人民路2号"),
            ),
            (
                "云南省大理白族自治州大理市洱海路1号",
                ("云南省", "大理白族自治州", "大理市", "洱海路1号"),
            ),
            ("杭州市西湖区文三路", (None, "杭州市", "西湖区", "文三路")),
        ],
    )
    def test_split(self, text: str, parts: tuple[str | None, ...]) -> None:
        """Province, city, district and street are told apart where the text allows."""
        address = split_address(text)
        assert (address.province, address.city, address.district, address.street) == parts

    def test_postal_code_taken_out(self) -> None:
        """A six-digit postal code at the end goes to postal_code."""
        address = split_address("广东省广州市天河区体育西路1号 510000")
        assert address.postal_code == "510000"
        assert address.street == "体育西路1号"

    def test_unsplittable_stays_whole(self) -> None:
        """Text that is no Chinese address is kept whole as the street."""
        address = split_address("1600 Amphitheatre Pkwy, Mountain View")
        assert address.street == "1600 Amphitheatre Pkwy, Mountain View"
        assert address.province is None


class TestFormulaGuard:
    @pytest.mark.parametrize(
        "text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"]
    )
    def test_escaped(self, text: str) -> None:
        """Cells a spreadsheet would run as a formula get a leading quote."""
        assert escape_formula(text) == "'" + text

    def test_quote_before_formula_is_kept_through_a_round_trip(self) -> None:
        """A text that itself starts with '= gets a second quote, and reads back whole."""
        assert escape_formula("'=1") == "''=1"
        assert unescape_formula("''=1") == "'=1"
        assert unescape_formula("'hello") == "'hello"

    @given(st.text(alphabet=st.sampled_from("'=+-@\t\rab"), max_size=8) | st.text(max_size=30))
    def test_import_undoes_export_escaping(self, text: str) -> None:
        """Whatever text export escapes, reading the cell back gives the text as it was."""
        assert unescape_formula(escape_formula(text)) == text
