"""Duplicate detection: blocking, comparison, the Fellegi–Sunter model, clustering."""

from __future__ import annotations

import itertools
import math
import random

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custrec.errors import ValidationError
from custrec.model import Address, Customer, Email, Phone
from custrec.quality import (
    DuplicateSettings,
    MatchModel,
    find_duplicates,
    find_duplicates_in_store,
    romanise,
)
from custrec.quality._dedupe_blocking import (
    BLOCKING_PASSES,
    _blocks,
    _keyed,
    block,
    frequency_aware,
)
from custrec.quality._dedupe_cluster import cluster
from custrec.quality._dedupe_prepare import view_of
from custrec.store import open_store
from custrec.template import Template
from custrec.testing import duplicates


@pytest.fixture(scope="module")
def dataset() -> duplicates.DuplicateDataset:
    return duplicates.generate(3_000, seed=11)


def chance_file(size: int, seed: int) -> list[Customer]:
    """People who share name tokens, birth dates and postcodes by chance: few of each."""
    rng = random.Random(seed)
    surnames = ["王", "李", "张", "刘", "陈"]
    given = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"
    customers = []
    for i in range(size):
        name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
        born = f"19{rng.randint(70, 72)}-0{rng.randint(1, 3)}-1{rng.randint(0, 2)}"
        customers.append(
            Customer(
                id=f"R{i:05d}",
                name=name,
                birth_date=born,
                addresses=[Address(postal_code=f"10000{rng.randint(0, 4)}")],
            )
        )
    return customers


def pairs_of(keyed: object) -> set[tuple[int, int]]:
    return {
        (a, b)
        for members in _blocks(keyed)  # type: ignore[arg-type]
        for at, a in enumerate(members)
        for b in members[at + 1 :]
    }


def predicted_pairs(clusters: object) -> set[tuple[str, str]]:
    return {
        pair
        for group in clusters  # type: ignore[attr-defined]
        for pair in itertools.combinations(group.ids, 2)
    }


class TestRomanise:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("张三", ("san", "zhang")),
            ("章三", ("san", "zhang")),
            ("Zhang San", ("san", "zhang")),
            ("SAN, Zhang", ("san", "zhang")),
            ("曾伟", ("wei", "zeng")),
            ("欧阳娜", ("na", "ouyang")),
            ("Bill Smith", ("smith", "william")),
            ("José García", ("garcia", "jose")),
        ],
    )
    def test_names_meet_across_scripts(self, name: str, expected: tuple[str, ...]) -> None:
        """Homophones, pinyin, family-name-first, nicknames and accents all meet."""
        assert romanise(name) == expected


