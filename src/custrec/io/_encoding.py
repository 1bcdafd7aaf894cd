"""Which text encoding a file is in: UTF-8 (with or without BOM), GB18030/GBK or UTF-16.

A spreadsheet saved by Chinese Excel or WPS as "CSV" is GBK; one saved as "Unicode text" is
UTF-16; everything else is UTF-8, often with a byte-order mark. Detection is over this closed
set only, and it refuses rather than guesses: a general detector (charset-normalizer and the
like) picks the likeliest of dozens of codecs, which is how a Latin-1 file turns silently into
Chinese mojibake. Here a file is UTF-8 only if all of it decodes as UTF-8, and GB18030 only if
all of it decodes as GB18030 *and* the characters that gives are common Chinese ones (GB2312,
full-width forms and punctuation). Anything else raises an error asking for the encoding.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import BinaryIO

from custrec.errors import ValidationError

__all__ = ["ENCODINGS", "detect_encoding", "normalize_encoding"]

ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be")
"""Encodings an import accepts by name (their aliases too, e.g. ``"GB2312"``, ``"cp936"``)."""

_CHUNK = 1 << 20
# Share of non-ASCII characters, after a GB18030 decode, that must be common Chinese text
# for the file to count as Chinese; below it the bytes are more likely another code page.
_COMMON_SHARE = 0.98
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
_ASK = "pass encoding= explicitly (e.g. 'utf-8', 'gb18030', 'utf-16')"


def normalize_encoding(name: str) -> str:
    """Return the codec name Python uses for ``name``, refusing encodings imports do not read.

    GBK and GB2312 are read as GB18030, their superset, so a rare character outside GBK does
    not fail a file that is otherwise GBK.

    Args:
        name: An encoding name or alias (``"GBK"``, ``"utf8"``, ``"UTF-16LE"``).

    Returns:
        A codec name from :data:`ENCODINGS`.

    Raises:
        ValidationError: The name is unknown or not one of the supported encodings.
    """
    try:
        codec = codecs.lookup(name).name
    except (LookupError, TypeError):
        raise ValidationError("encoding", name, f"unknown encoding; {_ASK}") from None
    if codec in ("gbk", "gb2312", "cp936", "gb18030"):
        return "gb18030"
    if codec not in ENCODINGS:
        raise ValidationError(
            "encoding", name, f"imports read {', '.join(ENCODINGS)} (and their aliases)"
        )
    return codec


def detect_encoding(stream: BinaryIO) -> str:
    """Return the encoding of a seekable binary stream, reading all of it once.

    The stream is rewound to where it was. See the module docstring for the rules.

    Args:
        stream: A seekable binary file object.

    Returns:
        ``"utf-8-sig"``, ``"utf-16"``, ``"utf-8"`` or ``"gb18030"``.

    Raises:
        ValidationError: The bytes are none of these encodings for certain (``field`` is
            ``"encoding"``; the reason says where decoding failed).
    """
    start = stream.tell()
    try:
        head = stream.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        stream.seek(start)
        sample = stream.read(_CHUNK)
        if b"\x00" in sample:
            # Text in UTF-8 or GB18030 never holds a NUL byte; UTF-16 without a BOM does.
            low = sample[1::2].count(0) >= sample[0::2].count(0)
            codec = "utf-16-le" if low else "utf-16-be"
            stream.seek(start)
            if _plausible(stream, codec, _is_utf16_text):
                return codec
        stream.seek(start)
        utf8_error, cjk = _decodes_utf8(stream)
        stream.seek(start)
        if utf8_error is None:
            if cjk or not _plausible(stream, "gb18030", _count_gb2312, need_wide=True):
                return "utf-8"
            raise ValidationError(
                "encoding",
                "utf-8 or gb18030",
                "the file reads as UTF-8 (with no Chinese in it) and as Chinese GBK text alike; "
                + _ASK,
            )
        if _plausible(stream, "gb18030", _count_gb2312):
            return "gb18030"
    finally:
        stream.seek(start)
    raise _refusal(utf8_error)


def _refusal(offset: int) -> ValidationError:
    return ValidationError(
        "encoding",
        f"byte offset {offset}",
        f"the file is neither UTF-8, UTF-16 nor Chinese GB18030/GBK text; {_ASK}",
    )


def _count_gb2312(wide: str) -> int:
    """How many of these non-ASCII characters are common Chinese (in GB2312)."""
    return len(wide.encode("gb2312", "ignore").decode("gb2312"))


_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_UTF16_TEXT = re.compile(r"[\u00a0-\u024f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _is_utf16_text(wide: str) -> int:
    """How many of these non-ASCII characters are Latin, CJK or full-width text."""
    return len(_UTF16_TEXT.findall(wide))


def _decodes(stream: BinaryIO, encoding: str) -> int | None:
    """Return ``None`` if all of ``stream`` decodes, else the offset of the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    while True:
        chunk = stream.read(_CHUNK)
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeError as exc:  # UTF-16 without a BOM raises a plain UnicodeError
            return offset + getattr(exc, "start", 0)
        if not chunk:
            return None
        offset += len(chunk)


def _decodes_utf8(stream: BinaryIO) -> tuple[int | None, bool]:
    """Whether all of ``stream`` is UTF-8 (else the first bad offset), and holds CJK text."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, cjk = 0, False
    while True:
        chunk = stream.read(_CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeError as exc:  # UTF-16 without a BOM raises a plain UnicodeError
            return offset + getattr(exc, "start", 0), cjk
        cjk = cjk or _CJK.search(text) is not None
        if not chunk:
            return None, cjk
        offset += len(chunk)


def _plausible(
    stream: BinaryIO,
    encoding: str,
    count_common: Callable[[str], int],
    *,
    need_wide: bool = False,
) -> bool:
    """Whether all of ``stream`` decodes, into text that is mostly common characters."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    common = rare = 0
    while True:
        chunk = stream.read(_CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeError:
            return False
        if "\x00" in text:
            return False
        wide = _ASCII_RUNS.sub("", text)
        if wide:
            known = count_common(wide)
            common += known
            rare += len(wide) - known
        if not chunk:
            break
    total = common + rare
    if total == 0:
        return not need_wide
    return common / total >= _COMMON_SHARE
