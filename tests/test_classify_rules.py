"""Rules and rule dimensions: first match wins, explanations, text = Python, safety."""

from __future__ import annotations

import builtins
import itertools
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custrec import config
from custrec.classify import (
    Facts,
    Label,
    Rule,
    RuleDimension,
    build_dimension,
    compute_facts,
    fields_in,
)
from custrec.errors import RuleSyntaxError, ValidationError
from custrec.expr import (
    Arith,
    Call,
    Compare,
    Const,
    Expr,
    F,
    Field,
    has_tag,
    parse,
)
from custrec.model import Customer, FrozenMap
from custrec.store import open_store
from custrec.template import DimensionSpec, RuleSpec, Template
from custrec.testing.synthetic import generate

AS_OF = date(2024, 6, 30)


@pytest.fixture(autouse=True)
def _utc() -> Iterator[None]:
    """days_since() counts days in the configured zone; these tests fix it to UTC."""
    with config.using(timezone="UTC"):
        yield


def facts(
    cid: str = "c", *, tags: tuple[str, ...] = (), custom: Any = None, **values: Any
) -> Facts:
    """Facts for a customer, built directly."""
    customer = Customer(id=cid, name=cid, tags=tags, custom=custom or {}, **_fields(values))
    return Facts(customer, AS_OF, FrozenMap(values))


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values.pop(k) for k in ("company", "industry", "job_title") if k in values}


TIERS = [
    Rule("high", "total_spend >= 10000 and orders_365d >= 5"),
    Rule("mid", "total_spend >= 2000"),
    Rule("vip", "has_tag('vip')"),
]


class TestFirstMatchWins:
    """Rules are tried in order; the first that holds gives the label, else the default."""

    def test_first_matching_rule(self) -> None:
        """A customer matching several rules gets the first one's label."""
        dimension = RuleDimension("tier", TIERS, "low")
        rich = facts("rich", tags=("vip",), total_spend=Decimal(50000), orders_365d=9)
        assert dimension.assign([rich])["rich"].label == "high"

    def test_later_rule(self) -> None:
        """A customer failing the first rule can match a later one."""
        dimension = RuleDimension("tier", TIERS, "low")
        few = facts("few", tags=("vip",), total_spend=Decimal(50000), orders_365d=1)
        tagged = facts("tagged", tags=("vip",), total_spend=Decimal(5), orders_365d=1)
        labels = dimension.assign([few, tagged])
        assert (labels["few"].label, labels["tagged"].label) == ("mid", "vip")

    def test_default(self) -> None:
        """A customer no rule matches gets the default, with every fact the rules read."""
        dimension = RuleDimension("tier", TIERS, "low")
        label = dimension.assign([facts(total_spend=Decimal(5), orders_365d=None)])["c"]
        assert label.label == "low"
        assert label.rule is None
        assert label.reason == "no rule matched; the default applies"
        assert dict(label.values) == {
            "total_spend": Decimal(5),
            "orders_365d": None,
            "tags": frozenset(),
        }

    def test_label_for_one_customer_matches_assign(self) -> None:
        """label_for() on its own explains a default label as assign() does."""
        dimension = RuleDimension("tier", TIERS, "low")
        one = facts(total_spend=Decimal(5), orders_365d=2)
        assert dimension.label_for(one) == dimension.assign([one])["c"]

    def test_unknown_is_not_a_match(self) -> None:
        """A condition over a missing fact is unknown, so the rule does not match."""
        dimension = RuleDimension("d", [Rule("yes", "not (avg_rating < 3)")], "unknown")
        assert dimension.assign([facts(avg_rating=None)])["c"].label == "unknown"
        assert dimension.assign([facts(avg_rating=Decimal(4))])["c"].label == "yes"

    def test_empty_population(self) -> None:
        """No customers, no labels."""
        assert RuleDimension("tier", TIERS, "low").assign([]) == {}

    def test_as_of_follows_population(self) -> None:
        """days_since() counts to the population's as-of day, run after run."""
        dimension = RuleDimension("d", [Rule("recent", "days_since(last_purchase) <= 30")], "old")
        bought = datetime(2024, 6, 1, 12, tzinfo=UTC)
        customer = Customer(id="c")
        early = Facts(customer, date(2024, 6, 20), FrozenMap({"last_purchase": bought}))
        late = Facts(customer, date(2024, 8, 20), FrozenMap({"last_purchase": bought}))
        assert dimension.assign([early])["c"].label == "recent"
        assert dimension.assign([late])["c"].label == "old"
        assert dimension.assign([early])["c"].label == "recent"


