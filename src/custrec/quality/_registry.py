"""The check registry: built-in checks by name, third-party ones from entry points.

A template configures checks by name under ``[checks.<name>]``; the keys are the check's
options (``severity``, thresholds…), ``enabled = false`` turns one off, and a table with a
``when`` key under a new name adds an :class:`ExpressionCheck`::

    [checks.staleness]
    audit_cycle_days = 180

    [checks.vip_needs_email]
    when = "custom.member_level == '钻石' and owner is null"
    message = "a diamond member needs an owner"
    field = "owner"

Third-party packages declare checks as entry points; each names a factory (often the
check class) called with the template's options as keywords::

    [project.entry-points."custrec.checks"]
    vat_number = "my_pkg.checks:VatNumberValid"
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any

from custrec.errors import ValidationError
from custrec.model import Customer, Feedback, Interaction, Transaction
from custrec.quality._check import Check
from custrec.quality._consistency import (
    AfterSalesAfterSale,
    AgeMatchesBirthDate,
    CurrencyConsistent,
    RefundWithinPaid,
    TotalMatchesItems,
)
from custrec.quality._exact import ExactDuplicates
from custrec.quality._integrity import MarketingConsent, UnknownCustomer
from custrec.quality._outliers import Outliers
from custrec.quality._staleness import Staleness
from custrec.quality._user import ExpressionCheck
from custrec.quality._validity import (
    BirthDatePlausible,
    CustomFieldsValid,
    EmailValid,
    NoFutureDates,
    PhoneValid,
    PostalCodeValid,
    RequiredFields,
)
from custrec.serialize import record_type_name
from custrec.template import Template

__all__ = [
    "CHECK_GROUP",
    "CheckFactory",
    "build_checks",
    "check_factories",
    "register_check",
]

CHECK_GROUP = "custrec.checks"
"""Entry-point group for third-party checks."""

CheckFactory = Callable[..., Check | Iterable[Check]]
"""Builds a check (or several) from a template's options, given as keywords."""

_HISTORY_TYPES = (Interaction, Transaction, Feedback)


def _future_dates(**options: Any) -> list[Check]:
    kinds = (Customer, *_HISTORY_TYPES)
    return [NoFutureDates(record_type=kind, **options) for kind in kinds]


def _unknown_customer(**options: Any) -> list[Check]:
    return [UnknownCustomer(record_type=kind, **options) for kind in _HISTORY_TYPES]


_BUILTIN: dict[str, CheckFactory] = {
    "required": RequiredFields,
    "phone": PhoneValid,
    "email": EmailValid,
    "postal_code": PostalCodeValid,
    "future_dates": _future_dates,
    "birth_date": BirthDatePlausible,
    "custom_fields": CustomFieldsValid,
    "total_matches_items": TotalMatchesItems,
    "refund_within_paid": RefundWithinPaid,
    "after_sales_order": AfterSalesAfterSale,
    "age_matches_birth_date": AgeMatchesBirthDate,
    "currency": CurrencyConsistent,
    "staleness": Staleness,
    "unknown_customer": _unknown_customer,
    "outliers": Outliers,
    "consent": MarketingConsent,
    "exact_duplicates": ExactDuplicates,
}

_OPTIONS_OF: dict[str, Callable[..., Any]] = {
    "future_dates": NoFutureDates,
    "unknown_customer": UnknownCustomer,
}

_lock = threading.Lock()
_registered: dict[str, CheckFactory] = {}
_loaded = False


