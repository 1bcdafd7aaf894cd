"""The benchmark runner: a registry of named benchmarks, timing, the table and the JSON file.

Usage, from the repository root::

    python -m benchmarks                      # every benchmark at its default size
    python -m benchmarks --full               # the large sizes (a million records)
    python -m benchmarks --smoke              # tiny sizes: proves they run (CI, < 30 s)
    python -m benchmarks --only store.get_by_id store.get_by_phone --json out.json

Each result is one row: ``name``, ``value`` and ``unit`` (custrec's time), ``baseline`` (what
it is compared with) and ``baseline_value`` (the baseline's time, same unit, measured in the
same run), and ``ratio`` = value / baseline_value. Lower is better everywhere.

Adding a benchmark is one decorated function in a new module of this package (any module
whose name does not start with ``_`` is imported)::

    from benchmarks._runner import Context, Result, benchmark, best_of, building_inputs

    @benchmark("io.import_csv")
    def import_csv(ctx: Context) -> Iterator[Result]:
        count = ctx.size(100_000, full=1_000_000, smoke=2_000)
        with building_inputs():
            path = write_the_csv(ctx.workdir, count)       # not timed
        ours = best_of(ctx.repeat, lambda: import_with_custrec(path))
        theirs = best_of(ctx.repeat, lambda: import_with_csv_module(path))
        yield Result("io.import_csv", ours, "s", "csv.reader + executemany", theirs)

One function may measure several benchmarks that share costly set-up (the store
benchmarks share one database); it declares every name it yields, and can skip work for the
names not asked for with :meth:`Context.wants`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import math
import pkgutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "RESERVED",
    "Context",
    "Result",
    "benchmark",
    "best_of",
    "building_inputs",
    "format_table",
    "main",
    "registry",
    "run",
    "write_json",
]

RESERVED = (
    "classify.facts_sqlite",
    "quality.checks_memory",
    "dedupe.synthetic",
    "io.import_csv",
)
"""Names promised to benchmarks that later issues add."""

MODES = ("smoke", "default", "full")


@dataclass(frozen=True)
class Result:
    """One measurement: custrec's time for a task and a baseline's for the same task.

    Attributes:
        name: The benchmark (``"store.bulk_add"``).
        value: custrec's time, in ``unit``.
        unit: ``"s"`` for a whole task, ``"us"`` for microseconds per operation.
        baseline: What custrec is compared with, in a few words.
        baseline_value: The baseline's time, same unit, measured in the same run.
    """

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float

    @property
    def ratio(self) -> float:
        """custrec's time over the baseline's; lower is better."""
        return self.value / self.baseline_value

    def as_dict(self) -> dict[str, Any]:
        """The JSON row."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "ratio": self.ratio,
        }


@dataclass
class Context:
    """What a benchmark function gets: the run's mode and a few services.

    Attributes:
        mode: ``"smoke"``, ``"default"`` or ``"full"``.
        repeat: How many times to time a step; report the best.
        selected: The benchmark names asked for.
        workdir: A temporary directory, removed after the run.
    """

    mode: str
    repeat: int
    selected: frozenset[str]
    workdir: Path
    started: float = 0.0

    def size(self, default: int, *, full: int, smoke: int) -> int:
        """The size for this run's mode."""
        return {"smoke": smoke, "default": default, "full": full}[self.mode]

    def wants(self, name: str) -> bool:
        """Whether ``name`` was asked for."""
        return name in self.selected

    def progress(self, message: str) -> None:
        """Tell the person waiting what is happening (on stderr)."""
        elapsed = time.perf_counter() - self.started
        print(f"[{elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)


BenchmarkFunction = Callable[[Context], Iterable[Result]]


@dataclass(frozen=True)
class _Entry:
    names: tuple[str, ...]
    function: BenchmarkFunction


_REGISTRY: dict[str, _Entry] = {}


def benchmark(*names: str) -> Callable[[BenchmarkFunction], BenchmarkFunction]:
    """Register a function that measures the benchmarks ``names`` and yields their results.

    Raises:
        ValueError: A name is registered already.
    """
    if not names:
        raise ValueError("a benchmark function measures at least one named benchmark")

    def register(function: BenchmarkFunction) -> BenchmarkFunction:
        entry = _Entry(tuple(names), function)
        for name in names:
            if name in _REGISTRY:
                raise ValueError(f"benchmark {name!r} is registered twice")
            _REGISTRY[name] = entry
        return function

    return register


def registry() -> dict[str, BenchmarkFunction]:
    """Every known benchmark name and the function that measures it (imports them all)."""
    _discover()
    return {name: entry.function for name, entry in sorted(_REGISTRY.items())}


def _discover() -> None:
    package = importlib.import_module("benchmarks")
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"benchmarks.{module.name}")


