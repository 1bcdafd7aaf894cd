"""The one converter between records and JSON-ready dicts.

Every record becomes a plain ``dict`` of JSON types and back: Decimals as strings, datetimes
as ISO 8601 with their offset, dates as ISO dates, enumerations (and their ``Other`` free
text) as strings, tags as a sorted list. Record documents carry ``"type"`` and
``"schema_version"`` so a store or a file always knows what it holds and which layout it was
written in.

A malformed document raises :class:`~custrec.errors.ValidationError` whose ``field`` is the
path to the bad value (``items[2].unit_price.amount``); cattrs' own exceptions never escape.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, overload

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import ForbiddenExtraKeysError

from custrec._fastcodec import Codec, is_frozenmap, is_frozenset, is_list_of, open_enum_of
from custrec.errors import ValidationError
from custrec.model import (
    Customer,
    Feedback,
    FrozenMap,
    Interaction,
    Record,
    Transaction,
    open_choice,
)

__all__ = [
    "RECORD_TYPES",
    "SCHEMA_VERSION",
    "converter",
    "from_dict",
    "from_json",
    "make_converter",
    "record_type_name",
    "structure",
    "to_dict",
    "to_json",
]

SCHEMA_VERSION = 1
"""The layout of record documents written by this version of custrec."""

RECORD_TYPES: Mapping[str, type[Record]] = types.MappingProxyType(
    {
        "customer": Customer,
        "interaction": Interaction,
        "transaction": Transaction,
        "feedback": Feedback,
    }
)
"""Record type names, as they appear in documents' ``"type"``, to their classes."""

_TYPE_NAMES = {cls: name for name, cls in RECORD_TYPES.items()}
_REQUIRED_KEYS: Mapping[type[Any], tuple[str, ...]] = {
    Customer: ("id", "version", "created_at", "updated_at"),
    Interaction: ("id", "version"),
    Transaction: ("id", "version"),
    Feedback: ("id", "version"),
}

# Upgrades of older documents, keyed by the version they upgrade from. Each takes a document
# of that version and returns one of the next version.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

T = TypeVar("T")


def record_type_name(record_or_class: object) -> str:
    """Return the document type name of a record or record class (``"customer"``…)."""
    cls = record_or_class if isinstance(record_or_class, type) else type(record_or_class)
    name = _TYPE_NAMES.get(cls)
    if name is None:
        raise ValidationError("type", cls.__name__, "not a custrec record type")
    return name


def _strict(kind: type[T], *also: type) -> Callable[[Any, Any], T]:
    """Structure hook that accepts only ``kind`` (or ``also``), never coerces, refuses bools."""
    accepted = (kind, *also)

    def structure(value: Any, _: Any) -> T:
        if isinstance(value, bool) and kind is not bool:
            raise ValidationError("", value, f"expected {kind.__name__}, got a bool")
        if not isinstance(value, accepted):
            raise ValidationError(
                "", value, f"expected {kind.__name__}, got {type(value).__name__}"
            )
        return kind(value)  # type: ignore[call-arg]

    return structure


