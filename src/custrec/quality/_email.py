"""Email syntax, as email-validator judges it, with a fast path for ordinary addresses."""

from __future__ import annotations

import functools
import re

import email_validator

__all__ = [
    "LOCAL_AT",
    "MAX_ADDRESS",
    "MAX_LOCAL_AT",
    "ORDINARY_DOMAINS",
    "email_problem",
    "ordinary_domain",
    "ordinary_email",
]

# Ordinary ASCII addresses: a dot-atom local part and a domain of LDH labels under an
# alphabetic top-level domain. Every address these match, email-validator accepts too
# (a property test holds the two together), so most addresses never reach the slow path.
_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
LOCAL_AT = re.compile(r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@")
"""An ordinary local part (dots only between other characters) and its ``@``: ``match``."""
MAX_ADDRESS, MAX_LOCAL_AT = 254, 65
"""The longest address, and local part with its ``@``, the fast path accepts."""
_SPECIAL = frozenset(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_MAX_DOMAINS = 65_536


class _OrdinaryDomains(dict[str, bool]):
    """Domain to whether it is ordinary, judged on first look-up (a plain ``[]``)."""

    def __missing__(self, domain: str) -> bool:
        if len(self) >= _MAX_DOMAINS:
            self.clear()
        known = self[domain] = ordinary_domain(domain)
        return known


# Customers share few domains (qq.com, 163.com…): each is judged once.
ORDINARY_DOMAINS: dict[str, bool] = _OrdinaryDomains()
"""Whether a domain is ordinary (:func:`ordinary_domain`), cached: ``ORDINARY_DOMAINS[d]``."""


def ordinary_domain(domain: str) -> bool:
    """Whether ``domain`` is an ordinary one (LDH labels, no special-use top level)."""
    return (
        4 <= len(domain) <= 253
        and _DOMAIN.fullmatch(domain) is not None
        # "--" may make a label punycode (xn--) or break IDNA's hyphen rule.
        and "--" not in domain
        and domain.rpartition(".")[2].lower() not in _SPECIAL
    )


def ordinary_email(address: str) -> bool:
    """Whether ``address`` is an ordinary ASCII address, valid without asking email-validator.

    ``False`` says nothing: :func:`email_problem` then decides.
    """
    found = LOCAL_AT.match(address)
    if found is None:
        return False
    end = found.end()
    return end <= MAX_LOCAL_AT and len(address) <= MAX_ADDRESS and ORDINARY_DOMAINS[address[end:]]


def email_problem(address: str) -> str | None:
    """Return why ``address`` is not a valid email address, or ``None`` when it is.

    Syntax only: no DNS lookup is made (``check_deliverability=False``). Special-use
    domains (``.test``, ``.local``, ``localhost``…) are refused, as email-validator does.
    """
    if ordinary_email(address):
        return None
    return _slow_problem(address)


@functools.lru_cache(maxsize=4096)
def _slow_problem(address: str) -> str | None:
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        return str(exc)
    return None
