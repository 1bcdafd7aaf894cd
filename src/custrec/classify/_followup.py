"""Follow-ups (定期回访): who is due for contact, by the cadence of their segments."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs

from custrec import config
from custrec.classify._classify import LABELS_COLLECTION, compute_facts
from custrec.store import Store
from custrec.template import FollowUpPolicy, Template

__all__ = ["FollowUp", "due_follow_ups"]


@attrs.frozen
class FollowUp:
    """A customer due for contact.

    Attributes:
        customer_id: The customer.
        name: Their name, for lists people read.
        cadence_days: How often they should be contacted.
        segments: The segments that set the cadence (empty when the default applied).
        last_contact: Their last interaction, or ``None`` (then the cadence counts from
            when the record was made).
        due: The day contact was due.
        overdue_days: Days past ``due`` (0 when due today).
    """

    customer_id: str
    name: str | None
    cadence_days: int
    segments: tuple[str, ...]
    last_contact: datetime | None
    due: date
    overdue_days: int


def due_follow_ups(
    store: Store,
    as_of: date | None = None,
    *,
    template: Template | None = None,
    policy: FollowUpPolicy | None = None,
) -> list[FollowUp]:
    """List customers whose last contact is older than their segment's cadence.

    Segments come from each customer's stored type (see ``Classification.run``); when a
    customer is in several segments with a cadence, the shortest applies; customers in
    none get the default cadence (or none, when the policy has no default).

    Args:
        store: The store.
        as_of: The day; today in the configured zone when ``None``.
        template: Supplies the policy and currency.
        policy: The cadence policy, when no template is given.

    Returns:
        The due follow-ups, most overdue first (then by customer id).
    """
    if policy is None:
        policy = template.follow_up if template is not None else FollowUpPolicy()
    zone = config.get().zone
    as_of = as_of or datetime.now(zone).date()
    currency = template.currency if template is not None else "CNY"
    labels = store.collection(LABELS_COLLECTION)
    due: list[FollowUp] = []
    for facts in compute_facts(store, as_of, currency=currency):
        customer = facts.customer
        stored = labels.get(customer.id)
        segments = (
            [f"{name}:{item['label']}" for name, item in stored["labels"].items()] if stored else []
        )
        timed = sorted((policy.segments[s], s) for s in segments if s in policy.segments)
        if timed:
            cadence, setting = timed[0][0], tuple(s for days, s in timed if days == timed[0][0])
        elif policy.default_days is not None:
            cadence, setting = policy.default_days, ()
        else:
            continue
        last = facts.get("last_contact")
        since = (last or customer.created_at).astimezone(zone).date()
        due_day = since + timedelta(days=cadence)
        if due_day <= as_of:
            overdue = (as_of - due_day).days
            item = FollowUp(customer.id, customer.name, cadence, setting, last, due_day, overdue)
            due.append(item)
    due.sort(key=lambda item: (-item.overdue_days, item.customer_id))
    return due
