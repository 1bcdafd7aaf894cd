"""The quality guide's examples run as shown, and its table lists every built-in check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from custrec.model import Customer
from custrec.quality import Check, check_factories, run_checks
from custrec.template import Template

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "quality.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


class TestQualityGuide:
    def test_first_example_runs(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The opening example runs and writes its CSV file."""
        monkeypatch.chdir(tmp_path)
        exec(compile(blocks("python")[0], "quality.md", "exec"), {})  # noqa: S102 - our own docs
        assert (tmp_path / "findings.csv").exists()

    def test_function_check_example(self) -> None:
        """The function example defines a check and its own assertion holds."""
        block = next(b for b in blocks("python") if "@check" in b)
        exec(compile(block, "quality.md", "exec"), {})  # noqa: S102 - our own docs

    def test_class_example(self) -> None:
        """The RecordCheck example is a Check that finds VIPs without email."""
        block = next(b for b in blocks("python") if "class VipHasEmail" in b)
        namespace: dict[str, object] = {}
        exec(compile(block, "quality.md", "exec"), namespace)  # noqa: S102 - our own docs
        vip_check = namespace["VipHasEmail"]()  # type: ignore[operator]
        assert isinstance(vip_check, Check)
        report = run_checks([Customer(id="1", tags=["VIP"])], checks=[vip_check])
        assert [f.record_id for f in report.findings] == ["1"]

    def test_template_examples_load(self) -> None:
        """The TOML examples configure real checks and options."""
        from custrec.quality import build_checks

        for block in blocks("toml"):
            if "entry-points" in block:
                continue
            names = {c.name for c in build_checks(Template.loads(f'name = "t"\n{block}'))}
            assert names

    def test_table_lists_every_builtin_check(self) -> None:
        """Every built-in check name appears as a row of the guide's table."""
        rows = set(re.findall(r"^\| `(\w+)` \|", GUIDE.read_text(encoding="utf-8"), re.M))
        assert set(check_factories()) <= rows
