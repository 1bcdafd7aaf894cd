"""Sealing customer fields: AES-256-GCM envelopes and HMAC blind indexes.

A sealed customer, as the wrapped store holds it, has its chosen fields blanked; their
values travel in one envelope kept in the reserved custom field :data:`SEALED_FIELD`::

    cs1.<key id>.<nonce, base64url>.<ciphertext and tag, base64url>

The associated data binds the envelope to the customer's id, so an envelope copied onto
another customer does not open. Contact points of sealed fields are indexed by keyed hashes
(HMAC-SHA256 of the store's own lookup key, ``phone:+86…``, ``email:…``) kept as messaging
handles on the reserved network :data:`INDEX_NETWORK`, which every store already indexes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import attrs

from custrec.errors import DecryptionError, ValidationError
from custrec.model import Customer, Handle
from custrec.privacy._keys import KeyRing
from custrec.serialize import from_dict, to_dict
from custrec.store import contact_keys

if TYPE_CHECKING:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "DEFAULT_SEALED",
    "INDEX_NETWORK",
    "SEALABLE",
    "SEALED_FIELD",
    "Sealer",
]

SEALED_FIELD = "_custrec_sealed"
"""The custom field that holds a sealed customer's envelope; reserved for it."""

INDEX_NETWORK = "custrec_bidx"
"""The handle network that holds blind indexes; reserved for them."""

SEALABLE = frozenset(
    {
        "name",
        "gender",
        "birth_date",
        "occupation",
        "job_title",
        "company",
        "industry",
        "phones",
        "emails",
        "handles",
        "addresses",
        "interests",
        "family",
        "special_needs",
        "notes",
        "external_ids",
        "consents",
        "source",
        "owner",
    }
)
"""Customer fields that can be sealed: those with an empty value to leave in their place."""

DEFAULT_SEALED = (
    "name",
    "phones",
    "emails",
    "handles",
    "addresses",
    "birth_date",
    "family",
    "special_needs",
    "notes",
    "external_ids",
)
"""The fields sealed when none are named: who the person is and how to reach them."""

# Contact-key prefixes (see custrec.store.contact_keys) and the field each comes from.
LOOKUP_FIELDS = {"phone": "phones", "email": "emails", "handle": "handles", "ext": "external_ids"}

_VERSION = "cs1"
_NONCE_BYTES = 12
_FIELDS = attrs.fields_dict(Customer)


def _crypto() -> tuple[type[AESGCM], type[InvalidTag]]:
    try:
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415
    except ImportError:  # pragma: no cover - the crypto extra is part of the test set-up
        raise ImportError(
            "field encryption needs the cryptography package: pip install 'custrec[crypto]'"
        ) from None
    return AESGCM, InvalidTag