class TestBlocking:
    def test_pair_completeness_and_reduction(self, dataset: duplicates.DuplicateDataset) -> None:
        """Blocking keeps nearly every true pair while comparing a tiny share of all pairs."""
        views = sorted(map(view_of, dataset.customers), key=lambda v: v.id)
        pairs, stats = block(views, DuplicateSettings().blocking, 200)
        found = {(views[i].id, views[j].id) for i, j in pairs}
        truth = dataset.true_pairs()
        assert len(found & truth) / len(truth) >= 0.99
        assert stats.reduction_ratio > 0.999
        assert stats.candidate_pairs == len(pairs)

    def test_oversized_blocks_are_skipped_and_counted(self) -> None:
        """A phone shared by more records than the limit is not compared pair by pair."""
        people = [Customer(id=f"P{i}", phones=[Phone("13800000000")]) for i in range(5)]
        views = [view_of(c) for c in people]
        pairs, stats = block(views, ["phone"], 4)
        assert pairs == []
        assert stats.skipped_blocks["phone"] == 1

    @settings(max_examples=15, deadline=None)
    @given(
        seed=st.integers(0, 10_000),
        name=st.sampled_from(["name_token_birth", "birth_postcode"]),
        limit=st.floats(0.01, 3),
    )
    def test_split_keys_propose_no_new_pair(self, seed: int, name: str, limit: float) -> None:
        """A chance pass with its common keys split proposes a subset of its plain pairs."""
        views = sorted(map(view_of, chance_file(400, seed)), key=lambda v: v.id)
        aware = frequency_aware(views, name, limit)
        plain = pairs_of(_keyed(views, BLOCKING_PASSES[name]))
        if aware is None:
            return
        assert pairs_of(_keyed(views, aware)) <= plain

    @settings(max_examples=10, deadline=None)
    @given(
        seed=st.integers(0, 10_000), name=st.sampled_from(["name_token_birth", "birth_postcode"])
    )
    def test_chance_pairs_grow_linearly(self, seed: int, name: str) -> None:
        """Where the plain pass's chance pairs grow with the square of the file, the split
        pass's stay under a bound per record: each key expects a tenth of a record by chance.
        """
        plain_counts = []
        for size in (500, 2_000):
            views = sorted(map(view_of, chance_file(size, seed)), key=lambda v: v.id)
            aware = frequency_aware(views, name)
            assert aware is not None
            plain_counts.append(len(pairs_of(_keyed(views, BLOCKING_PASSES[name]))))
            assert len(pairs_of(_keyed(views, aware))) <= size
        assert plain_counts[1] > 10 * plain_counts[0]

    def test_split_keeps_a_typo_in_the_other_token(self) -> None:
        """In a file where 王 and the birth date are common, 王伟 meets 王玮 (a homophone)
        and "Wang Wie" (a typo keeping the initial), not every other 王 born that day."""
        crowd = chance_file(3_000, 5)
        born = "1980-05-06"
        twins = [
            Customer(id="T1", name="王伟", birth_date=born),
            Customer(id="T2", name="Wang Wie", birth_date=born),
        ]
        views = sorted(map(view_of, [*crowd, *twins]), key=lambda v: v.id)
        aware = frequency_aware(views, "name_token_birth")
        assert aware is not None
        ids = {(views[i].id, views[j].id) for i, j in pairs_of(_keyed(views, aware))}
        assert ("T1", "T2") in ids
        plain = pairs_of(_keyed(views, BLOCKING_PASSES["name_token_birth"]))
        assert len(ids) < len(plain) / 3

    def test_chance_limit_is_a_setting(self) -> None:
        """An infinite limit splits nothing; a limit that is not above 0 is refused."""
        views = sorted(map(view_of, chance_file(600, 3)), key=lambda v: v.id)
        passes = ("name_token_birth", "birth_postcode")
        split, _ = block(views, passes, 200)
        plain, _ = block(views, passes, 200, math.inf)
        assert set(split) < set(plain)
        assert DuplicateSettings.from_mapping({"chance_limit": 2.5}).chance_limit == 2.5
        for wrong in (0, -1.0, math.nan, True):
            with pytest.raises(ValidationError, match="chance_limit"):
                DuplicateSettings(chance_limit=wrong)

    def test_unknown_pass_is_refused(self) -> None:
        """A blocking pass that does not exist is a ValidationError naming it."""
        with pytest.raises(ValidationError, match="nonsense"):
            DuplicateSettings(blocking=("phone", "nonsense"))


class TestFindDuplicates:
    def test_quality_on_synthetic_data(self, dataset: duplicates.DuplicateDataset) -> None:
        """Without labels, precision and recall on generated duplicates are both ≥ 0.98."""
        found = find_duplicates(dataset.customers)
        predicted = predicted_pairs(found.clusters)
        truth = dataset.true_pairs()
        hits = len(predicted & truth)
        assert hits / len(predicted) >= 0.98
        assert hits / len(truth) >= 0.98

    def test_pairs_explain_themselves(self) -> None:
        """Each pair carries a comparison per field; agreeing fields weigh for the match."""
        a = Customer(id="A", name="张三", phones=[Phone("138 0013 8000")], birth_date="1980-05-06")
        b = Customer(id="B", name="Zhang San", phones=[Phone("+86 13800138000")])
        others = list(duplicates.generate(300, seed=2).customers)
        found = find_duplicates([a, b, *others])
        (pair,) = [p for p in found.pairs if (p.left, p.right) == ("A", "B")]
        fields = {f.field: f for f in pair.fields}
        assert (fields["phone"].level, fields["name"].level, fields["birth_date"].level) == (
            2,
            3,
            -1,
        )
        assert fields["phone"].weight > 0
        assert fields["name"].weight > 0
        assert fields["birth_date"].weight == 0
        assert any(c.ids == ("A", "B") for c in found.clusters)

    def test_store_variant_agrees(self, dataset: duplicates.DuplicateDataset) -> None:
        """Finding duplicates in a store gives what finding them in the records gives."""
        some = dataset.customers[:600]
        store = open_store("memory://")
        store.customers.add_many(some)
        assert find_duplicates_in_store(store) == find_duplicates(some)

    def test_labelled_model(self, dataset: duplicates.DuplicateDataset) -> None:
        """A model counted from labelled pairs finds the duplicates as well."""
        by_id = {c.id: c for c in dataset.customers}
        truth = sorted(dataset.true_pairs())
        ids = sorted(by_id)
        rng = random.Random(1)
        negatives = [(rng.choice(ids), rng.choice(ids)) for _ in range(2_000)]
        labelled = [(by_id[a], by_id[b], True) for a, b in truth[:300]] + [
            (by_id[a], by_id[b], False) for a, b in negatives if a != b
        ]
        model = MatchModel.from_labelled(labelled, prior=1e-4)
        assert MatchModel.from_dict(model.as_dict()) == model
        found = find_duplicates(dataset.customers, model=model)
        predicted = predicted_pairs(found.clusters)
        assert len(predicted & dataset.true_pairs()) / len(dataset.true_pairs()) >= 0.95

    def test_settings_from_template(self) -> None:
        """The template's [checks.duplicates] table configures detection; typos are refused."""
        template = Template(
            name="t", checks={"duplicates": {"merge_threshold": 0.999, "blocking": ["phone"]}}
        )
        chosen = DuplicateSettings.from_template(template)
        assert chosen.merge_threshold == 0.999
        assert chosen.blocking == ("phone",)
        assert DuplicateSettings.from_template(Template(name="t")) == DuplicateSettings()
        with pytest.raises(ValidationError, match="merge_treshold"):
            DuplicateSettings.from_mapping({"merge_treshold": 0.9})
        with pytest.raises(ValidationError):
            DuplicateSettings(review_threshold=0.99, merge_threshold=0.9)


