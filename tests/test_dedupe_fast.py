"""The fast paths of duplicate detection give exactly what the plain reference ways give.

Blocking keys every record in one expression per pass, groups keys in a dictionary and
records views with fewer sorts; reported pairs share the comparisons of fields that
repeat. Each is held here to a straightforward reference — the way it was first written.
"""

from __future__ import annotations

import unicodedata

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from custrec.model import Customer, CustomerKind
from custrec.quality import DuplicateSettings, find_duplicates
from custrec.quality._dedupe_blocking import (
    _FAST_KEYED,
    BLOCKING_PASSES,
    BlockingStats,
    _keyed,
    block,
    frequency_aware,
)
from custrec.quality._dedupe_compare import FIELDS, compare_detail
from custrec.quality._dedupe_prepare import (
    _ORG_WORDS,
    MatchView,
    NameMemo,
    _local,
    _phonetic,
    romanise,
    view_of,
)
from custrec.testing import duplicates, strategies


def reference_view(customer: Customer) -> MatchView:
    """view_of as first written: every value sorted through a set, nothing cached."""

    def keys(values: list[str]) -> tuple[str, ...]:
        return tuple(sorted(set(values)))

    def fold(text: str | None) -> str:
        if not text:
            return ""
        return "".join(unicodedata.normalize("NFKC", text).casefold().split())

    organisation = customer.kind is CustomerKind.ORGANISATION
    raw_name = customer.name or ""
    if organisation:
        raw_name = _ORG_WORDS.sub("", raw_name)
    tokens = romanise(raw_name) if raw_name else ()
    emails = keys([email.key for email in customer.emails])
    birth = customer.birth_date
    gender = customer.gender
    return MatchView(
        id=customer.id,
        organisation=organisation,
        name=fold(raw_name),
        roman=" ".join(tokens),
        phonetic=tuple(sorted(_phonetic(token) for token in tokens)),
        phones=keys([phone.e164 for phone in customer.phones if phone.e164]),
        emails=emails,
        locals=keys([_local(key) for key in emails]),
        handles=keys([handle.key for handle in customer.handles]),
        external=keys([f"{s}:{i}" for s, i in customer.external_ids.items()]),
        birth=birth,
        birth_digits=f"{birth.year:04d}{birth.month:02d}{birth.day:02d}" if birth else "",
        postcodes=keys(
            ["".join(a.postal_code.split()) for a in customer.addresses if a.postal_code]
        ),
        cities=keys([fold(a.city) for a in customer.addresses if a.city]),
        streets=tuple(fold(a.street) for a in customer.addresses if a.street),
        gender=str(getattr(gender, "value", gender)) if gender is not None else "",
    )


def reference_block(
    views: list[MatchView], passes: tuple[str, ...], max_block_size: int, chance_limit: float
) -> tuple[list[tuple[int, int]], BlockingStats]:
    """Blocking as first written: keys from each record in turn, blocks by sorting them."""
    n = len(views)
    found: set[tuple[int, int]] = set()
    by_pass: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for name in passes:
        owners: dict[str, set[int]] = {}
        keys = frequency_aware(views, name, chance_limit) or BLOCKING_PASSES[name]
        for index, view in enumerate(views):
            for key in keys(view):
                owners.setdefault(key, set()).add(index)
        proposed = too_big = 0
        for key in sorted(owners):
            members = sorted(owners[key])
            if len(members) > max_block_size:
                too_big += 1
            elif len(members) > 1:
                proposed += len(members) * (len(members) - 1) // 2
                found.update((a, b) for at, a in enumerate(members) for b in members[at + 1 :])
        by_pass[name] = proposed
        skipped[name] = too_big
    pairs = sorted((i, j) for i, j in found if views[i].organisation == views[j].organisation)
    return pairs, BlockingStats(n, len(pairs), by_pass, skipped)


def mixed_views(seed: int, extra: list[Customer]) -> list[MatchView]:
    """Generated duplicates (shared keys, many blocks) plus arbitrary customers."""
    generated = list(duplicates.generate(60, seed=seed).customers)
    taken = {c.id for c in generated}
    customers = generated + [c for c in extra if c.id not in taken]
    by_id = {c.id: c for c in customers}
    return sorted(map(view_of, by_id.values()), key=lambda view: view.id)