class TestExplanations:
    """Each label says which rule matched and the values of the facts it read."""

    def test_rule_text_and_values(self) -> None:
        """A text rule's label carries its text and the values of the facts it reads."""
        dimension = RuleDimension("tier", TIERS, "low")
        label = dimension.assign([facts(total_spend=Decimal("12000.50"), orders_365d=6)])["c"]
        assert label == Label(
            "tier",
            "high",
            "rule matched: total_spend >= 10000 and orders_365d >= 5",
            "total_spend >= 10000 and orders_365d >= 5",
            {"total_spend": Decimal("12000.50"), "orders_365d": 6},
        )
        assert label.explain() == (
            "tier = high: rule matched: total_spend >= 10000 and orders_365d >= 5 "
            "[orders_365d=6, total_spend=12000.50]"
        )

    def test_description_is_the_reason(self) -> None:
        """A rule's description, when given, is the reason."""
        rule = Rule("gold", "custom.level = 'gold'", description="gold members")
        label = RuleDimension("d", [rule], "other").label_for(facts(custom={"level": "gold"}))
        assert label.reason == "gold members"
        assert label.rule == "custom.level = 'gold'"
        assert dict(label.values) == {"custom.level": "gold"}

    def test_tags_are_shown(self) -> None:
        """has_tag rules show the customer's tags."""
        label = RuleDimension("d", [Rule("vip", "has_tag('vip')")], "no").label_for(
            facts(tags=("vip", "新客户"))
        )
        assert label.values["tags"] == frozenset({"vip", "新客户"})
        assert "tags=vip, 新客户" in label.explain()

    def test_python_rule_shows_what_it_uses(self) -> None:
        """A Python function rule is explained by its name and the facts it says it uses."""

        def big_spender(f: Facts) -> bool:
            return bool(f["total_spend"] > 100)

        rule = Rule("big", big_spender, uses=["total_spend"])
        label = RuleDimension("d", [rule], "small").label_for(facts(total_spend=Decimal(500)))
        assert label.rule == "big_spender"
        assert dict(label.values) == {"total_spend": Decimal(500)}

    def test_json_ready(self) -> None:
        """to_dict() is JSON-ready, with datetimes, decimals and sets as text."""
        dimension = RuleDimension(
            "d", [Rule("x", "last_purchase is not null and has_tag('a')")], "y"
        )
        bought = datetime(2024, 6, 1, 12, tzinfo=UTC)
        label = dimension.label_for(facts(tags=("a", "b"), last_purchase=bought))
        data = json.loads(json.dumps(label.to_dict()))
        assert data == {
            "dimension": "d",
            "label": "x",
            "reason": "rule matched: last_purchase is not null and has_tag('a')",
            "rule": "last_purchase is not null and has_tag('a')",
            "values": {"last_purchase": "2024-06-01", "tags": "a, b"},
        }

    def test_fields_in(self) -> None:
        """fields_in lists every field an expression reads, once, in order."""
        expr = parse(
            "total_spend >= 1 and (region in ('a') or custom.x between 1 and total_spend) "
            "and days_since(last_purchase) > 3 and has_tag('v') and not company is null"
        )
        assert fields_in(expr) == [
            "total_spend",
            "region",
            "custom.x",
            "last_purchase",
            "tags",
            "company",
        ]