def _structure_decimal(value: Any, _: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValidationError("", value, "expected a decimal number written as text")
    try:
        result = Decimal(value)
    except ArithmeticError:
        raise ValidationError("", value, "not a decimal number") from None
    if not result.is_finite():
        raise ValidationError("", value, "must be a finite number")
    return result


def _structure_datetime(value: Any, _: Any) -> datetime:
    if not isinstance(value, str):
        raise ValidationError("", value, "expected an ISO 8601 datetime text")
    try:
        result = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("", value, "not an ISO 8601 datetime") from None
    if result.tzinfo is None:
        raise ValidationError("", value, "a stored datetime must carry its UTC offset")
    return result


def _structure_date(value: Any, _: Any) -> date:
    if not isinstance(value, str):
        raise ValidationError("", value, "expected an ISO 8601 date text")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError("", value, "not an ISO 8601 date (YYYY-MM-DD)") from None


def _structure_open_choice(value: Any, tp: Any) -> Any:
    if value is None and type(None) in typing.get_args(tp):
        return None
    kind = open_enum_of(tp)
    assert kind is not None  # noqa: S101 - the hook's predicate guarantees it
    if not isinstance(value, str):
        raise ValidationError("", value, f"expected a {kind.__name__} as text")
    return open_choice(kind, value)


def _unstructure_open_choice(value: Any) -> Any:
    return None if value is None else str(value)


def _structure_frozenmap(value: Any, _: Any) -> Any:
    # The record's own converter checks keys and values; here only the shape matters.
    if not isinstance(value, Mapping):
        raise ValidationError("", value, "expected an object")
    return value


def _unstructure_frozenmap(value: FrozenMap[str, Any]) -> dict[str, Any]:
    return {key: list(item) if isinstance(item, tuple) else item for key, item in value.items()}


def _structure_text_set(value: Any, _: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise ValidationError("", value, "expected a list of texts")
    return value


def _objects_only(hook: Callable[[Any, Any], T]) -> Callable[[Any, Any], T]:
    """Wrap ``hook`` so that anything but an object is refused before it is structured."""

    def structure(value: Any, tp: Any) -> T:
        if not isinstance(value, Mapping):
            raise ValidationError("", value, f"expected an object, got {type(value).__name__}")
        return hook(value, tp)

    return structure


def _lists_only(hook: Callable[[Any, Any], T]) -> Callable[[Any, Any], T]:
    """Wrap ``hook`` so that anything but a list is refused before it is structured."""

    def structure(value: Any, tp: Any) -> T:
        if not isinstance(value, list | tuple):
            raise ValidationError("", value, f"expected a list, got {type(value).__name__}")
        return hook(value, tp)

    return structure


def make_converter() -> cattrs.Converter:
    """Build the converter custrec uses for every document.

    It is strict: a text where a number belongs, a number where a text belongs, a key the
    record does not have, are all errors rather than silent coercions.
    """
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(str, _strict(str))
    conv.register_structure_hook(int, _strict(int))
    conv.register_structure_hook(bool, _strict(bool))
    conv.register_structure_hook(float, _strict(float, int))
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(datetime, datetime.isoformat)
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook_func(
        lambda tp: open_enum_of(tp) is not None, _structure_open_choice
    )
    conv.register_unstructure_hook_func(
        lambda tp: open_enum_of(tp) is not None, _unstructure_open_choice
    )
    conv.register_structure_hook_func(is_frozenmap, _structure_frozenmap)
    conv.register_unstructure_hook_func(is_frozenmap, _unstructure_frozenmap)
    conv.register_structure_hook_func(is_frozenset, _structure_text_set)
    conv.register_unstructure_hook_func(is_frozenset, sorted)
    # cattrs would iterate text or an object as a list, and index into any value as an
    # object; both fail later with obscure messages at the wrong path.
    conv.register_structure_hook_factory(
        is_list_of, lambda tp: _lists_only(homogenous_tuple_structure_factory(tp, conv))
    )
    conv.register_structure_hook_factory(
        attrs.has, lambda cls: _objects_only(conv.gen_structure_attrs_fromdict(cls))
    )
    return conv


converter = make_converter()
"""The shared converter. Use :func:`to_dict` / :func:`from_dict` rather than calling it."""

# Generated readers and writers for the record types, equal to the converter on the
# documents it writes; anything else goes through the converter (see custrec._fastcodec).
_fast = Codec(RECORD_TYPES, SCHEMA_VERSION)


def to_dict(record: Any) -> dict[str, Any]:
    """Turn a record (or any custrec value type) into a JSON-ready dict.

    Args:
        record: A Customer, Interaction, Transaction or Feedback, or a value such as Money.

    Returns:
        A dict of JSON types. Records get ``"type"`` and ``"schema_version"`` first.
    """
    fast = _fast.write(record)
    if fast is not None:
        return fast
    name = _TYPE_NAMES.get(type(record))
    body: dict[str, Any] = converter.unstructure(record)
    if name is None:
        return body
    return {"type": name, "schema_version": SCHEMA_VERSION, **body}


@overload
def from_dict(document: Mapping[str, Any]) -> Record: ...
@overload
def from_dict(document: Mapping[str, Any], cls: type[T]) -> T: ...
def from_dict(document: Mapping[str, Any], cls: type[Any] | None = None) -> Any:
    """Build a record (or value) from a dict made by :func:`to_dict`.

    Args:
        document: The dict. Record documents name their ``"type"``; older schema versions
            are upgraded.
        cls: The expected class. Optional for record documents, whose ``"type"`` says it.

    Returns:
        The record or value.

    Raises:
        ValidationError: The document is malformed; ``field`` is the path to the problem.
    """
    if type(document) is dict:
        named = cls
        if named is None:
            type_name = document.get("type")
            named = RECORD_TYPES.get(type_name) if type(type_name) is str else None
        if named is not None:
            record = _fast.read(document, named)
            if record is not None:
                return record
    return _from_dict_strict(document, cls)


def _from_dict_strict(document: Mapping[str, Any], cls: type[Any] | None) -> Any:
    """:func:`from_dict` through the strict converter alone (the fast path's reference)."""
    if not isinstance(document, Mapping):
        raise ValidationError("", document, "expected a JSON object")
    body = dict(document)
    type_name = body.pop("type", None)
    version = body.pop("schema_version", SCHEMA_VERSION)
    if type_name is not None:
        named = RECORD_TYPES.get(type_name) if isinstance(type_name, str) else None
        if named is None:
            raise ValidationError("type", type_name, f"not one of {', '.join(RECORD_TYPES)}")
        if cls is not None and cls is not named:
            raise ValidationError("type", type_name, f"expected a {cls.__name__} document")
        cls = named
    if cls is None:
        raise ValidationError("type", None, "the document does not say its type; pass cls")
    body = _upgrade(body, version)
    if cls in _TYPE_NAMES:
        # A stored record always has these; a default would silently invent an identity.
        missing = [key for key in _REQUIRED_KEYS[cls] if key not in body]
        if missing:
            errors = [ValidationError(key, None, "required field is missing") for key in missing]
            raise _collect(errors)
    return structure(body, cls)


def structure(data: Any, cls: type[T], *, using: cattrs.Converter | None = None) -> T:
    """Build ``cls`` from plain data with a strict converter, reporting problems by path.

    Args:
        data: JSON-like data.
        cls: The attrs class to build.
        using: A converter made by :func:`make_converter` (and extended); the shared one
            when ``None``.

    Raises:
        ValidationError: The first problem, with every problem in ``.errors``; ``field`` is
            the path to it (``items[2].unit_price``).
    """
    try:
        return (using or converter).structure(data, cls)
    except ValidationError as exc:
        raise _collect([exc]) from None
    except Exception as exc:
        raise _collect(_flatten(exc, "")) from None


def _upgrade(body: dict[str, Any], version: object) -> dict[str, Any]:
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValidationError("schema_version", version, "expected a whole number")
    if version > SCHEMA_VERSION:
        raise ValidationError(
            "schema_version",
            version,
            f"written by a newer custrec (this one reads up to {SCHEMA_VERSION}); upgrade custrec",
        )
    while version < SCHEMA_VERSION:
        migrate = _MIGRATIONS.get(version)
        if migrate is None:
            raise ValidationError("schema_version", version, "no upgrade path from this version")
        body = migrate(body)
        version += 1
    return body


def _join(path: str, field: str) -> str:
    if not field:
        return path
    if not path:
        return field
    return f"{path}{field}" if field.startswith("[") else f"{path}.{field}"


def _flatten(exc: BaseException, path: str) -> list[ValidationError]:
    """Turn a cattrs exception tree into ValidationErrors with paths."""
    if isinstance(exc, BaseExceptionGroup):
        found: list[ValidationError] = []
        for sub in exc.exceptions:
            step = ""
            for note in getattr(sub, "__notes__", ()):
                if isinstance(note, cattrs.AttributeValidationNote):
                    step = note.name
                elif isinstance(note, cattrs.IterableValidationNote):
                    step = f"[{note.index}]"
            found.extend(_flatten(sub, _join(path, step)))
        return found
    if isinstance(exc, ValidationError):
        return [ValidationError(_join(path, exc.field), exc.value, exc.reason)]
    if isinstance(exc, ForbiddenExtraKeysError):
        return [
            ValidationError(_join(path, key), None, "unknown field")
            for key in sorted(exc.extra_fields)
        ]
    if isinstance(exc, KeyError):
        return [ValidationError(path, None, "required field is missing")]
    return [ValidationError(path, None, f"{type(exc).__name__}: {exc}")]


def _collect(errors: list[ValidationError]) -> ValidationError:
    if not errors:
        return ValidationError("", None, "the document could not be read")
    first = errors[0]
    return ValidationError(first.field, first.value, first.reason, errors=errors)


def to_json(record: Any, *, indent: int | None = None) -> str:
    """Turn a record into JSON text (UTF-8 characters kept as they are, not escaped).

    Args:
        record: A record or value type.
        indent: Pretty-print with this indent; compact when ``None``.

    Returns:
        The JSON text.
    """
    if indent is None:
        fast = _fast.dumps(record)
        if fast is not None:
            return fast
    separators = None if indent is not None else (",", ":")
    return json.dumps(to_dict(record), ensure_ascii=False, indent=indent, separators=separators)


def _refuse_constant(name: str) -> Any:
    raise ValidationError("", name, "JSON numbers must be finite")


@overload
def from_json(text: str | bytes) -> Record: ...
@overload
def from_json(text: str | bytes, cls: type[T]) -> T: ...
def from_json(text: str | bytes, cls: type[Any] | None = None) -> Any:
    """Build a record from JSON text made by :func:`to_json`.

    Args:
        text: The JSON text.
        cls: The expected class; optional for record documents.

    Returns:
        The record or value.

    Raises:
        ValidationError: The text is not JSON or the document is malformed.
    """
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError("", text, f"not valid JSON: {exc}") from None
    return from_dict(document, cls) if cls is not None else from_dict(document)
