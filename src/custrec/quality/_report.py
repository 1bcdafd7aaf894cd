"""The quality report: findings counted by check, field and severity, scores, exports."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import attrs

from custrec.quality._check import Finding, Severity

__all__ = ["PENALTIES", "QualityReport", "record_score"]

PENALTIES: Mapping[Severity, int] = MappingProxyType(
    {Severity.ERROR: 20, Severity.WARNING: 5, Severity.INFO: 1}
)
"""Points a record loses per finding, by severity (see :func:`record_score`)."""

_CSV_COLUMNS = ("check", "record_type", "record_id", "field", "severity", "message", "value", "fix")


def record_score(findings: list[Finding] | tuple[Finding, ...]) -> int:
    """A record's quality score: ``max(0, 100 − 20·errors − 5·warnings − 1·infos)``."""
    lost = sum(PENALTIES[finding.severity] for finding in findings)
    return max(0, 100 - lost)


def _by_record(findings: tuple[Finding, ...]) -> dict[tuple[str, str], list[Finding]]:
    grouped: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        grouped.setdefault((finding.record_type, finding.record_id), []).append(finding)
    return grouped


@attrs.frozen
class QualityReport:
    """What a run of checks found, with counts and scores.

    Scores: each record starts at 100 and loses 20 points per error, 5 per warning and 1
    per info finding, down to 0 (:func:`record_score`). The dataset's score is the mean
    over every record checked, records without findings counting 100, rounded to one
    decimal; an empty dataset scores 100.

    Attributes:
        findings: Every finding, in the order the checks gave them.
        records: How many records of each type were checked (``{"customer": 1000, …}``).
        checks: The names of the checks that ran.
        as_of: The moment the run took as "now".
    """

    findings: tuple[Finding, ...]
    records: Mapping[str, int]
    checks: tuple[str, ...]
    as_of: datetime
    _by_record: dict[tuple[str, str], list[Finding]] | None = attrs.field(
        init=False, default=None, repr=False, eq=False
    )

    @property
    def _grouped(self) -> dict[tuple[str, str], list[Finding]]:
        # Grouped on first use: a run that only counts or exports never pays for it.
        grouped = self._by_record
        if grouped is None:
            grouped = _by_record(self.findings)
            object.__setattr__(self, "_by_record", grouped)
        return grouped

    # -- counts ----------------------------------------------------------------------------

    @property
    def total_records(self) -> int:
        """How many records were checked, of every type."""
        return sum(self.records.values())

    def by_check(self) -> dict[str, int]:
        """Findings per check, every check that ran included (zero when it found nothing)."""
        counts = dict.fromkeys(self.checks, 0)
        counts.update(Counter(finding.check for finding in self.findings))
        return counts

    def by_field(self) -> dict[str, int]:
        """Findings per field (``record_type.field``, list indexes dropped), most first."""
        counts = Counter(
            f"{finding.record_type}.{_field_name(finding.field)}" for finding in self.findings
        )
        return dict(counts.most_common())

    def by_severity(self) -> dict[Severity, int]:
        """Findings per severity, each severity present (zero when none)."""
        counts = dict.fromkeys(Severity, 0)
        counts.update(Counter(finding.severity for finding in self.findings))
        return counts

    def for_record(self, record_id: str, record_type: str = "customer") -> list[Finding]:
        """The findings about one record (empty when it has none)."""
        return list(self._grouped.get((record_type, record_id), ()))

    def by_record(self) -> dict[tuple[str, str], list[Finding]]:
        """The findings of each record with any: ``(record_type, record_id)`` to findings."""
        return {key: list(found) for key, found in self._grouped.items()}

    # -- scores ----------------------------------------------------------------------------

    def record_score(self, record_id: str, record_type: str = "customer") -> int:
        """One record's score from 0 to 100 (100 when it has no findings)."""
        return record_score(self._grouped.get((record_type, record_id), []))

    @property
    def score(self) -> float:
        """The dataset's score from 0 to 100: the mean record score."""
        total = self.total_records
        if total == 0:
            return 100.0
        lost = sum(100 - record_score(found) for found in self._grouped.values())
        return round(max(0.0, 100.0 - lost / total), 1)

    # -- exports ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, object]:
        """The report as plain data: summary counts, score and every finding."""
        return {
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "records": dict(self.records),
            "by_check": self.by_check(),
            "by_severity": {str(key): value for key, value in self.by_severity().items()},
            "by_field": self.by_field(),
            "findings": [finding.to_dict() for finding in self.findings],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text (:meth:`to_dict`), non-ASCII kept as is."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_csv(self) -> str:
        """The findings as CSV text, one row each, with a header row."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=_CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for finding in self.findings:
            writer.writerow(finding.to_dict())
        return out.getvalue()

    def write_json(self, path: str | Path) -> None:
        """Write :meth:`to_json` to a UTF-8 file."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    def write_csv(self, path: str | Path) -> None:
        """Write :meth:`to_csv` to a UTF-8 file (with a BOM, so spreadsheets read Chinese)."""
        Path(path).write_text(self.to_csv(), encoding="utf-8-sig")

    def summary(self, *, top: int = 5) -> str:
        """A readable text summary: score, counts by severity, check and field, worst records.

        Args:
            top: How many fields and records to list.
        """
        severities = self.by_severity()
        records = ", ".join(f"{count} {kind}" for kind, count in self.records.items() if count)
        lines = [
            f"Data quality as of {self.as_of:%Y-%m-%d %H:%M}: score {self.score:.1f} / 100",
            f"Checked {records or 'no records'}; {len(self.findings)} findings "
            f"({severities[Severity.ERROR]} errors, {severities[Severity.WARNING]} warnings, "
            f"{severities[Severity.INFO]} info) in {len(self._grouped)} records.",
            "",
            "By check:",
        ]
        width = max((len(name) for name in self.checks), default=0)
        lines += [f"  {name:<{width}}  {count:>7}" for name, count in self.by_check().items()]
        fields = list(self.by_field().items())[:top]
        if fields:
            lines += ["", "Most affected fields:"]
            lines += [f"  {name}: {count}" for name, count in fields]
        worst = sorted(self._grouped.items(), key=lambda item: (record_score(item[1]), item[0]))
        if worst:
            lines += ["", "Lowest-scoring records:"]
            for (kind, record_id), found in worst[:top]:
                problems = "; ".join(f"{f.field}: {f.message}" for f in found[:3])
                more = f" (+{len(found) - 3} more)" if len(found) > 3 else ""
                lines.append(f"  {kind} {record_id} ({record_score(found)}): {problems}{more}")
        return "\n".join(lines)


def _field_name(field: str) -> str:
    head, _, rest = field.partition("[")
    if not rest:
        return head
    return head + rest.partition("]")[2]
