"""Eight quality checks over customers in memory (and in SQLite) against pandera.

The customers: a pool of :mod:`custrec.testing.synthetic` customers (fixed seed) repeated
with their own ids, one phone number and email address each, last updated 30 days before
the run, until there are enough; then seeded with faults at fixed strides (about 1 % each):
no name, an unreadable phone, a bad email, a birth date in 1890, an unknown member level,
negative points, not updated for 400 days, a phone copied from the previous customer.
Records are built before any timing (phones parsed then, as a store hands them back).

The eight checks, custrec's and pandera's alike: required name; valid phone; valid email;
age 0–120; member level among its choices; points not negative (the amount); reviewed or
updated within 180 days (staleness); no two customers with one phone.

- custrec (``quality.checks_memory``): :func:`custrec.quality.run_checks` over the list
  of records, giving a :class:`QualityReport` (findings per record, masked values,
  counts, scores). custrec checks *every* phone and email of a customer.
- custrec (``quality.checks_sqlite``): the same run over a ``sqlite:///`` store holding
  the same customers, read in batches of 1,000, timed once (reading the records back
  dominates); its findings are compared with the in-memory run's and must be the same.
- baseline: pandera (pandas backend), ``DataFrameSchema.validate(df, lazy=True)`` over a
  DataFrame made from the same customers before the timing: one row per customer, with
  the *primary* phone and email only (less work than custrec does), the phone's validity
  as the record holds it (a bool column, as custrec reads it), email syntax by the same
  regular expression custrec's fast path uses, text as pandas' ``string`` dtype (so that
  pandera checks the column's dtype, as custrec's records hold typed values, instead of
  testing every cell with ``isinstance``: a quarter faster than ``object`` columns with
  ``Column(str)``), dates as ``datetime64``. The run ends with
  pandera's table of failure cases. Both rows compare with the same in-memory pandera
  time. Without pandera (``pip install -e '.[bench]'``), the baseline is a plain Python
  loop over row dictionaries doing the same checks, and the row's baseline says so.

- custrec (``quality.pushdown_sqlite``): the checks SQL can narrow down (required name,
  staleness, unique phone) over the same SQLite store, pushed down (only the suspects are
  read) against the same run with ``pushdown=False`` (every customer read), each timed
  once; the two must give the same findings. Its baseline is that Python path.

The counts of each side's findings are printed (on stderr) so that a reader can see they
found the same faults.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from benchmarks._runner import Context, Result, benchmark, best_of, building_inputs
from custrec.model import Customer, Email, Phone
from custrec.quality import (
    BirthDatePlausible,
    Check,
    CustomFieldsValid,
    EmailValid,
    ExactDuplicates,
    PhoneValid,
    RequiredFields,
    Staleness,
    run_checks,
)
from custrec.store import open_store
from custrec.template import CustomField, Template
from custrec.testing.synthetic import iter_customers

MEMORY = "quality.checks_memory"
SQLITE = "quality.checks_sqlite"
PUSHDOWN = "quality.pushdown_sqlite"
SEED = 2024
POOL = 5_000
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)
CYCLE_DAYS = 180
FRESH = AS_OF - timedelta(days=30)
STALE = AS_OF - timedelta(days=400)
# Email syntax for the baseline: the shape custrec's fast path accepts without email-validator.
EMAIL = (
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
LEVELS = ("普通会员", "银卡会员", "金卡会员", "钻石会员")
TEMPLATE = Template(
    "bench",
    custom_fields=(
        CustomField("member_level", "choice", choices=LEVELS),
        CustomField("points", "integer", min=0),
    ),
)


def _checks() -> list[Check]:
    return [
        RequiredFields(fields=["name"]),
        PhoneValid(),
        EmailValid(),
        BirthDatePlausible(),
        CustomFieldsValid(fields=["member_level"], name="choice"),
        CustomFieldsValid(fields=["points"], name="non_negative"),
        Staleness(audit_cycle_days=CYCLE_DAYS),
        ExactDuplicates(on=["phone"]),
    ]


def _customers(count: int) -> list[Customer]:
    """``count`` customers with unique ids, phones and emails, and faults at fixed strides."""
    pool = list(iter_customers(min(count, POOL), seed=SEED))
    out: list[Customer] = []
    for index in range(count):
        proto = pool[index % len(pool)]
        e164 = f"+86139{index:08d}"
        phone = Phone(e164, label="手机", primary=True, region="CN", _e164=e164, _valid=True)
        changes: dict[str, Any] = {
            "id": f"Q{index:08d}",
            "phones": (phone,),
            "updated_at": FRESH,
            "reviewed_at": None,
            "emails": (Email(f"user{index}@qq.com"),) if proto.emails else (),
        }
        if index % 97 == 1:
            changes["name"] = None
        if index % 89 == 2:
            changes["phones"] = (Phone("139123", region="CN"),)
        if index % 83 == 3:
            changes["emails"] = (Email(f"user{index}(at)qq.com"),)
        if index % 79 == 4:
            changes["birth_date"] = date(1890, 1, 1)
        custom = dict(proto.custom)
        if index % 73 == 5:
            custom["member_level"] = "白金会员"
        if index % 71 == 6:
            custom["points"] = -5
        changes["custom"] = custom
        if index % 61 == 8:
            changes["updated_at"] = STALE
        if index % 67 == 7 and out:
            changes["phones"] = out[-1].phones[:1]
        out.append(attrs.evolve(proto, **changes))
    if not Phone("+8613900000001", region="CN").valid:
        raise RuntimeError("the made-up phone numbers are not valid ones")
    return out


def _rows(customers: list[Customer]) -> dict[str, list[Any]]:
    """Columns for the DataFrame: one row per customer, primary phone and email."""
    columns: dict[str, list[Any]] = {
        key: []
        for key in (
            "id",
            "name",
            "phone",
            "phone_valid",
            "email",
            "birth_date",
            "member_level",
            "points",
            "last_touched",
        )
    }
    for customer in customers:
        phone, email = customer.primary_phone, customer.primary_email
        last = customer.updated_at
        if customer.reviewed_at is not None and customer.reviewed_at > last:
            last = customer.reviewed_at
        columns["id"].append(customer.id)
        columns["name"].append(customer.name)
        columns["phone"].append(None if phone is None else phone.e164)
        columns["phone_valid"].append(True if phone is None else phone.valid)
        columns["email"].append(None if email is None else email.address)
        columns["birth_date"].append(customer.birth_date)
        columns["member_level"].append(customer.custom.get("member_level"))
        columns["points"].append(customer.custom.get("points"))
        columns["last_touched"].append(last.astimezone(UTC))
    return columns


def _pandera(columns: dict[str, list[Any]]) -> tuple[str, Callable[[], int]] | None:
    try:
        import pandas as pd  # noqa: PLC0415 - an optional baseline
        import pandera.pandas as pa  # noqa: PLC0415
    except ImportError:
        return None
    frame = pd.DataFrame(columns)
    text = pd.StringDtype()
    for key in ("name", "phone", "email", "member_level"):
        frame[key] = frame[key].astype(text)
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    frame["points"] = frame["points"].astype("Int64")
    frame["last_touched"] = pd.to_datetime(frame["last_touched"], utc=True)
    today = pd.Timestamp(AS_OF.date())
    oldest = today - pd.DateOffset(years=121) + pd.Timedelta(days=1)
    cutoff = pd.Timestamp(AS_OF - timedelta(days=CYCLE_DAYS))
    schema = pa.DataFrameSchema(
        {
            "name": pa.Column(text, nullable=False),
            "phone": pa.Column(text, nullable=True, unique=True),
            "phone_valid": pa.Column(bool, pa.Check.eq(True)),
            "email": pa.Column(text, pa.Check.str_matches(EMAIL + r"\Z"), nullable=True),
            "birth_date": pa.Column(
                "datetime64[ns]", [pa.Check.ge(oldest), pa.Check.le(today)], nullable=True
            ),
            "member_level": pa.Column(text, pa.Check.isin(LEVELS), nullable=True),
            "points": pa.Column("Int64", pa.Check.ge(0), nullable=True),
            "last_touched": pa.Column(
                pd.DatetimeTZDtype(tz="UTC"), pa.Check.ge(cutoff), nullable=False
            ),
        }
    )

    def validate() -> int:
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            return len(exc.failure_cases)
        return 0

    return "pandera (pandas) lazy validate, primary contacts, string dtype", validate


def _plain(columns: dict[str, list[Any]]) -> tuple[str, Callable[[], int]]:
    rows = [
        dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)
    ]
    today = AS_OF.date()
    cutoff = AS_OF - timedelta(days=CYCLE_DAYS)
    email = re.compile(EMAIL)

    def validate() -> int:
        failures: list[tuple[str, str]] = []
        seen: set[str] = set()
        for row in rows:
            rid = row["id"]
            if row["name"] is None:
                failures.append((rid, "name"))
            if not row["phone_valid"]:
                failures.append((rid, "phone"))
            if row["email"] is not None and email.fullmatch(row["email"]) is None:
                failures.append((rid, "email"))
            birth = row["birth_date"]
            if birth is not None and not (0 <= today.year - birth.year <= 120):
                failures.append((rid, "birth_date"))
            if row["member_level"] is not None and row["member_level"] not in LEVELS:
                failures.append((rid, "member_level"))
            if row["points"] is not None and row["points"] < 0:
                failures.append((rid, "points"))
            if row["last_touched"] < cutoff:
                failures.append((rid, "last_touched"))
            if row["phone"] is not None:
                if row["phone"] in seen:
                    failures.append((rid, "phone_unique"))
                seen.add(row["phone"])
        return len(failures)

    return "plain Python over row dicts (pandera not installed)", validate


@benchmark(MEMORY, SQLITE, PUSHDOWN)
def checks(ctx: Context) -> Iterator[Result]:
    """The eight checks over N customers, in seconds: in memory, over SQLite, and pandera."""
    count = ctx.size(100_000, full=1_000_000, smoke=500)
    with building_inputs():
        ctx.progress(f"quality: building {count:,} customers with seeded faults")
        customers = _customers(count)
        columns = _rows(customers)
        baseline_name, baseline_step = _pandera(columns) or _plain(columns)
    checks = _checks()
    reports: dict[str, Any] = {}

    def in_memory() -> None:
        reports["memory"] = run_checks(customers, checks=checks, template=TEMPLATE, as_of=AS_OF)

    failures: list[int] = []
    ctx.progress(f"{MEMORY}: custrec run_checks, best of {ctx.repeat}")
    ours = best_of(ctx.repeat, in_memory)
    ctx.progress(f"{MEMORY}: custrec {ours:.2f} s; baseline: {baseline_name}")
    theirs = best_of(ctx.repeat, lambda: failures.append(baseline_step()))
    report = reports["memory"]
    ctx.progress(
        f"{MEMORY}: baseline {theirs:.2f} s; ratio {ours / theirs:.2f}; "
        f"custrec {len(report.findings):,} findings {report.by_check()}; "
        f"baseline {failures[-1]:,} failure cases"
    )
    if ctx.wants(MEMORY):
        yield Result(MEMORY, ours, "s", baseline_name, theirs)
    if ctx.wants(SQLITE) or ctx.wants(PUSHDOWN):
        path = ctx.workdir / "quality.db"
        with building_inputs():
            ctx.progress(f"{SQLITE}: adding {len(customers):,} customers to {path.name}")
            store = open_store(f"sqlite:///{path}")
            store.customers.add_many(customers, batch_size=5_000)
        with contextlib.closing(store):
            if ctx.wants(SQLITE):
                seconds = _sqlite(ctx, store, checks, report)
                yield Result(SQLITE, seconds, "s", baseline_name, theirs)
            if ctx.wants(PUSHDOWN):
                yield _pushdown(ctx, store)


def _key(finding: Any) -> tuple[str, ...]:
    return tuple(str(value) for value in finding.to_dict().values())


def _sqlite(ctx: Context, store: Any, checks: list[Check], memory: Any) -> float:
    reports: list[Any] = []

    def over_store() -> None:
        reports[:] = [run_checks(store, checks=checks, template=TEMPLATE, as_of=AS_OF)]

    # Once: reading records back dominates and takes long at the larger sizes.
    ctx.progress(f"{SQLITE}: custrec run_checks over the store, once")
    seconds = best_of(1, over_store)
    same = sorted(map(_key, reports[0].findings)) == sorted(map(_key, memory.findings))
    ctx.progress(f"{SQLITE}: custrec {seconds:.2f} s; same findings as in memory: {same}")
    if not same:
        raise RuntimeError("the store run found other findings than the run in memory")
    return seconds


def _pushdown(ctx: Context, store: Any) -> Result:
    checks: list[Check] = [
        RequiredFields(fields=["name"]),
        Staleness(audit_cycle_days=CYCLE_DAYS),
        ExactDuplicates(on=["phone"]),
    ]
    reports: dict[bool, Any] = {}

    def run(pushdown: bool) -> None:
        reports[pushdown] = run_checks(
            store, checks=checks, template=TEMPLATE, as_of=AS_OF, pushdown=pushdown
        )

    ctx.progress(f"{PUSHDOWN}: required, staleness, unique phone; pushed down, once")
    ours = best_of(1, lambda: run(True))
    ctx.progress(f"{PUSHDOWN}: pushed down {ours:.2f} s; every customer read, once")
    theirs = best_of(1, lambda: run(False))
    same = reports[True].findings == reports[False].findings
    ctx.progress(
        f"{PUSHDOWN}: every customer read {theirs:.2f} s; ratio {ours / theirs:.2f}; "
        f"{len(reports[True].findings):,} findings; the same both ways: {same}"
    )
    if not same:
        raise RuntimeError("the pushed-down run found other findings than the Python path")
    return Result(PUSHDOWN, ours, "s", "the same checks, pushdown=False", theirs)
