"""Seeded customer datasets with planted duplicates and the truth about them.

>>> from custrec.testing import duplicates
>>> data = duplicates.generate(1_000, seed=7)
>>> len(data.customers) > 1_000
True
>>> sorted(data.true_pairs())[:1]  # doctest: +SKIP
[('C000012', 'D0000001')]

The originals come from :mod:`custrec.testing.synthetic` (realistic Chinese and Latin
customers whose contact points never collide). Some of them are then entered again, as a
second, third… record of the same person, the way duplicates happen in a real customer
file: the number typed in another format or with a new number, the name with a typo, a
homophone character (张 → 章), in pinyin (``"Zhang San"``) or with a nickname
(``"Bill"`` for William), family name first, a missing or different email, the birth date
with day and month swapped or digits transposed, a moved or missing address. Each copy
gets its own id (``D0000001``…) and a later ``created_at``.

How hard the copies are is controlled by :class:`Corruption`: each copy gets between one
and ``max_corruptions`` of the corruptions above, drawn with their weights. A copy keeps
at least one strong link to its original (a phone, an email, or the name together with
the birth date or the address), as a real duplicate almost always does; a record sharing
nothing with its original is a new customer to any reader, human or program.

The output is shuffled (deterministically), so copies are not next to their originals.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from datetime import date, timedelta

import attrs

from custrec.errors import ValidationError
from custrec.model import Address, Customer, CustomerKind, Email, Phone
from custrec.testing import synthetic

__all__ = ["Corruption", "DuplicateDataset", "generate"]

# Homophones: the same pinyin, another character, as typed by a clerk who heard the name.
_HOMOPHONES = {
    "张": "章", "章": "张", "王": "汪", "汪": "王", "李": "黎", "黎": "李", "刘": "柳",
    "杨": "阳", "黄": "皇", "吴": "伍", "周": "舟", "徐": "许", "许": "徐", "孙": "荪",
    "林": "琳", "琳": "林", "陈": "晨", "晨": "陈", "于": "余", "余": "于", "程": "成",
    "成": "程", "伟": "玮", "玮": "伟", "静": "靖", "丽": "莉", "莉": "丽", "敏": "闽",
    "明": "鸣", "军": "君", "杰": "洁", "洁": "杰", "华": "桦", "芳": "方", "方": "芳",
    "磊": "垒", "婷": "亭", "燕": "艳", "艳": "燕", "玲": "铃", "峰": "锋", "辉": "晖",
    "宇": "雨", "雨": "宇", "俊": "骏", "欣": "新", "新": "欣", "佳": "家", "家": "佳",
}  # fmt: skip
_NICKNAMES = {
    "William": "Bill", "Robert": "Bob", "Michael": "Mike", "James": "Jim",
    "Thomas": "Tom", "Daniel": "Dan", "Richard": "Rick", "Elizabeth": "Liz",
    "Jennifer": "Jen", "Patricia": "Pat", "Susan": "Sue", "Peter": "Pete",
    "David": "Dave", "John": "Jack", "Jessica": "Jess", "Olivia": "Liv",
}  # fmt: skip
_KINDS = (
    "phone_format", "phone_new", "phone_missing", "phone_typo",
    "email_missing", "email_new", "email_typo",
    "name_typo", "name_variant",
    "birth_swap", "birth_missing", "address_missing", "address_moved", "gender_missing",
)  # fmt: skip
_PHONE_KINDS = {"phone_new", "phone_missing", "phone_typo"}
_EMAIL_KINDS = {"email_missing", "email_new", "email_typo"}


@attrs.frozen
class Corruption:
    """How duplicates are planted and how far a copy strays from its original.

    Attributes:
        duplicate_share: Share of the originals that get copies.
        extra_copies: Weights of getting 1, 2, 3… copies (a duplicated customer gets one
            copy with the first weight, two with the second…).
        max_corruptions: Most corruptions applied to one copy (at least one is).
        weights: Relative weight of each corruption kind, by name: ``phone_format``,
            ``phone_new``, ``phone_missing``, ``phone_typo``, ``email_missing``,
            ``email_new``, ``email_typo``, ``name_typo``, ``name_variant`` (homophone,
            pinyin, nickname, family name first), ``birth_swap``, ``birth_missing``,
            ``address_missing``, ``address_moved``, ``gender_missing``.
    """

    duplicate_share: float = 0.2
    extra_copies: tuple[float, ...] = (80, 14, 4, 1, 1)
    max_corruptions: int = 3
    weights: Mapping[str, float] = attrs.field(
        factory=lambda: {
            "phone_format": 30,
            "phone_new": 8,
            "phone_missing": 6,
            "phone_typo": 4,
            "email_missing": 10,
            "email_new": 6,
            "email_typo": 4,
            "name_typo": 12,
            "name_variant": 14,
            "birth_swap": 6,
            "birth_missing": 8,
            "address_missing": 8,
            "address_moved": 6,
            "gender_missing": 4,
        }
    )

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.duplicate_share <= 1:
            raise ValidationError("duplicate_share", self.duplicate_share, "must be 0 to 1")
        if not self.extra_copies or any(w < 0 for w in self.extra_copies):
            raise ValidationError("extra_copies", self.extra_copies, "non-negative weights")
        if self.max_corruptions < 1:
            raise ValidationError("max_corruptions", self.max_corruptions, "must be from 1")
        unknown = set(self.weights) - set(_KINDS)
        if unknown:
            raise ValidationError("weights", sorted(unknown), f"known kinds: {', '.join(_KINDS)}")


@attrs.frozen
class DuplicateDataset:
    """Customers with planted duplicates, and which records are the same person.

    Attributes:
        customers: Every record, originals and copies, shuffled.
        entity: Customer id to the id of the original it stands for (an original maps to
            itself).
    """

    customers: tuple[Customer, ...]
    entity: Mapping[str, str]

    def clusters(self) -> list[tuple[str, ...]]:
        """Return the groups of ids that are one person (two or more), sorted."""
        groups: dict[str, list[str]] = {}
        for ident, entity in self.entity.items():
            groups.setdefault(entity, []).append(ident)
        return sorted(tuple(sorted(ids)) for ids in groups.values() if len(ids) > 1)

    def true_pairs(self) -> set[tuple[str, str]]:
        """Return every pair of ids that are the same person, each as ``(smaller, larger)``."""
        return {pair for cluster in self.clusters() for pair in itertools.combinations(cluster, 2)}


def generate(
    n_customers: int,
    *,
    seed: int = 0,
    corruption: Corruption | None = None,
    profile: synthetic.Profile | None = None,
) -> DuplicateDataset:
    """Make ``n_customers`` distinct customers plus copies of some of them.

    Args:
        n_customers: How many distinct people (originals).
        seed: Same seed and arguments, same records and truth.
        corruption: How many copies and how damaged; the defaults when ``None``.
        profile: Knobs of the underlying :mod:`~custrec.testing.synthetic` generator.

    Returns:
        The records and the truth.

    Raises:
        ValidationError: An argument is out of range.
    """
    corruption = corruption or Corruption()
    rng = random.Random(f"duplicates:{seed}")  # noqa: S311 - test data, not secrets
    kinds = [kind for kind in _KINDS if corruption.weights.get(kind, 0) > 0]
    weights = [corruption.weights[kind] for kind in kinds]
    counts = range(1, len(corruption.extra_copies) + 1)
    out: list[Customer] = []
    entity: dict[str, str] = {}
    serial = itertools.count(1)
    for original in synthetic.iter_customers(n_customers, seed=seed, profile=profile):
        out.append(original)
        entity[original.id] = original.id
        if rng.random() >= corruption.duplicate_share:
            continue
        (copies,) = rng.choices(counts, corruption.extra_copies)
        for _ in range(copies):
            number = next(serial)
            chosen = _choose(rng, kinds, weights, corruption.max_corruptions)
            copy = _corrupt(rng, original, chosen, number)
            out.append(copy)
            entity[copy.id] = original.id
    rng.shuffle(out)
    return DuplicateDataset(tuple(out), entity)


def _choose(rng: random.Random, kinds: list[str], weights: list[float], most: int) -> set[str]:
    """Corruptions for one copy: at most one per field, never every strong link."""
    wanted = rng.randint(1, most)
    chosen: set[str] = set()
    fields: set[str] = set()
    for _ in range(4 * most):
        if len(chosen) >= wanted:
            break
        (kind,) = rng.choices(kinds, weights)
        field = kind.split("_", 1)[0]
        if field in fields:
            continue
        trial = chosen | {kind}
        # Losing phone and email and damaging the name leaves nothing a person could match.
        if trial & _PHONE_KINDS and trial & _EMAIL_KINDS and "name_typo" in trial:
            continue
        chosen, fields = trial, fields | {field}
    return chosen or {"phone_format"}


def _corrupt(  # noqa: PLR0912 - one branch per kind of corruption reads best
    rng: random.Random, original: Customer, kinds: set[str], number: int
) -> Customer:
    changes: dict[str, object] = {
        "id": f"D{number:07d}",
        "created_at": original.created_at + timedelta(days=rng.randint(1, 400)),
        "handles": original.handles if rng.random() < 0.3 else (),
        "external_ids": {},
        "consents": (),
        "tags": frozenset(),
    }
    changes["updated_at"] = changes["created_at"]
    phones = list(original.phones)
    for kind in sorted(kinds):
        if kind == "phone_format" and phones:
            phones[0] = _reformat(rng, phones[0])
        elif kind == "phone_new":
            phones = [_new_mobile(number)]
        elif kind == "phone_missing":
            phones = []
        elif kind == "phone_typo" and phones:
            phones[0] = _phone_typo(rng, phones[0])
        elif kind == "email_missing":
            changes["emails"] = ()
        elif kind == "email_new" and original.emails:
            local = original.emails[0].address.split("@")[0]
            domain = rng.choice(("gmail.com", "163.com", "outlook.com", "126.com"))
            changes["emails"] = (Email(f"{local}@{domain}"),)
        elif kind == "email_typo" and original.emails:
            local, domain = original.emails[0].address.split("@")
            changes["emails"] = (Email(f"{_typo(rng, local)}@{domain}"),)
        elif kind == "name_typo" and original.name:
            changes["name"] = _name_typo(rng, original)
        elif kind == "name_variant" and original.name:
            changes["name"] = _name_variant(rng, original)
        elif kind == "birth_swap" and original.birth_date:
            changes["birth_date"] = _date_typo(rng, original.birth_date)
        elif kind == "birth_missing":
            changes["birth_date"] = None
        elif kind == "address_missing":
            changes["addresses"] = ()
        elif kind == "address_moved" and original.addresses:
            changes["addresses"] = (_moved(rng, original.addresses[0]),)
        elif kind == "gender_missing":
            changes["gender"] = None
    changes["phones"] = tuple(attrs.evolve(p, primary=i == 0) for i, p in enumerate(phones))
    return attrs.evolve(original, **changes)  # type: ignore[arg-type]  # keys are Customer fields


def _reformat(rng: random.Random, phone: Phone) -> Phone:
    digits = phone.e164.removeprefix("+86") if phone.e164 else phone.raw
    if phone.e164 and phone.e164.startswith("+86") and len(digits) == 11:
        raw = rng.choice(
            (
                f"{digits[:3]} {digits[3:7]} {digits[7:]}",
                f"+86-{digits}",
                f"0086 {digits}",
                f"({digits[:3]}) {digits[3:7]}-{digits[7:]}",
                "".join(chr(ord(c) + 0xFEE0) for c in digits),  # full-width digits
            )
        )
        return Phone(raw, label=phone.label, region="CN")
    return phone


def _new_mobile(number: int) -> Phone:
    # 199 numbers from 90000000 up are never made by synthetic (its numbers are scrambled
    # from the customer index over the whole range, so collisions are unlikely, not
    # impossible); a collision only makes a copy easier to find.
    return Phone(f"199{90_000_000 + number % 10_000_000:08d}"[:11], label="mobile", region="CN")


def _phone_typo(rng: random.Random, phone: Phone) -> Phone:
    if not phone.e164 or not phone.e164.startswith("+861"):
        return phone
    digits = list(phone.e164.removeprefix("+86"))
    at = rng.randint(3, len(digits) - 2)
    digits[at], digits[at + 1] = digits[at + 1], digits[at]
    if digits[at] == digits[at + 1]:
        digits[at] = str((int(digits[at]) + 1) % 10)
    return Phone("".join(digits), label=phone.label, region="CN")


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text + "x"
    at = rng.randrange(1, len(text) - 1)
    roll = rng.random()
    if roll < 0.35:
        return text[:at] + text[at + 1] + text[at] + text[at + 2 :]
    if roll < 0.6:
        return text[:at] + text[at + 1 :]
    if roll < 0.8:
        return text[:at] + text[at] + text[at:]
    return text[:at] + rng.choice("aeiounrst") + text[at + 1 :]


def _is_chinese(name: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" for char in name)


def _name_typo(rng: random.Random, original: Customer) -> str:
    name = original.name or ""
    if _is_chinese(name):
        # A homophone where there is one, else a space or a full stop of a hurried clerk.
        chars = list(name)
        spots = [i for i, c in enumerate(chars) if c in _HOMOPHONES]
        if spots:
            at = rng.choice(spots)
            chars[at] = _HOMOPHONES[chars[at]]
            return "".join(chars)
        return f"{name[0]} {name[1:]}"
    return _typo(rng, name)


def _name_variant(rng: random.Random, original: Customer) -> str:
    name = original.name or ""
    if original.kind is CustomerKind.ORGANISATION:
        return name.replace("有限公司", "公司") if rng.random() < 0.5 else f"{name}（总部）"
    if _is_chinese(name):
        from pypinyin import lazy_pinyin  # noqa: PLC0415 - large tables, loaded on first use

        syllables = lazy_pinyin(name)
        surname = 2 if len(name) == 4 else 1
        family, given = "".join(syllables[:surname]), "".join(syllables[surname:])
        roll = rng.random()
        if roll < 0.5:
            return f"{family.title()} {given.title()}"
        if roll < 0.8:
            return f"{given.title()} {family.title()}"
        return f"{family.upper()} {given.title()}"
    first, _, family = name.partition(" ")
    roll = rng.random()
    if first in _NICKNAMES and roll < 0.5:
        return f"{_NICKNAMES[first]} {family}"
    if roll < 0.8:
        return f"{family}, {first}"
    return name.upper()


def _date_typo(rng: random.Random, birth: date) -> date:
    roll = rng.random()
    if roll < 0.4 and birth.day <= 12 and birth.day != birth.month:
        return birth.replace(month=birth.day, day=birth.month)
    if roll < 0.7:
        year = str(birth.year)
        swapped = int(year[:2] + year[3] + year[2])
        if 1900 < swapped < 2020 and swapped != birth.year:
            try:
                return birth.replace(year=swapped)
            except ValueError:
                pass
    return birth + timedelta(days=rng.choice((-1, 1)))


def _moved(rng: random.Random, address: Address) -> Address:
    street = address.street or ""
    number = rng.randint(1, 999)
    return attrs.evolve(address, street=f"新华路{number}号" if _is_chinese(street) else street)
