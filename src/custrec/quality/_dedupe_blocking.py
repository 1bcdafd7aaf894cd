"""Blocking: which pairs of customers are worth comparing at all.

Comparing every pair of a million customers is half a trillion comparisons. Blocking
compares only records that share a key in at least one *pass*: the same phone number, the
same email, the same phonetic name and birth date… The union of the passes is the set of
candidate pairs. Each pass is cheap (a dictionary from key to records), and the work grows
with the number of records, not its square.

A block larger than ``max_block_size`` (a phone number shared by a whole office, a very
common name with a common birth date) is skipped, and counted, rather than compared pair
by pair: it would cost quadratic time and mostly yield non-matches. The other passes still
give its true duplicates a chance to meet. A person and an organisation are never paired.

Two passes, ``name_token_birth`` and ``birth_postcode``, join attributes that records share
by chance ever more often as the file grows; their common keys are split or dropped by how
many records they may expect by chance (see :func:`frequency_aware`), so that their pairs
grow with the file rather than its square.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence

import attrs

from custrec.errors import ValidationError
from custrec.quality._dedupe_prepare import MatchView

__all__ = ["BLOCKING_PASSES", "BlockingStats", "block"]


# Each pass returns a tuple (empty for most records in most passes) rather than yielding:
# a generator per record and pass costs more than the keys. Dates key as ``YYYYMMDD``.


def _name_birth(view: MatchView) -> Iterable[str]:
    if view.phonetic and view.birth_digits:
        return (f"{' '.join(view.phonetic)}|{view.birth_digits}",)
    return ()


def _token_birth(view: MatchView) -> Iterable[str]:
    birth = view.birth_digits
    if birth:
        return tuple([f"{code}|{birth}" for code in view.phonetic])
    return ()


def _name_postcode(view: MatchView) -> Iterable[str]:
    if view.phonetic and view.postcodes:
        name = " ".join(view.phonetic)
        return tuple([f"{name}|{postcode}" for postcode in view.postcodes])
    return ()


def _name_street(view: MatchView) -> Iterable[str]:
    if view.phonetic and view.streets:
        name = " ".join(view.phonetic)
        return tuple([f"{name}|{street[:12]}" for street in view.streets])
    return ()


def _birth_postcode(view: MatchView) -> Iterable[str]:
    birth = view.birth_digits
    if birth and view.postcodes:
        return tuple([f"{birth}|{postcode}" for postcode in view.postcodes])
    return ()


def _email_local(view: MatchView) -> Iterable[str]:
    return tuple([local for local in view.locals if len(local) >= 5])


BLOCKING_PASSES: dict[str, Callable[[MatchView], Iterable[str]]] = {
    "phone": lambda view: view.phones,
    "email": lambda view: view.emails,
    "email_local": _email_local,
    "handle": lambda view: view.handles,
    "external_id": lambda view: view.external,
    "name_birth": _name_birth,
    "name_token_birth": _token_birth,
    "name_postcode": _name_postcode,
    "name_street": _name_street,
    "birth_postcode": _birth_postcode,
}
"""The blocking passes by name: each turns a record into the keys it is blocked under.

