"""``io.import_csv``: import a customer CSV into a SQLite store, against raw csv + sqlite3.

The file is a Chinese customer table as Excel exports it (客户编号, 姓名, 性别, 生日, 手机号码,
电子邮件, 公司名称, 职位, 地址, 备注), UTF-8, made with a seeded generator.

custrec's side is :func:`custrec.io.import_customers` into a fresh ``sqlite:///`` store: it
detects the encoding, maps the headers, reads every cell (dates, phones to E.164, the
address split into province, city and district), builds and validates each record,
matches natural keys, and writes in units of work of 1,000 rows with the audit trail and the
contact index. The baseline reads the same file with ``csv.reader`` and writes the same rows,
as text, with ``sqlite3.executemany`` into a table of those ten columns, 1,000 rows per
transaction, with the PRAGMAs the store sets: what a hand-written loader that checks
nothing would do.

Each side runs in its own subprocess, so that ``io.import_csv_peak_rss`` is the peak
resident memory of a process that did nothing but that import (the interpreter and its
imports included): ``VmHWM`` from ``/proc/self/status`` on Linux, because ``ru_maxrss``
there keeps the parent's peak across fork and exec; ``resource.getrusage().ru_maxrss``
elsewhere. Times are the import alone, measured in the child.
"""

from __future__ import annotations

import csv
import json
import math
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks._runner import Context, Result, benchmark, building_inputs

SEED = 2024
HEADERS = [
    "客户编号",
    "姓名",
    "性别",
    "生日",
    "手机号码",
    "电子邮件",
    "公司名称",
    "职位",
    "地址",
    "备注",
]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
_PLACES = (
    ("北京市", "", "朝阳区"),
    ("上海市", "", "浦东新区"),
    ("广东省", "广州市", "天河区"),
    ("浙江省", "杭州市", "西湖区"),
    ("四川省", "成都市", "武侯区"),
)
_ROLES = ("经理", "销售", "技术", "财务", "采购")
_NOTES = ("", "", "老客户", "VIP", "朋友介绍")

_PEAK = """
import resource


def peak_kb():
    # VmHWM is this process's own high-water mark; ru_maxrss on Linux keeps the parent's
    # peak across fork and exec, so it is only the fallback where /proc is missing.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

_OURS = (
    _PEAK
    + """
import json, resource, sys, time
from custrec.io import import_customers
from custrec.store import open_store

path, db = sys.argv[1], sys.argv[2]
store = open_store(f"sqlite:///{db}")
before = peak_kb()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu_before = usage.ru_utime + usage.ru_stime
start = time.perf_counter()
report = import_customers(store, path, batch_size=1000)
seconds = time.perf_counter() - start
store.close()
peak = peak_kb()
assert report.accounted and report.stored == report.rows_read, report.summary()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu_before
print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_kb": peak, "rss_before_kb": before}))
"""
)

_BASELINE = (
    _PEAK
    + """
import csv, json, resource, sqlite3, sys, time

path, db = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db, isolation_level=None, cached_statements=256)
for pragma in ("PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA synchronous=NORMAL"):
    conn.execute(pragma)
conn.execute(
    "CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT, gender TEXT, birth_date TEXT,"
    " phone TEXT, email TEXT, company TEXT, job_title TEXT, address TEXT, notes TEXT)"
)
insert = "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
before = peak_kb()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu_before = usage.ru_utime + usage.ru_stime
start = time.perf_counter()
with open(path, encoding="utf-8", newline="") as handle:
    reader = csv.reader(handle)
    next(reader)
    batch = []
    for row in reader:
        batch.append(row)
        if len(batch) == 1000:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(insert, batch)
            conn.execute("COMMIT")
            batch = []
    if batch:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(insert, batch)
        conn.execute("COMMIT")
seconds = time.perf_counter() - start
conn.close()
peak = peak_kb()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu_before
print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_kb": peak, "rss_before_kb": before}))
"""
)


def write_table(path: Path, count: int, seed: int = SEED) -> None:
    """Write ``count`` customers as a Chinese CSV customer table (UTF-8)."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for index in range(count):
            province, city, district = rnd.choice(_PLACES)
            name = rnd.choice(_SURNAMES) + rnd.choice(_GIVEN) + rnd.choice(_GIVEN)
            writer.writerow(
                [
                    f"{index:07d}",
                    name,
                    rnd.choice("男女"),
                    f"{rnd.randint(1950, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                    f"1{rnd.choice('3589')}{rnd.randint(0, 999_999_999):09d}",
                    f"user{index}@example.com",
                    f"{rnd.choice(_SURNAMES)}氏贸易有限公司",
                    rnd.choice(_ROLES),
                    f"{province}{city}{district}建国路{rnd.randint(1, 999)}号",
                    rnd.choice(_NOTES),
                ]
            )


def _child(script: str, csv_path: Path, db_path: Path) -> dict[str, float]:
    db_path.unlink(missing_ok=True)
    completed = subprocess.run(  # noqa: S603 - this interpreter running this module's own code
        [sys.executable, "-c", script, str(csv_path), str(db_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the import subprocess failed:\n{completed.stderr}")
    figures: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def _best(ctx: Context, script: str, csv_path: Path, db_path: Path) -> dict[str, float]:
    runs = [_child(script, csv_path, db_path) for _ in range(max(1, ctx.repeat))]
    return min(runs, key=lambda run: run["seconds"])


@benchmark("io.import_csv", "io.import_csv_peak_rss")
def import_csv(ctx: Context) -> Iterator[Result]:
    """Import a customer CSV into SQLite with custrec, and with csv + sqlite3."""
    if sys.platform == "win32":  # pragma: no cover - resource is POSIX only
        raise RuntimeError("io.import_csv measures memory with the resource module (POSIX)")
    count = ctx.size(100_000, full=1_000_000, smoke=300)
    csv_path = ctx.workdir / "customers.csv"
    with building_inputs():
        ctx.progress(f"io.import_csv: writing {count:,} rows")
        write_table(csv_path, count)
    ctx.progress("io.import_csv: custrec import_customers")
    ours = _best(ctx, _OURS, csv_path, ctx.workdir / "ours.db")
    ctx.progress("io.import_csv: csv.reader + sqlite3.executemany")
    theirs = _best(ctx, _BASELINE, csv_path, ctx.workdir / "baseline.db")
    mb = 1024.0  # ru_maxrss is in kilobytes on Linux
    ctx.progress(
        f"io.import_csv: {count:,} rows; custrec {ours['seconds']:.2f} s "
        f"(CPU {ours['cpu']:.2f} s, {count / ours['seconds']:,.0f} rows/s), peak RSS "
        f"{ours['rss_kb'] / mb:.0f} MB ({ours['rss_before_kb'] / mb:.0f} MB before the import); "
        f"baseline {theirs['seconds']:.2f} s (CPU {theirs['cpu']:.2f} s), peak RSS "
        f"{theirs['rss_kb'] / mb:.0f} MB; CPU-time ratio {ours['cpu'] / theirs['cpu']:.1f}"
    )
    baseline = "csv.reader + sqlite3.executemany"
    yield Result("io.import_csv", ours["seconds"], "s", baseline, theirs["seconds"])
    yield Result(
        "io.import_csv_peak_rss",
        ours["rss_kb"] / mb,
        "MB",
        f"{baseline} (peak RSS)",
        max(theirs["rss_kb"] / mb, math.ulp(1.0)),
    )