class TestRuleFeatures:
    """What rules can say: tags, custom fields, days_since, in, between, null, arithmetic."""

    @pytest.mark.parametrize(
        ("text", "matching", "other"),
        [
            ("has_tag('vip')", {"tags": ("vip",)}, {"tags": ("VIP",)}),
            ("custom.level = 'gold'", {"custom": {"level": "gold"}}, {"custom": {"level": 3}}),
            ("custom['会员等级'] = '金卡'", {"custom": {"会员等级": "金卡"}}, {}),
            ("custom.employees >= 1000", {"custom": {"employees": 1500}}, {"custom": {}}),
            (
                "days_since(last_purchase) > 30",
                {"last_purchase": datetime(2024, 5, 1, tzinfo=UTC)},
                {"last_purchase": datetime(2024, 6, 29, tzinfo=UTC)},
            ),
            ("latest_nps in (9, 10)", {"latest_nps": 9}, {"latest_nps": 8}),
            ("latest_nps not in (9, 10)", {"latest_nps": 8}, {"latest_nps": None}),
            ("recency_days between 0 and 90", {"recency_days": 90}, {"recency_days": 91}),
            ("recency_days not between 0 and 90", {"recency_days": 91}, {"recency_days": 5}),
            ("avg_rating is null", {"avg_rating": None}, {"avg_rating": Decimal(3)}),
            ("avg_rating is not null", {"avg_rating": Decimal(3)}, {"avg_rating": None}),
            (
                "total_spend - refund_total > 100",
                {"total_spend": Decimal(300), "refund_total": Decimal(150)},
                {"total_spend": Decimal(300), "refund_total": Decimal(250)},
            ),
            (
                "total_spend / order_count >= 50",
                {"total_spend": Decimal(100), "order_count": 2},
                {"total_spend": Decimal(100), "order_count": 0},
            ),
            ("-recency_days > -10", {"recency_days": 3}, {"recency_days": 30}),
            ("company contains '科技'", {"company": "北京某某科技有限公司"}, {"company": None}),
            ("region = '北京市' or city = '北京市'", {"city": "北京市"}, {"region": "上海市"}),
            ("lower(region) = 'tokyo'", {"region": "Tokyo"}, {"region": "Osaka"}),
            ("coalesce(avg_rating, 0) < 2", {"avg_rating": None}, {"avg_rating": Decimal(4)}),
            ("industry = '教育'", {"industry": "教育"}, {"industry": "餐饮"}),
        ],
    )
    def test_matches(self, text: str, matching: dict[str, Any], other: dict[str, Any]) -> None:
        """The rule matches the first customer and not the second."""
        dimension = RuleDimension("d", [Rule("yes", text)], "no")
        yes, no = facts("yes", **dict(matching)), facts("no", **dict(other))
        labels = dimension.assign([yes, no])
        assert (labels["yes"].label, labels["no"].label) == ("yes", "no")

    def test_dates_compare_with_datetimes_through_days_since(self) -> None:
        """Comparing a datetime fact with a date constant is refused with the position."""
        with pytest.raises(RuleSyntaxError) as caught:
            RuleDimension("d", [Rule("x", "first_purchase < date('2024-01-01')")], "y")
        assert "first_purchase" in caught.value.reason


# --- text, expression and Python function give the same labels --------------------------

RULES: list[tuple[str, str | Expr, Callable[[Facts], bool]]] = []


def _known(*values: Any) -> bool:
    return all(v is not None for v in values)


def _days(f: Facts) -> int | None:
    last = f.get("last_purchase")
    return None if last is None else (f.as_of - last.astimezone(UTC).date()).days


