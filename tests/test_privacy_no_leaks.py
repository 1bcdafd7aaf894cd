"""custrec's own exception texts and log records never hold unmasked names, phones or emails.

Each test drives an error path with known personal data, then looks for that data, raw, in
``str(exc)`` and in every log record captured meanwhile. The exception objects keep the values
(``.value``) for programs; only the texts, which end up in logs, are masked.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from custrec import Customer, Email, Phone, ValidationError, from_dict, to_dict
from custrec._mask import mask_email, mask_name, mask_phone, mask_text
from custrec.errors import ConflictError, CustrecError, ImportRowError, PermissionDenied
from custrec.io import import_customers
from custrec.privacy import EncryptedStore, KeyRing, RestrictedStore, Role, erase
from custrec.quality import EmailValid, ExactDuplicates, PhoneValid, run_checks
from custrec.store import MemoryStore, open_store

NAME = "欧阳娜娜"
LATIN = "Zhang Sanfeng"
PHONE = "13698765432"
E164 = "+8613698765432"
EMAIL = "ouyang.nana@example.cn"
LOCAL = "ouyang.nana"
DOCUMENT = to_dict(Customer(id="c1"))


def one_word(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text).split()


def secrets_in(text: str) -> list[str]:
    """The pieces of personal data found raw in ``text``."""
    pieces = [NAME, LATIN, "Sanfeng", PHONE, E164[1:], "98765432", "9876 5432", EMAIL, LOCAL]
    return [piece for piece in pieces if piece in text]


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Everything logged at any level while the test runs, as one text."""
    with caplog.at_level(logging.DEBUG):
        yield lambda: "\n".join(
            f"{record.getMessage()} {record.args!r} {record.exc_text or ''}"
            for record in caplog.records
        )


def message_of(action: Callable[[], object], kind: type[Exception] = CustrecError) -> str:
    with pytest.raises(kind) as caught:
        action()
    return str(caught.value)


class TestMasks:
    @pytest.mark.parametrize(
        ("name", "shown"),
        [
            ("张三", "张*"),
            ("张", "张*"),
            ("欧阳娜娜", "欧***"),
            ("张 三", "张*"),
            ("Zhang San", "Z**** S**"),
            ("John", "J***"),
            ("José García", "J*** G*****"),
            ("김민준", "김**"),
            ("", "*"),
        ],
    )
    def test_names(self, name: str, shown: str) -> None:
        """CJK names keep their first character; Latin names each word's first letter."""
        assert mask_name(name) == shown

    @given(
        st.text(min_size=2).filter(
            lambda t: "*" not in "".join(one_word(t)) and len(one_word(t)) == 1
        )
    )
    def test_a_masked_name_never_equals_the_name(self, name: str) -> None:
        """Whatever a one-word name (without stars) is, masking keeps only its first character."""
        shown = mask_name(name)
        assert shown != name
        assert set(shown[1:]) == {"*"}

    def test_one_module_serves_everyone(self) -> None:
        """Findings, redaction and messages use the same masks."""
        from custrec import privacy, quality

        assert privacy.mask_name is quality.mask_name is mask_name
        assert privacy.mask_phone is quality.mask_phone is mask_phone
        assert privacy.mask_email is quality.mask_email is mask_email
        assert privacy.mask_text is quality.mask_text is mask_text


