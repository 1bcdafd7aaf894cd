"""An immutable, hashable, picklable mapping for record fields such as custom values."""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any, Generic, TypeVar

__all__ = ["FrozenMap"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V], Generic[K, V]):
    """A read-only mapping, ordered by key, that compares equal to a dict with the same items.

    Records are frozen; a plain ``dict`` field would let a caller change a stored record
    behind the store's back. Keys are kept sorted so two maps with the same items have the
    same iteration order, repr and serialised form.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, items: Mapping[K, V] | None = None) -> None:
        data = dict(items or {})
        if len(data) > 1:
            data = {k: data[k] for k in sorted(data, key=repr)}
        self._data: dict[K, V] = data
        self._hash: int | None = None

    @classmethod
    def ordered(cls, items: dict[K, V]) -> FrozenMap[K, V]:
        """Wrap a dict whose keys are already in a FrozenMap's order, without sorting it.

        For code that builds many maps with the same keys: sort the keys once (by
        ``repr``, as FrozenMap does) and build each dict in that order. The dict is taken
        over, not copied; do not change it afterwards.
        """
        made = cls.__new__(cls)
        made._data = items
        made._hash = None
        return made

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    # The Mapping mixins work through __getitem__ and __iter__ one key at a time; the
    # inner dict's own read-only views and lookups give the same answers much faster.
    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: K, default: Any = None) -> Any:
        """Return the value for ``key``, or ``default``."""
        return self._data.get(key, default)

    def keys(self) -> KeysView[K]:
        """A read-only view of the keys, in order."""
        return self._data.keys()

    def items(self) -> ItemsView[K, V]:
        """A read-only view of the ``(key, value)`` pairs, in key order."""
        return self._data.items()

    def values(self) -> ValuesView[V]:
        """A read-only view of the values, in key order."""
        return self._data.values()

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))
