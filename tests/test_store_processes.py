"""The SQLite store shared by several processes: crashes, races and lost updates.

Child processes run a small worker script (written to ``tmp_path``) that opens the same file
and reports on stdout. Processes line up at a start line made of files, so that their
conflicting steps really overlap.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

import custrec
from custrec.model import Customer
from custrec.store import open_store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")

WORKER = '''
import os, sys, time
from datetime import UTC, datetime
from pathlib import Path

import attrs

from custrec.errors import ConflictError
from custrec.model import Customer
from custrec.store import open_store


def line_up(start: Path, me: int, count: int) -> None:
    """Say I am ready, then wait until all ``count`` workers are."""
    (start / f"ready-{me}").touch()
    deadline = time.monotonic() + 30
    while len(list(start.glob("ready-*"))) < count:
        if time.monotonic() > deadline:
            sys.exit("the other workers never became ready")
        time.sleep(0.001)


def bulk(url: str, batches: int, size: int) -> None:
    """Add batches of customers whose ids name their batch; print each committed batch."""
    store = open_store(url)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    records = (
        Customer(id=f"b{batch:03d}-{n:04d}", name=f"batch {batch}", created_at=at, updated_at=at)
        for batch in range(batches)
        for n in range(size)
    )
    progress = lambda done: print(done // size - 1, flush=True)  # noqa: E731
    store.customers.add_many(records, batch_size=size, progress=progress, actor="importer")
    print("done", flush=True)


def race(url: str, start: Path, me: int, count: int) -> None:
    """Read the customer, wait for the others to have read it too, then update it."""
    store = open_store(url)
    mine = store.customers.get("c1")
    line_up(start, me, count)
    try:
        store.customers.update(attrs.evolve(mine, name=f"writer {me}"), actor=f"writer {me}")
    except ConflictError as error:
        print(f"conflict {error.expected} {error.actual}", flush=True)
    else:
        print("ok", flush=True)


def increment(url: str, start: Path, me: int, count: int, times: int) -> None:
    """Add one to the counter ``times`` times: read, change, update, retry on conflict."""
    store = open_store(url)
    line_up(start, me, count)
    done = conflicts = 0
    while done < times:
        current = store.customers.get("counter")
        value = current.custom["count"]
        try:
            store.customers.update(attrs.evolve(current, custom={"count": value + 1}))
        except ConflictError:
            conflicts += 1
            continue
        done += 1
    print(done, conflicts, flush=True)


command, url, *rest = sys.argv[1:]
if command == "bulk":
    bulk(url, int(rest[0]), int(rest[1]))
elif command == "race":
    race(url, Path(rest[0]), int(rest[1]), int(rest[2]))
else:
    increment(url, Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]))
'''


@pytest.fixture
def worker(tmp_path: Path) -> Path:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    return script


def spawn(worker: Path, *args: object) -> subprocess.Popen[str]:
    """Start the worker script with ``args``, able to import this custrec."""
    source = str(Path(custrec.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(  # noqa: S603 - this interpreter, on a script the test wrote
        [sys.executable, str(worker), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen[str]) -> str:
    """Wait for a worker and return its output; fail with its stderr if it failed."""
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, f"worker failed ({process.returncode}):\n{err}"
    return out


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


BATCHES, SIZE, RUNS = 50, 200, 5


def kill_after_first_batch(process: subprocess.Popen[str], delay: float) -> list[str]:
    """Wait for the first committed batch, then ``delay`` seconds, then SIGKILL the worker.

    Returns every complete line the worker printed.
    """
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    lines += process.stdout.read().splitlines(keepends=True)
    process.wait(timeout=30)
    assert process.stderr is not None
    process.stdout.close()
    process.stderr.close()
    return [line.strip() for line in lines if line.endswith("\n")]


def test_a_killed_bulk_add_leaves_whole_batches(tmp_path: Path, worker: Path) -> None:
    """SIGKILL during add_many leaves a sound file holding whole batches, none in part."""
    rng = random.Random()
    delays = [rng.uniform(0.0, 0.4) for _ in range(RUNS)]
    files = [tmp_path / f"bulk-{run}.db" for run in range(RUNS)]
    processes = [spawn(worker, "bulk", url_of(path), BATCHES, SIZE) for path in files]
    reports: list[list[str]] = [[] for _ in range(RUNS)]

    def watch(run: int) -> None:
        reports[run] = kill_after_first_batch(processes[run], delays[run])

    watchers = [threading.Thread(target=watch, args=(run,)) for run in range(RUNS)]
    for thread in watchers:
        thread.start()
    for thread in watchers:
        thread.join(timeout=120)
    interrupted = 0
    for run, path in enumerate(files):
        context = f"run {run}, killed {delays[run]:.3f}s after the first batch"
        committed = {int(line) for line in reports[run] if line.isdigit()}
        assert 0 in committed, f"{context}: the worker never reported a batch"
        interrupted += "done" not in reports[run]
        with contextlib.closing(sqlite3.connect(path)) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok", context
        with open_store(url_of(path)) as store:
            sizes = Counter(
                record.id[:4] for batch in store.customers.iter_batches(2000) for record in batch
            )
            present = sorted(int(prefix[1:]) for prefix in sizes)
            assert set(sizes.values()) <= {SIZE}, f"{context}: a batch is stored in part"
            assert present == list(range(len(present))), f"{context}: batches out of order"
            assert committed <= set(present), f"{context}: a reported batch is missing"
            assert store.customers.count() == len(present) * SIZE
            for batch in present:
                trail = store.audit(f"b{batch:03d}-{SIZE - 1:04d}")
                assert [(e.action, e.actor) for e in trail] == [("add", "importer")], context
            missing = f"b{len(present):03d}-0000"
            assert store.audit(missing) == [], f"{context}: audit kept for a lost batch"
            store.customers.add(Customer(id="after-the-crash"))
    assert interrupted, "every worker finished before it was killed: nothing was tested"


def test_two_writers_from_one_version_one_wins(tmp_path: Path, worker: Path) -> None:
    """Two processes update the same version: one succeeds, the other gets ConflictError."""
    path, start = tmp_path / "race.db", tmp_path / "start"
    start.mkdir()
    with open_store(url_of(path)) as store:
        store.customers.add(Customer(id="c1", name="start"))
    outputs = [
        finish(p) for p in [spawn(worker, "race", url_of(path), start, me, 2) for me in (0, 1)]
    ]
    results = [out.strip() for out in outputs]
    assert sorted(result.split()[0] for result in results) == ["conflict", "ok"], results
    winner = results.index("ok")
    assert results[1 - winner] in {"conflict 1 2", "conflict 1 None"}
    with open_store(url_of(path)) as store:
        final = store.customers.get("c1")
        assert (final.name, final.version) == (f"writer {winner}", 2)
        trail = store.audit("c1")
        assert [(e.action, e.actor) for e in trail] == [
            ("add", None),
            ("update", f"writer {winner}"),
        ]


def test_concurrent_increments_lose_no_update(tmp_path: Path, worker: Path) -> None:
    """Four processes each add 1 to a counter 25 times, retrying conflicts: it ends at 100."""
    path, start = tmp_path / "counter.db", tmp_path / "start"
    start.mkdir()
    workers, times = 4, 25
    with open_store(url_of(path)) as store:
        store.customers.add(Customer(id="counter", custom={"count": 0}))
    processes = [
        spawn(worker, "increment", url_of(path), start, me, workers, times) for me in range(workers)
    ]
    reports = [finish(process).split() for process in processes]
    successes = sum(int(done) for done, _ in reports)
    assert successes == workers * times
    with open_store(url_of(path)) as store:
        final = store.customers.get("counter")
        assert final.custom["count"] == successes
        assert final.version == successes + 1
        assert len(store.audit("counter")) == successes + 1