class TestEdges:
    def test_nothing_in_nothing_out(self) -> None:
        """No customers, or one, give no pairs and no clusters."""
        for customers in ([], [Customer(id="A", name="张三")]):
            found = find_duplicates(customers)
            assert (found.pairs, found.clusters) == ((), ())

    def test_repeated_id_is_refused(self) -> None:
        """Two records with one id cannot be told apart, so they are refused by name."""
        with pytest.raises(ValidationError, match="C1"):
            find_duplicates([Customer(id="C1"), Customer(id="C1")])

    def test_person_and_organisation_never_pair(self) -> None:
        """A company sharing its owner's mobile is not the owner."""
        phone = [Phone("13800138000")]
        owner = Customer(id="P", name="张三", phones=phone)
        shop = Customer(id="O", name="张三餐饮有限公司", kind="organisation", phones=phone)
        views = [view_of(owner), view_of(shop)]
        assert block(views, ["phone"], 10)[0] == []


class TestClustering:
    @settings(max_examples=20)
    @given(seed=st.integers(0, 1_000))
    def test_deterministic_whatever_the_input_order(self, seed: int) -> None:
        """Shuffling the customers changes nothing in the pairs or clusters found."""
        data = duplicates.generate(150, seed=seed)
        shuffled = list(data.customers)
        random.Random(seed).shuffle(shuffled)
        assert find_duplicates(shuffled) == find_duplicates(data.customers)

    @given(
        edges=st.lists(
            st.tuples(
                st.sampled_from("abcdefghij"), st.sampled_from("abcdefghij"), st.floats(0, 1)
            ),
            max_size=40,
        ),
        limit=st.integers(2, 6),
    )
    def test_groups_respect_the_size_limit(
        self, edges: list[tuple[str, str, float]], limit: int
    ) -> None:
        """No group exceeds the limit, groups are disjoint, and edge order does not matter."""
        groups = cluster(edges, limit)
        assert all(2 <= len(g.ids) <= limit for g in groups)
        members = [i for g in groups for i in g.ids]
        assert len(members) == len(set(members))
        assert cluster(list(reversed(edges)), limit) == groups

    def test_chain_is_capped_for_review(self) -> None:
        """A chain longer than the limit is cut at its weakest link and sent to review."""
        chain = [(f"n{i}", f"n{i + 1}", 0.999 - i / 1000) for i in range(10)]
        groups = cluster(chain, 5)
        assert max(len(g.ids) for g in groups) <= 5
        assert any(g.capped for g in groups)


class TestSyntheticTruth:
    def test_deterministic_and_consistent(self) -> None:
        """Same seed, same data; every copy maps to an original present in the data."""
        one = duplicates.generate(500, seed=4)
        assert one == duplicates.generate(500, seed=4)
        ids = {c.id for c in one.customers}
        assert set(one.entity) == ids
        assert set(one.entity.values()) <= ids
        assert len(one.true_pairs()) > 50

    def test_copies_are_valid_customers(self) -> None:
        """Every generated record survives the validating constructors."""
        for customer in duplicates.generate(300, seed=9).customers:
            assert attrs.evolve(customer) == customer
            for email in customer.emails:
                assert Email(email.address).key == email.key
