"""The three scanlines of Form SSA-455-OCR-SM (DI 40502.001B.8): layout, round trips, rejections."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cdrflow.engine.months import Month
from cdrflow.forms import (
    LAYOUTS,
    Scanline1,
    Scanline2,
    Scanline3,
    ScanlineError,
    Scanlines,
    Sfic,
    SficError,
)
from cdrflow.forms.scanlines import EXAMPLE, b8_score

from ..strategies import ISSUED_SSNS

MODELS: dict[int, type[Scanline1] | type[Scanline2] | type[Scanline3]] = {1: Scanline1, 2: Scanline2, 3: Scanline3}

# --------------------------------------------------------------------------- strategies (valid values only)


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=string.digits, min_size=n, max_size=n)


UPPER_DIGITS = string.ascii_uppercase + string.digits


@st.composite
def scanline1s(draw: st.DrawFn) -> Scanline1:
    birth = draw(st.integers(1, 9999))
    return Scanline1(
        ssn=draw(ISSUED_SSNS),  # the one SSN rule: never-issued numbers are refused (interpretations §77)
        bic_or_id=draw(st.text(alphabet=UPPER_DIGITS, min_size=1, max_size=2)),
        birth_year=birth,
        prior_cdr_year=draw(st.none() | st.integers(birth, 9999)),
        primary_dx=draw(st.none() | digits(4)),
        secondary_dx=draw(st.none() | digits(4)),
    )


sfics = st.builds(
    Sfic,
    request=st.sampled_from(["FIRST", "SECOND"]),
    title=st.sampled_from(["T2", "T2/16", "T16"]),
    non_english=st.booleans(),
)
months = st.builds(Month, st.integers(1, 9999), st.integers(1, 12))


@st.composite
def scanline2s(draw: st.DrawFn) -> Scanline2:
    sfic = draw(sfics)
    return Scanline2(
        mdr=draw(st.sampled_from([None, *string.ascii_uppercase, "3", "5", "7"])),
        concurrent=sfic.title == "T2/16",
        profile=draw(st.sampled_from(["H", "M", "L"])),
        score=draw(st.none() | st.integers(0, 9999)),
        report_period=draw(months),
        sfic=sfic,
        pc=draw(st.integers(1, 8)),
        dds=draw(st.text(alphabet=UPPER_DIGITS, min_size=3, max_size=3)),
        fo=draw(st.text(alphabet=UPPER_DIGITS, min_size=3, max_size=3)),
    )


@st.composite
def cities(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from(string.ascii_uppercase))
    rest = draw(st.text(alphabet=string.ascii_uppercase + " .'-", max_size=19))
    return (first + rest).rstrip(" ")


scanline3s = st.builds(
    Scanline3,
    fo_city=cities(),
    fo_state=st.text(alphabet=string.ascii_uppercase, min_size=2, max_size=2),
    fo_zip=digits(5) | digits(9),
)
scanline_sets = st.builds(Scanlines, line1=scanline1s(), line2=scanline2s(), line3=scanline3s)
any_scanline = st.one_of(scanline1s(), scanline2s(), scanline3s)


# --------------------------------------------------------------------------- the layout


def test_every_b8_field_is_in_the_layout() -> None:
    # Scanline 1 has fields 1-5 (field 5 = primary and secondary diagnosis), 2 has 1-9, 3 has 1-3.
    for line, count in ((1, 5), (2, 9), (3, 3)):
        assert sorted({spec.b8_field for spec in LAYOUTS[line].fields}) == list(range(1, count + 1))
    names = {line: [spec.name for spec in layout.fields] for line, layout in LAYOUTS.items()}
    assert names == {
        1: ["ssn", "bic_or_id", "birth_year", "prior_cdr_year", "primary_dx", "secondary_dx"],
        2: ["mdr", "concurrent", "profile", "score", "report_period", "sfic", "pc", "dds", "fo"],
        3: ["fo_city", "fo_state", "fo_zip"],
    }
    for layout in LAYOUTS.values():
        for spec in layout.fields:
            assert spec.citation.startswith("DI 40502.001B.8")
            assert spec.description


def test_fields_are_in_b8_order_and_contiguous_with_one_space_between() -> None:
    for layout in LAYOUTS.values():
        assert [s.b8_field for s in layout.fields] == sorted(s.b8_field for s in layout.fields)
        assert layout.fields[0].start == 1
        for left, right in zip(layout.fields, layout.fields[1:], strict=False):
            assert right.start == left.end + 2
        assert layout.length == layout.fields[-1].end


def test_documented_columns() -> None:
    spans = {(line, s.name): (s.start, s.end) for line, layout in LAYOUTS.items() for s in layout.fields}
    assert spans[1, "ssn"] == (1, 9)
    assert spans[1, "secondary_dx"] == (29, 32)
    assert spans[2, "mdr"] == (1, 1)  # "field 1 of scanline 2" (DI 40502.001G.5)
    assert spans[2, "profile"] == (5, 5)  # "the third field of the second scanline" (DI 40502.001G.3)
    assert spans[2, "report_period"] == (12, 17)
    assert spans[2, "sfic"] == (19, 21)
    assert spans[3, "fo_city"] == (1, 20)
    assert spans[3, "fo_zip"] == (25, 33)
    assert [LAYOUTS[n].length for n in (1, 2, 3)] == [32, 31, 33]


def test_example_encodes_to_the_documented_lines() -> None:
    assert EXAMPLE.encode() == (
        "123456789 A  1958 2001 4140 2500",
        "7 N L 1234 200601 F2E 3 S01 A12",
        "WILKES-BARRE         PA 187020000",
    )
    line2 = EXAMPLE.encode()[1]
    assert line2[4] == "L"  # profile in column 5
    assert Scanlines.decode(*EXAMPLE.encode()) == EXAMPLE


def test_blank_optional_fields_decode_to_none() -> None:
    line = Scanline1.decode("123450001 DI 1940           2500")
    assert (line.bic_or_id, line.prior_cdr_year, line.primary_dx, line.secondary_dx) == ("DI", None, None, "2500")
    assert Scanline2.decode("  N H 9999 200810 S6N 8 ABC 123").mdr is None
    assert Scanline3.decode("ST. LOUIS            MO 63101    ").fo_zip == "63101"


def test_zip_plus_4_with_hyphen_is_accepted_on_input() -> None:
    line = Scanline3(fo_city="O'FALLON", fo_state="MO", fo_zip="63366-1234")
    assert line.fo_zip == "633661234"
    assert line.encode() == "O'FALLON             MO 633661234"


# --------------------------------------------------------------------------- round trips


@given(any_scanline)
def test_scanline_round_trip(line: Scanline1 | Scanline2 | Scanline3) -> None:
    text = line.encode()
    layout = line.LAYOUT
    assert len(text) == layout.length
    assert all(text[c - 1] == " " for c in layout.separator_columns)
    decoded = type(line).decode(text)
    assert decoded == line
    assert decoded.encode() == text


@given(scanline_sets)
def test_scanlines_round_trip(lines: Scanlines) -> None:
    encoded = lines.encode()
    assert isinstance(encoded, tuple)
    assert len(encoded) == 3
    assert Scanlines.decode(*encoded) == lines


@given(sfics)
def test_sfic_round_trip(sfic: Sfic) -> None:
    assert Sfic.parse(sfic.code) == sfic
    assert str(sfic) == sfic.code
    assert Sfic.model_validate(sfic.code) == sfic


def test_all_twelve_sfic_codes() -> None:
    codes = [r + t + lang for r in "FS" for t in "2C6" for lang in "EN"]
    decoded = {code: Sfic.parse(code) for code in codes}
    assert len(set(decoded.values())) == 12
    assert decoded["SCN"] == Sfic(request="SECOND", title="T2/16", non_english=True)
    assert decoded["F6E"] == Sfic(request="FIRST", title="T16", non_english=False)
    assert decoded["S2E"].title == "T2"
    assert all(Sfic.parse(code).code == code for code in codes)
    assert {code for code, sfic in decoded.items() if sfic.concurrent} == {"FCE", "FCN", "SCE", "SCN"}


# --------------------------------------------------------------------------- rejections


@given(any_scanline, st.data())
def test_a_bad_character_in_a_field_is_reported_against_that_field(
    line: Scanline1 | Scanline2 | Scanline3, data: st.DataObject
) -> None:
    # A lowercase letter is valid in no field, so the error must name the field it was put in.
    text = line.encode()
    spec = data.draw(st.sampled_from(line.LAYOUT.fields))
    column = data.draw(st.integers(spec.start, spec.end))
    bad = text[: column - 1] + "a" + text[column:]
    with pytest.raises(ScanlineError) as info:
        type(line).decode(bad)
    assert (info.value.line, info.value.field) == (line.LAYOUT.line, spec.name)
    assert spec.name in str(info.value)
    assert f"scanline {line.LAYOUT.line}" in str(info.value)


@given(any_scanline, st.data())
def test_a_missing_separator_is_reported_against_the_field_before_it(
    line: Scanline1 | Scanline2 | Scanline3, data: st.DataObject
) -> None:
    layout = line.LAYOUT
    index = data.draw(st.integers(0, len(layout.separator_columns) - 1))
    column = layout.separator_columns[index]
    text = line.encode()
    with pytest.raises(ScanlineError, match=f"column {column}") as info:
        type(line).decode(text[: column - 1] + "0" + text[column:])
    assert info.value.field == layout.fields[index].name


@given(any_scanline, st.integers(-3, 3).filter(bool))
def test_wrong_length_is_rejected_naming_line_and_expected_length(
    line: Scanline1 | Scanline2 | Scanline3, delta: int
) -> None:
    text = line.encode()
    text = text + " " * delta if delta > 0 else text[:delta]
    with pytest.raises(ScanlineError) as info:
        type(line).decode(text)
    n = line.LAYOUT.line
    assert (info.value.line, info.value.field) == (n, None)
    assert f"scanline {n}: expected {line.LAYOUT.length} characters, got {len(text)}" == str(info.value)


def test_wrong_length_of_each_line_in_scanlines_decode() -> None:
    l1, l2, l3 = EXAMPLE.encode()
    for n, lines in ((1, (l1 + " ", l2, l3)), (2, (l1, l2[:-1], l3)), (3, (l1, l2, l3 + "0"))):
        with pytest.raises(ScanlineError, match=f"^scanline {n}: expected") as info:
            Scanlines.decode(*lines)
        assert info.value.line == n


def _replace(text: str, start: int, new: str) -> str:
    return text[: start - 1] + new + text[start - 1 + len(new) :]


L1, L2, L3 = EXAMPLE.encode()


@pytest.mark.parametrize(
    ("line", "text", "field", "message"),
    [
        (1, _replace(L1, 1, "12345678A"), "ssn", "expected 9 digits"),
        (1, _replace(L1, 1, "1234 6789"), "ssn", "expected 9 digits"),
        (1, _replace(L1, 1, "900456789"), "ssn", "never issued"),  # the one SSN rule (interpretations §77)
        (1, _replace(L1, 1, "123006789"), "ssn", "never issued"),
        (1, _replace(L1, 1, "         "), "ssn", "is blank"),
        (1, _replace(L1, 11, " A"), "bic_or_id", "left-justified"),
        (1, _replace(L1, 11, "a "), "bic_or_id", "expected 1-2 characters"),
        (1, _replace(L1, 14, "19X8"), "birth_year", "4-digit year"),
        (1, _replace(L1, 14, "0000"), "birth_year", "4-digit year"),
        (1, _replace(L1, 19, "1957"), "prior_cdr_year", "before the birth year 1958"),
        (1, _replace(L1, 24, "414 "), "primary_dx", "4 digits"),
        (2, _replace(L2, 1, "4"), "mdr", "3 (MIP), 5 or 7 (MINE)"),
        (2, _replace(L2, 3, "X"), "concurrent", "Y or N"),
        (2, _replace(L2, 5, "X"), "profile", "H, M or L"),
        (2, _replace(L2, 5, "l"), "profile", "H, M or L"),
        (2, _replace(L2, 7, "12 4"), "score", "0000-9999"),
        (2, _replace(L2, 12, "200813"), "report_period", "month 13 is not 01-12"),
        (2, _replace(L2, 12, "200800"), "report_period", "month 00 is not 01-12"),
        (2, _replace(L2, 12, "2008-1"), "report_period", "YYYYMM"),
        (2, _replace(L2, 19, "X2E"), "sfic", "SFIC position 1 (request)"),
        (2, _replace(L2, 19, "F7E"), "sfic", "SFIC position 2 (title)"),
        (2, _replace(L2, 19, "F2e"), "sfic", "SFIC position 3 (non_english)"),
        (2, _replace(L2, 23, "9"), "pc", "1-8"),
        (2, _replace(L2, 23, "0"), "pc", "1-8"),
        (2, _replace(L2, 25, "s01"), "dds", "3 characters"),
        (2, _replace(L2, 29, "A1 "), "fo", "3 characters"),
        (3, _replace(L3, 1, " WILKES-BARRE"), "fo_city", "starting with a letter"),
        (3, _replace(L3, 1, "Wilkes"), "fo_city", "A-Z"),
        (3, _replace(L3, 22, "Pa"), "fo_state", "2 letters"),
        (3, _replace(L3, 25, "1870     "), "fo_zip", "5 digits"),
        (3, _replace(L3, 25, "18702000 "), "fo_zip", "9 digits"),
        (3, _replace(L3, 25, "18702-000"), "fo_zip", "ZIP"),
    ],
)
def test_malformed_fields_are_rejected_naming_the_field(line: int, text: str, field: str, message: str) -> None:
    assert len(text) == LAYOUTS[line].length
    with pytest.raises(ScanlineError, match=re.escape(message)) as info:
        MODELS[line].decode(text)
    assert (info.value.line, info.value.field) == (line, field)
    assert str(info.value).startswith(f"scanline {line}, field {field!r}: ")
    if field == "ssn":  # an SSN is never repeated in a message (interpretations §79)
        assert text[:9].strip() == "" or text[:9] not in str(info.value)


@pytest.mark.parametrize(
    ("flag", "sfic"),
    [("Y", "F2E"), ("Y", "S6N"), ("N", "FCE"), ("N", "SCN")],
)
def test_concurrent_flag_must_agree_with_the_sfic_title(flag: str, sfic: str) -> None:
    text = _replace(_replace(L2, 3, flag), 19, sfic)
    with pytest.raises(ScanlineError, match="contradicts SFIC") as info:
        Scanline2.decode(text)
    assert (info.value.line, info.value.field) == (2, "concurrent")


@pytest.mark.parametrize(("flag", "sfic"), [("Y", "FCE"), ("Y", "SCN"), ("N", "F2E"), ("N", "S6N")])
def test_consistent_concurrent_flag_is_accepted(flag: str, sfic: str) -> None:
    line = Scanline2.decode(_replace(_replace(L2, 3, flag), 19, sfic))
    assert line.concurrent is (flag == "Y")
    assert line.sfic.concurrent is line.concurrent


def test_direct_construction_checks_cross_field_rules_too() -> None:
    values: dict[str, Any] = EXAMPLE.line2.model_dump()
    values["concurrent"] = True
    with pytest.raises(ValidationError, match="field 'concurrent'"):
        Scanline2.model_validate(values)


@pytest.mark.parametrize(
    ("model", "changes", "field"),
    [
        (Scanline1, {"ssn": "12345678"}, "ssn"),
        (Scanline1, {"ssn": "１２３４５６７８９"}, "ssn"),  # fullwidth digits are not ASCII digits
        (Scanline1, {"bic_or_id": "ABC"}, "bic_or_id"),
        (Scanline1, {"birth_year": 10000}, "birth_year"),
        (Scanline2, {"score": 10000}, "score"),
        (Scanline2, {"profile": "X"}, "profile"),
        (Scanline2, {"mdr": "a"}, "mdr"),
        (Scanline2, {"pc": 9}, "pc"),
        (Scanline2, {"sfic": "FX"}, "sfic"),
        (Scanline3, {"fo_city": "A" * 21}, "fo_city"),
        (Scanline3, {"fo_city": "WILKES-BARRE "}, "fo_city"),
        (Scanline3, {"fo_zip": "1234"}, "fo_zip"),
    ],
)
def test_direct_construction_rejects_bad_values(model: Any, changes: dict[str, Any], field: str) -> None:
    base = {1: EXAMPLE.line1, 2: EXAMPLE.line2, 3: EXAMPLE.line3}[model.LAYOUT.line]
    values = {name: getattr(base, name) for name in type(base).model_fields} | changes
    with pytest.raises(ValidationError) as info:
        model.model_validate(values)
    assert info.value.errors()[0]["loc"] == (field,)


def test_non_string_line_is_rejected() -> None:
    with pytest.raises(ScanlineError, match="expected a string") as info:
        Scanline1.decode(b"123456789 A  1958 2001 4140 2500")  # type: ignore[arg-type]
    assert (info.value.line, info.value.field) == (1, None)


@pytest.mark.parametrize(("code", "position"), [("F2", None), ("F2EX", None), ("Q2E", 1), ("F3E", 2), ("F2X", 3)])
def test_bad_sfic_names_the_position(code: str, position: int | None) -> None:
    with pytest.raises(SficError) as info:
        Sfic.parse(code)
    assert info.value.position == position


# --------------------------------------------------------------------------- the profiling SCORE (B.8)


@pytest.mark.parametrize(
    ("fraction", "score", "printed"),
    [
        (0.1106, 1106, "1106"),
        (0.0597, 597, "0597"),
        (0.0101, 101, "0101"),
        (0.0, 0, "0000"),
        (0.00004, 0, "0000"),
        (0.00005, 1, "0001"),  # half up
        (0.9999, 9999, "9999"),
        (0.99995, 9999, "9999"),  # would round to 10000: 9999 is the highest (B.8)
        (1.0, 9999, "9999"),
        (1, 9999, "9999"),
    ],
)
def test_score_is_the_fraction_times_10000_with_9999_highest(fraction: float, score: int, printed: str) -> None:
    assert b8_score(fraction) == score
    line = Scanline2(concurrent=False, profile="L", score=b8_score(fraction), report_period=Month(2024, 1),
                     sfic=Sfic.parse("F2E"), pc=1, dds="GA0", fo="A12").encode()
    assert line[6:10] == printed
    assert Scanline2.decode(line).score == score


@pytest.mark.parametrize("bad", [1.0001, -0.0001, 120.0, 9999, float("nan"), float("inf"), True, "0.5", None])
def test_score_refuses_a_value_on_another_scale(bad: Any) -> None:
    with pytest.raises(ValueError, match="profile score"):
        b8_score(bad)


def test_no_score_is_printed_blank_not_0000() -> None:
    line = Scanline2(concurrent=False, profile="L", score=None, report_period=Month(2024, 1),
                     sfic=Sfic.parse("F2E"), pc=1, dds="GA0", fo="A12").encode()
    assert line[6:10] == "    "
    assert Scanline2.decode(line).score is None
