"""Finding a backend for a store URL: built-ins, entry points, and runtime registrations.

Backends are named by dotted paths (``"package.module:Class.from_url"``) and imported on first
use, so installing a backend costs nothing until a program opens a store with its scheme.
Third-party packages register under the entry-point group ``custrec.stores``::

    [project.entry-points."custrec.stores"]
    redis = "custrec_redis:RedisStore.from_url"
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from custrec.errors import BackendNotFoundError, ValidationError
from custrec.store._base import Store

__all__ = ["ENTRY_POINT_GROUP", "backends", "open_store", "register_backend"]

ENTRY_POINT_GROUP = "custrec.stores"
"""The entry-point group third-party store backends register under."""

_BUILTIN = {
    "memory": "custrec.store._memory:MemoryStore.from_url",
    "postgres": "custrec.store._postgres:PostgresStore.from_url",
    "postgresql": "custrec.store._postgres:PostgresStore.from_url",
    "sqlite": "custrec.store._sqlite:SQLiteStore.from_url",
}
_registered: dict[str, str | Callable[..., Store]] = {}
_loaded: dict[str, Callable[..., Store]] = {}
# Re-entrant: importing a backend module may register another backend.
_lock = threading.RLock()
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")  # RFC 3986; URLs compare it case-insensitively


def register_backend(scheme: str, target: str | Callable[..., Store]) -> None:
    """Make ``scheme`` open stores through ``target``, in this process.

    Args:
        scheme: The URL scheme (``"redis"``, ``"postgresql+psycopg"``), any case.
        target: A callable ``(url, **options) -> Store``, or its dotted path
            (``"package.module:Class.from_url"``), imported on first use.
    """
    if not isinstance(scheme, str) or not _SCHEME.fullmatch(scheme):
        raise ValidationError("scheme", scheme, "a scheme is a name such as 'sqlite'")
    scheme = scheme.lower()
    with _lock:
        _registered[scheme] = target
        _loaded.pop(scheme, None)


def _entry_point_targets() -> dict[str, str]:
    return {ep.name.lower(): ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def backends() -> Mapping[str, str]:
    """Return every known scheme with the dotted path (or repr) of what opens it, read-only."""
    known: dict[str, str] = {**_BUILTIN, **_entry_point_targets()}
    for scheme, target in _registered.items():
        known[scheme] = target if isinstance(target, str) else repr(target)
    return MappingProxyType(dict(sorted(known.items())))


def _import(scheme: str, path: str) -> Callable[..., Store]:
    module_name, _, attribute = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else ():
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise BackendNotFoundError(
            scheme, list(backends()), f"{path} could not be imported: {exc}"
        ) from exc
    if not callable(found):
        raise BackendNotFoundError(scheme, list(backends()), f"{path} is not callable")
    opener: Callable[..., Store] = found
    return opener


def _opener(scheme: str) -> Callable[..., Store]:
    with _lock:
        if scheme in _loaded:
            return _loaded[scheme]
        target: str | Callable[..., Store] | None = _registered.get(scheme)
        if target is None:
            target = _entry_point_targets().get(scheme) or _BUILTIN.get(scheme)
        if target is None:
            raise BackendNotFoundError(scheme, list(backends()))
        opener = _import(scheme, target) if isinstance(target, str) else target
        _loaded[scheme] = opener
        return opener


def open_store(url: str = "sqlite:///custrec.db", **options: Any) -> Store:
    """Open the store a URL names.

    Args:
        url: ``memory://``, ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
            or a scheme an installed backend registers.
        **options: Passed to the backend (``actor="alice"`` for every backend).

    Returns:
        The open store; use it as a context manager to close it.

    Raises:
        BackendNotFoundError: No installed backend handles the URL's scheme; the error
            lists the schemes that are installed.
        StoreError: The backend could not open the store.
    """
    if not isinstance(url, str) or "://" not in url:
        raise ValidationError("url", url, "a store URL looks like 'sqlite:///customers.db'")
    scheme = urlsplit(url).scheme.lower()
    if not scheme:
        raise ValidationError("url", url, "the URL's scheme is not a valid scheme name")
    return _opener(scheme)(url, **options)