class TestExceptionTexts:
    @pytest.mark.parametrize("field", ["name", "customers[3].name", "姓名", "Customer Name"])
    def test_names_under_a_name_field(self, field: str, logged: Callable[[], str]) -> None:
        """A name refused under a name field or header shows masked; .value keeps it."""
        for name in (NAME, LATIN):
            error = ValidationError(field, name, "bad")
            assert secrets_in(str(error)) == []
            assert mask_name(name) in str(error)
            assert error.value == name
        assert secrets_in(logged()) == []

    @pytest.mark.parametrize("value", [PHONE, E164, "136 9876 5432", "136-9876-5432", 13698765432])
    def test_phones_under_a_phone_field(self, value: object) -> None:
        """A phone in any writing, even a number, shows as 136****5432 under a phone field."""
        for field in ("phones", "phones[1].raw", "e164", "手机号码", "Phone Number", "tel"):
            text = str(ValidationError(field, value, "bad"))
            assert secrets_in(text) == []
            assert "136****5432" in text

    def test_emails_anywhere_even_in_the_reason(self) -> None:
        """An email is masked in the value whatever the field, and in the reason text too."""
        error = ValidationError("notes", f"write to {EMAIL}", f"{EMAIL} is not allowed here")
        assert secrets_in(str(error)) == []
        assert "o***@example.cn" in str(error)

    def test_control_characters_in_a_name(self) -> None:
        """The model's own refusal of a bad name does not repeat the name."""
        text = message_of(lambda: Customer(name=NAME + "\x00"), ValidationError)
        assert secrets_in(text) == []

    def test_two_primary_phones(self) -> None:
        """The refusal of two primary phones shows the phone objects masked."""
        phones = [Phone(PHONE, region="CN", primary=True), Phone("13912345678", primary=True)]
        text = message_of(lambda: Customer(name=NAME, phones=phones), ValidationError)
        assert secrets_in(text) == []
        assert "13912345678" not in text

    @pytest.mark.parametrize(
        "fields",
        [
            {"name": [NAME, LATIN], "emails": [EMAIL]},
            {"name": NAME + "\x00", "phones": [{"raw": PHONE}]},
            {"name": LATIN, "phones": [{"raw": PHONE, "primary": "yes"}]},
            {"phones": PHONE, "name": NAME},
            {"phones": [{"raw": int(PHONE)}], "name": NAME},
            {"emails": [{"address": EMAIL, "primary": "x"}], "name": 5},
        ],
    )
    def test_broken_documents(self, fields: dict[str, Any], logged: Callable[[], str]) -> None:
        """A document refused by the converter shows none of the personal data it holds."""
        text = message_of(lambda: from_dict({**DOCUMENT, **fields}), ValidationError)
        assert secrets_in(text) == []
        assert secrets_in(logged()) == []

    def test_a_whole_document_as_the_value(self) -> None:
        """When the whole input is at fault, its name, phone and email keys are masked."""
        document = {"name": NAME, "contact": {"mobile": PHONE, "email": EMAIL}, "姓名": LATIN}
        text = str(ValidationError("", document, "cannot be read"))
        assert secrets_in(text) == []

    def test_a_record_as_the_value(self) -> None:
        """A record object shown in a message is rendered with its personal fields masked."""
        record = Customer(id="c1", name=NAME, phones=[Phone(PHONE, region="CN")])
        text = str(ValidationError("record", record, "not wanted here"))
        assert secrets_in(text) == []

    @pytest.mark.parametrize(
        ("column", "value"),
        [("姓名", NAME), ("Name", LATIN), ("手机号码", PHONE), ("电话", E164), ("邮箱", EMAIL)],
    )
    def test_import_row_errors(self, column: str, value: str) -> None:
        """Import row errors mask the cell by its column's header."""
        error = ImportRowError(7, column, value, "not accepted")
        assert secrets_in(str(error)) == []
        assert error.value == value

    def test_store_errors_name_ids_not_people(self, logged: Callable[[], str]) -> None:
        """Conflicts, duplicates, permissions: texts hold ids, fields and roles only."""
        store = open_store("memory://")
        customer = store.customers.add(Customer(id="c1", name=NAME, emails=[Email(EMAIL)]))
        store.customers.update(attrs.evolve(customer, notes="x"))
        texts = [message_of(lambda: store.customers.update(customer), ConflictError)]
        texts.append(message_of(lambda: store.customers.add(customer)))
        marketing = RestrictedStore(store, Role("marketing", {"customer.tags": "read"}))
        texts.append(message_of(lambda: marketing.customers.find_by_email(EMAIL), PermissionDenied))
        texts.append(message_of(lambda: erase(store, "c1", actor="dpo", reason=f"asked {NAME}")))
        for text in texts:
            assert secrets_in(text) == []
        assert secrets_in(logged()) == []

    def test_refused_queries_on_sealed_fields(self) -> None:
        """The encrypted store's refusal names the field, not the value asked for."""
        from custrec.expr import F

        store = EncryptedStore(
            MemoryStore(), keys=KeyRing.generate("k"), index_keys=KeyRing.generate("i")
        )
        store.customers.add(Customer(id="c1", name=NAME, phones=[Phone(PHONE, region="CN")]))
        for where in (F("name") == NAME, F("phones").contains(PHONE)):
            assert secrets_in(message_of(lambda w=where: store.customers.count(w))) == []

    @given(
        name=st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2),
        phone=st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
        local=st.from_regex(r"[a-z]{3,12}", fullmatch=True),
    )
    def test_any_person_in_a_broken_document(self, name: str, phone: str, local: str) -> None:
        """For any name, mobile number and address, a refused document shows none of them."""
        email = f"{local}@example.cn"
        document = {
            **DOCUMENT,
            "name": [name],
            "phones": [{"raw": phone, "primary": "maybe"}],
            "emails": [{"address": email}],
        }
        with pytest.raises(ValidationError) as caught:
            from_dict(document)
        text = str(caught.value)
        for secret in (name, phone, phone[3:7], local):
            assert secret not in text


class TestImportRejects:
    def test_reject_reasons_hold_no_personal_data(self, logged: Callable[[], str]) -> None:
        """Rows refused by an import give reasons without the names, phones or emails in them."""
        rows = [
            "客户编号,姓名,手机号码,电子邮件,生日",
            f"1,{NAME},{PHONE},{EMAIL},1990-13-45",
            f"2,{LATIN},1.36988E+10,{EMAIL},",
            f"1,{NAME},{PHONE},{EMAIL},",
        ]
        data = io.BytesIO("\n".join(rows).encode())
        report = import_customers(open_store("memory://"), data, format="csv")
        assert report.rejected >= 2
        for reject in report.rejects:
            assert secrets_in(reject.reason) == []
        assert secrets_in(logged()) == []


class TestFindings:
    def test_finding_texts_are_masked(self, logged: Callable[[], str]) -> None:
        """Validity and duplicate findings show masked values and messages without raw data."""
        records = [
            Customer(id="a", name=NAME, phones=[Phone("1369876", region="CN")]),
            Customer(id="b", name=LATIN, emails=[Email("ouyang.nana(at)example.cn")]),
            Customer(id="c", name=NAME, emails=[Email(EMAIL)], phones=[Phone(PHONE)]),
            Customer(id="d", name=NAME, emails=[Email(EMAIL)], phones=[Phone(PHONE)]),
        ]
        report = run_checks(records, checks=[PhoneValid(), EmailValid(), ExactDuplicates()])
        assert report.findings
        for finding in report.findings:
            shown = f"{finding.message} {finding.value} {finding.fix} {finding!r}"
            assert secrets_in(shown) == [], finding
        assert secrets_in(logged()) == []
