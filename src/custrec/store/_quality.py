"""The quality push-down capability: a store that picks suspect records in its database.

A run of quality checks over a store (:func:`custrec.quality.run_checks`) normally reads
every record. For the checks whose judgement SQL can narrow down (required fields,
staleness, dates in the future, exact duplicates, history pointing at an unknown
customer), a store offering :class:`SupportsQualityPushdown` returns the ids of the
*suspect* records instead: every record those checks could find fault with, perhaps a few
more. The run then reads only the suspects and lets the checks judge them as usual, so
the findings are the same (a property test holds every backend to it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

__all__ = ["SHARED_KEY_KINDS", "SupportsQualityPushdown", "SuspectQuery"]

SHARED_KEY_KINDS = ("phone", "email")
"""The contact keys exact duplicates compare: ``phone:<E.164>`` and ``email:<address>``."""


@attrs.frozen
class SuspectQuery:
    """What makes a customer a suspect; a customer meeting any part is one.

    Attributes:
        empty_fields: Customer fields (``"name"``, ``"phones"``) or ``custom.<key>`` that
            are empty: missing, null, ``""``, ``0``, ``false``, ``[]`` or ``{}``.
        touched_before: Neither updated nor reviewed at or after this moment.
        dated_after: Created, updated or reviewed after this moment.
        shared_keys: Contact key kinds (``"phone"``, ``"email"``) the customer shares a
            key of with another customer.
    """

    empty_fields: tuple[str, ...] = ()
    touched_before: datetime | None = None
    dated_after: datetime | None = None
    shared_keys: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether no customer can be a suspect (every part is unset)."""
        return not (
            self.empty_fields
            or self.touched_before is not None
            or self.dated_after is not None
            or self.shared_keys
        )


@runtime_checkable
class SupportsQualityPushdown(Protocol):
    """A store that finds suspect records for the quality checks in its own database."""

    def quality_suspects(self, query: SuspectQuery) -> list[str]:
        """The ids of the customers meeting any part of ``query``, in id order."""
        ...

    def unknown_customer_refs(self, record_type: type[Any]) -> list[str]:
        """The ids of the history records whose customer does not exist, in id order."""
        ...

    def batch_starts(self, record_type: type[Any], batch_size: int) -> Sequence[str]:
        """The first id of each batch ``iter_batches(batch_size)`` would give, in order."""
        ...
