"""The benchmark runner still runs every benchmark (at smoke size) and writes its JSON.

Timings are never asserted (see STYLE.md): only that each benchmark produced a well-formed
row. The smoke run must stay under 30 seconds; the subprocess is killed after that.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks._runner import RESERVED

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"name", "value", "unit", "baseline", "baseline_value", "ratio"}
SMOKE_LIMIT_SECONDS = 30


@pytest.fixture(scope="module")
def smoke_rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    completed = subprocess.run(  # noqa: S603 - this interpreter, this repository's module
        [sys.executable, "-m", "benchmarks", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SMOKE_LIMIT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    rows: list[dict[str, object]] = json.loads(out.read_text(encoding="utf-8"))
    return rows


class TestSmokeRun:
    def test_every_benchmark_reports(self, smoke_rows: list[dict[str, object]]) -> None:
        """Each registered benchmark yields one row, in a JSON list."""
        listed = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--list"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=SMOKE_LIMIT_SECONDS,
            check=True,
        ).stdout.split()
        assert {
            "classify.facts_sqlite",
            "store.bulk_add",
            "store.get_by_id",
            "store.get_by_phone",
        } <= set(listed)
        assert sorted(row["name"] for row in smoke_rows) == sorted(listed)  # type: ignore[type-var]

    def test_rows_are_well_formed(self, smoke_rows: list[dict[str, object]]) -> None:
        """Every row has the required keys, finite positive times, and their ratio."""
        for row in smoke_rows:
            assert set(row) == KEYS
            assert isinstance(row["name"], str)
            assert isinstance(row["unit"], str)
            assert isinstance(row["baseline"], str)
            assert row["baseline"]
            for key in ("value", "baseline_value", "ratio"):
                number = row[key]
                assert isinstance(number, float), key
                assert math.isfinite(number), key
                assert number > 0, key
            assert row["ratio"] == pytest.approx(row["value"] / row["baseline_value"])  # type: ignore[operator]


class TestCommandLine:
    def test_unknown_name_is_refused(self) -> None:
        """--only with an unknown (or not yet written) benchmark fails and says why."""
        listed = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--list"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=SMOKE_LIMIT_SECONDS,
            check=True,
        ).stdout.split()
        unwritten = [name for name in RESERVED if name not in listed]
        name = unwritten[0] if unwritten else "no.such_benchmark"
        completed = subprocess.run(  # noqa: S603 - this interpreter, a name the runner listed
            [sys.executable, "-m", "benchmarks", "--smoke", "--only", name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=SMOKE_LIMIT_SECONDS,
            check=False,
        )
        assert completed.returncode == 2
        assert name in completed.stderr
        if unwritten:
            assert "not written yet" in completed.stderr
