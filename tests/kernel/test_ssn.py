"""The one SSN rule (kernel/ssn.py): the per-record check and the vectorized one give the same answer."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from cdrflow.kernel.ssn import Ssn, SsnDigits, check_ssn, dashed, mask, polars_ok

NEVER_ISSUED = ["000123456", "666123456", "900123456", "999999999", "123001234", "123450000"]
NOT_NINE_DIGITS = ["12345678", "1234567890", "12345678a", "١٢٣٤٥٦٧٨٩", "123456789\n", " 123456789",
                   "123-45-6789", ""]
ISSUED = ["001010001", "123456789", "665999999", "667010001", "899999999"]


def _check(v: str) -> bool:
    try:
        check_ssn(v)
    except ValueError:
        return False
    return True


def _vectorized(values: list[str | None]) -> list[bool | None]:
    return pl.DataFrame({"ssn": values}, schema={"ssn": pl.String}).select(polars_ok(pl.col("ssn")))["ssn"].to_list()


def test_the_rule() -> None:
    assert all(_check(v) for v in ISSUED)
    assert not any(_check(v) for v in NEVER_ISSUED + NOT_NINE_DIGITS)


@pytest.mark.parametrize("ssn", NEVER_ISSUED + NOT_NINE_DIGITS)
def test_no_message_repeats_the_ssn_or_its_area(ssn: str) -> None:
    with pytest.raises(ValueError) as info:
        check_ssn(ssn)
    text = str(info.value)
    assert not ssn or ssn not in text
    assert text in MESSAGES  # one message per way of being wrong: nothing of this SSN's digits is in it


MESSAGES = {
    "ssn must be 9 digits",
    "ssn area number (first 3 digits) is never issued (000, 666 and 900-999)",
    "ssn group number (digits 4-5) 00 is never issued",
    "ssn serial number (last 4 digits) 0000 is never issued",
}


def test_the_vectorized_rule_is_the_rule_on_fixed_values() -> None:
    values: list[str | None] = [*ISSUED, *NEVER_ISSUED, *NOT_NINE_DIGITS, None]
    assert _vectorized(values) == [_check(v) for v in values[:-1]] + [None]


_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)
_edges = st.builds(lambda a, g, s: a + g + s, st.sampled_from(["000", "001", "665", "666", "667", "899", "900", "999"]),
                   st.sampled_from(["00", "01", "99"]), st.sampled_from(["0000", "0001", "9999"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_digits, _edges, st.text(max_size=11)), min_size=1, max_size=50))
def test_the_vectorized_rule_is_the_rule(values: list[str]) -> None:
    assert _vectorized(list(values)) == [_check(v) for v in values]


def test_the_pydantic_types() -> None:
    class Typed(BaseModel):
        ssn: Ssn

    class File(BaseModel):
        ssn: SsnDigits

    assert Typed(ssn="123-45-6789").ssn == "123456789"
    assert File(ssn="123456789").ssn == "123456789"
    for bad in ("123-45-6789", "900123456"):
        with pytest.raises(ValidationError):
            File(ssn=bad)
    with pytest.raises(ValidationError):
        Typed(ssn="900-12-3456")


def test_mask_and_dashed() -> None:
    assert mask("123456789") == "***-**-6789" and mask("123-45-6789") == "***-**-6789"
    assert mask("١٢٣٤٥٦٧٨٩") == mask(None) == mask("12345") == "***-**-****"
    assert dashed("123456789") == "123-45-6789"


@pytest.mark.parametrize("changes", [{"ssn": "900456789"}, {"ssn": 123456789}, {"ssn": "12345678"},
                                     {"ssn": "123456789", "any_codes": "00Y", "other_program_issue": False}])
def test_an_input_error_never_repeats_the_ssn(changes: dict[str, object]) -> None:
    """A calc's input error names the field and what is wrong; an SSN, even inside a whole record, is not
    repeated (engine.calc.NOT_REPEATED; interpretations §79)."""
    from cdrflow.engine.errors import InputError
    from cdrflow.policy.calcs import REGISTRY

    from ..dbfixtures import returned_mailer

    rec = {**returned_mailer("M1", "123456789"), **changes}
    with pytest.raises(InputError) as info:
        REGISTRY["mailer-decision"].run(rec)
    text = str(info.value)
    assert str(changes["ssn"]) not in text and "1234567" not in text
