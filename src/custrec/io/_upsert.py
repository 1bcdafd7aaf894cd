"""Writing one batch of built records: match on natural keys, then add or update.

A batch is one unit of work. Its new records go to the store with one ``add_many`` and its
changed ones with ``update``; if that fails, each record is retried in its own savepoint and
only the rows behind a record that still fails are rejected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs

from custrec.errors import CustrecError, ImportRowError
from custrec.io._report import ImportReport, Reject
from custrec.io._rows import merge_customer
from custrec.model import Customer, Record
from custrec.store import Repository, Store, contact_keys
from custrec.template import Template

__all__ = ["Built", "CustomerWriter", "HistoryWriter", "Writer"]

Built = tuple[Any, frozenset[str] | None]
"""A record a row made, and the fields the row filled (``None``: a whole record)."""

R = TypeVar("R", bound=Record)

_STORED, _UPDATED, _SKIPPED = "stored", "updated", "skipped"


class Writer(Protocol):
    """Writes one batch and counts its rows into the report."""

    def write(self, batch: Sequence[tuple[int, Built]], report: ImportReport) -> None:
        """Write the batch's records; count every row as stored, updated, skipped or rejected."""


class _Plan(Generic[R]):
    """What one batch will write, and which rows stand behind each record."""

    def __init__(self) -> None:
        self.pending: dict[str, R] = {}
        self.new: set[str] = set()
        self.rows_of: dict[str, list[int]] = {}
        self.outcome: dict[int, str] = {}
        self.rejects: dict[int, Reject] = {}

    def put(self, row: int, record: R, outcome: str) -> None:
        self.outcome[row] = outcome
        if outcome == _SKIPPED:
            return
        self.pending[record.id] = record
        self.rows_of.setdefault(record.id, []).append(row)

    def apply(self, store: Store, repository: Repository[R], actor: str | None) -> None:
        news = [self.pending[i] for i in self.pending if i in self.new]
        changed = [self.pending[i] for i in self.pending if i not in self.new]
        try:
            with store.transaction():
                if news:
                    repository.add_many(news, batch_size=len(news), actor=actor)
                for record in changed:
                    repository.update(record, actor=actor)
        except CustrecError:
            for record in (*news, *changed):
                try:
                    with store.transaction():
                        if record.id in self.new:
                            repository.add(record, actor=actor)
                        else:
                            repository.update(record, actor=actor)
                except CustrecError as exc:
                    for row in self.rows_of[record.id]:
                        self.rejects[row] = Reject(row, None, record.id, str(exc))

    def count(self, report: ImportReport) -> None:
        for row in sorted(self.outcome):
            if row in self.rejects:
                report.rejected += 1
                report.rejects.append(self.rejects[row])
            elif self.outcome[row] == _STORED:
                report.stored += 1
            elif self.outcome[row] == _UPDATED:
                report.updated += 1
            else:
                report.skipped += 1


def _reject(plan: _Plan[Any], error: ImportRowError) -> None:
    plan.outcome[error.row] = "rejected"
    plan.rejects[error.row] = Reject.from_error(error)


_ADDRESS_FIELDS = ("address", "province", "city", "district", "street", "postal_code")


def _headers(report: ImportReport) -> dict[str, str]:
    """Field name to the header of the first column that fills it, for reject reports."""
    headers: dict[str, str] = {}
    for header, target in report.columns:
        if target is None:
            continue
        field = "addresses" if target in _ADDRESS_FIELDS else target
        field = "handles" if target in ("wechat", "qq") else field
        headers.setdefault(field, header)
    return headers


class _Owners:
    """Which of this batch's records holds each contact key, the first one holding it winning.

    Only rows without an id are matched on contacts; when a batch has none (every row with
    an id, the common case) the keys are never needed, so they are worked out only when a
    match first asks, for the records written so far.
    """

    def __init__(self) -> None:
        self.records: list[Customer] = []
        self._indexed = 0
        self._owner: dict[str, str] = {}

    def index(self) -> dict[str, str]:
        """Contact key to id, over every record added so far."""
        for record in self.records[self._indexed :]:
            for key in contact_keys(record):
                self._owner.setdefault(key, record.id)
        self._indexed = len(self.records)
        return self._owner


