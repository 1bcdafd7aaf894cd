"""custrec's benchmarks: ``python -m benchmarks`` from the repository root.

Each benchmark measures custrec against a baseline doing the same work with the standard
library in the same run, and reports ``ratio = custrec's time / the baseline's time`` (lower
is better). See :mod:`benchmarks._runner` for the options and for how to add one.
"""
