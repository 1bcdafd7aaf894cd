"""Email syntax, as email-validator judges it, with a fast path for ordinary addresses."""

from __future__ import annotations

import functools
import re

import email_validator

__all__ = ["email_problem"]

# Ordinary ASCII addresses: a dot-atom local part and a domain of LDH labels under an
# alphabetic top-level domain. Every address these match, email-validator accepts too
# (a property test holds the two together), so most addresses never reach the slow path.
_LOCAL = re.compile(r"[A-Za-z0-9_.%+-]{1,64}")  # and dots only between other characters
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
_SPECIAL = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)
# Customers share few domains (qq.com, 163.com…): each is judged once.
_domains: dict[str, bool] = {}
_MAX_DOMAINS = 65_536


def _ordinary_domain(domain: str) -> bool:
    known = _domains.get(domain)
    if known is None:
        known = (
            4 <= len(domain) <= 253
            and _DOMAIN.fullmatch(domain) is not None
            # "--" may make a label punycode (xn--) or break IDNA's hyphen rule.
            and "--" not in domain
            and domain.rpartition(".")[2].lower() not in _SPECIAL
        )
        if len(_domains) >= _MAX_DOMAINS:
            _domains.clear()
        _domains[domain] = known
    return known


def email_problem(address: str) -> str | None:
    """Return why ``address`` is not a valid email address, or ``None`` when it is.

    Syntax only: no DNS lookup is made (``check_deliverability=False``). Special-use
    domains (``.test``, ``.local``, ``localhost``…) are refused, as email-validator does.
    """
    local, at, domain = address.rpartition("@")
    if (
        at
        and len(address) <= 254
        and _LOCAL.fullmatch(local) is not None
        and local[0] != "."
        and local[-1] != "."
        and ".." not in local
        and _ordinary_domain(domain)
    ):
        return None
    return _slow_problem(address)


@functools.lru_cache(maxsize=4096)
def _slow_problem(address: str) -> str | None:
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return str(exc)
    return None
