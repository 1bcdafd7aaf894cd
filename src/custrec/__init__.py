"""custrec: customer records as a library.

The package face re-exports the names most programs need; everything is defined in the
sub-packages (:mod:`custrec.model`, :mod:`custrec.serialize`, :mod:`custrec.store`,
:mod:`custrec.errors`…).
"""

from custrec import config
from custrec.errors import (
    ConflictError,
    CustrecError,
    DuplicateIdError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from custrec.model import (
    Address,
    AfterSalesEvent,
    AfterSalesKind,
    Channel,
    Consent,
    ConsentPurpose,
    Customer,
    CustomerKind,
    Direction,
    Email,
    Feedback,
    FeedbackTopic,
    Gender,
    Handle,
    HandleNetwork,
    Interaction,
    LineItem,
    Money,
    Other,
    Outcome,
    PaymentMethod,
    Phone,
    SalesChannel,
    Transaction,
    TransactionStatus,
    parse_date,
    parse_datetime,
)
from custrec.serialize import from_dict, from_json, to_dict, to_json
from custrec.store import Store, open_store

__all__ = [
    "Address",
    "AfterSalesEvent",
    "AfterSalesKind",
    "Channel",
    "ConflictError",
    "Consent",
    "ConsentPurpose",
    "Customer",
    "CustomerKind",
    "CustrecError",
    "Direction",
    "DuplicateIdError",
    "Email",
    "Feedback",
    "FeedbackTopic",
    "Gender",
    "Handle",
    "HandleNetwork",
    "Interaction",
    "LineItem",
    "Money",
    "NotFoundError",
    "Other",
    "Outcome",
    "PaymentMethod",
    "Phone",
    "SalesChannel",
    "Store",
    "StoreError",
    "Transaction",
    "TransactionStatus",
    "ValidationError",
    "config",
    "from_dict",
    "from_json",
    "open_store",
    "parse_date",
    "parse_datetime",
    "to_dict",
    "to_json",
]

__version__ = "0.1.0.dev0"
