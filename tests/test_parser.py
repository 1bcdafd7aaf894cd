"""The text form of expressions: what parses, to what, and what is refused where."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec.errors import RuleSyntaxError
from custrec.expr import (
    And,
    Arith,
    Between,
    Call,
    Compare,
    Const,
    Contains,
    F,
    Field,
    HasTag,
    In,
    IsNull,
    Not,
    Or,
    has_tag,
)
from custrec.expr._parser import MAX_LENGTH, MAX_NESTING, parse
from custrec.model import Money


class TestParses:
    """Text becomes the same tree Python builds."""

    @pytest.mark.parametrize(
        ("text", "tree"),
        [
            ("total_spend >= 10000", F("total_spend") >= 10000),
            ("name = '张三'", F("name") == "张三"),
            ('name == "张三"', F("name") == "张三"),
            ("a != 1", F("a") != 1),
            ("a <> 1", F("a") != 1),
            ("a < 1.5", F("a") < Decimal("1.5")),
            ("a is null", IsNull(Field("a"))),
            ("a is not null", Not(IsNull(Field("a")))),
            ("a in (1, 'x')", In(Field("a"), (Const(1), Const("x")))),
            ("a not in (1)", Not(In(Field("a"), (Const(1),)))),
            ("a between 1 and 2", Between(Field("a"), Const(1), Const(2))),
            ("name contains '张'", Contains(Field("name"), Const("张"))),
            ("has_tag('vip')", has_tag("vip")),
            ("custom.level = 3", F("custom.level") == 3),
            ("custom['会员等级'] = '金卡'", F("custom.会员等级") == "金卡"),
            (
                "days_since(last_purchase) > 30",
                Compare(">", Call("days_since", (Field("last_purchase"),)), Const(30)),
            ),
            ("birth_date < date('2000-01-01')", F("birth_date") < date(2000, 1, 1)),
            ("total >= money('100', 'CNY')", F("total") >= Money("100", "CNY")),
            (
                "a = true and b = false or c = null",
                Or((And((F("a") == True, F("b") == False)), F("c") == None)),  # noqa: E711, E712
            ),
            ("-2 * a + 1", Arith("+", Arith("*", Const(-2), Field("a")), Const(1))),
        ],
    )  # fmt: skip
    def test_text_gives_the_tree(self, text: str, tree: object) -> None:
        """Each form parses to the tree the Python builder makes."""
        assert parse(text) == tree

    def test_and_binds_tighter_than_or(self) -> None:
        """`a or b and c` is `a or (b and c)`."""
        assert parse("a = 1 or b = 2 and c = 3") == Or(
            (F("a") == 1, And((F("b") == 2, F("c") == 3)))
        )

    def test_not_applies_to_the_test_after_it(self) -> None:
        """`not a = 1 and b = 2` negates only the first comparison."""
        assert parse("not a = 1 and b = 2") == And((Not(F("a") == 1), F("b") == 2))

    def test_keywords_ignore_case(self) -> None:
        """AND, Or and NOT read like and, or and not."""
        assert parse("NOT a = 1 AND b Is NuLL") == parse("not a = 1 and b is null")

    def test_escapes_in_text(self) -> None:
        """Backslash escapes quotes and backslashes inside text constants."""
        assert parse(r"name = 'O\'Brien \\ co'") == (F("name") == "O'Brien \\ co")

    def test_has_tag_is_its_own_node(self) -> None:
        """has_tag() becomes HasTag, not a generic call."""
        assert isinstance(parse("has_tag('vip')"), HasTag)


class TestRefuses:
    """Malformed or malicious text is refused with RuleSyntaxError at a position."""

    @pytest.mark.parametrize(
        ("text", "position", "words"),
        [
            ("__import__('os')", 0, "unknown function"),
            ("1;DROP TABLE customers", 1, "unexpected character"),
            ("a = ", 4, "end of text"),
            ("a = 'x", 4, "unterminated"),
            ("a = 1 b", 6, "unexpected"),
            ("(a = 1", 6, "expected ')'"),
            ("a in (b)", 6, "constants only"),
            ("has_tag(name)", 0, "quoted tag"),
            ("date('2024-13-01')", 0, "month"),
            ("money('1.234', 'CNY')", 0, "decimal place"),
            ("days_since()", 0, "argument"),
            ("eval('1')", 0, "unknown function"),
            ("a.__class__ = 1", 2, "unexpected"),
            ("x = `ls`", 4, "unexpected character"),
            ("", 0, "empty"),
            ("and", 0, "keyword"),
            ("a = 'x\\q'", 6, "escape"),
        ],
    )
    def test_position_and_reason(self, text: str, position: int, words: str) -> None:
        """The error says where the problem is and what it is."""
        with pytest.raises(RuleSyntaxError) as caught:
            parse(text)
        assert caught.value.position == position
        assert words in caught.value.reason
        assert caught.value.text == text

    def test_unknown_names_point_at_the_name(self) -> None:
        """With a list of known names, an unknown one is reported where it stands."""
        with pytest.raises(RuleSyntaxError) as caught:
            parse("total_spend > 1 and nonsense < 2", names={"total_spend"})
        assert caught.value.position == 20
        assert "nonsense" in caught.value.reason

    def test_dotted_names_are_known_by_their_head(self) -> None:
        """custom.anything is accepted when 'custom' is a known name."""
        assert parse("custom.level = 1", names={"custom"}) == (F("custom.level") == 1)

    def test_deep_nesting_is_refused(self) -> None:
        """Nesting beyond the limit is refused, not recursed into."""
        with pytest.raises(RuleSyntaxError, match="nested deeper"):
            parse("(" * (MAX_NESTING + 5) + "a" + ")" * (MAX_NESTING + 5))
        with pytest.raises(RuleSyntaxError, match="nested deeper"):
            parse("not " * (MAX_NESTING + 5) + "a = 1")

    def test_huge_input_is_refused(self) -> None:
        """Text over the length limit is refused before it is read."""
        with pytest.raises(RuleSyntaxError, match="longer than"):
            parse("a = 1 or " * (MAX_LENGTH // 8) + "a = 1")

    def test_long_flat_input_under_the_limit_parses(self) -> None:
        """A long but flat expression under the limit parses without recursion trouble."""
        text = " or ".join(f"a = {i}" for i in range(900))
        assert len(parse(text).items) == 900  # type: ignore[attr-defined]

    def test_non_text_is_refused(self) -> None:
        """Only text is parsed."""
        with pytest.raises(RuleSyntaxError):
            parse(42)  # type: ignore[arg-type]


class TestProperties:
    """Whatever the input, parsing either gives a tree or a RuleSyntaxError."""

    @given(st.text(max_size=200))
    def test_arbitrary_text_never_escapes_as_another_error(self, text: str) -> None:
        """Random text parses or raises RuleSyntaxError, never anything else."""
        try:
            parse(text)
        except RuleSyntaxError as exc:
            assert 0 <= exc.position <= len(text)  # noqa: PT017 - either outcome is fine here

    @given(
        st.lists(
            st.sampled_from(
                ["a", "=", "1", "'x'", "(", ")", "and", "or", "not", "in", ",", "is", "null",
                 "between", "contains", "+", "-", "*", "/", "<", ">=", "has_tag", "days_since",
                 "custom", ".", "[", "]", "true"]
            ),
            max_size=40,
        )
    )  # fmt: skip
    def test_token_soup_never_escapes_as_another_error(self, tokens: list[str]) -> None:
        """Random sequences of real tokens parse or raise RuleSyntaxError."""
        text = " ".join(tokens)
        try:
            parse(text)
        except RuleSyntaxError as exc:
            assert 0 <= exc.position <= len(text)  # noqa: PT017 - either outcome is fine here

    @given(st.integers(min_value=-(10**30), max_value=10**30))
    def test_integers_read_exactly(self, number: int) -> None:
        """Integer literals of any size are read exactly."""
        assert parse(f"a = {number}") == (F("a") == number)
