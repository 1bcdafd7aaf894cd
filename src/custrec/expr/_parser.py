"""The text form of expressions: a tokenizer and a precedence-climbing parser.

Text such as ``total_spend >= 10000 and orders_365d >= 5`` becomes the same AST that Python
builds with :class:`~custrec.expr.F`. Nothing is ever evaluated while parsing and there is no
``eval``: the grammar knows literals, names, a fixed list of functions and operators, and
nothing else. Input size and nesting depth are bounded, and every error carries its position.

Grammar (lowest precedence first)::

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | test
    test     := sum ( cmp sum
                    | "is" ["not"] "null"
                    | ["not"] "in" "(" literal ("," literal)* ")"
                    | ["not"] "between" sum "and" sum
                    | ["not"] "contains" sum )?
    cmp      := "==" | "=" | "!=" | "<>" | "<" | "<=" | ">" | ">="
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/") unary)*
    unary    := "-" unary | atom
    atom     := number | string | "true" | "false" | "null"
              | name "(" [expr ("," expr)*] ")"      (a function from FUNCTIONS)
              | name ("." name | "[" string "]")*      (a field or fact: custom.level)
              | "(" expr ")"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

import attrs

from custrec.errors import RuleSyntaxError, ValidationError
from custrec.expr._ast import (
    And,
    Arith,
    ArithOp,
    Between,
    Call,
    Compare,
    CompareOp,
    Const,
    Contains,
    Expr,
    Field,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
)
from custrec.model import Money

__all__ = ["FUNCTIONS", "MAX_LENGTH", "parse"]

MAX_LENGTH = 10_000
"""Longest expression text accepted, in characters."""

MAX_NESTING = 64
"""Deepest nesting of brackets and operators accepted."""

FUNCTIONS: dict[str, tuple[int, int]] = {
    "has_tag": (1, 1),
    "days_since": (1, 1),
    "date": (1, 1),
    "money": (2, 2),
    "lower": (1, 1),
    "abs": (1, 1),
    "coalesce": (2, 8),
}
"""The functions text may call, with their least and most argument counts.

