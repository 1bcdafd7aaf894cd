"""Generated fast paths for :mod:`custrec.serialize`, equal to its converter by construction.

Reading a stored document through the strict cattrs converter costs far more than the
SQL that fetched it: detailed validation keeps an error trail for every field, every
primitive goes through a hook, and attrs then runs each field's converter and validator.
For a document that is already in the form custrec writes, most of that work proves what
is already true.

This module builds, once per record class (from :func:`attrs.fields`, as cattrs' ``gen``
does), a plain Python function that reads such a document with cheap exact type checks
and then runs the record's own converters, validators and ``__attrs_post_init__``: the
very code the strict path runs, without the machinery around it. Whatever it does not
expect (a wrong type, a missing or extra key, another schema version, validators switched
off, a converter that refuses a value) makes it give up, and the caller reads the
document with the strict converter instead, which reports the problem by path. A fast
read therefore never accepts what the strict one refuses, and where both accept they build
equal records (the property tests in ``tests/test_fastcodec.py`` check this).

Writing is generated the same way: one function per class that builds the same dict the
converter's unstructure hooks build, in the same key order. A third kind of function goes
one step further and writes the compact JSON text of that dict directly (the text
``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` makes of it, character for
character), which spares building the dict only to walk it again: stores and JSON Lines
files write every record through it.
"""

from __future__ import annotations

import enum
import functools
import inspect
import itertools
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
import phonenumbers

from custrec.model import FrozenMap, Other, _customer, _transaction, open_choice
from custrec.model._contact import _to_region
from custrec.model._fields import (
    CONTROL_CHARACTERS,
    Invalid,
    reject_invalid,
    to_aware,
    to_decimal,
    to_opt_aware,
    to_opt_date,
    to_opt_text,
    to_text,
)
from custrec.model._ids import ID_PATTERN, to_id

__all__ = [
    "Codec",
    "is_frozenmap",
    "is_frozenset",
    "is_list_of",
    "open_enum_of",
]

Reader = Callable[[Any], Any]
Writer = Callable[[Any], dict[str, Any]]
Encoder = Callable[[Any], str]

# What json.dumps(..., ensure_ascii=False, separators=(",", ":")) does to values; the
# generated encoders call these for the parts they do not write themselves.
_ENCODE_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ENCODE_TEXT: Callable[[str], str] = json.encoder.encode_basestring


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# The C encoder _ENCODE_JSON builds afresh for every call (JSONEncoder.iterencode), made
# once with the same settings. It writes a tuple as a list, as json.dumps does after the
# converter has made the list. No cycle check (markers None): the values it gets (a
# FrozenMap's) hold no cycles, and one would end in RecursionError, which, like any other
# error, sends the record to the converter's path, where json.dumps reports it.
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODE_CHUNKS: Callable[[Any, int], Any] | None = (
    None
    if _C_MAKE_ENCODER is None
    else _C_MAKE_ENCODER(None, _not_json, _ENCODE_TEXT, None, ":", ",", False, False, True)
)


_SIMPLE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?")
# An encoder call on the loop variable: written as map(encoder, items) instead.
_CALL_ON_X = re.compile(r"[A-Za-z_]\w*\(x\)")
# For a date or time, _encode gives this mark and the value's expression, so that
# _make_encoder can put the quotes of a field's value into its constant text; elsewhere
# _untag makes the mark the quoted ISO text.
_ISO = "#iso#"
# A field's date or time once its quotes have moved: ``r.name.isoformat()``.
_ISO_CALL = re.compile(r"(r\.[A-Za-z_]\w*)\.isoformat\(\)")


def _untag(expr: str) -> str:
    """An encoder expression, with :data:`_ISO`'s mark made the JSON text of the value."""
    if not expr.startswith(_ISO):
        return expr
    # ISO text holds digits, '-', ':', '.', '+' and 'T': nothing JSON escapes.
    return f"('\"' + {expr[len(_ISO) :]}.isoformat() + '\"')"


def _encode_int(value: int) -> str:
    # A bool is an int to the type system but true/false to JSON.
    if value is True or value is False:
        return "true" if value else "false"
    return int.__repr__(value)


