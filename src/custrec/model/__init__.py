"""The domain: customers, their history, and the value types records are built from.

Everything here is a frozen attrs class, validated when it is built: invalid input raises
:class:`~custrec.errors.ValidationError` naming the field, the value and the reason. Change a
record with :func:`attrs.evolve` (or :func:`evolve`) and store the result.
"""

from custrec.model._choices import (
    AfterSalesKind,
    Channel,
    ConsentPurpose,
    CustomerKind,
    Direction,
    FeedbackTopic,
    Gender,
    HandleNetwork,
    Other,
    Outcome,
    PaymentMethod,
    SalesChannel,
    TransactionStatus,
    open_choice,
)
from custrec.model._consent import Consent
from custrec.model._contact import (
    Address,
    Email,
    Handle,
    Phone,
    normalize_email,
    normalize_phone,
    primary_of,
)
from custrec.model._customer import CUSTOM_KEY_PATTERN, Customer, CustomValue, age_on
from custrec.model._feedback import Feedback, nps_class
from custrec.model._frozenmap import FrozenMap
from custrec.model._ids import new_id
from custrec.model._interaction import Interaction
from custrec.model._money import Money, currency_exponent
from custrec.model._time import from_excel_serial, now, parse_date, parse_datetime
from custrec.model._transaction import AfterSalesEvent, LineItem, Transaction

Record = Customer | Interaction | Transaction | Feedback
"""Any of the four record types a store keeps."""

HistoryRecord = Interaction | Transaction | Feedback
"""A record of something that happened with a customer."""

__all__ = [
    "CUSTOM_KEY_PATTERN",
    "Address",
    "AfterSalesEvent",
    "AfterSalesKind",
    "Channel",
    "Consent",
    "ConsentPurpose",
    "CustomValue",
    "Customer",
    "CustomerKind",
    "Direction",
    "Email",
    "Feedback",
    "FeedbackTopic",
    "FrozenMap",
    "Gender",
    "Handle",
    "HandleNetwork",
    "HistoryRecord",
    "Interaction",
    "LineItem",
    "Money",
    "Other",
    "Outcome",
    "PaymentMethod",
    "Phone",
    "Record",
    "SalesChannel",
    "Transaction",
    "TransactionStatus",
    "age_on",
    "currency_exponent",
    "from_excel_serial",
    "new_id",
    "normalize_email",
    "normalize_phone",
    "now",
    "nps_class",
    "open_choice",
    "parse_date",
    "parse_datetime",
    "primary_of",
]
