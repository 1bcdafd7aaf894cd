"""Email syntax, as email-validator judges it, with a fast path for ordinary addresses."""

from __future__ import annotations

import functools
import re

import email_validator

__all__ = ["email_problem"]

# Ordinary ASCII addresses: a dot-atom local part and a domain of LDH labels under an
# alphabetic top-level domain. Every address this matches, email-validator accepts too
# (a property test holds the two together), so most addresses never reach the slow path.
_ORDINARY = re.compile(
    r"(?=[^@]{1,64}@)[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?=.{4,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_SPECIAL = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)


def email_problem(address: str) -> str | None:
    """Return why ``address`` is not a valid email address, or ``None`` when it is.

    Syntax only: no DNS lookup is made (``check_deliverability=False``). Special-use
    domains (``.test``, ``.local``, ``localhost``…) are refused, as email-validator does.
    """
    if _ORDINARY.fullmatch(address) is not None:
        domain = address.rpartition("@")[2]
        # "--" may make a label punycode (xn--) or break IDNA's hyphen rule: the slow path.
        if domain.rpartition(".")[2].lower() not in _SPECIAL and "--" not in domain:
            return None
    return _slow_problem(address)


@functools.lru_cache(maxsize=4096)
def _slow_problem(address: str) -> str | None:
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return str(exc)
    return None
