"""Checks users write: a Python function per record, or a condition in the expression language."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from custrec.errors import RuleSyntaxError, ValidationError
from custrec.expr import Expr, compile_predicate, parse
from custrec.model import Customer
from custrec.quality._check import CheckContext, Finding, RecordCheck, Severity

__all__ = ["ExpressionCheck", "FunctionCheck", "check"]

Problem = str | tuple[str, str] | None
"""What a check function returns: nothing, a message, or ``(field, message)``."""


class FunctionCheck(RecordCheck):
    """A check made from a function that looks at one record.

    The function returns ``None`` when the record is fine, else a message (about
    ``field``) or a ``(field, message)`` pair, or a list of such.

    Args:
        name: The check's name.
        function: ``record -> None | str | (field, message) | list of those``.
        record_type: The record class it looks at.
        severity: The severity of its findings.
        field: The field a bare message is about.
    """

    def __init__(
        self,
        name: str,
        function: Callable[[Any], Problem | Iterable[Problem]],
        *,
        record_type: type[Any] = Customer,
        severity: Severity | str = Severity.WARNING,
        field: str = "",
    ) -> None:
        super().__init__(name, severity, record_type)
        self.function = function
        self.field = field

    def check(self, records: Sequence[Any], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each problem the function reports."""
        function = self.function
        for record in records:
            result = function(record)
            if result is None:
                continue
            problems = [result] if isinstance(result, str | tuple) else list(result)
            for problem in problems:
                if problem is None:
                    continue
                field, message = (self.field, problem) if isinstance(problem, str) else problem
                yield self.finding(record.id, field, message)


def check(
    name: str | None = None,
    *,
    record_type: type[Any] = Customer,
    severity: Severity | str = Severity.WARNING,
    field: str = "",
) -> Callable[[Callable[[Any], Any]], FunctionCheck]:
    """Turn the decorated function into a :class:`FunctionCheck` (named after it by default).

    Args:
        name: The check's name; the function's name when ``None``.
        record_type: The record class it looks at.
        severity: The severity of its findings.
        field: The field a bare message is about.

    Returns:
        A decorator giving the check.

    >>> @check(severity="warning", field="company")
    ... def company_for_b2b(customer):
    ...     if "b2b" in customer.tags and not customer.company:
    ...         return "a B2B customer needs a company"
    """

    def decorate(function: Callable[[Any], Any]) -> FunctionCheck:
        return FunctionCheck(
            name or function.__name__,
            function,
            record_type=record_type,
            severity=severity,
            field=field,
        )

    return decorate


class ExpressionCheck(RecordCheck):
    """A check whose condition is written in the expression language.

    A record gets a finding when ``when`` is true for it (unknown counts as not true,
    as in queries): ``when = "custom.member_level == '钻石' and reviewed_at is null"``.

    Args:
        name: The check's name.
        when: The condition marking a problem, as text or an expression.
        message: What is wrong, for people.
        field: The field the finding is about.
        record_type: The record class it looks at.
        severity: The severity of its findings.
        fix: A suggested fix.

    Raises:
        ValidationError: The condition cannot be parsed, or names fields the record type
            lacks.
    """

    def __init__(
        self,
        name: str,
        when: str | Expr,
        *,
        message: str,
        field: str = "",
        record_type: type[Any] = Customer,
        severity: Severity | str = Severity.WARNING,
        fix: str | None = None,
    ) -> None:
        super().__init__(name, severity, record_type)
        if isinstance(when, str):
            try:
                when = parse(when)
            except RuleSyntaxError as exc:
                reason = f"{exc.reason} at position {exc.position}"
                raise ValidationError("when", when, reason) from None
        self.when = when
        self.message = message
        self.field = field
        self.fix = fix
        self._compiled: dict[date, Callable[[Any], bool]] = {}
        self._predicate(None)  # refuses fields the record type lacks, now

    def _predicate(self, today: date | None) -> Callable[[Any], bool]:
        key = today or date.min
        predicate = self._compiled.get(key)
        if predicate is None:
            predicate = compile_predicate(self.when, self.record_type, as_of=today)
            self._compiled = {key: predicate}
        return predicate

    def check(self, records: Sequence[Any], context: CheckContext) -> Iterator[Finding]:
        """Yield a finding for each record where the condition is true."""
        predicate = self._predicate(context.today)
        for record in records:
            if predicate(record):
                yield self.finding(record.id, self.field, self.message, fix=self.fix)
