"""Reliability under faults and load, on SQLite and PostgreSQL: crashes, contention, disk.

Marked ``reliability``: run them alone with ``pytest -m reliability``. Child processes run a
worker script (written to ``tmp_path``) that opens the same store and reports on stdout.
``CUSTREC_CRASH_RUNS`` sets how many imports each crash test kills (default 8 per backend).
SQL injection has its own module, ``test_injection.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import custrec
import pgserver as pg
from custrec.errors import StoreError
from custrec.model import Customer
from custrec.store import Store, open_store

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals"),
]

WORKER = '''
import os, resource, signal, sys, time
from datetime import UTC, datetime
from pathlib import Path

import attrs

from custrec.errors import ConflictError, CustrecError
from custrec.model import Customer, Email
from custrec.store import open_store


def line_up(start, me, count):
    (start / f"ready-{me}").touch()
    deadline = time.monotonic() + 60
    while len(list(start.glob("ready-*"))) < count:
        if time.monotonic() > deadline:
            sys.exit("the other workers never became ready")
        time.sleep(0.001)


def people(batches, size):
    at = datetime(2024, 1, 1, tzinfo=UTC)
    return (
        Customer(
            id=f"b{batch:03d}-{n:04d}", name=f"batch {batch}", created_at=at, updated_at=at,
            emails=[Email(f"b{batch}n{n}@example.com")], notes="x" * 200,
        )
        for batch in range(batches)
        for n in range(size)
    )


def bulk(url, batches, size):
    """Add batches of customers whose ids name their batch; print each committed batch."""
    store = open_store(url)
    progress = lambda done: print(done // size - 1, flush=True)
    store.customers.add_many(people(batches, size), batch_size=size, progress=progress,
                             actor="importer")
    print("done", flush=True)


def contend(url, start, me, count, times, targets):
    """Add one to a random target's counter ``times`` times, retrying conflicts."""
    import random
    store = open_store(url)
    line_up(start, me, count)
    rng = random.Random(me)
    done = {}
    conflicts = 0
    while sum(done.values()) < times:
        target = f"t{rng.randrange(targets)}"
        current = store.customers.get(target)
        try:
            store.customers.update(
                attrs.evolve(current, custom={"count": current.custom["count"] + 1}))
        except ConflictError:
            conflicts += 1
            continue
        done[target] = done.get(target, 0) + 1
    print(conflicts, *(f"{k}={v}" for k, v in sorted(done.items())), flush=True)


def fill(url, limit):
    """Import with the file size capped at ``limit`` bytes; print what was raised."""
    store = open_store(url)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    try:
        store.customers.add_many(people(1, 3000), batch_size=3000)
    except CustrecError as error:
        print(type(error).__name__, error, flush=True)
    else:
        print("stored", flush=True)


def write(url):
    """Open a store and add a customer; print what was raised."""
    try:
        store = open_store(url)
        store.customers.add(Customer(id="intruder"))
    except CustrecError as error:
        print(type(error).__name__, error, flush=True)
    else:
        print("stored", flush=True)


command, url, *rest = sys.argv[1:]
if command == "bulk":
    bulk(url, int(rest[0]), int(rest[1]))
elif command == "contend":
    contend(url, Path(rest[0]), *map(int, rest[1:]))
elif command == "fill":
    fill(url, int(rest[0]))
else:
    write(url)
