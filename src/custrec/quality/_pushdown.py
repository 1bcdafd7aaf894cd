"""Quality checks pushed down to a store's database: read only the suspect records.

A store offering :class:`~custrec.store._quality.SupportsQualityPushdown` (SQLite and
PostgreSQL do) picks, in SQL, the records that the pushable checks could find fault with.
For a record type whose checks are *all* pushable, a run reads only those suspects, in
the batches a full read would have put them in (the store says where each batch starts),
and the checks judge them as usual: the report is the same, finding for finding and in
the same order. Any other check on a record type makes the run read that type in full.

Pushable: exactly :class:`RequiredFields`, :class:`Staleness`, :class:`NoFutureDates` on
customers and :class:`ExactDuplicates` (customers); :class:`UnknownCustomer` (history).
A record type without checks is only counted.
"""

from __future__ import annotations

import functools
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from custrec.model import Customer
from custrec.quality._check import Check, CheckContext
from custrec.quality._exact import ExactDuplicates
from custrec.quality._integrity import UnknownCustomer
from custrec.quality._staleness import Staleness
from custrec.quality._validity import NoFutureDates, RequiredFields, _template_required
from custrec.store import Store
from custrec.store._quality import SupportsQualityPushdown, SuspectQuery

__all__ = ["pushed_batches", "pushed_down", "suspect_query"]

SuspectFinder = Callable[[], list[str]]
"""Gives the ids of the suspect records of one type, in id order."""


def suspect_query(checks: Sequence[Check], context: CheckContext) -> SuspectQuery | None:
    """What makes a customer a suspect for ``checks``; ``None`` when one is not pushable."""
    empty: list[str] = []
    touched: datetime | None = None
    dated: datetime | None = None
    shared: list[str] = []
    for check in checks:
        kind = type(check)
        if isinstance(check, RequiredFields) and kind is RequiredFields:
            fields = check.fields
            empty += fields if fields is not None else _template_required(context.template)
        elif isinstance(check, Staleness) and kind is Staleness:
            cutoff = context.as_of - timedelta(days=check.cycle_days(context))
            touched = cutoff if touched is None else max(touched, cutoff)
        elif isinstance(check, NoFutureDates) and kind is NoFutureDates:
            if check.record_type is not Customer:
                return None
            limit = context.as_of + check.slack
            dated = limit if dated is None else min(dated, limit)
        elif isinstance(check, ExactDuplicates) and kind is ExactDuplicates:
            shared += ["phone"] * check.on_phone + ["email"] * check.on_email
        else:
            return None
    return SuspectQuery(tuple(dict.fromkeys(empty)), touched, dated, tuple(dict.fromkeys(shared)))


def pushed_down(
    store: Store, by_type: dict[type[Any], list[Check]], context: CheckContext
) -> dict[type[Any], SuspectFinder]:
    """For each record type whose checks are all pushable: how to find its suspects."""
    if not isinstance(store, SupportsQualityPushdown):
        return {}
    capable: SupportsQualityPushdown = store
    found: dict[type[Any], SuspectFinder] = {}
    for kind, checks in by_type.items():
        if kind is Customer:
            query = suspect_query(checks, context)
            if query is not None:
                found[kind] = functools.partial(capable.quality_suspects, query)
        elif not checks:
            found[kind] = list
        elif all(type(check) is UnknownCustomer for check in checks):
            found[kind] = functools.partial(capable.unknown_customer_refs, kind)
    return found


def pushed_batches(
    store: Store, kind: type[Any], suspects: list[str], batch_size: int
) -> Iterator[list[Any]]:
    """The suspect records, grouped by the batch of ``batch_size`` each would be read in."""
    if not suspects:
        return
    if not isinstance(store, SupportsQualityPushdown):
        raise TypeError(f"{store!r} cannot push quality checks down")
    starts = store.batch_starts(kind, batch_size)
    groups: dict[int, list[str]] = {}
    for ident in suspects:
        groups.setdefault(bisect_right(starts, ident), []).append(ident)
    repository = store.repository(kind)
    for _, ids in sorted(groups.items()):
        records = repository.get_many(ids)
        yield [records[ident] for ident in ids if ident in records]
