"""Tests for the backend registry: open_store, register_backend and backends()."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import custrec
from custrec.errors import BackendNotFoundError, CustrecError, StoreError, ValidationError
from custrec.store import (
    ENTRY_POINT_GROUP,
    MemoryStore,
    Store,
    backends,
    open_store,
    register_backend,
)
from custrec.store import _registry as registry
from custrec.store._sqlite import SQLiteStore


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no runtime registrations and nothing imported by the registry."""
    monkeypatch.setattr(registry, "_registered", {})
    monkeypatch.setattr(registry, "_loaded", {})


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Write importable modules into a fresh sys.path entry; forget them afterwards."""
    written: list[str] = []
    monkeypatch.syspath_prepend(str(tmp_path))

    def write(name: str, source: str) -> None:
        (tmp_path / f"{name}.py").write_text(source)
        written.append(name)

    yield write
    for name in written:
        sys.modules.pop(name, None)


OPENER = """
from custrec.store import MemoryStore

IMPORTS = globals().get("IMPORTS", 0) + 1

def opener(url, **options):
    return MemoryStore(**options)

CONSTANT = 42
"""


class TestOpenStore:
    def test_the_package_face_offers_open_store(self) -> None:
        """``custrec.open_store`` and ``custrec.Store`` are the store package's own."""
        assert custrec.open_store is open_store
        assert custrec.Store is Store
        assert {"open_store", "Store"} <= set(custrec.__all__)
        assert isinstance(custrec.open_store("memory://"), Store)

    def test_memory_urls_open_fresh_memory_stores(self) -> None:
        """memory:// opens a new, empty MemoryStore each time; the scheme ignores case."""
        first, second = open_store("memory://"), open_store("MEMORY://")
        assert isinstance(first, MemoryStore)
        assert isinstance(second, MemoryStore)
        assert first is not second

    def test_options_reach_the_backend(self) -> None:
        """Keyword options are passed to the backend (actor for every backend)."""
        assert open_store("memory://", actor="alice").actor == "alice"

    def test_sqlite_urls_open_the_sqlite_backend(self, tmp_path: Path) -> None:
        """sqlite:////absolute/path.db opens an SQLite store on that file."""
        with open_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
            assert isinstance(store, SQLiteStore)
        assert (tmp_path / "r.db").exists()

    @pytest.mark.parametrize(
        "url", ["memory", "", "sqlite:/x.db", "://x", "my_store://x", "1x://y", 5, None]
    )
    def test_a_malformed_url_is_refused(self, url: Any) -> None:
        """A URL without a valid scheme raises ValidationError."""
        with pytest.raises(ValidationError):
            open_store(url)

    def test_an_unknown_scheme_lists_the_installed_backends(self) -> None:
        """An unknown scheme raises BackendNotFoundError with the scheme and the installed ones."""
        register_backend("extra", MemoryStore.from_url)
        with pytest.raises(BackendNotFoundError) as caught:
            open_store("redis://localhost:6379/0")
        error = caught.value
        assert error.scheme == "redis"
        assert {"extra", "memory", "sqlite"} <= set(error.available)
        assert "redis" in str(error)
        assert "memory" in str(error)
        assert isinstance(error, StoreError)
        assert isinstance(error, CustrecError)