RULES = [
    (
        "high",
        "total_spend >= 5000 and orders_365d >= 3",
        lambda f: (
            _known(f.get("total_spend"), f.get("orders_365d"))
            and f["total_spend"] >= 5000
            and f["orders_365d"] >= 3
        ),
    ),
    (
        "recent_or_vip",
        "recency_days between 0 and 90 or has_tag('vip')",
        lambda f: (
            (_known(f.get("recency_days")) and 0 <= f["recency_days"] <= 90)
            or "vip" in f.customer.tags
        ),
    ),
    (
        "happy",
        "not (avg_rating < 3) and latest_nps in (9, 10)",
        lambda f: (
            _known(f.get("avg_rating"), f.get("latest_nps"))
            and not f["avg_rating"] < 3
            and f["latest_nps"] in (9, 10)
        ),
    ),
    (
        "net",
        "total_spend - refund_total > 1000",
        lambda f: (
            _known(f.get("total_spend"), f.get("refund_total"))
            and f["total_spend"] - f["refund_total"] > 1000
        ),
    ),
    (
        "lapsing",
        "days_since(last_purchase) > 60",
        lambda f: _known(_days(f)) and _days(f) > 60,  # type: ignore[operator]
    ),
    (
        "gold",
        "custom.level = 'gold' and avg_rating is null",
        lambda f: f.customer.custom.get("level") == "gold" and f.get("avg_rating") is None,
    ),
    (
        "local",
        "region in ('北京市', '上海市') and not has_tag('blocked')",
        lambda f: f.get("region") in ("北京市", "上海市") and "blocked" not in f.customer.tags,
    ),
]

EXPRS: list[Expr] = [
    (F("total_spend") >= 5000) & (F("orders_365d") >= 3),
    F("recency_days").between(0, 90) | has_tag("vip"),
    ~(F("avg_rating") < 3) & F("latest_nps").is_in([9, 10]),
    Compare(">", Arith("-", Field("total_spend"), Field("refund_total")), Const(1000)),
    Compare(">", Call("days_since", [Field("last_purchase")]), Const(60)),
    (F("custom.level") == "gold") & F("avg_rating").is_null(),
    F("region").is_in(["北京市", "上海市"]) & ~has_tag("blocked"),
]


def dimensions() -> tuple[RuleDimension, RuleDimension, RuleDimension]:
    """The same rules as text, as expressions built in Python, and as Python functions."""
    text = RuleDimension("d", [Rule(label, when) for label, when, _ in RULES], "none")
    built = RuleDimension(
        "d", [Rule(label, expr) for (label, _, _), expr in zip(RULES, EXPRS, strict=True)], "none"
    )
    python = RuleDimension("d", [Rule(label, fn) for label, _, fn in RULES], "none")
    return text, built, python


_amounts = st.none() | st.decimals(-100, 20000, places=2)
_counts = st.none() | st.integers(0, 20)


@st.composite
def random_facts(draw: st.DrawFn, cid: str) -> Facts:
    """Facts with random values (and missing ones) for the facts the rules read."""
    last = draw(st.none() | st.datetimes(datetime(2023, 1, 1), datetime(2024, 6, 30)))
    values = {
        "total_spend": draw(_amounts),
        "refund_total": draw(_amounts),
        "orders_365d": draw(_counts),
        "recency_days": draw(st.none() | st.integers(-5, 400)),
        "avg_rating": draw(st.none() | st.decimals(1, 5, places=2)),
        "latest_nps": draw(st.none() | st.integers(0, 10)),
        "last_purchase": None if last is None else last.replace(tzinfo=UTC),
        "region": draw(st.sampled_from([None, "北京市", "上海市", "广东省"])),
    }
    customer = Customer(
        id=cid,
        tags=draw(st.sets(st.sampled_from(["vip", "blocked", "new"]))),
        custom={"level": draw(st.sampled_from(["gold", "silver", 3, None]))},
    )
    return Facts(customer, AS_OF, FrozenMap(values))


@st.composite
def populations(draw: st.DrawFn) -> list[Facts]:
    """A handful of customers with random facts."""
    size = draw(st.integers(1, 8))
    return [draw(random_facts(f"c{i}")) for i in range(size)]


class TestTextEqualsPython:
    """A rule as text, built with F, or written as a Python function labels alike."""

    @given(populations())
    def test_same_labels_on_random_facts(self, population: list[Facts]) -> None:
        """The three forms give every customer the same label."""
        text, built, python = dimensions()
        by_text = {cid: label.label for cid, label in text.assign(population).items()}
        assert by_text == {cid: label.label for cid, label in built.assign(population).items()}
        assert by_text == {cid: label.label for cid, label in python.assign(population).items()}

    @given(random_facts("c"))
    def test_each_rule_alone(self, one: Facts) -> None:
        """Each rule, alone, matches exactly when its Python twin returns True."""
        for (label, when, function), expr in zip(RULES, EXPRS, strict=True):
            expected = label if function(one) else "none"
            for form in (when, expr):
                assert RuleDimension("d", [Rule(label, form)], "none").label_for(one).label == (
                    expected
                ), (label, form)

    def test_parse_builds_the_python_tree(self) -> None:
        """The text of a rule parses into the same tree built with F (where F can say it)."""
        for (_, when, _), expr in zip(RULES, EXPRS, strict=True):
            assert isinstance(when, str)
            if "days_since" not in when and "-" not in when:
                assert parse(when) == expr, when


