"""A customer reduced to what duplicate matching compares: normalised, romanised, keyed.

Every comparison and blocking key reads a :class:`MatchView`, built once per customer, so
that the costly steps (pinyin, phonetic codes, Unicode folding) run once per record, not
once per pair.

Names meet across scripts through one romanised form: Chinese characters become pinyin
without tones (pypinyin, with the surname readings of the characters that read otherwise
as surnames: 曾 zeng, 单 shan…), other text is folded to ASCII (``Müller`` → ``muller``),
common English nicknames become the full name (``Bill`` → ``william``), and the tokens are
sorted so that family-name-first and given-name-first orders agree. So 张三, 章三,
``"Zhang San"`` and ``"SAN, Zhang"`` all romanise to ``san zhang``. Phonetic keys for
blocking are Metaphone codes (jellyfish) of those tokens.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from typing import NamedTuple

import jellyfish

from custrec.model import Customer, CustomerKind

__all__ = ["MatchView", "romanise", "view_of"]

# Characters whose everyday pinyin is not their reading as a surname.
_SURNAME_READINGS = {
    "曾": "zeng", "单": "shan", "仇": "qiu", "区": "ou", "解": "xie", "查": "zha",
    "朴": "piao", "覃": "qin", "盖": "ge", "缪": "miao", "尉": "yu", "乐": "yue",
    "长": "chang", "翟": "zhai", "召": "shao", "繁": "po", "员": "yun", "秘": "bi",
}  # fmt: skip
_COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "宇文",
        "长孙",
        "夏侯",
        "司徒",
        "端木",
    ]
)
_NICKNAMES = {
    "bill": "william", "will": "william", "bob": "robert", "rob": "robert",
    "mike": "michael", "jim": "james", "jimmy": "james", "tom": "thomas",
    "dan": "daniel", "rick": "richard", "dick": "richard", "liz": "elizabeth",
    "beth": "elizabeth", "jen": "jennifer", "jenny": "jennifer", "pat": "patricia",
    "sue": "susan", "pete": "peter", "dave": "david", "jack": "john", "johnny": "john",
    "jess": "jessica", "liv": "olivia", "kate": "katherine", "chris": "christopher",
    "tony": "anthony", "joe": "joseph", "alex": "alexander", "sam": "samuel",
    "ben": "benjamin", "nick": "nicholas", "matt": "matthew", "steve": "steven",
}  # fmt: skip
_ORG_WORDS = re.compile(r"(股份有限公司|有限责任公司|有限公司|公司|集团|（[^）]*）|\([^)]*\))")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


@functools.lru_cache(maxsize=65_536)
def _pinyin(char: str) -> str:
    from pypinyin import lazy_pinyin  # noqa: PLC0415 - its tables take 0.2 s to load

    return lazy_pinyin(char)[0]


@functools.lru_cache(maxsize=262_144)
def romanise(name: str) -> tuple[str, ...]:
    """Return a name's romanised tokens, sorted: the form names are compared in.

    Args:
        name: A person's name in any script.

    Returns:
        Lower-case ASCII tokens (pinyin for Chinese: the surname and the given name as two
        tokens), nicknames expanded, sorted.
    """
    text = unicodedata.normalize("NFKC", name).strip()
    han = [char for char in text if _is_han(char)]
    if han and len(han) >= len(text.replace(" ", "")) / 2:
        cut = 2 if "".join(han[:2]) in _COMPOUND_SURNAMES or len(han) == 4 else 1
        surname = "".join(_SURNAME_READINGS.get(c) or _pinyin(c) for c in han[:cut])
        given = "".join(_pinyin(c) for c in han[cut:])
        return tuple(sorted(token for token in (surname, given) if token))
    folded = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(c for c in folded if c.isascii())
    tokens = [_NICKNAMES.get(t, t) for t in _NON_WORD.split(ascii_text.replace("'", "")) if t]
    return tuple(sorted(tokens))


@functools.lru_cache(maxsize=262_144)
def _phonetic(token: str) -> str:
    return jellyfish.metaphone(token) or token


def _fold_text(text: str) -> str:
    """NFKC, case folded, without spaces; uncached, for text that rarely repeats (streets)."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@functools.lru_cache(maxsize=65_536)
def _fold(text: str | None) -> str:
    """:func:`_fold_text` cached, for text that repeats (cities, names)."""
    return _fold_text(text) if text else ""