class TestRegisterBackend:
    def test_a_callable_opens_its_scheme(self) -> None:
        """A registered callable gets the whole URL and the options."""
        calls: list[tuple[str, dict[str, Any]]] = []

        def opener(url: str, **options: Any) -> Store:
            calls.append((url, options))
            return MemoryStore(**options)

        register_backend("crm", opener)
        store = open_store("crm://host/db?x=1", actor="bob")
        assert calls == [("crm://host/db?x=1", {"actor": "bob"})]
        assert store.actor == "bob"

    def test_a_dotted_path_is_imported_on_first_use_only(self, modules: Any) -> None:
        """A dotted-path target is imported when first opened, once."""
        modules("custrec_lazy_backend", OPENER)
        register_backend("lazy", "custrec_lazy_backend:opener")
        assert "custrec_lazy_backend" not in sys.modules
        assert backends()["lazy"] == "custrec_lazy_backend:opener"
        assert "custrec_lazy_backend" not in sys.modules
        open_store("lazy://a")
        open_store("lazy://b")
        assert sys.modules["custrec_lazy_backend"].IMPORTS == 1

    def test_an_import_failure_is_a_backend_not_found_error(self, modules: Any) -> None:
        """A target that cannot be imported names the scheme, the path and the installed ones."""
        register_backend("gone", "custrec_no_such_module:opener")
        with pytest.raises(BackendNotFoundError) as caught:
            open_store("gone://x")
        assert caught.value.scheme == "gone"
        assert "custrec_no_such_module" in str(caught.value)
        assert {"gone", "memory"} <= set(caught.value.available)

    @pytest.mark.parametrize(
        "target", ["custrec_odd_backend:missing", "custrec_odd_backend:CONSTANT"]
    )
    def test_a_target_that_is_not_an_opener_is_refused(self, modules: Any, target: str) -> None:
        """A dotted path naming nothing, or something not callable, raises BackendNotFoundError."""
        modules("custrec_odd_backend", OPENER)
        register_backend("odd", target)
        with pytest.raises(BackendNotFoundError):
            open_store("odd://x")

    def test_registering_again_replaces_the_backend(self) -> None:
        """A later registration wins, even over one already used, and over a built-in."""
        register_backend("twice", lambda url, **options: MemoryStore(actor="first"))
        assert open_store("twice://").actor == "first"
        register_backend("twice", lambda url, **options: MemoryStore(actor="second"))
        assert open_store("twice://").actor == "second"
        register_backend("memory", lambda url, **options: MemoryStore(actor="mine"))
        assert open_store("memory://").actor == "mine"

    @pytest.mark.parametrize("scheme", ["redis", "postgresql+psycopg", "my-store", "x.y", "S3"])
    def test_url_schemes_are_accepted_in_any_case(self, scheme: str) -> None:
        """Any RFC 3986 scheme can be registered, and URLs find it whatever their case."""
        register_backend(scheme, MemoryStore.from_url)
        assert scheme.lower() in backends()
        for written in (scheme, scheme.lower(), scheme.upper()):
            assert isinstance(open_store(f"{written}://x"), MemoryStore)

    @pytest.mark.parametrize("scheme", ["", "1abc", "a b", "my_store", "x:", "日本", 5, None])
    def test_a_bad_scheme_is_refused(self, scheme: Any) -> None:
        """A scheme no URL can carry raises ValidationError instead of registering silently."""
        with pytest.raises(ValidationError):
            register_backend(scheme, MemoryStore.from_url)

    def test_a_backend_may_register_another_while_it_is_imported(self, modules: Any) -> None:
        """Importing a backend module that calls register_backend does not deadlock."""
        modules(
            "custrec_chatty_backend",
            OPENER + "\nfrom custrec.store import register_backend\n"
            "register_backend('sibling', opener)\n",
        )
        register_backend("chatty", "custrec_chatty_backend:opener")
        opened: list[Store] = []
        worker = threading.Thread(target=lambda: opened.append(open_store("chatty://x")))
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), "open_store deadlocked importing the backend"
        assert isinstance(opened[0], MemoryStore)
        assert isinstance(open_store("sibling://x"), MemoryStore)

    def test_concurrent_first_opens_import_once(self, modules: Any) -> None:
        """Threads opening a lazily imported backend at once import its module once."""
        modules("custrec_busy_backend", OPENER)
        register_backend("busy", "custrec_busy_backend:opener")
        opened: list[Store] = []
        threads = [
            threading.Thread(target=lambda: opened.append(open_store("busy://x"))) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert len(opened) == 8
        assert sys.modules["custrec_busy_backend"].IMPORTS == 1


class TestBackends:
    def test_the_built_ins_are_listed_by_dotted_path(self) -> None:
        """backends() lists memory and sqlite with the paths that open them."""
        known = backends()
        assert known["memory"] == "custrec.store._memory:MemoryStore.from_url"
        assert known["sqlite"] == "custrec.store._sqlite:SQLiteStore.from_url"

    def test_registrations_are_listed(self) -> None:
        """Registered backends appear: dotted paths as given, callables by their repr."""
        register_backend("path", "somewhere:opener")
        register_backend("call", MemoryStore.from_url)
        known = backends()
        assert known["path"] == "somewhere:opener"
        assert known["call"] == repr(MemoryStore.from_url)
        assert list(known) == sorted(known)

    def test_the_listing_is_read_only(self) -> None:
        """The mapping backends() returns cannot be changed, and changing nothing leaks."""
        known = backends()
        with pytest.raises(TypeError):
            known["evil"] = "x"  # type: ignore[index]
        assert "evil" not in backends()

    def test_the_entry_point_group(self) -> None:
        """Third parties register under custrec.stores."""
        assert ENTRY_POINT_GROUP == "custrec.stores"