_stores = itertools.count()


class TestTextEqualsPythonOnStores:
    """Text and Python rules agree on facts computed by a store from generated data."""

    @pytest.mark.parametrize("url", ["memory://", "sqlite:///{tmp_path}/s.db"])
    @settings(max_examples=4, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(seed=st.integers(0, 10_000))
    def test_same_labels(self, url: str, tmp_path: Path, seed: int) -> None:
        """On realistic random data, in memory and in SQLite, every customer's label agrees."""
        data = generate(30, seed=seed)
        store = open_store(url.format(tmp_path=tmp_path).replace("s.db", f"s{next(_stores)}.db"))
        try:
            store.customers.add_many(data.customers)
            store.interactions.add_many(data.interactions)
            store.transactions.add_many(data.transactions)
            store.feedback.add_many(data.feedback)
            population = compute_facts(store, date(2025, 1, 1))
        finally:
            store.close()
        assert population
        text, built, python = dimensions()
        labels = [
            {cid: label.label for cid, label in dimension.assign(population).items()}
            for dimension in (text, built, python)
        ]
        assert labels[0] == labels[1] == labels[2]


# --- malformed and malicious text --------------------------------------------------------

HOSTILE = [
    "__import__('os')",
    "__import__('os').system('reboot')",
    "total_spend.__class__",
    "total_spend >= 1; DROP TABLE customers",
    "1;DROP TABLE customers",
    "total_spend >= 1 -- comment",
    "open('/etc/passwd')",
    "eval('1+1')",
    "exec('x=1')",
    "lambda: 1",
    "[x for x in ()]",
    "total_spend if 1 else 2",
    "f'{total_spend}'",
    "total_spend >= 1 or",
    "(total_spend >= 1",
    "total_spend >= 1)",
    "total_spend >>= 1",
    "'unterminated",
    "",
    "   ",
    "custom[level] = 1",
    "custom.__dict__",
    "total_spend @ 2",
    "has_tag(vip)",
    "days_since()",
    "(" * 100 + "total_spend" + ")" * 100,
    "not " * 100 + "has_tag('a')",
    "-" * 100 + "1 > total_spend",
    "1 + " * 3000 + "total_spend > 0",
    "total_spend > 0 or " * 1000 + "total_spend > 0",
    "x" * 20_000,
]


class TestHostileText:
    """Malformed or malicious rule text is refused when the rule is built, never run."""

    @pytest.fixture
    def sentinels(self, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        """Record any import of os/subprocess, any eval/exec, and any os.system call."""
        calls: list[str] = []
        real_import = builtins.__import__

        def watched_import(name: str, *args: Any, **kwargs: Any) -> Any:
            if name.partition(".")[0] in ("os", "subprocess", "shutil"):
                calls.append(f"import {name}")
            return real_import(name, *args, **kwargs)

        def refuse(what: str) -> Callable[..., Any]:
            def called(*args: Any, **kwargs: Any) -> Any:
                calls.append(what)
                raise AssertionError(what)

            return called

        monkeypatch.setattr(builtins, "__import__", watched_import)
        monkeypatch.setattr(builtins, "eval", refuse("eval"))
        monkeypatch.setattr(builtins, "exec", refuse("exec"))
        monkeypatch.setattr(os, "system", refuse("os.system"))
        return calls

    @pytest.mark.parametrize("text", HOSTILE, ids=lambda t: t[:40])
    def test_refused_at_construction(self, sentinels: list[str], text: str) -> None:
        """RuleDimension raises RuleSyntaxError and nothing is imported or executed."""
        with pytest.raises(RuleSyntaxError) as caught:
            RuleDimension("d", [Rule("x", text)], "y")
        assert 0 <= caught.value.position <= len(text)
        assert caught.value.reason
        assert sentinels == []

    @pytest.mark.parametrize("text", HOSTILE[:25], ids=lambda t: t[:40])
    def test_refused_by_templates(self, text: str) -> None:
        """A template rule with such text does not build into a dimension."""
        with pytest.raises((ValidationError, RuleSyntaxError)):
            build_dimension(DimensionSpec("d", rules=[RuleSpec("x", text)], default="y"))

    def test_huge_input_is_cut_short(self) -> None:
        """Over-long text is refused without being echoed in full."""
        text = "total_spend > 0 and " * 1000 + "total_spend > 0"
        with pytest.raises(RuleSyntaxError, match="longer than") as caught:
            RuleDimension("d", [Rule("x", text)], "y")
        assert len(str(caught.value)) < 300

    def test_not_text(self) -> None:
        """A condition that is neither text, an expression nor a function is refused."""
        with pytest.raises(ValidationError, match="a rule is text"):
            RuleDimension("d", [Rule("x", 42)], "y")  # type: ignore[arg-type]


class TestPositions:
    """Unknown names and constants of the wrong kind are reported where they are."""

    @pytest.mark.parametrize(
        ("text", "position", "reason"),
        [
            ("total_spend >= 1 and bogus > 2", 21, "unknown name 'bogus'"),
            ("bogus.x = 1", 0, "unknown name 'bogus.x'"),
            ("order_count > 1 and nosuch(1) > 0", 20, "unknown function 'nosuch'"),
            ("total_spend >= 'lots'", 15, "can only be compared with a number"),
            ("order_count > 1 and region > 5", 20, "can only be compared with text"),
            ("recency_days = '3' or 1 = 1", 15, "can only be compared with a number"),
            ("last_purchase > 5", 0, "can only be compared with an aware datetime"),
            ("order_count > 1 and company.x = 'a'", 20, "neither a fact nor a customer field"),
            ("total_spend >= 1 and >", 21, "unexpected '>'"),
            ("has_tag(1)", 0, "has_tag() takes a quoted tag"),
            ("tags = 'vip'", 7, "has_tag"),
        ],
    )
    def test_position(self, text: str, position: int, reason: str) -> None:
        """The error's position points at the name or constant at fault."""
        with pytest.raises(RuleSyntaxError) as caught:
            RuleDimension("d", [Rule("x", text)], "y")
        assert caught.value.position == position
        assert reason in caught.value.reason
        assert caught.value.text == text

    def test_python_expression_of_the_wrong_kind(self) -> None:
        """A Python-built rule comparing a number fact with text is refused when built."""
        with pytest.raises(ValidationError, match="compared with a number"):
            RuleDimension("d", [Rule("x", F("total_spend") >= "lots")], "y")

    def test_template_names_are_checked_when_built(self) -> None:
        """A template rule naming an unknown fact loads, then fails to build with its position."""
        spec = DimensionSpec(
            "d", rules=[RuleSpec("x", "order_count > 1 and nope = 1")], default="y"
        )
        template = Template("t", dimensions=[spec])
        with pytest.raises(RuleSyntaxError) as caught:
            build_dimension(template.dimensions[0], template)
        assert caught.value.position == 20


class TestDaysSince:
    """days_since counts to the as-of date in the configured zone."""

    def test_zone(self) -> None:
        """A purchase late in the UTC evening is the next day in Shanghai."""
        dimension = RuleDimension("d", [Rule("today", "days_since(last_purchase) = 0")], "no")
        late = datetime(2024, 6, 29, 20, tzinfo=UTC)
        one = Facts(Customer(id="c"), AS_OF, FrozenMap({"last_purchase": late}))
        assert dimension.label_for(one).label == "no"
        with config.using(timezone="Asia/Shanghai"):
            fresh = RuleDimension("d", [Rule("today", "days_since(last_purchase) = 0")], "no")
            assert fresh.label_for(one).label == "today"