class MatchView(NamedTuple):
    """What matching reads of one customer. Empty strings and tuples mean "not recorded".

    A named tuple of strings and tuples of strings rather than an attrs class with sets:
    one is built per record, a tuple is built several times faster, and the garbage
    collector stops tracking tuples of strings, so a million views cost it nothing.

    Attributes:
        id: The customer's id.
        organisation: Whether the customer is an organisation.
        name: The name folded (NFKC, case, spaces removed), for the exact level.
        roman: The romanised tokens joined by a space (see :func:`romanise`).
        phonetic: Metaphone codes of the romanised tokens, sorted.
        phones: E.164 numbers.
        emails: Email keys (lower-cased addresses).
        locals: Email local parts (dots and ``+tags`` removed).
        handles: Handle keys.
        external: External ids as ``system:id``.
        birth: The birth date.
        birth_digits: The birth date as ``YYYYMMDD``, or ``""``.
        postcodes: Postal codes (spaces removed).
        cities: Cities (folded).
        streets: Streets (folded).
        gender: Gender value, or ``""``.
    """

    id: str
    organisation: bool
    name: str
    roman: str
    phonetic: tuple[str, ...]
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    locals: tuple[str, ...]
    handles: tuple[str, ...]
    external: tuple[str, ...]
    birth: date | None
    birth_digits: str
    postcodes: tuple[str, ...]
    cities: tuple[str, ...]
    streets: tuple[str, ...]
    gender: str


def _keys(values: list[str]) -> tuple[str, ...]:
    """Distinct values, sorted: a tuple, which the garbage collector stops tracking."""
    if len(values) < 2:  # most records have one value or none: no set, no sort
        return tuple(values)
    return tuple(sorted(set(values)))


def _local(key: str) -> str:
    local = key.split("@", 1)[0].split("+", 1)[0]
    return local.replace(".", "").replace("_", "")


NameForms = tuple[str, str, tuple[str, ...]]
"""A name folded, romanised (tokens joined by a space) and its phonetic codes, sorted."""


def _compute_name_forms(raw_name: str) -> NameForms:
    """The folded name, the romanised form and its phonetic codes, computed."""
    # Uncached helpers: the caller keeps one result per distinct name, so theirs would
    # only miss, and names would push the cities out of _fold's cache.
    tokens = romanise.__wrapped__(raw_name) if raw_name else ()
    return (
        _fold_text(raw_name) if raw_name else "",
        " ".join(tokens),
        tuple(sorted([_phonetic(token) for token in tokens])),
    )


_name_forms = functools.lru_cache(maxsize=65_536)(_compute_name_forms)
"""The name forms of a single view (:func:`view_of`), for names met again across calls."""


class NameMemo(dict[str, NameForms]):
    """The name forms of one run, computed once per distinct name and kept until the run ends.

    A million customers hold hundreds of thousands of distinct names: more than a bounded
    cache keeps, which would then compute most of them again, each time, while a run's
    own memo is freed with the run.
    """

    def __missing__(self, raw_name: str) -> NameForms:
        forms = self[raw_name] = _compute_name_forms(raw_name)
        return forms


def view_of(customer: Customer, names: NameMemo | None = None) -> MatchView:
    """Return what matching compares of ``customer``.

    Args:
        customer: Any customer.
        names: Where to keep name forms while viewing many customers (a run's memo);
            a small shared cache when ``None``.

    Returns:
        Its normalised, romanised and keyed form.
    """
    organisation = customer.kind is CustomerKind.ORGANISATION
    raw_name = customer.name or ""
    if organisation:
        raw_name = _ORG_WORDS.sub("", raw_name)
    name, roman, phonetic = _name_forms(raw_name) if names is None else names[raw_name]
    emails = _keys([email.key for email in customer.emails])
    gender = customer.gender
    birth = customer.birth_date
    addresses = customer.addresses
    external = customer.external_ids
    return MatchView(
        id=customer.id,
        organisation=organisation,
        name=name,
        roman=roman,
        phonetic=phonetic,
        phones=_keys([phone.e164 for phone in customer.phones if phone.e164]),
        emails=emails,
        locals=_keys([_local(key) for key in emails]) if emails else (),
        handles=_keys([handle.key for handle in customer.handles]),
        external=_keys([f"{system}:{ident}" for system, ident in external.items()])
        if external
        else (),
        birth=birth,
        birth_digits=f"{birth.year:04d}{birth.month:02d}{birth.day:02d}" if birth else "",
        postcodes=_keys(["".join(a.postal_code.split()) for a in addresses if a.postal_code]),
        cities=_keys([_fold(a.city) for a in addresses if a.city]),
        streets=tuple([_fold_text(a.street) for a in addresses if a.street]),
        gender=str(getattr(gender, "value", gender)) if gender is not None else "",
    )