``name_street`` is the name with the start of the street (12 characters: the road and the
number). ``name_postcode`` is not a default: a postal code covers a whole district, so its
blocks grow with the file and the pairs it proposes grow with the square of the file.
"""


@attrs.frozen
class BlockingStats:
    """What blocking did.

    Attributes:
        records: How many records were blocked.
        candidate_pairs: Distinct pairs to compare (the union of the passes).
        pairs_by_pass: Pairs each pass proposed (before the union).
        skipped_blocks: Blocks larger than the limit, by pass.
        reduction_ratio: 1 − candidate pairs / all pairs: the share of comparisons saved.
    """

    records: int
    candidate_pairs: int
    pairs_by_pass: dict[str, int]
    skipped_blocks: dict[str, int]

    @property
    def reduction_ratio(self) -> float:
        """The share of all pairs that blocking saved from comparison."""
        total = self.records * (self.records - 1) // 2
        return 1.0 - self.candidate_pairs / total if total else 1.0


def check_passes(passes: Sequence[str]) -> tuple[str, ...]:
    """Return ``passes`` as a tuple, refusing unknown names.

    Raises:
        ValidationError: A pass is unknown.
    """
    for name in passes:
        if name not in BLOCKING_PASSES:
            raise ValidationError(
                "blocking", name, f"unknown pass; known: {', '.join(BLOCKING_PASSES)}"
            )
    return tuple(passes)


Keyed = Iterable[tuple[str, int]]
"""Blocking keys with the index of the record that has them, records in index order."""


def _keyed(views: Sequence[MatchView], keys: Callable[[MatchView], Iterable[str]]) -> Keyed:
    """The reference way to key records: call the pass on each record."""
    return ((key, index) for index, view in enumerate(views) for key in keys(view))


# The built-in passes keyed in one expression each over all records: the same keys in the
# same order as :func:`_keyed` gives (a property test holds them to it), without a call
# per record and pass, which costs more than the keys.
_FAST_KEYED: dict[str, Callable[[Sequence[MatchView]], Keyed]] = {
    "phone": lambda views: ((k, i) for i, v in enumerate(views) for k in v.phones),
    "email": lambda views: ((k, i) for i, v in enumerate(views) for k in v.emails),
    "email_local": lambda views: (
        (k, i) for i, v in enumerate(views) for k in v.locals if len(k) >= 5
    ),
    "handle": lambda views: ((k, i) for i, v in enumerate(views) for k in v.handles),
    "external_id": lambda views: ((k, i) for i, v in enumerate(views) for k in v.external),
    "name_birth": lambda views: (
        (f"{' '.join(v.phonetic)}|{v.birth_digits}", i)
        for i, v in enumerate(views)
        if v.phonetic and v.birth_digits
    ),
    "name_token_birth": lambda views: (
        (f"{code}|{v.birth_digits}", i)
        for i, v in enumerate(views)
        if v.birth_digits
        for code in v.phonetic
    ),
    "name_postcode": lambda views: (
        (f"{' '.join(v.phonetic)}|{postcode}", i)
        for i, v in enumerate(views)
        if v.phonetic
        for postcode in v.postcodes
    ),
    "name_street": lambda views: (
        (f"{' '.join(v.phonetic)}|{street[:12]}", i)
        for i, v in enumerate(views)
        if v.phonetic
        for street in v.streets
    ),
    "birth_postcode": lambda views: (
        (f"{v.birth_digits}|{postcode}", i)
        for i, v in enumerate(views)
        if v.birth_digits
        for postcode in v.postcodes
    ),
}
_BUILT_IN = dict(BLOCKING_PASSES)


CHANCE_LIMIT = 0.1
"""Most records a key of a chance pass may expect to gather by chance before it is split."""


def _chance_counts(views: Sequence[MatchView], name: str) -> tuple[Counter[str], Counter[str]]:
    """How many records have each of the two parts of the keys of chance pass ``name``.

    Names repeat, so the records are counted by name (one step in C per record) and the
    tokens of each distinct name then; a token counts once per record.
    """
    if name == "name_token_birth":
        names = Counter([view.phonetic for view in views if view.birth_digits])
        firsts: Counter[str] = Counter()
        for codes, count in names.items():
            for code in set(codes):
                firsts[code] += count
        seconds = Counter(
            [view.birth_digits for view in views if view.phonetic and view.birth_digits]
        )
    else:
        firsts = Counter(
            [view.birth_digits for view in views if view.birth_digits and view.postcodes]
        )
        seconds = Counter([code for view in views if view.birth_digits for code in view.postcodes])
    return firsts, seconds


def _initials(views: Sequence[MatchView]) -> Counter[str]:
    """How many records have a name token with each initial (once per record)."""
    initials: Counter[str] = Counter()
    for codes, count in Counter([view.phonetic for view in views]).items():
        for initial in {code[0] for code in codes}:
            initials[initial] += count
    return initials


def frequency_aware(
    views: Sequence[MatchView], name: str, limit: float = CHANCE_LIMIT
) -> Callable[[MatchView], Iterable[str]] | None:
    """The keys of chance pass ``name`` over ``views``, common keys split; ``None`` if none is.

    A key of ``name_token_birth`` (a name token and a birth date) or ``birth_postcode``
    joins two attributes that records share by chance: ``n_a · n_b / N`` records of a
    file of ``N`` may expect to share a key whose parts ``n_a`` and ``n_b`` records have,
    and that grows with the file, so the chance pairs of these passes grow with its
    square. A key expected to gather more than ``limit`` records is split by the initial
    of another name token (``name_token_birth``: the token that did not choose the block;
    ``birth_postcode``: each token of the name), which a typo in the other token rarely
    changes; a split key still expected to gather more is dropped. The chance pairs per
    key are then bounded, and the pairs grow with the file, not its square.

    Returns:
        The keying function, or ``None`` when no key is expected above ``limit`` (the
        pass's own keys are then used unchanged).
    """
    if name not in _CHANCE_PASSES:
        return None
    n = len(views) or 1
    firsts, seconds = _chance_counts(views, name)
    if not firsts or max(firsts.values()) * max(seconds.values()) <= limit * n:
        return None
    initials = _initials(views)
    total = sum(initials.values()) or 1

    def expected(a: str, b: str) -> float:
        return firsts[a] * seconds[b] / n

    def split(key: str, base: float, others: Iterable[str]) -> list[str]:
        if base <= limit:
            return [key]
        out = []
        for initial in sorted({code[0] for code in others}):
            if base * initials[initial] / total <= limit:
                out.append(f"{key}|{initial}")
        return out

    if name == "name_token_birth":

        def keys(view: MatchView) -> Iterable[str]:
            birth = view.birth_digits
            if not birth:
                return ()
            out: list[str] = []
            for at, code in enumerate(view.phonetic):
                rest = view.phonetic[:at] + view.phonetic[at + 1 :]
                out.extend(split(f"{code}|{birth}", expected(code, birth), rest))
            return out

    else:

        def keys(view: MatchView) -> Iterable[str]:
            birth = view.birth_digits
            if not birth:
                return ()
            out: list[str] = []
            for postcode in view.postcodes:
                out.extend(split(f"{birth}|{postcode}", expected(birth, postcode), view.phonetic))
            return out

    return keys


_CHANCE_PASSES = frozenset({"name_token_birth", "birth_postcode"})


def _keys_of(views: Sequence[MatchView], name: str) -> Keyed:
    """The keys of pass ``name``: the fast way for a built-in pass not replaced since."""
    keys = BLOCKING_PASSES[name]
    if name in _FAST_KEYED and keys is _BUILT_IN.get(name):
        return _FAST_KEYED[name](views)
    return _keyed(views, keys)


def _blocks(keyed: Keyed) -> Iterator[list[int]]:
    """Yield the records sharing each key that more than one record has, sorted, distinct."""
    yield from _shared(keyed).values()


def _shared(keyed: Keyed) -> dict[str, list[int]]:
    """The records sharing each key that more than one record has, sorted, distinct.

    Most keys belong to one record, so a key maps to its first record (an int: strings
    and ints are not tracked by the garbage collector) and a list is made only for a key
    that a second record has.
    """
    first: dict[str, int] = {}
    shared: dict[str, list[int]] = {}
    for key, index in keyed:
        owner = first.setdefault(key, index)
        if owner != index:
            group = shared.get(key)
            if group is None:
                shared[key] = [owner, index]
            elif group[-1] != index:  # a record repeats a key when two of its keys
                group.append(index)  # coincide (two name tokens, one phonetic code)
    # Records come in index order, so every group is sorted and without repeats.
    return shared


_BY_BIRTH = ("name_birth", "name_token_birth", "birth_postcode")
"""The passes whose keys all hold the birth date (see :class:`_BirthBlocker`)."""


def _by_birth(views: Sequence[MatchView]) -> Iterator[list[int]]:
    """The records of each birth date that more than one record has, in index order."""
    groups: dict[str, list[int]] = {}
    for index, view in enumerate(views):
        birth = view.birth_digits
        if birth:
            group = groups.get(birth)
            if group is None:
                groups[birth] = [index]
            else:
                group.append(index)
    return (group for group in groups.values() if len(group) > 1)


_PHONETIC: Callable[[MatchView], tuple[str, ...]] = operator.attrgetter("phonetic")
_POSTCODES: Callable[[MatchView], tuple[str, ...]] = operator.attrgetter("postcodes")


class _BirthBlocker:
    """Blocks the built-in passes of :data:`_BY_BIRTH` one birth date at a time.

    Each of these passes keys a record by its birth date and something else (the whole
    name, one name token, a postal code), so the records are grouped by birth date once,
    and each group (a few dozen records even in a large file) by the other part, in a
    small dictionary of strings the views already hold. The blocks are those of keying
    every record by :func:`frequency_aware` (a property test holds them to it), without a
    key string per record or a dictionary as large as the file, whose scattered reads
    made blocking slower per record as the file grew.

    Holds what every birth date's work reads: how many records with a birth date have
    each name token and postal code (the chance passes' expected sizes), and the initials
    of the whole file's name tokens (counted once, when a common key first needs them).
    """

    def __init__(self, views: Sequence[MatchView], names: Iterable[str], limit: float) -> None:
        self.views = views
        self.n = len(views)
        self.limit = limit
        self.out: dict[str, list[list[int]]] = {name: [] for name in names}
        self.initials: Counter[str] | None = None
        self.total = 1
        self.code_counts: Counter[str] = Counter()
        if "name_token_birth" in self.out:
            named = Counter([view.phonetic for view in views if view.birth_digits])
            for codes, count in named.items():
                for code in set(codes):
                    self.code_counts[code] += count
        self.post_counts: Counter[str] = Counter(
            [code for view in views if view.birth_digits for code in view.postcodes]
            if "birth_postcode" in self.out
            else ()
        )

    def run(self) -> dict[str, list[list[int]]]:
        """Block every birth date shared by two records or more; the blocks by pass."""
        whole, token, postal = (self.out.get(name) for name in _BY_BIRTH)
        if self.out:
            for members in _by_birth(self.views):
                if whole is not None:
                    self.whole_name(members, whole)
                if token is not None:
                    self.name_token(members, token)
                if postal is not None:
                    self.postcode(members, postal)
        return self.out

    def whole_name(self, members: list[int], out: list[list[int]]) -> None:
        """``name_birth``: the records of one birth date with the same phonetic name."""
        views = self.views
        names: dict[tuple[str, ...], list[int]] = {}
        for index in members:
            phonetic = views[index].phonetic
            if phonetic:
                names.setdefault(phonetic, []).append(index)
        out.extend([group for group in names.values() if len(group) > 1])

    def shared(
        self, members: list[int], values_of: Callable[[MatchView], tuple[str, ...]]
    ) -> tuple[int, dict[str, list[int]]]:
        """How many of ``members`` have values, and the members having each value."""
        views = self.views
        by_value: dict[str, list[int]] = {}
        having = 0
        for index in members:
            values = values_of(views[index])
            if values:
                having += 1
                for value in values:
                    group = by_value.get(value)
                    if group is None:
                        by_value[value] = [index]
                    elif group[-1] != index:  # two name tokens with one phonetic code
                        group.append(index)
        return having, by_value

    def name_token(self, members: list[int], out: list[list[int]]) -> None:
        """``name_token_birth``: the records of one birth date sharing a name token."""
        named, by_code = self.shared(members, _PHONETIC)
        for code, group in by_code.items():
            if len(group) > 1:
                self.keep(out, group, self.code_counts[code] * named / self.n, code)

    def postcode(self, members: list[int], out: list[list[int]]) -> None:
        """``birth_postcode``: the records of one birth date sharing a postal code."""
        posted, by_post = self.shared(members, _POSTCODES)
        for code, group in by_post.items():
            if len(group) > 1:
                self.keep(out, group, posted * self.post_counts[code] / self.n, None)

    def keep(
        self, out: list[list[int]], members: list[int], base: float, chosen: str | None
    ) -> None:
        """Keep a chance block expected to gather ``base`` records by chance, or split it.

        A common block is split by the initials of its members' name tokens other than
        ``chosen`` (the token that chose it, if any); a part is kept when it may expect
        at most the limit by chance (see :func:`frequency_aware`).
        """
        limit = self.limit
        if base <= limit:
            out.append(members)
            return
        if self.initials is None:
            self.initials = _initials(self.views)
            self.total = sum(self.initials.values()) or 1
        initials, total = self.initials, self.total
        groups: dict[str, list[int]] = {}
        for index in members:
            codes = list(self.views[index].phonetic)
            if chosen is not None:
                codes.remove(chosen)  # the token that chose the block
            for initial in {code[0] for code in codes}:
                groups.setdefault(initial, []).append(index)
        out.extend(
            [
                group
                for initial, group in groups.items()
                if len(group) > 1 and base * initials[initial] / total <= limit
            ]
        )


def block(
    views: Sequence[MatchView],
    passes: Sequence[str],
    max_block_size: int,
    chance_limit: float = CHANCE_LIMIT,
) -> tuple[list[tuple[int, int]], BlockingStats]:
    """Return the candidate pairs of ``views`` (as index pairs, smaller first, sorted).

    Args:
        views: The records.
        passes: Names from :data:`BLOCKING_PASSES`.
        max_block_size: Blocks with more records are skipped.
        chance_limit: A key of a chance pass expected to gather more records by chance
            is split (see :func:`frequency_aware`).

    Returns:
        The pairs and what blocking did.

    Raises:
        ValidationError: A pass is unknown.
    """
    n = len(views)
    found: set[int] = set()
    by_pass: dict[str, int] = {}
    skipped: dict[str, int] = {}
    passes = check_passes(passes)
    by_birth = _BirthBlocker(
        views,
        [name for name in _BY_BIRTH if name in passes and BLOCKING_PASSES[name] is _BUILT_IN[name]],
        chance_limit,
    ).run()
    for name in passes:
        proposed = too_big = 0
        blocks = by_birth[name] if name in by_birth else _blocks(_keys_of(views, name))
        for members in blocks:
            size = len(members)
            if size > max_block_size:
                too_big += 1
            elif size > 1:
                proposed += size * (size - 1) // 2
                for at, left in enumerate(members):
                    base = left * n
                    found.update([base + right for right in members[at + 1 :]])
        by_pass[name] = proposed
        skipped[name] = too_big
    # A person and an organisation are never one customer, whatever they share (a
    # company's number is often its owner's mobile).
    pairs = [
        (i, j)
        for i, j in (divmod(code, n) for code in sorted(found))
        if views[i].organisation == views[j].organisation
    ]
    return pairs, BlockingStats(n, len(pairs), by_pass, skipped)
