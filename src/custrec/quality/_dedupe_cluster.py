"""Clustering: from matching pairs to groups of records that are one customer.

Groups are the connected components of the matching pairs, built strongest pair first.
Connected components chain: A matches B, B matches C… and one weak link can glue two
large groups into a giant one. The guard: a pair that would make a group larger than
``max_size`` is left out, and the group is marked *capped* (to be reviewed by a person,
never merged automatically). Pairs are taken in a fixed order (probability, then ids), so
the same pairs always give the same groups, whatever order they came in.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = ["Group", "cluster"]


@attrs.frozen
class Group:
    """Records linked into one group.

    Attributes:
        ids: The records, sorted.
        weakest: The lowest probability among the pairs that linked the group.
        capped: Whether a pair was left out because the group would have grown too big.
    """

    ids: tuple[str, ...]
    weakest: float
    capped: bool


def cluster(pairs: Iterable[tuple[str, str, float]], max_size: int) -> list[Group]:
    """Group records linked by pairs ``(id, id, probability)``; return groups of two or more.

    Args:
        pairs: The matching pairs.
        max_size: Largest group allowed (at least 2).

    Returns:
        The groups, ordered by their first id.
    """
    parent: dict[str, str] = {}
    size: dict[str, int] = {}
    weakest: dict[str, float] = {}
    capped: set[str] = set()

    def root(node: str) -> str:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    ordered = sorted(
        ((min(a, b), max(a, b), p) for a, b, p in pairs if a != b),
        key=lambda e: (-e[2], e[0], e[1]),
    )
    for left, right, probability in ordered:
        for node in (left, right):
            if node not in parent:
                parent[node], size[node], weakest[node] = node, 1, 1.0
        a, b = root(left), root(right)
        if a == b:
            continue
        if size[a] + size[b] > max_size:
            capped.update((a, b))
            continue
        if (size[a], b) > (size[b], a):
            a, b = b, a
        parent[a] = b
        size[b] += size[a]
        weakest[b] = min(weakest[a], weakest[b], probability)
        if a in capped:
            capped.add(b)
    members: dict[str, list[str]] = {}
    for node in parent:
        members.setdefault(root(node), []).append(node)
    groups = [
        Group(tuple(sorted(ids)), weakest[top], top in capped)
        for top, ids in members.items()
        if len(ids) > 1
    ]
    return sorted(groups, key=lambda group: group.ids)
