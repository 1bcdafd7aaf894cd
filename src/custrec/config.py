"""Library-wide settings: default phone region, default time zone, day/month order.

Settings are read where input is interpreted (a phone number without a country code, a
datetime without an offset, a date like ``05/10/2024``). They live in a context variable, so
threads and asyncio tasks can each use their own:

>>> from custrec import config
>>> with config.using(timezone="Asia/Shanghai", day_first=True):
...     config.get().timezone
'Asia/Shanghai'

:func:`configure` changes the process-wide default.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import phonenumbers

from custrec.errors import ValidationError

__all__ = ["Settings", "configure", "get", "using"]


def _check_region(instance: Settings, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            attribute.name, value, "not a region phonenumbers knows (ISO 3166 alpha-2, e.g. 'CN')"
        )


def _check_timezone(instance: Settings, attribute: attrs.Attribute[str], value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError(attribute.name, value, "not an IANA time zone name") from exc


@attrs.frozen
class Settings:
    """How custrec reads input that leaves something unsaid.

    Attributes:
        phone_region: Region assumed for phone numbers written without a country code
            (ISO 3166 alpha-2). Defaults to ``"CN"``.
        timezone: IANA zone in which naive datetimes are read. Defaults to ``"UTC"``, so a
            program's results never depend on the machine it runs on.
        day_first: How to read dates whose day and month could be swapped, such as
            ``05/10/2024``: ``True`` for day first, ``False`` for month first. ``None`` (the
            default) refuses such input instead of guessing. Dotted dates (``05.10.2024``)
            are day first by their universal convention unless this is ``False``.
    """

    phone_region: str = attrs.field(default="CN", validator=_check_region)
    timezone: str = attrs.field(default="UTC", validator=_check_timezone)
    day_first: bool | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The :class:`~zoneinfo.ZoneInfo` for :attr:`timezone`."""
        return ZoneInfo(self.timezone)


_default = Settings()
_current: contextvars.ContextVar[Settings | None] = contextvars.ContextVar(
    "custrec_settings", default=None
)


def get() -> Settings:
    """Return the settings in force in the current context."""
    return _current.get() or _default


def configure(**changes: Any) -> Settings:
    """Change the process-wide default settings.

    Args:
        **changes: Fields of :class:`Settings` to change.

    Returns:
        The new default settings.

    Raises:
        ValidationError: A value is not acceptable (unknown region or zone).
        TypeError: A name is not a field of :class:`Settings`.
    """
    global _default  # noqa: PLW0603 - the process-wide default is the point of this function
    _default = attrs.evolve(_default, **changes)
    return _default


@contextlib.contextmanager
def using(**changes: Any) -> Iterator[Settings]:
    """Use changed settings inside a ``with`` block, in this context only.

    Args:
        **changes: Fields of :class:`Settings` to change.

    Yields:
        The settings in force inside the block.
    """
    settings = attrs.evolve(get(), **changes)
    token = _current.set(settings)
    try:
        yield settings
    finally:
        _current.reset(token)
