"""``python -m benchmarks [--full] [--smoke] [--only NAME ...] [--json FILE] [--repeat N]``."""

from benchmarks._runner import main

raise SystemExit(main())