def register_check(name: str, factory: CheckFactory) -> None:
    """Make ``name`` a check templates can configure, built by ``factory(**options)``.

    Registered checks run by default, like the built-ins; ``enabled = false`` in a
    template turns one off.

    Args:
        name: The name templates use (``[checks.<name>]``).
        factory: Called with the template's options as keywords; returns a check or
            several.

    Raises:
        ValidationError: The name is not an identifier or is a built-in check's.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValidationError("name", name, "a check's name is an identifier")
    if name in _BUILTIN:
        raise ValidationError("name", name, "a built-in check has this name")
    with _lock:
        _registered[name] = factory


def _load_entry_points() -> None:
    global _loaded  # noqa: PLW0603 - entry points are read once per process
    with _lock:
        if _loaded:
            return
        _loaded = True
    for point in entry_points(group=CHECK_GROUP):
        try:
            factory = point.load()
        except (ImportError, AttributeError) as exc:
            raise ValidationError(
                CHECK_GROUP, point.value, f"cannot import entry point: {exc}"
            ) from exc
        with _lock:
            _registered.setdefault(point.name, factory)


def check_factories() -> Mapping[str, CheckFactory]:
    """Every check a template can name, built-ins first, read-only."""
    _load_entry_points()
    with _lock:
        return MappingProxyType({**_BUILTIN, **_registered})


def _known_options(name: str, factory: CheckFactory) -> frozenset[str] | None:
    target = _OPTIONS_OF.get(name, factory)
    try:
        parameters = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters) - {"record_type", "name"}


def _build(name: str, factory: CheckFactory, options: Mapping[str, Any]) -> list[Check]:
    known = _known_options(name, factory)
    if known is not None:
        for key in options:
            if key not in known:
                raise ValidationError(
                    f"checks.{name}.{key}", options[key], f"not an option; use {sorted(known)}"
                )
    try:
        built = factory(**options)
    except ValidationError as exc:
        raise ValidationError(f"checks.{name}.{exc.field}", exc.value, exc.reason) from None
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"checks.{name}", dict(options), str(exc)) from None
    return [built] if isinstance(built, Check) else list(built)


def _expression(name: str, options: Mapping[str, Any]) -> Check:
    settings = dict(options)
    kind = settings.pop("record_type", "customer")
    types = {record_type_name(t): t for t in (Customer, *_HISTORY_TYPES)}
    if kind not in types:
        raise ValidationError(f"checks.{name}.record_type", kind, f"use one of {sorted(types)}")
    allowed = {"when", "message", "field", "severity", "fix"}
    for key, value in settings.items():
        if key not in allowed:
            raise ValidationError(f"checks.{name}.{key}", value, "not an option")
    if "message" not in settings:
        raise ValidationError(f"checks.{name}.message", None, "an expression check needs one")
    try:
        return ExpressionCheck(name, record_type=types[kind], **settings)
    except ValidationError as exc:
        raise ValidationError(f"checks.{name}.{exc.field}", exc.value, exc.reason) from None


def build_checks(template: Template, *, only: Iterable[str] | None = None) -> list[Check]:
    """Build the checks a template asks for: every known check, configured by the template.

    Args:
        template: Its ``checks`` table configures the checks (see the module docstring).
        only: Build only these check names (expression checks included).

    Returns:
        The checks, built-ins in a fixed order, then registered, then expression checks.

    Raises:
        ValidationError: A table names an unknown check or option, or a bad value; the
            field is its path (``checks.staleness.audit_cycle_days``).
    """
    factories = check_factories()
    wanted = None if only is None else set(only)
    configured = dict(template.checks)
    for name, options in configured.items():
        if not isinstance(options, Mapping):
            raise ValidationError(f"checks.{name}", options, "a check's settings are a table")
        if name not in factories and "when" not in options:
            raise ValidationError(
                f"checks.{name}", name, f"no such check; checks: {', '.join(factories)}"
            )
    checks: list[Check] = []
    for name, factory in factories.items():
        options = dict(configured.get(name, {}))
        if not options.pop("enabled", True) or (wanted is not None and name not in wanted):
            continue
        checks.extend(_build(name, factory, options))
    for name, options in configured.items():
        if name in factories or (wanted is not None and name not in wanted):
            continue
        settings = dict(options)
        if settings.pop("enabled", True):
            checks.append(_expression(name, settings))
    return checks