'''

RUNS = int(os.environ.get("CUSTREC_CRASH_RUNS", "8"))
BATCHES, SIZE = 40, 250


@pytest.fixture
def worker(tmp_path: Path) -> Path:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    return script


def spawn(worker: Path, *args: object, prefix: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """Start the worker script with ``args``, able to import this custrec."""
    source = str(Path(custrec.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(  # noqa: S603 - this interpreter, on a script the test wrote
        [*prefix, sys.executable, str(worker), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


# Root ignores file permissions; without these capabilities it obeys them like anyone.
_NO_OVERRIDE = "-dac_override,-dac_read_search,-fowner"
_AS_ORDINARY = ("setpriv", f"--bounding-set={_NO_OVERRIDE}", f"--inh-caps={_NO_OVERRIDE}")


def finish(process: subprocess.Popen[str]) -> str:
    """Wait for a worker and return its output; fail with its stderr if it failed."""
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, f"worker failed ({process.returncode}):\n{err}"
    return out


def kill_after_first_batch(process: subprocess.Popen[str], delay: float) -> list[str]:
    """Wait for the first committed batch, then ``delay`` seconds, then SIGKILL the worker."""
    assert process.stdout is not None
    lines = [process.stdout.readline()]
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    lines += process.stdout.read().splitlines(keepends=True)
    process.wait(timeout=60)
    assert process.stderr is not None
    process.stdout.close()
    process.stderr.close()
    return [line.strip() for line in lines if line.endswith("\n")]


@pytest.fixture(params=["sqlite", "postgresql"])
def make_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """A factory of fresh store URLs: files on SQLite, schemas on PostgreSQL."""
    schemas: list[str] = []

    def make(name: str) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        schema = f"r_{os.getpid()}_{len(schemas)}_{random.randrange(10**9)}"
        schemas.append(schema)
        return pg.store_url(schema)

    if request.param == "postgresql":
        pg.require_server()
    yield make
    for schema in schemas:
        pg.drop_schema(schema)


def sound(url: str) -> None:
    """Assert the store's own integrity checks pass."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert raw.execute("PRAGMA foreign_key_check").fetchall() == []


class TestCrash:
    """kill -9 at random points of bulk imports, many times over."""

    def test_killed_imports_leave_whole_batches_that_reconcile(
        self, make_url: object, worker: Path
    ) -> None:
        """Each store opens sound, holds whole batches only, and agrees with the reports."""
        urls = [make_url(f"bulk-{run}") for run in range(RUNS)]  # type: ignore[operator]
        for url in urls:  # create the schema before the importers race to
            open_store(url).close()
        delays = [random.uniform(0.0, 0.5) for _ in range(RUNS)]
        processes = [spawn(worker, "bulk", url, BATCHES, SIZE) for url in urls]
        reports: list[list[str]] = [[] for _ in range(RUNS)]

        def watch(run: int) -> None:
            reports[run] = kill_after_first_batch(processes[run], delays[run])

        watchers = [threading.Thread(target=watch, args=(run,)) for run in range(RUNS)]
        for thread in watchers:
            thread.start()
        for thread in watchers:
            thread.join(timeout=300)
        interrupted = 0
        for run, url in enumerate(urls):
            context = f"run {run}, killed {delays[run]:.3f}s after the first batch"
            committed = {int(line) for line in reports[run] if line.isdigit()}
            assert 0 in committed, f"{context}: the worker never reported a batch"
            interrupted += "done" not in reports[run]
            sound(url)
            with open_store(url) as store:
                self._check(store, committed, context)
        assert interrupted, "every worker finished before it was killed: nothing was tested"

    @staticmethod
    def _check(store: Store, committed: set[int], context: str) -> None:
        sizes = Counter(r.id[:4] for batch in store.customers.iter_batches(5000) for r in batch)
        present = sorted(int(prefix[1:]) for prefix in sizes)
        assert set(sizes.values()) <= {SIZE}, f"{context}: a batch is stored in part"
        assert present == list(range(len(present))), f"{context}: batches out of order"
        assert committed <= set(present), f"{context}: a reported batch is missing"
        # A kill between COMMIT and the report loses at most the report of the last batch.
        assert len(present) <= max(committed) + 2, f"{context}: more batches than reported"
        assert store.customers.count() == len(present) * SIZE
        for batch in present:
            last = f"b{batch:03d}-{SIZE - 1:04d}"
            trail = store.audit(last)
            assert [(e.action, e.actor) for e in trail] == [("add", "importer")], context
            assert [
                c.id for c in store.customers.find_by_email(f"b{batch}n{SIZE - 1}@example.com")
            ] == [last]
        lost = f"b{len(present):03d}-0000"
        assert store.audit(lost) == [], f"{context}: audit kept for a lost batch"
        assert store.customers.find_by_email(f"b{len(present)}n0@example.com") == []
        store.customers.add(Customer(id="after-the-crash"))


class TestContention:
    """Eight processes update the same few customers at once."""

    def test_no_update_is_lost(self, make_url: object, worker: Path, tmp_path: Path) -> None:
        """Every conflict is a ConflictError and the counters equal the successful updates."""
        url = make_url("contention")  # type: ignore[operator]
        start = tmp_path / "start"
        start.mkdir()
        workers, times, targets = 8, 20, 3
        with open_store(url) as store:
            for n in range(targets):
                store.customers.add(Customer(id=f"t{n}", custom={"count": 0}))
        processes = [
            spawn(worker, "contend", url, start, me, workers, times, targets)
            for me in range(workers)
        ]
        successes: Counter[str] = Counter()
        conflicts = 0
        for process in processes:
            first, *counts = finish(process).split()
            conflicts += int(first)
            successes.update({k: int(v) for k, v in (c.split("=") for c in counts)})
        assert sum(successes.values()) == workers * times
        assert conflicts > 0, "no update ever conflicted: nothing was tested"
        with open_store(url) as store:
            for n in range(targets):
                final = store.customers.get(f"t{n}")
                assert final.custom["count"] == successes[f"t{n}"]
                assert final.version == successes[f"t{n}"] + 1
                assert len(store.audit(f"t{n}")) == successes[f"t{n}"] + 1


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestDisk:
    """A full disk or a read-only file on SQLite: a clear StoreError, nothing half-written."""

    def test_full_disk(self, tmp_path: Path, worker: Path) -> None:
        """An import that runs out of space raises StoreError and stores nothing of its batch."""
        path = tmp_path / "full.db"
        url = f"sqlite:///{path}"
        with open_store(url) as store:
            store.customers.add(Customer(id="before"))
        out = finish(spawn(worker, "fill", url, path.stat().st_size + 64 * 1024)).strip()
        assert out.startswith("StoreError"), out
        assert "disk is full" in out or "disk I/O error" in out, out
        sound(url)
        with open_store(url) as store:
            assert [c.id for c in store.customers] == ["before"]
            assert store.audit("b000-0000") == []

    def test_read_only_file(self, tmp_path: Path, worker: Path) -> None:
        """Writing to a file the process may only read raises StoreError and changes nothing."""
        path = tmp_path / "ro.db"
        url = f"sqlite:///{path}"
        with open_store(url) as store:
            store.customers.add(Customer(id="before"))
        path.chmod(0o444)
        tmp_path.chmod(0o555)  # no journal files can be made beside it either
        before = _digest(path)
        prefix: tuple[str, ...] = ()
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root, and no setpriv to give up overriding permissions")
            prefix = _AS_ORDINARY
        try:
            out = finish(spawn(worker, "write", url, prefix=prefix)).strip()
        finally:
            tmp_path.chmod(0o755)
        assert out.startswith("StoreError"), out
        assert "read-only" in out or "cannot open" in out, out
        assert _digest(path) == before
        with pytest.raises(StoreError, match="read-only"), open_store(f"{url}?mode=ro") as store:
            store.customers.add(Customer(id="intruder"))
