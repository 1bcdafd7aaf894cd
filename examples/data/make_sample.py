"""Regenerate ``sample.jsonl``: 1,000 synthetic customers with their history.

Run from anywhere::

    python examples/data/make_sample.py            # rewrites examples/data/sample.jsonl
    python examples/data/make_sample.py -o out.jsonl

The data comes from :mod:`custrec.testing.synthetic` with a fixed seed and start date, so
every run writes the same bytes; the test suite checks that the shipped file is exactly what
this script makes.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from custrec.testing import synthetic

SEED = 20241005
N_CUSTOMERS = 1_000
START = date(2023, 1, 1)
# Less history than the defaults, to keep the file a few MB.
PROFILE = synthetic.Profile(transactions_per_customer=2.5, interactions_per_customer=1.5)
DEFAULT_OUTPUT = Path(__file__).with_name("sample.jsonl")


def build() -> synthetic.Dataset:
    """Return the sample dataset."""
    return synthetic.generate(N_CUSTOMERS, seed=SEED, start=START, profile=PROFILE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="file to write")
    args = parser.parse_args(argv)
    dataset = build()
    lines = synthetic.write_jsonl(dataset, args.output)
    print(
        f"{args.output}: {lines} records ({len(dataset.customers)} customers, "
        f"{len(dataset.interactions)} interactions, {len(dataset.transactions)} transactions, "
        f"{len(dataset.feedback)} feedback), {args.output.stat().st_size:,} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
