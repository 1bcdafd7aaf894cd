"""The import guard finds a customer by natural keys before a second one is added."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custrec.errors import ValidationError
from custrec.model import Customer, Email, Phone
from custrec.quality import add_or_match, find_likely_duplicates
from custrec.store import Store, open_store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'g.db'}"
    opened = open_store(url)
    yield opened
    opened.close()


def zhang() -> Customer:
    return Customer(
        id="001",
        name="张三",
        phones=[Phone("13800138000", primary=True)],
        emails=[Email("zhang@example.com")],
        external_ids={"erp": "K1"},
        tags={"vip"},
    )


class TestFindLikelyDuplicates:
    @pytest.mark.parametrize(
        "incoming",
        [
            Customer(id="n1", phones=[Phone("+86 138-0013-8000")]),
            Customer(id="n2", emails=[Email("ZHANG@Example.com")]),
            Customer(id="n3", external_ids={"erp": "K1"}),
        ],
    )
    def test_each_natural_key_finds_the_customer(self, store: Store, incoming: Customer) -> None:
        """A phone in another format, an email in another case, or an external id matches."""
        store.customers.add(zhang())
        assert [c.id for c in find_likely_duplicates(store, incoming)] == ["001"]

    def test_keys_can_be_limited(self, store: Store) -> None:
        """Keys not asked for are not looked up; unknown keys are refused."""
        store.customers.add(zhang())
        incoming = Customer(id="n", phones=[Phone("13800138000")])
        assert find_likely_duplicates(store, incoming, keys=("email",)) == []
        with pytest.raises(ValidationError, match="fax"):
            find_likely_duplicates(store, incoming, keys=("fax",))

    def test_a_customer_is_not_its_own_duplicate(self, store: Store) -> None:
        """Looking up a stored customer does not return itself."""
        store.customers.add(zhang())
        assert find_likely_duplicates(store, zhang()) == []


class TestAddOrMatch:
    def test_new_customer_is_added(self, store: Store) -> None:
        """No match: the customer is added as it is."""
        result = add_or_match(store, zhang())
        assert (result.status, result.matches) == ("added", ())
        assert store.customers.get("001").name == "张三"

    def test_match_is_updated_not_duplicated(self, store: Store) -> None:
        """One match: it is updated in place, contact points united, no second customer."""
        store.customers.add(zhang())
        incoming = Customer(
            id="row-17",
            name="Zhang San",
            phones=[Phone("138 0013 8000"), Phone("13900139000")],
            tags={"new"},
        )
        result = add_or_match(store, incoming, actor="import")
        assert (result.status, result.matches) == ("updated", ("001",))
        assert store.customers.count() == 1
        kept = store.customers.get("001")
        assert kept.name == "Zhang San"
        assert {p.e164 for p in kept.phones} == {"+8613800138000", "+8613900139000"}
        assert [e.key for e in kept.emails] == ["zhang@example.com"]
        assert kept.tags == {"vip", "new"}
        assert store.audit("001", "customer")[-1].actor == "import"

    def test_several_matches_add_nothing(self, store: Store) -> None:
        """When keys point to two customers, nothing is written and both are named."""
        store.customers.add(zhang())
        store.customers.add(Customer(id="002", emails=[Email("li@example.com")]))
        incoming = Customer(id="x", phones=[Phone("13800138000")], emails=[Email("li@example.com")])
        result = add_or_match(store, incoming)
        assert (result.status, result.matches) == ("ambiguous", ("001", "002"))
        assert store.customers.count() == 2
