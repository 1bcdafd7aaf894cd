"""The code the README and the guides show runs as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def python_blocks(path: Path) -> list[str]:
    """Every ```python block of a Markdown file, in order."""
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


class TestReadme:
    """The README's tour is real code."""

    def test_tour_runs(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The tour block runs top to bottom in an empty directory."""
        monkeypatch.chdir(tmp_path)
        tour = python_blocks(ROOT / "README.md")[0]
        exec(compile(tour, "README.md", "exec"), {"__name__": "tour"})  # noqa: S102 - our own docs
        assert (tmp_path / "customers.db").exists()


class TestClassificationGuide:
    """The classification guide's own-dimension example works as a template classifier."""

    def test_own_dimension_in_about_ten_lines(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The guide's Loyalty dimension registers and labels the sample data."""
        from custrec.classify import Classification, _registry, compute_facts
        from custrec.store import open_store
        from custrec.template import DimensionSpec
        from custrec.testing.synthetic import generate

        monkeypatch.setattr(_registry, "_classifiers", dict(_registry._classifiers))
        block = next(
            b for b in python_blocks(ROOT / "docs" / "classification.md") if "Loyalty" in b
        )
        namespace: dict[str, object] = {}
        exec(compile(block, "classification.md", "exec"), namespace)  # noqa: S102 - our own docs
        loyalty = _registry.classifiers()["loyalty"](
            DimensionSpec("loyalty", classifier="loyalty"), None
        )
        store = open_store("memory://")
        data = generate(50, seed=3)
        for records in (data.customers, data.transactions, data.interactions):
            store.repository(type(records[0])).add_many(records)
        population = compute_facts(store, data.customers[0].created_at.date().replace(year=2026))
        types = Classification([loyalty]).classify(population)
        assert {t["loyalty"] for t in types.values()} <= {"loyal", "casual"}
        assert all(t.label("loyalty").reason for t in types.values())


class TestImportExportGuide:
    """The import and export guide's examples run as shown."""

    def test_blocks_run(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every Python block of docs/import-export.md runs in an empty directory."""
        monkeypatch.chdir(tmp_path)
        blocks = python_blocks(ROOT / "docs" / "import-export.md")
        assert len(blocks) == 3
        for block in blocks:
            exec(compile(block, "import-export.md", "exec"), {"__name__": "guide"})  # noqa: S102 - our own docs
        assert (tmp_path / "rejects.csv").exists()
