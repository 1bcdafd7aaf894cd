"""Registries of user facts and dimension kinds (classifiers), with entry-point discovery.

Register in Python with the decorators, or ship a package that declares entry points::

    [project.entry-points."custrec.facts"]
    loyalty_score = "my_pkg.facts:loyalty_score"        # a function decorated with @fact

    [project.entry-points."custrec.classifiers"]
    churn_model = "my_pkg.dimensions:ChurnDimension"    # a factory: (spec, template) -> dimension

Entry points are imported the first time the registry is read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from custrec.classify._facts import FACT_KINDS, FactKind, Facts
from custrec.errors import ValidationError

if TYPE_CHECKING:
    from custrec.classify._dimension import Dimension
    from custrec.template import DimensionSpec, Template

__all__ = [
    "CLASSIFIER_GROUP",
    "FACT_GROUP",
    "ClassifierFactory",
    "FactDef",
    "classifier",
    "classifiers",
    "fact",
    "register_classifier",
    "register_fact",
    "user_facts",
]

FACT_GROUP = "custrec.facts"
"""Entry-point group for third-party facts."""

CLASSIFIER_GROUP = "custrec.classifiers"
"""Entry-point group for third-party dimension kinds."""

ClassifierFactory = Callable[["DimensionSpec", "Template | None"], "Dimension"]
"""Builds a dimension from its template spec (and the template, for shared settings)."""

F = TypeVar("F", bound=Callable[[Facts], Any])


@attrs.frozen
class FactDef:
    """A fact a user added.

    Attributes:
        name: The name rules use.
        function: Computes the value from a customer's built-in facts (and record).
        kind: What the value is (number, datetime or text).
        description: What it means.
    """

    name: str
    function: Callable[[Facts], Any]
    kind: FactKind = FactKind.NUMBER
    description: str | None = None


_lock = threading.Lock()
_facts: dict[str, FactDef] = {}
_classifiers: dict[str, ClassifierFactory] = {}
_loaded_groups: set[str] = set()


def register_fact(
    name: str,
    function: Callable[[Facts], Any],
    *,
    kind: FactKind | str = FactKind.NUMBER,
    description: str | None = None,
) -> FactDef:
    """Add a fact computed by ``function`` from a customer's built-in facts.

    Raises:
        ValidationError: The name is taken by a built-in fact or is not an identifier.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValidationError("name", name, "a fact's name is an identifier not starting with _")
    if name in FACT_KINDS:
        raise ValidationError("name", name, "a built-in fact has this name")
    definition = FactDef(name, function, FactKind(kind), description or function.__doc__)
    with _lock:
        _facts[name] = definition
    return definition


def fact(name: str | None = None, *, kind: FactKind | str = FactKind.NUMBER) -> Callable[[F], F]:
    """Register the decorated function as a fact (named after it unless ``name`` is given).

    >>> @fact(kind="number")
    ... def big_spender_score(facts):
    ...     return facts["total_spend"] / 1000
    """

    def decorate(function: F) -> F:
        register_fact(name or function.__name__, function, kind=kind)
        return function

    return decorate


def _load_group(group: str) -> None:
    with _lock:
        if group in _loaded_groups:
            return
        _loaded_groups.add(group)
    for point in entry_points(group=group):
        try:
            loaded = point.load()
        except (ImportError, AttributeError) as exc:
            raise ValidationError(group, point.value, f"cannot import entry point: {exc}") from exc
        if group == FACT_GROUP:
            if isinstance(loaded, FactDef):
                with _lock:
                    _facts.setdefault(point.name, loaded)
            elif point.name not in _facts:
                register_fact(point.name, loaded, kind=getattr(loaded, "kind", FactKind.NUMBER))
        else:
            with _lock:
                _classifiers.setdefault(point.name, loaded)


def user_facts() -> Mapping[str, FactDef]:
    """Return the registered user facts (entry points included), read-only, in order."""
    _load_group(FACT_GROUP)
    with _lock:
        return MappingProxyType(dict(_facts))


def register_classifier(name: str, factory: ClassifierFactory) -> None:
    """Make ``classifier = "<name>"`` in a template build dimensions with ``factory``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValidationError("name", name, "a classifier's name is an identifier")
    with _lock:
        _classifiers[name] = factory


def classifier(name: str) -> Callable[[Any], Any]:
    """Register the decorated factory (often a class) as the classifier ``name``."""

    def decorate(factory: Any) -> Any:
        register_classifier(name, factory)
        return factory

    return decorate


def classifiers() -> Mapping[str, ClassifierFactory]:
    """Return the registered classifiers (built-ins and entry points), read-only."""
    from custrec.classify import _builtin  # noqa: F401, PLC0415 - registers the built-ins

    _load_group(CLASSIFIER_GROUP)
    with _lock:
        return MappingProxyType(dict(_classifiers))
