"""The privacy guide's example runs as shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).parent.parent / "docs" / "privacy.md"


class TestPrivacyGuide:
    def test_example_runs(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The guide's first block runs top to bottom and prints the masked phone."""
        block = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)[0]
        exec(compile(block, "privacy.md", "exec"), {"__name__": "guide"})  # noqa: S102 - our own docs
        assert capsys.readouterr().out.strip() == "138****5678"
