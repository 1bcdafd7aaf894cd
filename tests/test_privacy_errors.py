"""Error messages mask phones and emails; the exception objects keep the values."""

from __future__ import annotations

import pytest

from custrec import Customer, Email, Phone, ValidationError, from_dict
from custrec.errors import ImportRowError


class TestMessagesMaskPersonalData:
    @pytest.mark.parametrize("field", ["raw", "phones", "phones[2].raw", "e164", "phone"])
    def test_phone_fields(self, field: str) -> None:
        """A phone under a phone field shows only its ends; .value is untouched."""
        error = ValidationError(field, "138 1234 5678", "bad")
        assert "138****5678" in str(error)
        assert "1234" not in str(error)
        assert error.value == "138 1234 5678"

    def test_email_anywhere(self) -> None:
        """An email address is masked whatever the field, even inside a larger value."""
        error = ValidationError("", {"contact": "zhangsan@abc.com"}, "bad document")
        assert "zhangsan" not in str(error)
        assert "z***@abc.com" in str(error)

    def test_other_fields_keep_digits(self) -> None:
        """Dates, amounts and ids outside phone fields are shown as given."""
        assert "2024-13-45" in str(ValidationError("at", "2024-13-45", "not a date"))
        assert "1234567890" in str(ValidationError("id", "1234567890", "bad id"))

    def test_import_row_column(self) -> None:
        """An import row error under a phone column masks the cell."""
        error = ImportRowError(7, "手机号码", "13812345678 转 8", "not a phone")
        assert "13812345678" not in str(error)
        assert error.value == "13812345678 转 8"

    def test_real_model_errors(self) -> None:
        """Errors raised by the model and the converter carry no full phone or email."""
        phone = Phone("13812345678", region="CN", primary=True)
        with pytest.raises(ValidationError) as caught:
            Customer(phones=[phone, Phone("13912345678", region="CN", primary=True)])
        assert "13812345678" not in str(caught.value)
        document = {"type": "customer", "emails": [{"address": "li@abc.com", "primary": "x"}]}
        with pytest.raises(ValidationError) as caught:
            from_dict(document)
        assert "li@abc.com" not in str(caught.value)
        assert Email("li@abc.com").address == "li@abc.com"

    def test_a_huge_value_gives_a_short_masked_message(self) -> None:
        """A cell of a million characters is shown by its start, emails in it masked."""
        value = "zhangsan@abc.com " + "a" * 1_000_000
        error = ValidationError("notes", value, "too long")
        assert len(str(error)) < 200
        assert "zhangsan@" not in str(error)
        assert error.value == value