class _GiveUp(Exception):  # noqa: N818 - internal signal: read this one strictly
    """The fast reader met something it does not handle; the strict path takes over."""


# -- type shapes shared with the strict converter ------------------------------------------


@functools.cache  # called for every enumerated value read; the answer depends on the type only
def open_enum_of(tp: Any) -> type[enum.StrEnum] | None:
    """The enum of an open-choice union (``Channel | Other [| None]``), else ``None``."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = typing.get_args(tp)
    if Other not in args:
        return None
    for arg in args:
        if isinstance(arg, type) and issubclass(arg, enum.StrEnum):
            return arg
    return None


def is_list_of(tp: Any) -> bool:
    """Whether ``tp`` is a list of one type, ``tuple[X, ...]``, as records hold them."""
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


def is_frozenset(tp: Any) -> bool:
    """Whether ``tp`` is ``frozenset`` (of anything)."""
    return tp is frozenset or typing.get_origin(tp) is frozenset


def is_frozenmap(tp: Any) -> bool:
    """Whether ``tp`` is :class:`~custrec.model.FrozenMap` (of anything)."""
    return tp is FrozenMap or typing.get_origin(tp) is FrozenMap


def _optional_of(tp: Any) -> Any:
    """``X`` for ``X | None``; ``None`` for anything else."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    args = [arg for arg in typing.get_args(tp) if arg is not type(None)]
    if len(args) != 1 or len(typing.get_args(tp)) != 2:
        return None
    return args[0]


# -- primitive readers: each does what the strict converter's hook does, or gives up ----------


def _read_decimal(value: Any) -> Decimal:
    if type(value) is not str:
        raise _GiveUp
    result = Decimal(value)
    if not result.is_finite():
        raise _GiveUp
    return result


# When a shared converter returns its input unchanged, for input already of the field's
# type (as the structure step leaves it): a condition on ``{v}``. Each one restates the
# converter's own first checks; ``tests/test_fastcodec.py`` compares both paths.
_IDENTITY_WHEN: dict[Any, str] = {
    # Text without control characters that is not blank is kept as it is (has_control's
    # test, written out: a call per text field would cost more than the test).
    to_opt_text: "{v} is None or ({v}.strip() and ({v}.isprintable() or not _control({v})))",
    to_text: "{v}.strip() and ({v}.isprintable() or not _control({v}))",
    # Text matching the id pattern is kept as it is.
    to_id: "_id_shape({v}) is not None",
    # The structure step gives an aware datetime (a fixed offset from fromisoformat), a
    # date that is not a datetime, a finite Decimal: each converter returns it as it is.
    to_aware: "True",
    to_opt_aware: "True",
    to_opt_date: "True",
    to_decimal: "True",
    # A region code as the converter writes it (upper case) is kept as it is.
    _to_region: "{v} in _regions",
}
# Converters that check that a tuple holds only one kind of part (phones, line items…):
# the structure step builds exactly such a tuple with the part's reader, which they return.
_IDENTITY_WHEN.update(
    dict.fromkeys(
        (
            _customer._to_phones,
            _customer._to_emails,
            _customer._to_handles,
            _customer._to_addresses,
            _customer._to_consents,
            _transaction._to_items,
            _transaction._to_after_sales,
        ),
        "True",
    )
)


def _members(kind: type[enum.StrEnum]) -> dict[str, enum.StrEnum]:
    """The values that :func:`open_choice` reads as their own member, to that member.

    Any other text (an alias, free text kept as :class:`Other`) is left to open_choice.
    """
    return {m.value: m for m in kind if open_choice(kind, m.value) is m}


_T = typing.TypeVar("_T")


def _made(
    cache: dict[type[Any], _T | None], make: Callable[[type[Any]], _T], cls: type[Any]
) -> _T | None:
    """``cache[cls]``, made by ``make`` the first time.

    ``None`` for good when ``make`` raises ``TypeError`` (a field type without a fast
    form: that class is always handled by the strict converter).
    """
    if cls not in cache:
        try:
            cache[cls] = make(cls)
        except TypeError:
            cache[cls] = None
    return cache[cls]