``has_tag("vip")`` tests a customer's tags; ``days_since(x)`` is the days from a date or
datetime to the evaluation's as-of date; ``date("2024-10-05")`` and ``money("100", "CNY")``
write constants; ``lower``, ``abs`` and ``coalesce`` do what their SQL namesakes do.
"""

_KEYWORDS = frozenset(
    {"and", "or", "not", "in", "is", "null", "true", "false", "between", "contains"}
)

TokenKind = Literal["num", "str", "name", "op", "end"]


@attrs.frozen
class _Token:
    kind: TokenKind
    text: str
    position: int
    value: object = None


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[^\W\d]\w*)
  | (?P<op>==|!=|<>|<=|>=|[=<>+\-*/(),.\[\]])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _unquote(text: str, position: int, source: str) -> str:
    out = []
    chars = iter(enumerate(text[1:-1], start=position + 1))
    for index, char in chars:
        if char == "\\":
            _, escaped = next(chars)
            if escaped not in _ESCAPES:
                raise RuleSyntaxError(source, index, f"unknown escape \\{escaped}")
            out.append(_ESCAPES[escaped])
        else:
            out.append(char)
    return "".join(out)


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            char = text[position]
            reason = "unterminated text" if char in "\"'" else f"unexpected character {char!r}"
            raise RuleSyntaxError(text, position, reason)
        kind = match.lastgroup
        token_text = match.group()
        if kind == "num":
            tokens.append(_Token("num", token_text, position, Decimal(token_text)))
        elif kind == "str":
            tokens.append(_Token("str", token_text, position, _unquote(token_text, position, text)))
        elif kind in ("name", "op"):
            tokens.append(_Token(kind, token_text, position))  # type: ignore[arg-type]
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, names: Collection[str] | None) -> None:
        self.text = text
        self.names = names
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    # -- token helpers --------------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def error(self, reason: str, token: _Token | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(self.text, (token or self.token).position, reason)

    def advance(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.token.kind == "name" and self.token.text.lower() in words

    def at_op(self, *ops: str) -> bool:
        return self.token.kind == "op" and self.token.text in ops

    def expect_op(self, op: str) -> _Token:
        if not self.at_op(op):
            raise self.error(f"expected {op!r}, found {self.describe()}")
        return self.advance()

    def expect_word(self, word: str) -> _Token:
        if not self.at_word(word):
            raise self.error(f"expected {word!r}, found {self.describe()}")
        return self.advance()

    def at_end(self) -> bool:
        return self.tokens[self.index].kind == "end"

    def describe(self) -> str:
        return "end of text" if self.at_end() else repr(self.token.text)

    def nested(self, parse: Callable[[], Expr]) -> Expr:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nested deeper than {MAX_NESTING} levels")
        try:
            return parse()
        finally:
            self.depth -= 1

    # -- grammar ---------------------------------------------------------------------------

    def parse(self) -> Expr:
        if self.token.kind == "end":
            raise self.error("empty expression")
        expr = self.parse_or()
        if not self.at_end():
            raise self.error(f"unexpected {self.describe()}")
        return expr

    def parse_or(self) -> Expr:
        items = [self.parse_and()]
        while self.at_word("or"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(items)

    def parse_and(self) -> Expr:
        items = [self.parse_not()]
        while self.at_word("and"):
            self.advance()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(items)

    def parse_not(self) -> Expr:
        if self.at_word("not"):
            self.advance()
            return Not(self.nested(self.parse_not))
        return self.parse_test()

    def parse_test(self) -> Expr:
        left = self.parse_sum()
        if self.at_op("==", "=", "!=", "<>", "<", "<=", ">", ">="):
            op = self.advance().text
            normal: CompareOp = {"=": "==", "<>": "!="}.get(op, op)  # type: ignore[assignment]
            return Compare(normal, left, self.parse_sum())
        if self.at_word("is"):
            self.advance()
            negate = self.at_word("not")
            if negate:
                self.advance()
            self.expect_word("null")
            return Not(IsNull(left)) if negate else IsNull(left)
        negate = False
        if self.at_word("not") and self.tokens[self.index + 1].text.lower() in (
            "in",
            "between",
            "contains",
        ):
            self.advance()
            negate = True
        test: Expr | None = None
        if self.at_word("in"):
            self.advance()
            test = In(left, self.parse_options())
        elif self.at_word("between"):
            self.advance()
            low = self.parse_sum()
            self.expect_word("and")
            test = Between(left, low, self.parse_sum())
        elif self.at_word("contains"):
            self.advance()
            test = Contains(left, self.parse_sum())
        if test is None:
            return left
        return Not(test) if negate else test

    def parse_options(self) -> list[Const]:
        opener = self.expect_op("(")
        options = [self.parse_literal()]
        while self.at_op(","):
            self.advance()
            options.append(self.parse_literal())
        if not self.at_op(")"):
            raise self.error(f"expected ',' or ')' to close the list opened at {opener.position}")
        self.advance()
        return options

    def parse_literal(self) -> Const:
        start = self.token
        node = self.parse_unary()
        if not isinstance(node, Const):
            raise self.error("a list after 'in' holds constants only", start)
        return node

    def parse_sum(self) -> Expr:
        left = self.parse_product()
        while self.at_op("+", "-"):
            op: ArithOp = self.advance().text  # type: ignore[assignment]
            left = Arith(op, left, self.nested(self.parse_product))
        return left

    def parse_product(self) -> Expr:
        left = self.parse_unary()
        while self.at_op("*", "/"):
            op: ArithOp = self.advance().text  # type: ignore[assignment]
            left = Arith(op, left, self.nested(self.parse_unary))
        return left

    def parse_unary(self) -> Expr:
        if self.at_op("-"):
            self.advance()
            operand = self.nested(self.parse_unary)
            if isinstance(operand, Const) and isinstance(operand.value, int | Decimal):
                return Const(-operand.value)
            return Arith("-", Const(Decimal(0)), operand)
        return self.parse_atom()

    def parse_atom(self) -> Expr:
        token = self.token
        if token.kind == "num":
            self.advance()
            value = token.value
            assert isinstance(value, Decimal)  # noqa: S101 - the tokenizer made it
            return Const(int(value) if token.text.isdigit() else value)
        if token.kind == "str":
            self.advance()
            assert isinstance(token.value, str)  # noqa: S101 - the tokenizer made it
            return Const(token.value)
        if self.at_op("("):
            self.advance()
            inner = self.nested(self.parse_or)
            self.expect_op(")")
            return inner
        if token.kind == "name":
            word = token.text.lower()
            if word in ("true", "false"):
                self.advance()
                return Const(word == "true")
            if word == "null":
                self.advance()
                return Const(None)
            if word in _KEYWORDS:
                raise self.error(f"unexpected keyword {token.text!r}")
            self.advance()
            if self.at_op("("):
                return self.parse_call(token)
            return self.parse_field(token)
        raise self.error(f"unexpected {self.describe()}")

    def parse_field(self, first: _Token) -> Expr:
        parts = [first.text]
        if first.text.startswith("__"):
            raise self.error(f"unexpected name {first.text!r}: names never start with '__'", first)
        while self.at_op(".", "["):
            if self.advance().text == ".":
                if self.token.kind != "name":
                    raise self.error("expected a name after '.'")
                if self.token.text.startswith("__"):
                    raise self.error(
                        f"unexpected name {self.token.text!r}: names never start with '__'"
                    )
                parts.append(self.advance().text)
            else:
                if self.token.kind != "str":
                    raise self.error("expected a quoted key inside [...]")
                parts.append(str(self.advance().value))
                self.expect_op("]")
        path = ".".join(parts)
        if self.names is not None and path not in self.names and parts[0] not in self.names:
            raise self.error(f"unknown name {path!r}", first)
        return Field(path)

    def parse_call(self, name: _Token) -> Expr:
        function = name.text.lower()
        if function not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise self.error(f"unknown function {name.text!r} (known: {known})", name)
        self.expect_op("(")
        args: list[Expr] = []
        if not self.at_op(")"):
            args.append(self.nested(self.parse_or))
            while self.at_op(","):
                self.advance()
                args.append(self.nested(self.parse_or))
        self.expect_op(")")
        least, most = FUNCTIONS[function]
        if not least <= len(args) <= most:
            count = str(least) if least == most else f"{least} to {most}"
            raise self.error(f"{function}() takes {count} argument(s), got {len(args)}", name)
        return self._constant_call(function, args, name)

    def _constant_call(self, function: str, args: list[Expr], name: _Token) -> Expr:
        """Fold calls that only write constants; keep the rest as Call nodes."""
        values = [arg.value if isinstance(arg, Const) else None for arg in args]
        try:
            if function == "has_tag":
                if not isinstance(values[0], str):
                    raise self.error("has_tag() takes a quoted tag", name)
                return HasTag(values[0])
            if function == "date":
                if not isinstance(values[0], str):
                    raise self.error("date() takes a quoted ISO date", name)
                return Const(date.fromisoformat(values[0]))
            if function == "money":
                amount, currency = values
                if not isinstance(amount, str | int | Decimal) or not isinstance(currency, str):
                    raise self.error("money() takes an amount and a quoted currency", name)
                return Const(Money(str(amount), currency))
        except RuleSyntaxError:
            raise
        except (ValueError, InvalidOperation) as exc:
            reason = exc.reason if isinstance(exc, ValidationError) else str(exc)
            raise self.error(f"{function}(): {reason}", name) from None
        return Call(function, args)


def parse(text: str, *, names: Collection[str] | None = None) -> Expr:
    """Parse expression text into an AST.

    Args:
        text: The expression, e.g. ``'total_spend >= 10000 and has_tag("vip")'``.
        names: The names the text may use (fields or facts). When given, an unknown name is
            an error at its position; a dotted name is accepted when its first part is known
            (``custom.level`` with ``custom`` in ``names``).

    Returns:
        The expression tree.

    Raises:
        RuleSyntaxError: The text is not a valid expression; ``position`` points at the
            problem.
    """
    if not isinstance(text, str):
        raise RuleSyntaxError(repr(text), 0, "an expression is text")
    if len(text) > MAX_LENGTH:
        raise RuleSyntaxError(text[:80], MAX_LENGTH, f"longer than {MAX_LENGTH} characters")
    return _Parser(text, names).parse()
