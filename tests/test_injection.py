"""SQL injection: a corpus of attacks through every query input, on SQLite and PostgreSQL.

Each payload goes in as a compared value, a contains needle, a list member, an id, a
contact lookup, a custom field name and value, a collection key, a cursor and inside rule
texts. Each either works as plain data or is refused with a custrec validation error;
afterwards every table and every record is still there, unchanged. Marked ``reliability``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pgserver as pg
from custrec.errors import NotFoundError, RuleSyntaxError, ValidationError
from custrec.expr import F, parse
from custrec.model import Customer
from custrec.store import Query, Store, open_store

pytestmark = pytest.mark.reliability

CORPUS = (
    "' OR '1'='1",
    "' OR 1=1 --",
    "'; DROP TABLE customers; --",
    '"; DROP TABLE customers; --',
    "1; DELETE FROM customers",
    "x') UNION SELECT id, doc FROM customers --",
    "') OR ('a'='a",
    "%' OR '%'='",
    "%s%s%s%(x)s",
    "?; DROP TABLE audit",
    "$1; TRUNCATE contacts",
    "$$; DROP SCHEMA public CASCADE; $$",
    "\\'; DROP TABLE documents; --",
    "1 AND pg_sleep(5) IS NULL",
    "'||(SELECT version())||'",
    "name == 'x' or 1 == 1",
    "$.\"name\"') OR json_extract(doc, '$')--",
    "{custom,level}",
    "doc #> '{}' IS NOT NULL --",
    "ＤＲＯＰ ＴＡＢＬＥ customers",
    "'; COPY customers TO PROGRAM 'touch /tmp/pwned'; --",
    "') ; ATTACH DATABASE '/tmp/x.db' AS x; --",
    "0x27204f52202731273d2731",
    "\u02bc OR \u02bc1\u02bc=\u02bc1",
)

ALLOWED = (ValidationError, RuleSyntaxError, NotFoundError)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store holding two known customers, on each SQL backend."""
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'i.db'}")
        yield from _filled(opened)
    else:
        for schema in pg.fresh_schema():
            yield from _filled(open_store(pg.store_url(schema)))


def _filled(store: Store) -> Iterator[Store]:
    with store:
        store.customers.add(Customer(id="keep-1", name="Alice", custom={"level": "gold"}))
        store.customers.add(Customer(id="keep-2", name="Bob", custom={"level": 2}))
        store.collection("kept").put("k", {"v": 1})
        yield store


def attempt(action: Callable[[], Any]) -> None:
    """Run an action: it may be refused with a custrec validation error, nothing else."""
    with contextlib.suppress(*ALLOWED):
        action()


def snapshot(store: Store) -> list[Any]:
    """Everything the attacks must leave as it was."""
    return [
        [(c.id, c.name, c.version, dict(c.custom)) for c in store.customers],
        [len(store.audit(i)) for i in ("keep-1", "keep-2")],
        store.collection("kept").get("k"),
        store.customers.count(),
    ]


class TestInjection:
    """Nothing of the corpus executes as SQL, on either backend."""

    @pytest.mark.parametrize("payload", CORPUS)
    def test_payload_everywhere(self, store: Store, payload: str) -> None:
        """Every input refuses or stores the payload as data; all data survives intact."""
        before = snapshot(store)
        repo = store.customers
        for path in ("name", "id", "company", "notes", "custom.level", "external_ids.erp"):
            assert list(repo.find(F(path) == payload).items) == []
            assert repo.count(F(path) != payload) <= 2
            assert list(repo.find(F(path).contains(payload)).items) == []
            assert list(repo.find(F(path).is_in([payload, "x"])).items) == []
            attempt(lambda path=path: repo.find(Query(F(path) > payload, size=1)))
        attempt(lambda: repo.get(payload))
        assert repo.get_many([payload, "keep-1"]).keys() == {"keep-1"}
        assert repo.find_by_email(payload) == []
        attempt(lambda: repo.find_by_phone(payload))
        assert repo.find_by_handle("wechat", payload) == []
        assert repo.find_by_external_id(payload, payload) == []
        attempt(lambda: repo.find(F(f"custom.{payload}") == 1))
        attempt(lambda: repo.find(Query(cursor=payload)))
        attempt(lambda: repo.find(Query().order_by(payload)))
        attempt(lambda: store.collection(payload).get("k"))
        attempt(lambda: store.collection("kept").get(payload))
        for text in (
            payload,
            f"name == '{payload}'",
            f'name == "{payload}"',
            f"custom.level == '{payload}' or name contains '{payload}'",
        ):
            attempt(lambda text=text: list(repo.find(parse(text)).items))
        assert snapshot(store) == before

    @pytest.mark.parametrize("payload", CORPUS)
    def test_payload_as_stored_data(self, store: Store, payload: str) -> None:
        """A payload stored as an id, a name, a custom key and value comes back unchanged."""
        made = Customer(id=f"x{payload}"[:64].strip(), name=payload, notes=payload)
        attempt(lambda: store.customers.add(made))
        with_custom = Customer(id="custom-holder", custom={"k": payload})
        store.customers.add(with_custom)
        attempt(lambda: store.customers.add(Customer(id="odd-key", custom={payload: 1})))
        store.collection("kept").put(payload, {"payload": payload})
        if store.customers.exists(made.id):
            got = store.customers.get(made.id)
            assert (got.name, got.notes) == (payload, payload)
            assert [c.id for c in store.customers.find(F("name") == payload)] == [made.id]
        assert store.customers.get("custom-holder").custom["k"] == payload
        assert [c.id for c in store.customers.find(F("custom.k") == payload)] == ["custom-holder"]
        assert store.collection("kept").get(payload) == {"payload": payload}
        assert store.customers.exists("keep-1")
        assert store.customers.exists("keep-2")
