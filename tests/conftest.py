"""Shared test set-up: Hypothesis profiles.

Choose one with the ``HYPOTHESIS_PROFILE`` environment variable:

- ``ci`` (default): 100 examples per property, no deadline, failures print a reproduction blob;
- ``dev``: 30 examples, for quick local runs;
- ``thorough``: 1000 examples, before a release or after touching the model.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=100, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