class CustomerWriter:
    """Upserts customers on natural keys (id; else external id, phone, email)."""

    def __init__(
        self, store: Store, keys: tuple[str, ...], template: Template | None, actor: str | None
    ) -> None:
        self.store = store
        self.keys = keys
        self.template = template
        self.actor = actor

    def write(self, batch: Sequence[tuple[int, Built]], report: ImportReport) -> None:
        """Write one batch; see the module docstring."""
        with self.store.transaction():
            plan: _Plan[Customer] = _Plan()
            by_id = "id" in self.keys
            wanted = [c.id for _, (c, f) in batch if by_id and (f is None or "id" in f)]
            found: dict[str, Customer] = self.store.customers.get_many(wanted)
            owners = _Owners()
            headers = _headers(report)
            for row, (customer, filled) in batch:
                try:
                    self._one(
                        plan, row, (customer, filled), found=found, owners=owners, by_id=by_id
                    )
                except ImportRowError as exc:
                    if exc.column in headers:  # a template problem names a field
                        exc = ImportRowError(exc.row, headers[exc.column], exc.value, exc.reason)
                    _reject(plan, exc)
            plan.apply(self.store, self.store.customers, self.actor)
        plan.count(report)

    def _one(
        self,
        plan: _Plan[Customer],
        row: int,
        built: Built,
        *,
        found: dict[str, Customer],
        owners: _Owners,
        by_id: bool,
    ) -> None:
        customer, filled = built
        if by_id and (filled is None or "id" in filled):
            target: str | None = customer.id
        else:
            target = self._match(row, customer, found, owners)
        base = plan.pending.get(target) if target else None
        if base is None and target is not None:
            base = found.get(target)
        if base is None:
            final, outcome = customer, _STORED
        else:
            final = merge_customer(base, customer, filled)
            outcome = _SKIPPED if final is base else _UPDATED
        if self.template is not None and outcome != _SKIPPED:
            problems = self.template.problems(final)
            if problems:
                first = problems[0]
                raise ImportRowError(row, first.field, first.value, first.reason)
        if base is None:
            plan.new.add(final.id)
        plan.put(row, final, outcome)
        owners.records.append(final)

    def _match(
        self, row: int, customer: Customer, found: dict[str, Customer], owners: _Owners
    ) -> str | None:
        owned = owners.index()
        for key in self.keys:
            matches: set[str] = set()
            for contact, lookup in self._lookups(key, customer):
                if contact in owned:
                    matches.add(owned[contact])
                for match in lookup():
                    found.setdefault(match.id, match)
                    matches.add(match.id)
            if len(matches) > 1:
                raise ImportRowError(
                    row,
                    None,
                    ", ".join(sorted(matches)),
                    f"its {key} matches several customers; give the row an id to choose one",
                )
            if matches:
                return matches.pop()
        return None

    def _lookups(
        self, key: str, customer: Customer
    ) -> list[tuple[str, Callable[[], list[Customer]]]]:
        """The contact keys of ``customer`` for one natural key, each with its store lookup."""
        customers = self.store.customers
        if key == "external_id":
            return [
                (f"ext:{s}:{i}", functools.partial(customers.find_by_external_id, s, i))
                for s, i in customer.external_ids.items()
            ]
        if key == "phone":
            return [
                (f"phone:{p.e164}", functools.partial(customers.find_by_phone, p.e164))
                for p in customer.phones
                if p.e164
            ]
        if key == "email":
            return [
                (f"email:{m.key}", functools.partial(customers.find_by_email, m.key))
                for m in customer.emails
            ]
        return []


class HistoryWriter(Generic[R]):
    """Upserts interactions, transactions or feedback on their id."""

    def __init__(self, store: Store, record_type: type[R], actor: str | None) -> None:
        self.store = store
        self.repository: Repository[R] = store.repository(record_type)
        self.actor = actor

    def write(self, batch: Sequence[tuple[int, Built]], report: ImportReport) -> None:
        """Write one batch; see the module docstring."""
        with self.store.transaction():
            plan: _Plan[R] = _Plan()
            found = self.repository.get_many(record.id for _, (record, _) in batch)
            for row, (record, _) in batch:
                base = plan.pending.get(record.id) or found.get(record.id)
                if base is None:
                    plan.new.add(record.id)
                    plan.put(row, record, _STORED)
                    continue
                merged = attrs.evolve(record, version=base.version)
                plan.put(row, merged, _SKIPPED if merged == base else _UPDATED)
            plan.apply(self.store, self.repository, self.actor)
        plan.count(report)
