"""Every error custrec raises, rooted at :class:`CustrecError`.

Callers can catch :class:`CustrecError` to handle anything the library raises on purpose.
Each subclass keeps its structured data on the exception object, so programs never have to
parse messages. Where Python code conventionally expects a builtin exception, the class
inherits that builtin too (``ValidationError`` is a ``ValueError``, ``NotFoundError`` a
``LookupError``).
"""

from __future__ import annotations

from collections.abc import Sequence

from custrec._mask import mask_emails_in, show

__all__ = [
    "BackendNotFoundError",
    "ConflictError",
    "CurrencyMismatchError",
    "CustrecError",
    "DecryptionError",
    "DuplicateIdError",
    "ImportRowError",
    "IntegrityError",
    "NotFoundError",
    "PermissionDenied",
    "RuleSyntaxError",
    "StoreError",
    "ValidationError",
]

# Messages end up in logs, so personal data in them is masked (custrec._mask.show); the
# exception object keeps the value as given.


class CustrecError(Exception):
    """The root of every error custrec raises on purpose."""


class ValidationError(CustrecError, ValueError):
    """A value was refused: it names the field, the value and the reason.

    Attributes:
        field: Where the value was found: a field name (``"email"``) or a path into a
            document (``"items[2].unit_price"``). Empty when the whole input is at fault.
        value: The offending value, as given.
        reason: Why it was refused, in words a person can act on.
        errors: Every problem found when several were collected at once; the first one is
            also this exception's own ``field``/``value``/``reason``.
    """

    def __init__(
        self,
        field: str,
        value: object,
        reason: str,
        *,
        errors: Sequence[ValidationError] = (),
    ) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        self.errors: tuple[ValidationError, ...] = tuple(errors) or (self,)
        where = f"{field}: " if field else ""
        message = f"{where}{mask_emails_in(reason)} (got {show(value, field)})"
        if len(self.errors) > 1:
            message += f" [and {len(self.errors) - 1} more problem(s)]"
        super().__init__(message)

    def at(self, prefix: str) -> ValidationError:
        """Return the same error with ``prefix`` put in front of its field path.

        Args:
            prefix: The path of the enclosing value, e.g. ``"phones[1]"``.

        Returns:
            A new ValidationError whose ``field`` is ``prefix.field`` (or ``prefix`` alone).
        """
        field = f"{prefix}.{self.field}" if self.field else prefix
        if self.field.startswith("["):
            field = f"{prefix}{self.field}"
        return ValidationError(field, self.value, self.reason)


class CurrencyMismatchError(ValidationError):
    """Money in two currencies was combined; custrec never converts silently.

    Attributes:
        currencies: The two currency codes that met, in operand order.
    """

    def __init__(self, left: str, right: str) -> None:
        self.currencies = (left, right)
        super().__init__("currency", right, f"cannot combine {left} with {right}")


class NotFoundError(CustrecError, LookupError):
    """No record has the requested id.

    Attributes:
        record_type: The kind of record looked for (``"customer"``, ``"transaction"``…).
        record_id: The id that was not found.
    """

    def __init__(self, record_type: str, record_id: str) -> None:
        self.record_type = record_type
        self.record_id = record_id
        super().__init__(f"no {record_type} with id {record_id!r}")


class DuplicateIdError(CustrecError):
    """A record was added with an id that is already taken.

    Attributes:
        record_type: The kind of record.
        record_id: The id that exists already.
    """

    def __init__(self, record_type: str, record_id: str) -> None:
        self.record_type = record_type
        self.record_id = record_id
        super().__init__(f"a {record_type} with id {record_id!r} exists already")


class ConflictError(CustrecError):
    """An optimistic update lost a race: the stored version is not the one expected.

    Attributes:
        record_type: The kind of record.
        record_id: The record's id.
        expected: The version the caller's copy carried.
        actual: The version in the store, or ``None`` when the record is gone or the
            conflict was detected by the database (a locked or concurrently changed row).
    """

    def __init__(
        self, record_type: str, record_id: str, expected: int | None, actual: int | None
    ) -> None:
        self.record_type = record_type
        self.record_id = record_id
        self.expected = expected
        self.actual = actual
        found = "a concurrent write" if actual is None else f"version {actual}"
        super().__init__(
            f"{record_type} {record_id!r} was changed by someone else: "
            f"expected version {expected}, found {found}; reload it and try again"
        )


class StoreError(CustrecError):
    """A storage backend failed: the file or server refused, or the data is unreadable."""


class DecryptionError(StoreError):
    """Sealed fields could not be opened: the key is missing or wrong, or the data was changed.

    Attributes:
        record_type: The kind of record whose fields were sealed.
        record_id: Its id.
        key_id: The id of the key the data names, when it could be read.
        reason: What went wrong.
    """

    def __init__(self, record_type: str, record_id: str, key_id: str | None, reason: str) -> None:
        self.record_type = record_type
        self.record_id = record_id
        self.key_id = key_id
        self.reason = reason
        key = f" (key {key_id!r})" if key_id is not None else ""
        super().__init__(
            f"cannot open the sealed fields of {record_type} {record_id!r}{key}: {reason}"
        )


class IntegrityError(StoreError):
    """A change would break a link between records, so the store refused it.

    Examples: history for a customer that does not exist, or deleting a customer who still
    has history without asking for it to be deleted too.

    Attributes:
        record_type: The kind of record the change was about.
        record_id: Its id.
        reason: Which link would break.
    """

    def __init__(self, record_type: str, record_id: str, reason: str) -> None:
        self.record_type = record_type
        self.record_id = record_id
        self.reason = reason
        super().__init__(f"{record_type} {record_id!r}: {reason}")


class BackendNotFoundError(StoreError):
    """No backend is installed for a store URL's scheme.

    Attributes:
        scheme: The scheme that was asked for.
        available: The schemes that are installed.
    """

    def __init__(self, scheme: str, available: Sequence[str], detail: str = "") -> None:
        self.scheme = scheme
        self.available = tuple(available)
        text = f"no store backend for scheme {scheme!r}; installed: {', '.join(self.available)}"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


class RuleSyntaxError(CustrecError, ValueError):
    """An expression could not be parsed or refers to something unknown.

    Attributes:
        text: The expression text.
        position: Zero-based character offset of the problem within ``text``.
        reason: What is wrong there.
    """

    def __init__(self, text: str, position: int, reason: str) -> None:
        self.text = text
        self.position = position
        self.reason = reason
        super().__init__(f"{mask_emails_in(reason)} at position {position}: {show(text)}")


class ImportRowError(CustrecError):
    """One input row of an import could not be stored.

    Attributes:
        row: One-based row number in the source.
        column: The column at fault, when known.
        value: The offending cell value.
        reason: Why the row was refused.
    """

    def __init__(self, row: int, column: str | None, value: object, reason: str) -> None:
        self.row = row
        self.column = column
        self.value = value
        self.reason = reason
        where = f"row {row}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {mask_emails_in(reason)} (got {show(value, column)})")


class PermissionDenied(CustrecError, PermissionError):  # noqa: N818 - the name the design fixes
    """An access policy refused a read or write.

    Attributes:
        role: The role that asked.
        action: ``"read"`` or ``"write"``.
        field: The field that was refused.
    """

    def __init__(self, role: str, action: str, field: str) -> None:
        self.role = role
        self.action = action
        self.field = field
        super().__init__(f"role {role!r} may not {action} field {field!r}")
