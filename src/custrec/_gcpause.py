"""One pause of Python's cyclic garbage collector, shared by custrec's long runs.

Classification and duplicate detection make millions of small objects and no reference
cycles, yet every burst of allocations makes the collector traverse every live object again
(a caller's million Customer records included): a fifth to a third of a run. During a run
memory is still freed by reference counting; only cycle detection waits until it ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["without_collection"]


class _CollectorPause:
    """Pauses of the cyclic garbage collector, counted across threads and callers.

    The first run to start records whether the collector was on and turns it off; the last
    to finish turns it back on if it was. Overlapping runs (two threads, or classification
    inside duplicate detection) therefore never leave it off, and never turn it on early.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._was_enabled:
                    gc.enable()


without_collection = _CollectorPause()
"""``with without_collection(): ...`` pauses the cyclic collector for the block."""
