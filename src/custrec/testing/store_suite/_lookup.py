"""The store suite's lookup group: customers found by phone, email, handle and external id."""

# ruff: noqa: S101 - a test suite states what it proves with assert

from __future__ import annotations

import attrs
import pytest

from custrec.model import Email, Handle, Phone
from custrec.store import Store
from custrec.testing.store_suite._base import SuiteBase, customer, ids

PHONE_WRITINGS = (
    "138 1234 5678",
    "+86-13812345678",
    "８６１３８１２３４５６７８",
    "0086 138 1234 5678",
    "13812345678",
    "(+86) 138-1234-5678",
)


class LookupTests(SuiteBase):
    """Customers found by phone (in any writing), email, messaging handle and external id."""

    @pytest.mark.parametrize("typed", PHONE_WRITINGS)
    def test_phone_lookup_in_any_writing(self, store: Store, typed: str) -> None:
        """A customer stored with 13812345678 is found by the number written any usual way."""
        store.customers.add(customer("p1", phones=[Phone("13812345678", region="CN")]))
        store.customers.add(customer("p2", phones=[Phone("13900001111", region="CN")]))
        assert ids(store.customers.find_by_phone(typed)) == ["p1"]

    @pytest.mark.parametrize("stored", PHONE_WRITINGS)
    def test_phone_lookup_whatever_the_stored_writing(self, store: Store, stored: str) -> None:
        """A number stored in any writing is found by its plain digits."""
        store.customers.add(customer("p1", phones=[Phone(stored, region="CN")]))
        assert ids(store.customers.find_by_phone("13812345678")) == ["p1"]

    def test_phone_lookup_finds_every_customer_sharing_a_number(self, store: Store) -> None:
        """Customers sharing a number (a family, a switchboard) are all found, in id order."""
        shared = Phone("010-6552 9988", region="CN")
        store.customers.add(customer("b", phones=[shared]))
        store.customers.add(customer("a", phones=[Phone("13812345678", region="CN"), shared]))
        assert ids(store.customers.find_by_phone("+86 10 6552 9988")) == ["a", "b"]
        assert ids(store.customers.find_by_phone("13812345678")) == ["a"]

    def test_phone_lookup_of_unreadable_text_finds_nobody(self, store: Store) -> None:
        """Text that holds no phone number finds nobody rather than failing."""
        store.customers.add(customer("p1", phones=[Phone("13812345678", region="CN")]))
        assert store.customers.find_by_phone("call after 6pm") == []
        assert store.customers.find_by_phone("") == []
        assert store.customers.find_by_phone("13900001111") == []

    @pytest.mark.parametrize(
        "typed",
        [
            "zhang.san@qq.com",
            "ZHANG.SAN@QQ.COM",
            " Zhang.San@qq.com ",
            "ｚｈａｎｇ.ｓａｎ@ｑｑ.ｃｏｍ",
        ],
    )
    def test_email_lookup_ignores_case(self, store: Store, typed: str) -> None:
        """An email address is found whatever its case, width or surrounding spaces."""
        store.customers.add(customer("e1", emails=[Email("Zhang.San@QQ.com")]))
        store.customers.add(customer("e2", emails=[Email("li.si@qq.com")]))
        assert ids(store.customers.find_by_email(typed)) == ["e1"]
        assert store.customers.find_by_email("zhang.san@163.com") == []

    def test_handle_lookup(self, store: Store) -> None:
        """A handle is found on its network (named or aliased), ignoring the handle's case."""
        store.customers.add(customer("h1", handles=[Handle("wechat", "Zhang_San88")]))
        assert ids(store.customers.find_by_handle("wechat", "zhang_san88")) == ["h1"]
        assert ids(store.customers.find_by_handle("微信", "ZHANG_SAN88")) == ["h1"]
        assert store.customers.find_by_handle("qq", "zhang_san88") == []
        assert store.customers.find_by_handle("wechat", "zhang_san") == []

    def test_external_id_lookup(self, store: Store) -> None:
        """A customer is found by its id in another system, and only in that system."""
        store.customers.add(customer("x1", external_ids={"erp": "E-001", "有赞": "YZ-9"}))
        assert ids(store.customers.find_by_external_id("erp", "E-001")) == ["x1"]
        assert ids(store.customers.find_by_external_id("有赞", "YZ-9")) == ["x1"]
        assert store.customers.find_by_external_id("crm", "E-001") == []
        assert store.customers.find_by_external_id("erp", "E-002") == []

    def test_lookups_follow_updates(self, store: Store) -> None:
        """After an update the old contact points find nobody and the new ones find the customer."""
        v1 = store.customers.add(
            customer(
                "u1",
                phones=[Phone("13812345678", region="CN")],
                emails=[Email("old@qq.com")],
                handles=[Handle("qq", "10001")],
                external_ids={"erp": "E-1"},
            )
        )
        v2 = store.customers.update(
            attrs.evolve(
                v1,
                name="renamed",
                phones=[Phone("13900001111", region="CN")],
                emails=[Email("new@qq.com")],
                handles=[Handle("qq", "10002")],
                external_ids={"erp": "E-2"},
            )
        )
        customers = store.customers
        assert customers.find_by_phone("13812345678") == []
        assert customers.find_by_email("old@qq.com") == []
        assert customers.find_by_handle("qq", "10001") == []
        assert customers.find_by_external_id("erp", "E-1") == []
        for found in (
            customers.find_by_phone("139 0000 1111"),
            customers.find_by_email("NEW@qq.com"),
            customers.find_by_handle("qq", "10002"),
            customers.find_by_external_id("erp", "E-2"),
        ):
            assert found == [v2]

    def test_lookups_follow_deletes(self, store: Store) -> None:
        """A deleted customer is found by none of its contact points."""
        store.customers.add(
            customer("d1", phones=[Phone("13812345678", region="CN")], emails=[Email("d@qq.com")])
        )
        store.customers.add(customer("d2", phones=[Phone("13812345678", region="CN")]))
        store.customers.delete("d1")
        assert ids(store.customers.find_by_phone("13812345678")) == ["d2"]
        assert store.customers.find_by_email("d@qq.com") == []

    def test_a_customer_is_found_by_each_of_its_contact_points(self, store: Store) -> None:
        """Every phone and email of a customer finds it, not only the primary one."""
        store.customers.add(
            customer(
                "m1",
                phones=[Phone("13812345678", region="CN"), Phone("+44 20 7946 0018", primary=True)],
                emails=[Email("a@qq.com"), Email("b@163.com", primary=True)],
            )
        )
        assert ids(store.customers.find_by_phone("13812345678")) == ["m1"]
        assert ids(store.customers.find_by_phone("+442079460018")) == ["m1"]
        assert ids(store.customers.find_by_email("a@qq.com")) == ["m1"]
        assert ids(store.customers.find_by_email("B@163.COM")) == ["m1"]