def _encrypt(key: bytes, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
    aesgcm, _ = _crypto()
    return aesgcm(key).encrypt(nonce, plaintext, associated)


def _decrypt(key: bytes, nonce: bytes, sealed: bytes, associated: bytes) -> bytes | None:
    """The plaintext, or ``None`` when the tag does not verify (wrong key, changed data)."""
    aesgcm, invalid_tag = _crypto()
    try:
        return aesgcm(key).decrypt(nonce, sealed, associated)
    except invalid_tag:
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _associated_data(customer_id: str) -> bytes:
    return f"custrec:{_VERSION}:customer:{customer_id}".encode()


def check_fields(fields: Collection[str]) -> tuple[str, ...]:
    """Return the fields to seal, in a fixed order, refusing any that cannot be sealed."""
    if isinstance(fields, str):
        raise ValidationError("fields", fields, "expected a list of field names, not one text")
    chosen = tuple(dict.fromkeys(fields))
    if not chosen:
        raise ValidationError("fields", fields, "name at least one field to seal")
    for name in chosen:
        if name not in SEALABLE:
            raise ValidationError(
                "fields",
                name,
                f"cannot be sealed; sealable fields are {', '.join(sorted(SEALABLE))}",
            )
    return tuple(sorted(chosen))


class Sealer:
    """Seals and opens customers with two key rings; the rest of the wrapper builds on it.

    Args:
        keys: Keys for the envelopes (AES-256-GCM).
        index_keys: Keys for the blind indexes (HMAC-SHA256); separate from ``keys``.
        fields: The customer fields to seal.
    """

    def __init__(self, keys: KeyRing, index_keys: KeyRing, fields: Collection[str]) -> None:
        for name, ring in (("keys", keys), ("index_keys", index_keys)):
            if not isinstance(ring, KeyRing):
                raise ValidationError(name, type(ring).__name__, "expected a KeyRing")
        if set(keys.keys.values()) & set(index_keys.keys.values()):
            raise ValidationError(
                "index_keys", "shared key", "the index keys must differ from the sealing keys"
            )
        self.keys = keys
        self.index_keys = index_keys
        self.fields = check_fields(fields)
        self.indexed = frozenset(
            prefix for prefix, field in LOOKUP_FIELDS.items() if field in self.fields
        )

    # -- blind indexes ----------------------------------------------------------------------

    def tags(self, lookup_key: str) -> list[str]:
        """The blind-index values of a lookup key under every index key, the primary first."""
        order = [
            self.index_keys.primary,
            *sorted(set(self.index_keys.keys) - {self.index_keys.primary}),
        ]
        return [self._tag(self.index_keys.keys[key_id], lookup_key) for key_id in order]

    @staticmethod
    def _tag(key: bytes, lookup_key: str) -> str:
        return hmac.new(key, lookup_key.encode(), hashlib.sha256).hexdigest()

    def _index(self, customer: Customer) -> tuple[Handle, ...]:
        key = self.index_keys.primary_key
        found = sorted(
            {
                self._tag(key, lookup_key)
                for lookup_key in contact_keys(customer)
                if lookup_key.split(":", 1)[0] in self.indexed
            }
        )
        return tuple(Handle(INDEX_NETWORK, tag) for tag in found)

    # -- sealing ----------------------------------------------------------------------------

    def seal(self, customer: object) -> Customer:
        """Return the customer as the wrapped store keeps it: fields sealed, indexes added.

        Raises:
            ValidationError: Not a customer, or it uses the reserved custom field or network.
        """
        if not isinstance(customer, Customer):
            raise ValidationError(
                "record", type(customer).__name__, "this repository holds Customer records"
            )
        if SEALED_FIELD in customer.custom:
            raise ValidationError(
                f"custom.{SEALED_FIELD}", "reserved", "this custom field holds sealed data"
            )
        if any(str(handle.network) == INDEX_NETWORK for handle in customer.handles):
            raise ValidationError("handles", INDEX_NETWORK, "this network holds blind indexes")
        document = to_dict(customer)
        payload = {name: document[name] for name in self.fields}
        plaintext = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = _encrypt(self.keys.primary_key, nonce, plaintext, _associated_data(customer.id))
        envelope = f"{_VERSION}.{self.keys.primary}.{_b64(nonce)}.{_b64(sealed)}"
        changes: dict[str, Any] = {name: _FIELDS[name].default for name in self.fields}
        kept = () if "handles" in self.fields else customer.handles
        changes["handles"] = (*kept, *self._index(customer))
        changes["custom"] = {**customer.custom, SEALED_FIELD: envelope}
        return attrs.evolve(customer, **changes)

    def _payload(self, stored: Customer, envelope: object) -> tuple[str, dict[str, Any]]:
        parts = envelope.split(".") if isinstance(envelope, str) else []
        if len(parts) != 4 or parts[0] != _VERSION:
            raise DecryptionError("customer", stored.id, None, "the sealed data is malformed")
        _, key_id, nonce, sealed = parts
        key = self.keys.key(key_id)
        if key is None:
            raise DecryptionError("customer", stored.id, key_id, "the key ring holds no such key")
        try:
            plaintext = _decrypt(key, _unb64(nonce), _unb64(sealed), _associated_data(stored.id))
        except (ValueError, binascii.Error):  # bad base64, a nonce of the wrong size
            plaintext = None
        if plaintext is None:
            raise DecryptionError(
                "customer", stored.id, key_id, "wrong key, or the data or its id was changed"
            )
        payload = json.loads(plaintext)
        if not isinstance(payload, dict):
            raise DecryptionError("customer", stored.id, key_id, "the sealed data is malformed")
        return key_id, payload

    def open(self, stored: Customer) -> Customer:
        """Return the customer a sealed record holds (a record never sealed comes back as is).

        Raises:
            DecryptionError: The key is not in the ring, or the data or its id was changed.
        """
        envelope = stored.custom.get(SEALED_FIELD)
        if envelope is None:
            return stored
        _, payload = self._payload(stored, envelope)
        return self._opened(stored, payload)

    @staticmethod
    def _opened(stored: Customer, payload: dict[str, Any]) -> Customer:
        document = to_dict(stored)
        document["handles"] = [
            handle for handle in document["handles"] if handle["network"] != INDEX_NETWORK
        ]
        document.update(payload)
        document["custom"] = {k: v for k, v in document["custom"].items() if k != SEALED_FIELD}
        return from_dict(document, Customer)

    def is_current(self, stored: Customer) -> bool:
        """Whether a stored customer is sealed as this sealer would seal it now.

        Raises:
            DecryptionError: The record cannot be opened with this ring.
        """
        envelope = stored.custom.get(SEALED_FIELD)
        if envelope is None:
            return False
        key_id, payload = self._payload(stored, envelope)
        if key_id != self.keys.primary or tuple(sorted(payload)) != self.fields:
            return False
        indexes = tuple(h for h in stored.handles if str(h.network) == INDEX_NETWORK)
        return indexes == self._index(self._opened(stored, payload))
