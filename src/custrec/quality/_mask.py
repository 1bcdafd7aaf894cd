"""Masking personal data shown in findings (``138****5678``, ``z***@abc.com``, ``张*``).

The masks live in :mod:`custrec._mask`, shared with redaction and error messages; this
module gives the quality package its names for them.
"""

from __future__ import annotations

from custrec._mask import PERSONAL_FIELDS, mask, mask_email, mask_name, mask_phone, mask_text

__all__ = ["PERSONAL_FIELDS", "mask", "mask_email", "mask_name", "mask_phone", "mask_text"]