@contextlib.contextmanager
def building_inputs() -> Iterator[None]:
    """Build a benchmark's inputs inside this block, not what is measured.

    The garbage collector is off while they are made (there is nothing to collect, and each
    collection would rescan everything made so far), and frozen afterwards so that the
    collections the measured code causes do not scan the inputs either. The runner
    unfreezes them when the benchmark function is done.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def best_of(
    repeat: int, step: Callable[[], object], setup: Callable[[], object] | None = None
) -> float:
    """Time ``step`` ``repeat`` times (after ``setup`` each time) and return the best, in s.

    The garbage collector is emptied before each timing, not switched off: collections
    that the step itself causes are part of its cost.
    """
    best = math.inf
    for _ in range(max(1, repeat)):
        if setup is not None:
            setup()
        gc.collect()
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def run(names: Sequence[str], *, mode: str, repeat: int) -> list[Result]:
    """Run the benchmarks ``names`` (every one when empty) and return their results.

    Raises:
        KeyError: A name is unknown; the message lists the known ones.
        RuntimeError: A benchmark function did not yield a result it was asked for.
    """
    known = registry()
    selected = list(names) or list(known)
    unknown = [name for name in selected if name not in known]
    if unknown:
        later = [name for name in unknown if name in RESERVED]
        note = f" ({', '.join(later)}: not written yet)" if later else ""
        raise KeyError(
            f"unknown benchmark(s) {', '.join(unknown)}{note}; known: {', '.join(known)}"
        )
    wanted = frozenset(selected)
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="custrec-bench-") as workdir:
        ctx = Context(mode, repeat, wanted, Path(workdir), time.perf_counter())
        done: set[int] = set()
        for name in selected:
            entry = _REGISTRY[name]
            if id(entry) in done:
                continue
            done.add(id(entry))
            for result in entry.function(ctx):
                if result.name not in entry.names:
                    raise RuntimeError(
                        f"{entry.function.__name__} yielded undeclared {result.name!r}"
                    )
                if result.name in wanted:
                    results[result.name] = result
            gc.unfreeze()  # a benchmark may freeze its inputs; let them go
            gc.collect()
    missing = [name for name in selected if name not in results]
    if missing:
        raise RuntimeError(f"no result for {', '.join(missing)}")
    return [results[name] for name in selected]


def _number(value: float) -> str:
    return f"{value:.4g}" if value < 1000 else f"{value:,.0f}"


def format_table(results: Iterable[Result]) -> str:
    """The results as an aligned text table."""
    header = ("name", "value", "unit", "baseline", "baseline_value", "ratio")
    rows = [
        (
            r.name,
            _number(r.value),
            r.unit,
            r.baseline,
            _number(r.baseline_value),
            f"{r.ratio:.2f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    numeric = {1, 4, 5}

    def line(row: Sequence[str]) -> str:
        cells = (
            cell.rjust(width) if i in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def write_json(results: Iterable[Result], path: Path) -> None:
    """Write the results as a JSON list of rows (see :meth:`Result.as_dict`)."""
    rows = [result.as_dict() for result in results]
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure custrec against plain-Python baselines (ratio: lower is better).",
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="large sizes (a million records)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, to check they still run")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=[], help="run only these")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="timings per step, best kept (default 3; 1 with --smoke or --full)",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name in registry():
            print(name)
        return 0
    mode = "full" if args.full else "smoke" if args.smoke else "default"
    repeat = args.repeat if args.repeat is not None else (3 if mode == "default" else 1)
    try:
        results = run(args.only, mode=mode, repeat=repeat)
    except KeyError as exc:
        parser.error(str(exc.args[0]))
    print(format_table(results))
    if args.json is not None:
        write_json(results, args.json)
    return 0