class TestFastViews:
    @settings(max_examples=60, deadline=None)
    @given(customer=strategies.customers())
    def test_any_customer(self, customer: Customer) -> None:
        """view_of gives what the reference gives, for any customer."""
        assert view_of(customer) == reference_view(customer)

    @settings(max_examples=10, deadline=None)
    @given(seed=st.integers(0, 10_000))
    def test_generated_duplicates(self, seed: int) -> None:
        """And for generated duplicates: pinyin, nicknames, many phones and addresses."""
        for customer in duplicates.generate(80, seed=seed).customers:
            assert view_of(customer) == reference_view(customer)

    @settings(max_examples=10, deadline=None)
    @given(seed=st.integers(0, 10_000))
    def test_a_runs_name_memo_changes_nothing(self, seed: int) -> None:
        """Views made through one run's name memo equal views made one by one, and the
        memo holds each distinct name once."""
        customers = duplicates.generate(80, seed=seed).customers
        memo = NameMemo()
        assert [view_of(c, memo) for c in customers] == [reference_view(c) for c in customers]
        assert len(memo) == len(
            {
                _ORG_WORDS.sub("", c.name or "")
                if c.kind is CustomerKind.ORGANISATION
                else c.name or ""
                for c in customers
            }
        )


class TestFastBlocking:
    @settings(max_examples=25, deadline=None)
    @given(
        seed=st.integers(0, 10_000),
        extra=st.lists(strategies.customers(), max_size=8),
        name=st.sampled_from(sorted(_FAST_KEYED)),
    )
    def test_fast_keys_equal_the_pass(self, seed: int, extra: list[Customer], name: str) -> None:
        """Each built-in pass keyed in one expression gives its keys, in the same order."""
        views = mixed_views(seed, extra)
        assert list(_FAST_KEYED[name](views)) == list(_keyed(views, BLOCKING_PASSES[name]))

    @settings(max_examples=25, deadline=None)
    @given(
        seed=st.integers(0, 10_000),
        extra=st.lists(strategies.customers(), max_size=8),
        passes=st.lists(st.sampled_from(sorted(BLOCKING_PASSES)), min_size=1, unique=True),
        limit=st.integers(2, 8),
        chance=st.sampled_from([0.005, 0.02, 0.1, 0.5, 2.0]),
    )
    def test_block_equals_the_reference(
        self, seed: int, extra: list[Customer], passes: list[str], limit: int, chance: float
    ) -> None:
        """Pairs, pairs per pass and skipped blocks all equal the reference's (with the
        chance passes' common keys split: every record keyed by frequency_aware)."""
        views = mixed_views(seed, extra)
        assert block(views, passes, limit, chance) == reference_block(
            views, tuple(passes), limit, chance
        )


class TestSharedComparisons:
    @settings(max_examples=8, deadline=None)
    @given(seed=st.integers(0, 10_000))
    def test_fields_as_computed_one_by_one(self, seed: int) -> None:
        """Every reported field comparison equals its comparison computed for that pair."""
        customers = duplicates.generate(200, seed=seed).customers
        views = {view.id: view for view in map(view_of, customers)}
        found = find_duplicates(customers, settings=DuplicateSettings())
        model = found.model
        for pair in found.pairs:
            detail = compare_detail(views[pair.left], views[pair.right])
            adjustment = pair.weight - model.weight(tuple(level for level, _ in detail))
            expected = tuple(
                (name, level, similarity, model.field_weight(index, level))
                for index, (name, (level, similarity)) in enumerate(
                    zip(FIELDS, detail, strict=True)
                )
            )
            got = tuple(attrs.astuple(field) for field in pair.fields)
            assert [g[:3] for g in got] == [e[:3] for e in expected]
            assert got[0][3] == expected[0][3] + adjustment
            assert [g[3] for g in got[1:]] == [e[3] for e in expected[1:]]


def test_overlapping_runs_leave_the_collector_as_it_was() -> None:
    """Runs that overlap (as in two threads) turn the collector back on only at the last end."""
    import gc

    from custrec._gcpause import without_collection as _without_collection

    assert gc.isenabled()
    first, second = _without_collection(), _without_collection()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second run is still going
    second.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()
    try:
        with _without_collection():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        gc.enable()
