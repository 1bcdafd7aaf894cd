"""Running checks over records in memory or over a store, in batches, with progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from custrec import config
from custrec.errors import ValidationError
from custrec.model import Customer, Feedback, Interaction, Record, Transaction
from custrec.quality._check import Check, CheckContext, Finding
from custrec.quality._prefilter import prefilter
from custrec.quality._pushdown import SuspectFinder, pushed_batches, pushed_down
from custrec.quality._registry import build_checks
from custrec.quality._report import QualityReport
from custrec.serialize import record_type_name
from custrec.store import Progress, Store
from custrec.template import Template

__all__ = ["run_checks"]

_ORDER: tuple[type[Any], ...] = (Customer, Interaction, Transaction, Feedback)


def _as_of(value: date | datetime | None) -> datetime:
    zone = config.get().zone
    if value is None:
        return datetime.now(zone)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValidationError("as_of", value, "a datetime must be timezone-aware")
        return value
    # A day means its end: nothing dated that day is "in the future".
    return datetime.combine(value, time.max, zone)


def _batched(records: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def run_checks(
    source: Store | Iterable[Record],
    *,
    template: Template | None = None,
    checks: Iterable[Check] | None = None,
    as_of: date | datetime | None = None,
    batch_size: int = 1000,
    progress: Progress | None = None,
    pushdown: bool = True,
) -> QualityReport:
    """Run quality checks over a store or over records in memory, and report the findings.

    A store is read in batches of ``batch_size`` (customers first, then interactions,
    transactions and feedback), so memory holds one batch plus what cross-record checks
    keep (duplicate keys, amounts for outliers). Records in memory are checked in the same
    batches and give the same findings.

    Args:
        source: A store, or any iterable of records (of the four types, mixed).
        template: Configures the checks (entry standard, thresholds); a bare template
            requiring only a name when ``None``.
        checks: The checks to run; those the template asks for (:func:`build_checks`)
            when ``None``.
        as_of: "Now" for staleness and future dates; a date means its end; now when None.
        batch_size: Records per batch.
        progress: Called after each batch with the number of records checked so far
            (once per record type for a type whose checks were pushed down).
        pushdown: Let a store that can (SQLite, PostgreSQL) pick in SQL the records the
            cheap checks could find fault with, so that only those are read when every
            check of a record type can be pushed down; the findings are the same.
            ``False`` reads every record.

    Returns:
        The report: every finding, counts and scores.

    Raises:
        ValidationError: A bad argument, or a template asking for unknown checks.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError("batch_size", batch_size, "must be a whole number from 1")
    template = template if template is not None else Template("default")
    moment = _as_of(as_of)
    chosen = list(checks) if checks is not None else build_checks(template)
    for check in chosen:
        if not isinstance(check, Check):
            raise ValidationError("checks", check, "not a Check (name, severity, record_type…)")
        if check.record_type not in _ORDER:
            raise ValidationError(
                "checks", check, f"record_type {check.record_type!r} is not a custrec record type"
            )
    by_type = {kind: [c for c in chosen if c.record_type is kind] for kind in _ORDER}
    if isinstance(source, Store):
        context = CheckContext(template, moment, source.customers.get_many)
        pushed = pushed_down(source, by_type, context) if pushdown else {}
        batches = _store_batches(source, batch_size, pushed)
    else:
        memory, lookup = _memory_batches(source, batch_size)
        context = CheckContext(template, moment, lookup)
        batches = ((kind, batch, len(batch)) for kind, batch in memory)
    # Suspects first: the check itself then looks at those only (see _prefilter).
    suspects = {id(check): prefilter(check, context) for check in by_type[Customer]}
    findings: list[Finding] = []
    counts = dict.fromkeys((record_type_name(kind) for kind in _ORDER), 0)
    done = 0
    for kind, batch, seen in batches:
        for check in by_type[kind] if batch else ():
            pick = suspects.get(id(check)) if kind is Customer else None
            if pick is None:
                findings.extend(check.check(batch, context))
            elif suspect := pick(batch):
                findings.extend(check.check(suspect, context))
        counts[record_type_name(kind)] += seen
        done += seen
        if progress is not None and seen:
            progress(done)
    for check in chosen:
        findings.extend(check.finish(context))
    return QualityReport(
        findings=tuple(findings),
        records=counts,
        checks=tuple(dict.fromkeys(check.name for check in chosen)),
        as_of=moment,
    )


Lookup = Callable[[Sequence[str]], Mapping[str, Customer]]


def _store_batches(
    store: Store, size: int, pushed: Mapping[type[Any], SuspectFinder]
) -> Iterator[tuple[type[Any], Sequence[Any], int]]:
    """Each batch with how many records it stands for (suspects stand for none)."""
    for kind in _ORDER:
        repository = store.repository(kind)
        find = pushed.get(kind)
        if find is None:
            for batch in repository.iter_batches(size):
                yield kind, batch, len(batch)
            continue
        for batch in pushed_batches(store, kind, find(), size):
            yield kind, batch, 0
        yield kind, (), repository.count()


def _memory_batches(
    records: Iterable[Record], size: int
) -> tuple[Iterator[tuple[type[Any], Sequence[Any]]], Lookup]:
    grouped: dict[type[Any], list[Any]] = {kind: [] for kind in _ORDER}
    if isinstance(records, list) and set(map(type, records)) == {Customer}:
        grouped[Customer] = records  # only read: the common case costs no copy
    else:
        for record in records:
            bucket = grouped.get(type(record))
            if bucket is None:
                raise ValidationError("records", record, "not a custrec record")
            bucket.append(record)
    # Built on the first look-up: runs without history checks never need it.
    index: dict[str, Customer] = {}

    def lookup(ids: Sequence[str]) -> Mapping[str, Customer]:
        if not index and grouped[Customer]:
            index.update((customer.id, customer) for customer in grouped[Customer])
        return {i: index[i] for i in ids if i in index}

    def batches() -> Iterator[tuple[type[Any], Sequence[Any]]]:
        for kind in _ORDER:
            for batch in _batched(grouped[kind], size):
                yield kind, batch

    return batches(), lookup
