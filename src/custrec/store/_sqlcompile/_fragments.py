"""SQL fragments and the integer forms of stored values.

:class:`Sql` is a piece of SQL text with its bound parameters; :func:`sql` and :func:`join`
build larger pieces from smaller ones. Timestamps are stored as whole microseconds since the
epoch (:func:`epoch_us`, :func:`from_epoch_us`) and bound numbers stay within 64 bits
(:data:`INT64_MIN`, :data:`INT64_MAX`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

__all__ = [
    "FALSE",
    "INT64_MAX",
    "INT64_MIN",
    "NULL",
    "TRUE",
    "Sql",
    "epoch_us",
    "from_epoch_us",
    "join",
    "sql",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def epoch_us(moment: datetime) -> int:
    """Return an aware datetime as whole microseconds since 1970-01-01 UTC (exact)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_epoch_us(microseconds: int) -> datetime:
    """Return the aware UTC datetime ``microseconds`` after 1970-01-01 UTC."""
    return _EPOCH + timedelta(microseconds=microseconds)


# -- SQL fragments -------------------------------------------------------------------------


@attrs.frozen
class Sql:
    """A piece of SQL text and the parameters its placeholders take, in order.

    Attributes:
        text: The SQL; never holds user data, only placeholders for it.
        params: The values bound to the placeholders.
    """

    text: str
    params: tuple[Any, ...] = ()


def sql(template: str, *parts: Sql) -> Sql:
    """Fill each ``{}`` of ``template`` with a fragment, keeping parameters in text order."""
    pieces = template.split("{}")
    if len(pieces) != len(parts) + 1:
        raise ValueError(f"template {template!r} takes {len(pieces) - 1} parts, not {len(parts)}")
    text = [pieces[0]]
    params: list[Any] = []
    for part, piece in zip(parts, pieces[1:], strict=True):
        text.append(part.text)
        text.append(piece)
        params.extend(part.params)
    return Sql("".join(text), tuple(params))


def join(separator: str, parts: Iterable[Sql]) -> Sql:
    """Join fragments with ``separator``."""
    items = list(parts)
    return Sql(separator.join(p.text for p in items), tuple(v for p in items for v in p.params))


# SQLite reads TRUE and FALSE as the integers 1 and 0; PostgreSQL needs them as booleans.
TRUE = Sql("TRUE")
FALSE = Sql("FALSE")
NULL = Sql("NULL")


def _when(guard: Sql, then: Sql) -> Sql:
    """``then`` where ``guard`` holds, else ``NULL``."""
    if guard is TRUE:
        return then
    if guard is FALSE:
        return NULL
    return sql("(CASE WHEN {} THEN {} END)", guard, then)


def _not_null_then(value: Sql, then: Sql) -> Sql:
    """``NULL`` where ``value`` is ``NULL``, else ``then``."""
    return sql("(CASE WHEN {} IS NULL THEN NULL ELSE {} END)", value, then)
