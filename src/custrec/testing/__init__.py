"""The public test kit for people who extend custrec.

Import what you need from its submodules; nothing is imported here, so that importing
:mod:`custrec.testing` costs nothing and needs no test-only dependency:

- :mod:`custrec.testing.strategies`: Hypothesis strategies that build valid values and
  records of every custrec type, for property tests of your own code (needs
  ``hypothesis``, installed with ``custrec[testing]``).
- :mod:`custrec.testing.store_suite`: the conformance suite every store backend passes;
  subclass :class:`~custrec.testing.store_suite.StoreSuite` and supply a ``store`` fixture
  (needs ``pytest`` and ``hypothesis``).
- :mod:`custrec.testing.privacy_suite`: conformance tests for the store primitives
  :mod:`custrec.privacy` needs to erase (``_scrub_audit``, ``_purge``); subclass
  :class:`~custrec.testing.privacy_suite.PrivacySuite` with the same ``store`` fixture.
- :mod:`custrec.testing.synthetic`: a seeded generator of realistic customers and history,
  fast enough for millions of records, for benchmarks and for measuring your own rules.
- :mod:`custrec.testing.duplicates`: the same customers with planted duplicates (typos,
  homophones, pinyin, nicknames, new phones…) and the truth about them, for measuring
  duplicate detection on your kind of data.

>>> from custrec.testing import strategies
>>> strategies.customers()  # doctest: +SKIP
"""

__all__: list[str] = []
