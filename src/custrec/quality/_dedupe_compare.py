"""Comparison: how alike two customers are, field by field, as discrete levels.

Each field comparison gives a *level* (0 = different, higher = more alike; ``-1`` when
either record lacks the field, which then counts neither for nor against a match) and a
similarity from 0 to 1 for people to read. The Fellegi–Sunter model
(:mod:`._dedupe_model`) learns how much each level of each field tells.

- **name**: identical; the same romanised tokens (张三 / 章三 / ``"Zhang San"``);
  Jaro-Winkler of the romanised forms ≥ 0.92; ≥ 0.80 or a token-set ratio ≥ 90 (one name
  inside the other); different.
- **phone**: a shared E.164 number; two numbers one edit apart (a typo or two transposed
  digits); different.
- **email**: a shared address; the same local part at another domain, or one edit away;
  different.
- **birth_date**: equal; day and month swapped, digits transposed, or one day off; the
  same year; different.
- **address**: same postal code and street alike (token-set ratio ≥ 85); same postal code
  or city; different.
- **gender**: equal or not. **handle**: a shared messaging handle or not.
"""

from __future__ import annotations

from collections.abc import Callable

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from custrec.quality._dedupe_prepare import MatchView

__all__ = ["FIELDS", "LEVELS", "compare", "compare_detail"]

Level = tuple[int, float]


def _name(a: MatchView, b: MatchView) -> Level:
    if not a.roman or not b.roman:
        return -1, 0.0
    if a.name == b.name:
        return 4, 1.0
    if a.roman == b.roman:
        return 3, 1.0
    similarity = JaroWinkler.similarity(a.roman, b.roman)
    if similarity >= 0.92:
        return 2, similarity
    if similarity >= 0.80 or fuzz.token_set_ratio(a.roman, b.roman) >= 90:
        return 1, similarity
    return 0, similarity


def _shared(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return any(x in b for x in a)


def _near_number(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return any(len(x) == len(y) and OSA.distance(x, y, score_cutoff=1) <= 1 for x in a for y in b)


def _phone(a: MatchView, b: MatchView) -> Level:
    if not a.phones or not b.phones:
        return -1, 0.0
    if _shared(a.phones, b.phones):
        return 2, 1.0
    if _near_number(a.phones, b.phones):
        return 1, 0.9
    return 0, 0.0


def _email(a: MatchView, b: MatchView) -> Level:
    if not a.emails or not b.emails:
        return -1, 0.0
    if _shared(a.emails, b.emails):
        return 2, 1.0
    if _shared(a.locals, b.locals):
        return 1, 0.9
    if any(OSA.distance(x, y, score_cutoff=1) <= 1 for x in a.locals for y in b.locals):
        return 1, 0.8
    return 0, 0.0


def _birth(a: MatchView, b: MatchView) -> Level:
    x, y = a.birth, b.birth
    if x is None or y is None:
        return -1, 0.0
    if x == y:
        return 3, 1.0
    if (x.month, x.day) == (y.day, y.month) and x.year == y.year:
        return 2, 0.9
    if abs(x.toordinal() - y.toordinal()) == 1:
        return 2, 0.9
    if OSA.distance(a.birth_digits, b.birth_digits, score_cutoff=1) <= 1:
        return 2, 0.8
    if x.year == y.year:
        return 1, 0.5
    return 0, 0.0


def _address(a: MatchView, b: MatchView) -> Level:
    if not (a.postcodes or a.cities) or not (b.postcodes or b.cities):
        return -1, 0.0
    same_area = _shared(a.postcodes, b.postcodes)
    if same_area and a.streets and b.streets:
        best = max(fuzz.token_set_ratio(x, y) for x in a.streets for y in b.streets)
        if best >= 85:
            return 2, best / 100
    if same_area or _shared(a.cities, b.cities):
        return 1, 0.5
    return 0, 0.0


def _gender(a: MatchView, b: MatchView) -> Level:
    if not a.gender or not b.gender:
        return -1, 0.0
    return (1, 1.0) if a.gender == b.gender else (0, 0.0)


def _handle(a: MatchView, b: MatchView) -> Level:
    if not a.handles or not b.handles:
        return -1, 0.0
    return (1, 1.0) if _shared(a.handles, b.handles) else (0, 0.0)


_COMPARATORS: tuple[tuple[str, Callable[[MatchView, MatchView], Level], int], ...] = (
    ("name", _name, 5),
    ("phone", _phone, 3),
    ("email", _email, 3),
    ("birth_date", _birth, 4),
    ("address", _address, 3),
    ("gender", _gender, 2),
    ("handle", _handle, 2),
)

FIELDS: tuple[str, ...] = tuple(name for name, _, _ in _COMPARATORS)
"""The compared fields, in the order of a comparison vector."""

LEVELS: tuple[int, ...] = tuple(levels for _, _, levels in _COMPARATORS)
"""How many levels each field has (levels are 0 … n-1; -1 means missing)."""

_FUNCTIONS = tuple(function for _, function, _ in _COMPARATORS)


def compare(a: MatchView, b: MatchView) -> tuple[int, ...]:
    """Return the comparison vector of two records: one level per field of :data:`FIELDS`."""
    return tuple([function(a, b)[0] for function in _FUNCTIONS])


def compare_detail(a: MatchView, b: MatchView) -> tuple[Level, ...]:
    """Return ``(level, similarity)`` for each field of :data:`FIELDS`."""
    return tuple([function(a, b) for function in _FUNCTIONS])
