"""The duplicates guide's code runs as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).parent.parent / "docs" / "duplicates.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


class TestDuplicatesGuide:
    @pytest.mark.parametrize("index", range(2))
    def test_block_runs(self, index: int, capsys: pytest.CaptureFixture[str]) -> None:
        """Each Python block of the guide runs top to bottom."""
        block = python_blocks()[index]
        exec(compile(block, "duplicates.md", "exec"), {"__name__": "guide"})  # noqa: S102 - our own docs
        assert capsys.readouterr().out

    def test_import_guard_prints_what_it_says(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The import-guard example updates the stored customer, as its comment says."""
        exec(compile(python_blocks()[1], "duplicates.md", "exec"), {})  # noqa: S102 - our own docs
        assert capsys.readouterr().out.strip() == "updated ('001',)"