def _define(source: str, title: str, env: dict[str, Any]) -> Any:
    """Compile generated source defining one function, and return that function."""
    namespace: dict[str, Any] = {}
    code = compile(source, f"<custrec {title}>", "exec")
    exec(code, env, namespace)  # noqa: S102 - our own source, generated from attrs fields
    (function,) = namespace.values()
    return function


class Codec:
    """Fast readers and writers for a set of attrs classes, generated on first use.

    Args:
        roots: The top-level record classes, by document type name.
        schema_version: The only schema version the fast readers accept.
    """

    def __init__(self, roots: Mapping[str, type[Any]], schema_version: int) -> None:
        self._roots = {cls: name for name, cls in roots.items()}
        self._version = schema_version
        self._readers: dict[type[Any], Reader | None] = {}
        self._writers: dict[type[Any], Writer | None] = {}
        self._encoders: dict[type[Any], Encoder | None] = {}
        self._names = (f"_{n}" for n in itertools.count())

    # -- public entry points ---------------------------------------------------------------

    def read(self, document: Any, cls: type[Any]) -> Any:
        """Build a record from a document in the form custrec writes, or return ``None``.

        ``None`` means "read it strictly": the document is not in that exact form, or is
        malformed, or validation is switched off.
        """
        name = self._roots.get(cls)
        if (
            name is None
            or type(document) is not dict
            or document.get("type") != name
            or type(document.get("schema_version")) is not int
            or document["schema_version"] != self._version
            or attrs.validators.get_disabled()
        ):
            return None
        reader = self._reader(cls)
        if reader is None:
            return None
        try:
            return reader(document)
        except Exception:
            return None

    def write(self, record: Any) -> dict[str, Any] | None:
        """The record's document, ``type`` and ``schema_version`` first, or ``None``.

        ``None`` means "write it with the converter": not a record type, or a record
        whose values the generated writer cannot handle.
        """
        cls = type(record)
        if cls not in self._roots:
            return None
        writer = self._writers[cls] if cls in self._writers else self._writer(cls)
        if writer is None:
            return None
        try:
            return writer(record)
        except Exception:
            return None

    def dumps(self, record: Any) -> str | None:
        """The compact JSON text of :meth:`write`'s document, or ``None`` as it returns.

        Equal, character for character, to
        ``json.dumps(write(record), ensure_ascii=False, separators=(",", ":"))``.
        """
        cls = type(record)
        if cls not in self._roots:
            return None
        encoder = self._encoders[cls] if cls in self._encoders else self._encoder(cls)
        if encoder is None:
            return None
        try:
            return encoder(record)
        except Exception:
            return None

    # -- readers ---------------------------------------------------------------------------

    def _reader(self, cls: type[Any]) -> Reader | None:
        return _made(self._readers, self._make_reader, cls)

    def _make_reader(self, cls: type[Any]) -> Reader:
        fields = attrs.fields(cls)
        hints = typing.get_type_hints(cls)
        size = len(fields) + (2 if cls in self._roots else 0)
        env: dict[str, Any] = {
            "_GiveUp": _GiveUp,
            "_Invalid": Invalid,
            "_new": object.__new__,
            "_set": object.__setattr__,
            "_cls": cls,
            "_control": CONTROL_CHARACTERS.search,
            "_id_shape": ID_PATTERN.fullmatch,
            "_open_choice": open_choice,
            "_date_from": date.fromisoformat,
            "_datetime_from": datetime.fromisoformat,
            "_regions": frozenset(r for r in phonenumbers.SUPPORTED_REGIONS if r == r.upper()),
        }
        lines = [
            "def read(d):",
            f"    if type(d) is not dict or len(d) != {size}:",
            "        raise _GiveUp",
        ]
        checks: list[str] = []
        for index, field in enumerate(fields):
            var = f"f{index}"
            lines.append(f"    {var} = d[{field.name!r}]")
            lines.extend(f"    {line}" for line in self._structure(var, hints[field.name], env))
            if field.converter is not None:
                lines.extend(f"    {line}" for line in self._convert(var, field, hints, env))
            if field.validator is not None and field.validator is not reject_invalid:
                validator = self._bind(env, field.validator)
                attribute = self._bind(env, field)
                checks.append(f"    {validator}(inst, {attribute}, {var})")
        lines.append("    inst = _new(_cls)")
        for index, field in enumerate(fields):
            slot = inspect.getattr_static(cls, field.name, None)
            if isinstance(slot, types.MemberDescriptorType):  # a slot: set it directly
                lines.append(f"    {self._bind(env, slot.__set__)}(inst, f{index})")
            else:
                lines.append(f"    _set(inst, {field.name!r}, f{index})")
        lines.extend(checks)
        if hasattr(cls, "__attrs_post_init__"):
            lines.append("    inst.__attrs_post_init__()")
        lines.append("    return inst")
        reader: Reader = _define("\n".join(lines), f"fast reader {cls.__name__}", env)
        return reader

    def _convert(
        self, var: str, field: attrs.Attribute[Any], hints: dict[str, Any], env: dict[str, Any]
    ) -> list[str]:
        """Lines that run the field's converter, unless it is known to return its input.

        After :meth:`_structure`, ``var`` holds a value of the field's type. For the shared
        converters below, the condition says when they return such a value unchanged, so
        calling them would change nothing; otherwise the converter runs.
        """
        converter: Any = field.converter
        identity = _IDENTITY_WHEN.get(converter)
        kind = open_enum_of(hints[field.name])
        # A choice converter that returns each member of its enum (and None) as it is:
        # checked here, once, for every member.
        if identity is None and kind is not None and all(converter(m) is m for m in kind):
            identity = f"type({{v}}) is {self._bind(env, kind)}"
            if type(None) in typing.get_args(hints[field.name]) and converter(None) is None:
                identity = f"{{v}} is None or {identity}"
        call = [
            f"{var} = {self._bind(env, converter)}({var})",
            f"if type({var}) is _Invalid:",
            "    raise _GiveUp",
        ]
        if identity is None:
            return call
        if identity == "True":
            return []
        return [f"if not ({identity.format(v=var)}):", *(f"    {line}" for line in call)]

    def _bind(self, env: dict[str, Any], value: Any) -> str:
        name = next(self._names)
        env[name] = value
        return name

    def _structure(self, var: str, tp: Any, env: dict[str, Any]) -> list[str]:  # noqa: PLR0911, PLR0912 - one branch per shape
        """Lines that turn the raw JSON value in ``var`` into ``tp`` as the converter would."""
        if tp is str or tp is int or tp is bool:
            return [f"if type({var}) is not {tp.__name__}:", "    raise _GiveUp"]
        kind = open_enum_of(tp)
        if kind is not None:
            members, choice = self._bind(env, _members(kind)), self._bind(env, kind)
            body = [
                f"if type({var}) is not str:",
                "    raise _GiveUp",
                f"{var} = {members}.get({var}) or _open_choice({choice}, {var})",
            ]
            if type(None) not in typing.get_args(tp):
                return body
            return [f"if {var} is not None:", *(f"    {line}" for line in body)]
        inner = _optional_of(tp)
        if inner is not None:
            body = self._structure(var, inner, env)
            return [f"if {var} is not None:", *(f"    {line}" for line in body)]
        if tp is datetime or tp is date:
            # The strict hooks: text only, read by fromisoformat; a datetime needs its offset.
            body = [f"if type({var}) is not str:", "    raise _GiveUp"]
            if tp is date:
                return [*body, f"{var} = _date_from({var})"]
            aware = [
                f"{var} = _datetime_from({var})",
                f"if {var}.tzinfo is None:",
                "    raise _GiveUp",
            ]
            return [*body, *aware]
        if tp is Decimal:
            return [f"{var} = {self._bind(env, _read_decimal)}({var})"]
        if is_list_of(tp):
            item = typing.get_args(tp)[0]
            if item is str:
                check = "type(x) is not str for x in"
                return [
                    f"if type({var}) is not list or any({check} {var}):",
                    "    raise _GiveUp",
                    f"{var} = tuple({var})",
                ]
            if attrs.has(item):
                nested = self._reader(item)
                if nested is None:
                    raise TypeError(item)
                read = self._bind(env, nested)
                return [
                    f"if type({var}) is not list:",
                    "    raise _GiveUp",
                    f"{var} = tuple(map({read}, {var}))",
                ]
        if is_frozenset(tp):
            return [f"if type({var}) is not list:", "    raise _GiveUp"]
        if is_frozenmap(tp):
            return [f"if type({var}) is not dict:", "    raise _GiveUp"]
        if isinstance(tp, type) and attrs.has(tp):
            nested = self._reader(tp)
            if nested is None:
                raise TypeError(tp)
            return [f"{var} = {self._bind(env, nested)}({var})"]
        raise TypeError(tp)

    # -- writers ---------------------------------------------------------------------------

    def _writer(self, cls: type[Any]) -> Writer | None:
        return _made(self._writers, self._make_writer, cls)

    def _make_writer(self, cls: type[Any]) -> Writer:
        hints = typing.get_type_hints(cls)
        env: dict[str, Any] = {}
        items = [
            f"{f.name!r}: {self._unstructure(f'r.{f.name}', hints[f.name], env)}"
            for f in attrs.fields(cls)
        ]
        if cls in self._roots:
            items[:0] = [f"'type': {self._roots[cls]!r}", f"'schema_version': {self._version!r}"]
        source = "def write(r):\n    return {" + ", ".join(items) + "}"
        writer: Writer = _define(source, f"fast writer {cls.__name__}", env)
        return writer

    def _unstructure(self, expr: str, tp: Any, env: dict[str, Any]) -> str:
        """An expression giving what the converter's unstructure hooks make of ``expr``."""
        if tp is str or tp is int or tp is bool:
            return expr
        if open_enum_of(tp) is not None:
            return f"(None if {expr} is None else str({expr}))"
        inner = _optional_of(tp)
        if inner is not None:
            body = self._unstructure("v", inner, env)
            if body == "v":
                return expr
            helper = self._bind(env, eval(f"lambda v: None if v is None else {body}", env))  # noqa: S307 - our own generated code
            return f"{helper}({expr})"
        if tp is datetime or tp is date:
            return f"{expr}.isoformat()"
        if tp is Decimal:
            return f"str({expr})"
        if is_list_of(tp):
            item = typing.get_args(tp)[0]
            body = self._unstructure("x", item, env)
            return f"list({expr})" if body == "x" else f"[{body} for x in {expr}]"
        if is_frozenset(tp):
            return f"sorted({expr})"
        if is_frozenmap(tp):
            return f"{{k: list(v) if isinstance(v, tuple) else v for k, v in {expr}.items()}}"
        if isinstance(tp, type) and attrs.has(tp):
            nested = self._writer(tp)
            if nested is None:
                raise TypeError(tp)
            return f"{self._bind(env, nested)}({expr})"
        raise TypeError(tp)

    # -- JSON text encoders ----------------------------------------------------------------

    def _encoder(self, cls: type[Any]) -> Encoder | None:
        return _made(self._encoders, self._make_encoder, cls)

    def _make_encoder(self, cls: type[Any]) -> Encoder:
        hints = typing.get_type_hints(cls)
        env: dict[str, Any] = {"_text": _ENCODE_TEXT}
        members = [
            (f.name, self._encode(f"r.{f.name}", hints[f.name], env)) for f in attrs.fields(cls)
        ]
        if cls in self._roots:
            members[:0] = [
                ("type", repr(_ENCODE_TEXT(self._roots[cls]))),
                ("schema_version", repr(str(self._version))),
            ]
        # Field names are identifiers: their JSON form is the name in quotes. Constant
        # pieces next to each other are joined here, once; so are the quotes around a
        # date or time that cannot be None (ISO text needs no escaping).
        pieces: list[str] = []
        text = ""
        for n, (name, expr) in enumerate(members):
            text += f'{"," if n else "{"}"{name}":'
            if expr.startswith("'"):  # a constant: "type" and "schema_version"
                text += eval(expr)  # noqa: S307 - a literal we generated
                continue
            if expr.startswith(_ISO):
                pieces += [repr(text + '"'), f"{expr[len(_ISO) :]}.isoformat()"]
                text = '"'
                continue
            pieces += [repr(text), expr]
            text = ""
        pieces.append(repr(text + "}"))
        pieces = self._reuse_iso_text(pieces)
        source = "def encode(r):\n    return ''.join((" + ", ".join(pieces) + "))"
        encoder: Encoder = _define(source, f"JSON encoder {cls.__name__}", env)
        return encoder

    def _encode(self, expr: str, tp: Any, env: dict[str, Any]) -> str:  # noqa: PLR0911, PLR0912 - one branch per shape
        """An expression giving the JSON text of what :meth:`_unstructure` makes of ``expr``."""
        if tp is str:
            return f"_text({expr})"
        if tp is int:
            return f"{self._bind(env, _encode_int)}({expr})"
        if tp is bool:
            return f"('true' if {expr} else 'false')"
        if open_enum_of(tp) is not None:
            return f"('null' if {expr} is None else _text(str({expr})))"
        inner = _optional_of(tp)
        if inner is not None:
            if _SIMPLE.fullmatch(expr):  # an attribute or a name: cheap to read twice
                return f"('null' if {expr} is None else {_untag(self._encode(expr, inner, env))})"
            body = _untag(self._encode("v", inner, env))
            helper = self._bind(env, eval(f"lambda v: 'null' if v is None else {body}", env))  # noqa: S307 - our own generated code
            return f"{helper}({expr})"
        if tp is datetime or tp is date:
            return f"{_ISO}{expr}"  # see _untag
        if tp is Decimal:
            return f"_text(str({expr}))"
        if is_list_of(tp):
            item = typing.get_args(tp)[0]
            body = _untag(self._encode("x", item, env))
            # map() calls a one-argument encoder without a comprehension's own frame.
            each = f"map({body[:-3]}, {expr})" if _CALL_ON_X.fullmatch(body) else None
            each = each or f"[{body} for x in {expr}]"
            return f"(('[' + ','.join({each}) + ']') if {expr} else '[]')"
        if is_frozenset(tp) and typing.get_args(tp)[0] is str:
            return f"(('[' + ','.join(map(_text, sorted({expr}))) + ']') if {expr} else '[]')"
        if is_frozenmap(tp) and _ENCODE_CHUNKS is not None:
            # The map's own dict, written as it is: the C encoder writes its tuples as the
            # lists the converter would make of them (see _ENCODE_CHUNKS), and skips the
            # Python-level encode() around it. A value that is not a FrozenMap has no
            # _data: the error sends the record to the converter's path.
            chunks = self._bind(env, _ENCODE_CHUNKS)
            return f"(''.join({chunks}({expr}._data, 0)) if {expr}._data else '{{}}')"
        if is_frozenset(tp) or is_frozenmap(tp):
            # Arbitrary JSON values (custom fields) or sorted text: the standard encoder.
            value = self._unstructure(expr, tp, env)
            empty = "'[]'" if is_frozenset(tp) else "'{}'"
            return f"({self._bind(env, _ENCODE_JSON)}({value}) if {expr} else {empty})"
        if isinstance(tp, type) and attrs.has(tp):
            nested = self._encoder(tp)
            if nested is None:
                raise TypeError(tp)
            return f"{self._bind(env, nested)}({expr})"
        raise TypeError(tp)

    @staticmethod
    def _reuse_iso_text(pieces: list[str]) -> list[str]:
        """Write the ISO text of one date or time once when several fields hold it.

        A record's times are often one object (a new customer's ``created_at`` is its
        ``updated_at``): the first such field keeps its text in a local, and each later
        one takes that text when it holds the very same object.
        """
        if sum(_ISO_CALL.fullmatch(piece) is not None for piece in pieces) < 2:
            return pieces
        first = None
        out = []
        for piece in pieces:
            found = _ISO_CALL.fullmatch(piece)
            if found is None:
                out.append(piece)
            elif first is None:
                first = found[1]
                out.append(f"(_iso := {piece})")
            else:
                out.append(f"(_iso if {found[1]} is {first} else {piece})")
        return out
