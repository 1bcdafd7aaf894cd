"""Masking of single values: phones, emails, names, free identifiers, addresses.

Each function returns a shortened, starred form that lets a person recognise a value they
already know (``138****5678``) without giving it away to one who does not. The text masks
live in :mod:`custrec._mask`, shared with findings and error messages; here they are applied
to the model's value objects.
"""

from __future__ import annotations

from custrec._mask import mask_email, mask_name, mask_phone, mask_text
from custrec.model import Address, Email, Handle, Phone

__all__ = [
    "mask_address",
    "mask_email",
    "mask_email_value",
    "mask_handle",
    "mask_name",
    "mask_phone",
    "mask_phone_value",
    "mask_text",
]


def mask_phone_value(phone: Phone) -> Phone:
    """Return a :class:`~custrec.model.Phone` whose number is masked.

    The masked phone has no E.164 form and is not valid: it can no longer be dialled or
    looked up. Label, region and the primary mark are kept.
    """
    shown = mask_phone(phone.e164 or phone.raw)
    return Phone(
        shown,
        label=phone.label,
        primary=phone.primary,
        region=phone.region,
        _e164=None,
        _valid=False,
    )


def mask_email_value(email: Email) -> Email:
    """Return an :class:`~custrec.model.Email` whose address is masked (see :func:`mask_email`)."""
    return Email(mask_email(email.address), label=email.label, primary=email.primary)


def mask_handle(handle: Handle) -> Handle:
    """Return a messaging handle whose id on the network is masked; the network is kept."""
    return Handle(
        handle.network, mask_text(handle.handle), label=handle.label, primary=handle.primary
    )


def mask_address(address: Address) -> Address:
    """Return an address cut to city level: no district, street or postal code."""
    return Address(
        country=address.country,
        province=address.province,
        city=address.city,
        label=address.label,
        primary=address.primary,
    )
