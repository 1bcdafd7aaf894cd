"""Consent in force is the latest event per purpose; grant and withdraw add events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec import Channel, Consent, ConsentPurpose, Customer, ValidationError
from custrec.model import Other
from custrec.privacy import consent_for, consent_state, grant, may_contact, withdraw
from custrec.testing import strategies

T0 = datetime(2024, 1, 1, tzinfo=UTC)


class TestConsentState:
    def test_latest_event_wins(self) -> None:
        """A withdrawal after a grant is in force, with its own time, source and evidence."""
        customer = Customer(
            consents=[
                Consent("marketing_sms", True, T0, "门店登记", "form-1"),
                Consent("marketing_sms", False, T0 + timedelta(days=3), "短信退订", "sms-9"),
                Consent("marketing_email", True, T0 + timedelta(days=1)),
            ]
        )
        state = consent_state(customer)
        sms = state[ConsentPurpose.MARKETING_SMS]
        assert (sms.granted, sms.source, sms.evidence) == (False, "短信退订", "sms-9")
        assert state[ConsentPurpose.MARKETING_EMAIL].granted
        assert ConsentPurpose.PROFILING not in state

    def test_as_of_a_moment(self) -> None:
        """Looking at a moment before the withdrawal shows the grant."""
        customer = Customer(
            consents=[
                Consent("marketing_sms", True, T0),
                Consent("marketing_sms", False, T0 + timedelta(days=3)),
            ]
        )
        assert may_contact(customer, "marketing_sms", at=T0 + timedelta(days=1))
        assert not may_contact(customer, "marketing_sms")
        assert not may_contact(customer, "marketing_sms", at=T0 - timedelta(days=1))
        assert may_contact(customer, "marketing_sms", at="2024-01-02 00:00:00+00:00")

    def test_history_order_breaks_ties(self) -> None:
        """Of two events at the same moment, the later one in the history wins."""
        customer = Customer(
            consents=[Consent("profiling", True, T0), Consent("profiling", False, T0)]
        )
        assert not may_contact(customer, ConsentPurpose.PROFILING)

    def test_channels_stand_for_marketing_purposes(self) -> None:
        """A channel, as enum or text, asks about its marketing purpose."""
        customer = grant(Customer(), Channel.WECHAT, at=T0)
        assert customer.consents[0].purpose is ConsentPurpose.MARKETING_WECHAT
        assert may_contact(customer, "wechat")
        assert may_contact(customer, Channel.WECHAT)
        assert not may_contact(customer, Channel.SMS)

    def test_channel_without_purpose(self) -> None:
        """Asking about a channel no purpose covers is an error, not a silent 'no'."""
        with pytest.raises(ValidationError, match="no consent purpose"):
            may_contact(Customer(), Channel.IN_PERSON)

    def test_purposes_of_ones_own(self) -> None:
        """Purposes outside the enumeration work as free text."""
        customer = grant(Customer(), "问卷调查", at=T0, source="微信小程序")
        assert may_contact(customer, "问卷调查")
        assert consent_for(customer, Other("问卷调查")) == customer.consents[0]

    def test_bad_moment(self) -> None:
        """An unreadable moment is refused, naming the field."""
        with pytest.raises(ValidationError, match="at"):
            consent_state(Customer(), at="yesterday-ish")


class TestGrantWithdraw:
    def test_withdraw_keeps_the_grant_in_history(self) -> None:
        """Withdrawing adds an event; the grant stays as evidence of what was agreed."""
        customer = grant(Customer(), "marketing_email", at=T0, source="web", evidence="f-1")
        customer = withdraw(customer, "marketing_email", at=T0 + timedelta(days=1))
        assert [c.granted for c in customer.consents] == [True, False]
        assert not may_contact(customer, "marketing_email")

    def test_backdated_event_goes_in_time_order(self) -> None:
        """An event dated before others is placed by its time, keeping the history sorted."""
        customer = grant(Customer(), "profiling", at=T0 + timedelta(days=5))
        customer = withdraw(customer, "profiling", at=T0)
        assert [c.at for c in customer.consents] == [T0, T0 + timedelta(days=5)]
        assert may_contact(customer, "profiling")

    def test_default_time_is_now(self) -> None:
        """Without a time the event is dated now (aware)."""
        before = datetime.now(UTC)
        event = grant(Customer(), "profiling").consents[0]
        assert event.at >= before


class TestConsentProperties:
    @given(strategies.customers())
    def test_state_is_latest_per_purpose(self, customer: Customer) -> None:
        """For every purpose, the event in force is the one with the greatest time,
        the last in the history among equals."""
        state = consent_state(customer)
        assert set(state) == {c.purpose for c in customer.consents}
        for purpose, event in state.items():
            events = [c for c in customer.consents if c.purpose == purpose]
            latest = max(c.at for c in events)
            assert event == [c for c in events if c.at == latest][-1]
            assert may_contact(customer, purpose) is event.granted

    @given(strategies.customers(), st.booleans(), strategies.aware_datetimes())
    def test_newest_event_decides(self, customer: Customer, granted: bool, at: datetime) -> None:
        """An event later than every other decides, whatever came before."""
        latest = max((c.at for c in customer.consents), default=at)
        when = max(latest, at) + timedelta(seconds=1)
        change = grant if granted else withdraw
        updated = change(customer, "profiling", at=when)
        assert may_contact(updated, "profiling") is granted
        assert len(updated.consents) == len(customer.consents) + 1
