"""Key rings: the named keys an application hands to :class:`~custrec.privacy.EncryptedStore`."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

import attrs

from custrec.errors import ValidationError
from custrec.model import FrozenMap

__all__ = ["KEY_BYTES", "KeyRing"]

KEY_BYTES = 32
"""Length of every key in bytes: AES-256 for sealing, 256-bit HMAC keys for blind indexes."""

# Key ids are written into every envelope, between dots: keep them short and plain.
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _to_keys(value: Mapping[str, bytes]) -> FrozenMap[str, bytes]:
    if not isinstance(value, Mapping) or not value:
        raise ValidationError("keys", type(value).__name__, "expected a mapping of key id to key")
    for key_id, key in value.items():
        if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
            raise ValidationError("keys", key_id, "a key id is 1-64 letters, digits, '_' or '-'")
        if not isinstance(key, bytes) or len(key) != KEY_BYTES:
            # The key itself is never shown: only what is wrong with it.
            shown = f"{type(key).__name__} of length {len(key) if isinstance(key, bytes) else '?'}"
            raise ValidationError(f"keys[{key_id}]", shown, f"a key is {KEY_BYTES} random bytes")
    return FrozenMap(dict(value))


@attrs.frozen
class KeyRing:
    """Named keys: one primary for new writes, the others kept to read older data.

    The application supplies the keys (from a key-management service, a secrets file…);
    custrec never stores them. Rotate by adding a new primary (:meth:`rotated`), re-sealing
    everything (:func:`~custrec.privacy.reencrypt`), then dropping the old key
    (:meth:`without`). The keys never appear in ``repr``.

    Attributes:
        keys: Key id (1-64 letters, digits, ``_``, ``-``) to a key of 32 random bytes.
        primary: The id of the key new writes use; one of ``keys``.
    """

    keys: FrozenMap[str, bytes] = attrs.field(converter=_to_keys, repr=False)
    primary: str = attrs.field()

    @primary.validator
    def _check_primary(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in self.keys:
            raise ValidationError("primary", value, f"not one of the key ids {sorted(self.keys)}")

    @classmethod
    def generate(cls, key_id: str = "k1") -> KeyRing:
        """Return a ring holding one new random key, its primary (for tests and first set-up).

        Args:
            key_id: The new key's id.

        Returns:
            The ring; keep ``ring.keys[key_id]`` somewhere safe, or the data is lost.
        """
        return cls({key_id: secrets.token_bytes(KEY_BYTES)}, key_id)

    def key(self, key_id: str) -> bytes | None:
        """Return the key with ``key_id``, or ``None`` when the ring does not hold it."""
        key: bytes | None = self.keys.get(key_id)
        return key

    @property
    def primary_key(self) -> bytes:
        """The key new writes use."""
        return self.keys[self.primary]

    def rotated(self, key_id: str, key: bytes) -> KeyRing:
        """Return a ring with a new primary key; the current keys stay for reading.

        Raises:
            ValidationError: The id is taken or malformed, or the key is not 32 bytes.
        """
        if key_id in self.keys:
            raise ValidationError("key_id", key_id, "the ring holds a key with this id already")
        return KeyRing({**self.keys, key_id: key}, key_id)

    def without(self, key_id: str) -> KeyRing:
        """Return a ring without the key ``key_id`` (after :func:`reencrypt` moved off it).

        Raises:
            ValidationError: ``key_id`` is the primary key or is not in the ring.
        """
        if key_id == self.primary:
            raise ValidationError("key_id", key_id, "the primary key cannot be dropped")
        if key_id not in self.keys:
            raise ValidationError("key_id", key_id, "the ring holds no key with this id")
        return KeyRing({k: v for k, v in self.keys.items() if k != key_id}, self.primary)
