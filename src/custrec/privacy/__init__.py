"""Privacy: redaction, consent, erasure, subject export, retention, access and encryption.

Everything here works over any :class:`~custrec.store.Store`; what it promises, and what it
does not, is written down in ``docs/privacy.md``.
"""

from custrec.errors import DecryptionError
from custrec.privacy._access import RestrictedRepository, RestrictedStore
from custrec.privacy._consent import (
    CHANNEL_PURPOSES,
    consent_for,
    consent_state,
    grant,
    may_contact,
    withdraw,
)
from custrec.privacy._crypto import EncryptedCustomers, EncryptedStore, reencrypt
from custrec.privacy._erase import (
    ERASE_COLLECTIONS,
    TOMBSTONES,
    Tombstone,
    erase,
    is_erased,
    purge,
    tombstone,
)
from custrec.privacy._export import SUBJECT_EXPORT_FORMAT, subject_export, write_subject_export
from custrec.privacy._keys import KEY_BYTES, KeyRing
from custrec.privacy._mask import (
    mask_address,
    mask_email,
    mask_handle,
    mask_name,
    mask_phone,
    mask_text,
)
from custrec.privacy._redact import REMOVED_TEXT, RedactionPolicy, Treatment, redact, redact_dict
from custrec.privacy._retention import (
    RETENTION_RUNS,
    RetentionPlan,
    RetentionRule,
    apply_retention,
    retention_plan,
)
from custrec.privacy._roles import ALWAYS_VISIBLE, Access, Role
from custrec.privacy._seal import DEFAULT_SEALED, INDEX_NETWORK, SEALABLE, SEALED_FIELD

__all__ = [
    "ALWAYS_VISIBLE",
    "CHANNEL_PURPOSES",
    "DEFAULT_SEALED",
    "ERASE_COLLECTIONS",
    "INDEX_NETWORK",
    "KEY_BYTES",
    "REMOVED_TEXT",
    "RETENTION_RUNS",
    "SEALABLE",
    "SEALED_FIELD",
    "SUBJECT_EXPORT_FORMAT",
    "TOMBSTONES",
    "Access",
    "DecryptionError",
    "EncryptedCustomers",
    "EncryptedStore",
    "KeyRing",
    "RedactionPolicy",
    "RestrictedRepository",
    "RestrictedStore",
    "RetentionPlan",
    "RetentionRule",
    "Role",
    "Tombstone",
    "Treatment",
    "apply_retention",
    "consent_for",
    "consent_state",
    "erase",
    "grant",
    "is_erased",
    "mask_address",
    "mask_email",
    "mask_handle",
    "mask_name",
    "mask_phone",
    "mask_text",
    "may_contact",
    "purge",
    "redact",
    "redact_dict",
    "reencrypt",
    "retention_plan",
    "subject_export",
    "tombstone",
    "withdraw",
    "write_subject_export",
]
