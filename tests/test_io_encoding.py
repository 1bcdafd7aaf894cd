"""Encodings: detected among UTF-8, UTF-8 with BOM, GB18030/GBK and UTF-16; never garbled."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.io import detect_encoding
from custrec.io._encoding import normalize_encoding

TEXT = "客户编号,姓名,地址\n001,张三,北京市朝阳区建国路88号\n002,李四,上海市浦东新区\n"


class TestDetection:
    @pytest.mark.parametrize(
        ("encoding", "expected"),
        [
            ("utf-8", "utf-8"),
            ("utf-8-sig", "utf-8-sig"),
            ("gbk", "gb18030"),
            ("gb18030", "gb18030"),
            ("utf-16", "utf-16"),
            ("utf-16-le", "utf-16-le"),
            ("utf-16-be", "utf-16-be"),
        ],
    )
    def test_each_encoding_is_told(self, encoding: str, expected: str) -> None:
        """Chinese text in each supported encoding is recognised for what it is."""
        stream = io.BytesIO(TEXT.encode(encoding))
        assert detect_encoding(stream) == expected
        assert stream.tell() == 0

    def test_ascii_is_utf8(self) -> None:
        """Plain ASCII reads as UTF-8."""
        assert detect_encoding(io.BytesIO(b"id,name\n1,Ann\n")) == "utf-8"

    def test_utf8_european_text_is_utf8(self) -> None:
        """UTF-8 with umlauts and ß is read as UTF-8."""
        data = "id,name\n1,Jürgen Groß\n2,Zoë\n".encode()
        assert detect_encoding(io.BytesIO(data)) == "utf-8"

    def test_ambiguous_short_text_is_refused(self) -> None:
        """Bytes that are UTF-8 Greek and GBK Chinese alike are refused, not guessed."""
        with pytest.raises(ValidationError, match="alike"):
            detect_encoding(io.BytesIO("魏".encode("gbk")))

    def test_latin1_is_refused_not_garbled(self) -> None:
        """A Latin-1 file (neither UTF-8 nor Chinese) raises, asking for the encoding."""
        data = "id,name,city\n1,Müller,Köln\n2,Dvořák,Plzeň\n".encode("cp1250")
        with pytest.raises(ValidationError, match="pass encoding="):
            detect_encoding(io.BytesIO(data))

    def test_shift_jis_is_refused(self) -> None:
        """Japanese Shift-JIS, which GB18030 can often decode into nonsense, is refused."""
        data = "顧客,住所\nｶﾀｶﾅ,東京都千代田区丸の内\n".encode("shift_jis")
        with pytest.raises(ValidationError):
            detect_encoding(io.BytesIO(data))

    def test_gbk_deep_in_a_large_file(self) -> None:
        """A file whose first non-ASCII byte comes late is still read as a whole."""
        data = b"id,name\n" + b"1,Ann\n" * 200_000 + "2,张三\n".encode("gbk")
        assert detect_encoding(io.BytesIO(data)) == "gb18030"

    @given(
        st.text(
            alphabet=st.characters(codec="gb2312", exclude_characters="\x00"),
            min_size=1,
            max_size=200,
        )
    )
    def test_gbk_text_round_trips(self, text: str) -> None:
        """GBK text is read back exactly, or refused as ambiguous: never garbled.

        A few bytes of GBK can also be valid UTF-8 (魏 is CE BA, UTF-8 for κ); detection
        then refuses rather than picks.
        """
        data = text.encode("gbk")
        try:
            encoding = detect_encoding(io.BytesIO(data))
        except ValidationError as exc:
            reason = exc.reason
            assert "alike" in reason
            return
        assert data.decode(encoding) == text

    @given(st.binary(max_size=300))
    def test_random_bytes_never_crash(self, data: bytes) -> None:
        """Any bytes either give an encoding that decodes them, or a ValidationError."""
        try:
            encoding = detect_encoding(io.BytesIO(data))
        except ValidationError:
            return
        data.decode(encoding)


class TestNames:
    @pytest.mark.parametrize(
        ("name", "codec"),
        [("GBK", "gb18030"), ("GB2312", "gb18030"), ("cp936", "gb18030"), ("UTF8", "utf-8")],
    )
    def test_aliases(self, name: str, codec: str) -> None:
        """Common names for the supported encodings are understood; GBK reads as GB18030."""
        assert normalize_encoding(name) == codec

    @pytest.mark.parametrize("name", ["latin-1", "no-such-codec", "shift_jis"])
    def test_other_encodings_refused(self, name: str) -> None:
        """Encodings outside the supported set raise ValidationError."""
        with pytest.raises(ValidationError):
            normalize_encoding(name)
