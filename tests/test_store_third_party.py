"""A backend from outside custrec: proved by the shipped suite, found through an entry point.

``tests/thirdparty/custrec_dictstore.py`` is written as a third party would write a backend,
against custrec's public API only. Its test class below is all a third party needs to run the
conformance suite. The entry-point tests install fake distributions (``*.dist-info``
directories) on ``sys.path`` and show that ``open_store`` finds them, imports them only when
first used, and explains what is wrong when it cannot.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import custrec
from custrec.errors import BackendNotFoundError, StoreError
from custrec.model import Customer
from custrec.store import ENTRY_POINT_GROUP, MemoryStore, Store, backends, open_store
from custrec.store import _registry as registry
from custrec.testing.store_suite import StoreSuite

THIRD_PARTY = Path(__file__).parent / "thirdparty"
FAKE_PACKAGE = "fake_custrec_backend"


@pytest.fixture
def dictstore(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The third party's package, importable as if installed."""
    monkeypatch.syspath_prepend(str(THIRD_PARTY))
    return importlib.import_module("custrec_dictstore")


class TestDictStore(StoreSuite):
    """The conformance suite, run against a backend custrec knows nothing about."""

    @pytest.fixture
    def store(self, dictstore: ModuleType) -> Store:
        store: Store = dictstore.DictStore()
        return store


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no runtime registrations and nothing imported by the registry."""
    monkeypatch.setattr(registry, "_registered", {})
    monkeypatch.setattr(registry, "_loaded", {})


def install(root: Path, entry_points: dict[str, str], name: str = "fake-custrec-backend") -> None:
    """Write a distribution's metadata declaring ``entry_points`` under ``root``."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{key} = {value}" for key, value in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path holding the fake backend package; forgotten afterwards."""
    package = tmp_path / FAKE_PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "module.py").write_text(
        textwrap.dedent(
            """
            from custrec.store import MemoryStore

            OPENED = []

            class FakeStore(MemoryStore):
                scheme = "fake"

                @classmethod
                def from_url(cls, url, **options):
                    OPENED.append((url, options))
                    return cls(**options)

            NOT_CALLABLE = 42
            """
        )
    )
    (package / "needy.py").write_text("import custrec_test_dependency_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [name for name in sys.modules if name.split(".")[0] == FAKE_PACKAGE]:
        del sys.modules[name]


FAKE = f"{FAKE_PACKAGE}.module:FakeStore.from_url"


class TestEntryPoints:
    def test_an_installed_backend_is_listed_without_being_imported(self, site: Path) -> None:
        """backends() lists an entry point's scheme and target but does not import it."""
        install(site, {"fake": FAKE})
        known = backends()
        assert known["fake"] == FAKE
        assert {"memory", "sqlite"} <= set(known)
        assert f"{FAKE_PACKAGE}.module" not in sys.modules

    def test_open_store_imports_the_backend_on_first_use(self, site: Path) -> None:
        """The backend's module is imported when a URL first names its scheme, then reused."""
        install(site, {"fake": FAKE})
        assert f"{FAKE_PACKAGE}.module" not in sys.modules
        store = open_store("fake://shop/customers?x=1", actor="alice")
        module = sys.modules[f"{FAKE_PACKAGE}.module"]
        assert type(store).__name__ == "FakeStore"
        assert isinstance(store, MemoryStore)
        assert module.OPENED == [("fake://shop/customers?x=1", {"actor": "alice"})]
        assert store.actor == "alice"
        open_store("FAKE://again")
        assert [url for url, _ in module.OPENED] == ["fake://shop/customers?x=1", "FAKE://again"]

    def test_the_backend_works_once_opened(self, site: Path) -> None:
        """A store opened through an entry point keeps and finds records."""
        install(site, {"fake": FAKE})
        with open_store("fake://") as store:
            store.customers.add(Customer(id="001", name="张伟"))
            assert store.customers.get("001").name == "张伟"

    def test_a_third_party_package_is_opened_by_its_scheme(
        self, site: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The dict store from tests/thirdparty opens through its own entry point."""
        monkeypatch.syspath_prepend(str(THIRD_PARTY))
        install(site, {"dict": "custrec_dictstore:DictStore.from_url"}, name="custrec-dictstore")
        store = open_store("dict://")
        assert type(store).__name__ == "DictStore"
        store.customers.add(Customer(id="1"))
        assert store.customers.count() == 1

    def test_a_backend_that_fails_to_import_is_explained(self, site: Path) -> None:
        """An import failure raises BackendNotFoundError naming the scheme, path and schemes."""
        install(site, {"broken": f"{FAKE_PACKAGE}.missing:Nothing.from_url", "fake": FAKE})
        with pytest.raises(BackendNotFoundError) as caught:
            open_store("broken://x")
        error = caught.value
        assert error.scheme == "broken"
        assert {"broken", "fake", "memory", "sqlite"} <= set(error.available)
        assert f"{FAKE_PACKAGE}.missing" in str(error)
        assert "memory" in str(error)
        assert isinstance(error, StoreError)

    def test_a_missing_dependency_is_explained(self, site: Path) -> None:
        """A backend whose own dependency is missing names that dependency."""
        install(site, {"needy": f"{FAKE_PACKAGE}.needy:NeedyStore.from_url"})
        with pytest.raises(BackendNotFoundError, match="custrec_test_dependency_not_installed"):
            open_store("needy://x")

    @pytest.mark.parametrize(
        "target",
        [f"{FAKE_PACKAGE}.module:Missing.from_url", f"{FAKE_PACKAGE}.module:NOT_CALLABLE"],
    )
    def test_a_target_that_is_not_an_opener_is_explained(self, site: Path, target: str) -> None:
        """A target naming nothing, or something not callable, raises BackendNotFoundError."""
        install(site, {"odd": target})
        with pytest.raises(BackendNotFoundError) as caught:
            open_store("odd://x")
        assert caught.value.scheme == "odd"

    def test_a_failed_import_is_retried(self, site: Path) -> None:
        """A backend that failed to import is tried again on the next open (nothing cached)."""
        install(site, {"late": f"{FAKE_PACKAGE}.late:LateStore.from_url"})
        with pytest.raises(BackendNotFoundError):
            open_store("late://x")
        (site / FAKE_PACKAGE / "late.py").write_text(
            "from custrec.store import MemoryStore\n\nclass LateStore(MemoryStore):\n    pass\n"
        )
        importlib.invalidate_caches()
        assert type(open_store("late://x")).__name__ == "LateStore"

    def test_an_unknown_scheme_lists_the_installed_ones(self, site: Path) -> None:
        """A scheme nobody installed raises BackendNotFoundError listing every installed one."""
        install(site, {"fake": FAKE})
        with pytest.raises(BackendNotFoundError) as caught:
            open_store("redis://localhost/0")
        assert caught.value.scheme == "redis"
        assert {"fake", "memory", "sqlite"} <= set(caught.value.available)
        assert "fake" in str(caught.value)
        assert "redis" in str(caught.value)

    def test_uninstalled_backends_disappear(self) -> None:
        """Without its distribution on sys.path, an entry point's scheme is not listed."""
        assert "fake" not in backends()
        with pytest.raises(BackendNotFoundError):
            open_store("fake://x")


def run_python(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run this interpreter with ``args`` in ``cwd``, able to import this custrec."""
    source = str(Path(custrec.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(  # noqa: S603 - this interpreter, on arguments the test wrote
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestShippedSuite:
    def test_importing_custrec_testing_needs_no_test_tools(self, tmp_path: Path) -> None:
        """custrec.testing imports without pytest or hypothesis installed."""
        code = "import sys\nsys.modules['pytest'] = sys.modules['hypothesis'] = None\n"
        code += "import custrec.testing"
        result = run_python("-c", code, cwd=tmp_path)
        assert result.returncode == 0, result.stderr

    def test_only_subclasses_are_collected(self, tmp_path: Path) -> None:
        """Importing the suite collects nothing; a Test subclass collects every test, once."""
        (tmp_path / "test_imports_only.py").write_text(
            "from custrec.testing.store_suite import StoreSuite, CrudTests, SuiteBase\n"
        )
        (tmp_path / "test_mine.py").write_text(
            textwrap.dedent(
                """
                import pytest
                from custrec.store import MemoryStore
                from custrec.testing.store_suite import StoreSuite

                class TestMine(StoreSuite):
                    @pytest.fixture
                    def store(self):
                        return MemoryStore()
                """
            )
        )
        result = run_python(
            "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", cwd=tmp_path
        )
        assert result.returncode == 0, result.stdout + result.stderr
        collected = [line for line in result.stdout.splitlines() if "::" in line]
        assert collected
        assert all(line.startswith("test_mine.py::TestMine::test_") for line in collected)
        assert len(collected) == len(set(collected))
        groups = {line.split("::")[2].split("[")[0] for line in collected}
        assert {
            "test_add_then_get_gives_the_record_back",
            "test_random_writes_agree_with_a_dict_model",
        } <= groups

    def test_a_subclass_without_a_store_says_what_is_missing(self, tmp_path: Path) -> None:
        """Forgetting the store fixture fails each test with a message saying what to supply."""
        (tmp_path / "test_forgot.py").write_text(
            "from custrec.testing.store_suite import StoreSuite\n\n"
            "class TestForgot(StoreSuite):\n    pass\n"
        )
        result = run_python(
            "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-k", "test_exists", cwd=tmp_path
        )
        assert result.returncode != 0
        assert "supply a `store` fixture" in result.stdout
