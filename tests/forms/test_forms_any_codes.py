"""The ANY CODES? codes (DI 40502.001E.3.b; work codes per F.3.c, G.4.a, J.2.c)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cdrflow.forms import CODE_TABLE, AnyCodes, AnyCodesError

BOX = ["0", "1", "2", "3", "4", "8", "9"]
SUBJECTS = ["WORK", "MEDICAL", "WORK_AND_MEDICAL", "MISC"]

any_codes = st.builds(
    AnyCodes, remarks=st.sampled_from(BOX), attachments=st.sampled_from(BOX), other_program_issue=st.booleans()
)
code_strings = st.tuples(st.sampled_from(BOX), st.sampled_from(BOX), st.sampled_from("YN")).map("".join)
attachment_lists = st.lists(st.sampled_from([None, *SUBJECTS]), max_size=6)


def test_code_table() -> None:
    box = {e.code: e for e in CODE_TABLE if e.positions == (1, 2)}
    third = {e.code: e for e in CODE_TABLE if e.positions == (3,)}
    assert sorted(box) == BOX
    assert sorted(third) == ["N", "Y"]
    assert box["1"].meaning == "relevant, work"
    assert box["3"].meaning == "relevant, work and medical"
    assert box["9"].meaning == "translation required"
    assert box["8"].meaning == "irrelevant only"
    for code in ("1", "3"):
        for section in ("E.3.b", "F.3.c", "J.2.c"):
            assert f"DI 40502.001{section}" in box[code].citation
    assert all(e.citation.startswith("DI 40502.001E.3.b") for e in CODE_TABLE)


@given(any_codes)
def test_round_trip_from_model(codes: AnyCodes) -> None:
    text = str(codes)
    assert len(text) == 3
    assert AnyCodes.parse(text) == codes


@given(code_strings)
def test_round_trip_from_text(text: str) -> None:
    codes = AnyCodes.parse(text)
    assert str(codes) == text
    assert codes.other_program_issue is (text[2] == "Y")


def test_parse_examples() -> None:
    assert AnyCodes.parse("18N") == AnyCodes(remarks="1", attachments="8", other_program_issue=False)
    assert AnyCodes.parse("00Y") == AnyCodes(remarks="0", attachments="0", other_program_issue=True)


@pytest.mark.parametrize(
    ("text", "position", "field"),
    [
        ("5" + "0N", 1, "remarks"),
        (" 0N", 1, "remarks"),
        ("Y0N", 1, "remarks"),
        ("07N", 2, "attachments"),
        ("0aN", 2, "attachments"),
        ("001", 3, "other_program_issue"),
        ("00y", 3, "other_program_issue"),
        ("00 ", 3, "other_program_issue"),
    ],
)
def test_bad_position_is_named(text: str, position: int, field: str) -> None:
    with pytest.raises(AnyCodesError) as info:
        AnyCodes.parse(text)
    assert (info.value.position, info.value.field) == (position, field)
    assert f"position {position} ({field})" in str(info.value)


@pytest.mark.parametrize("text", ["", "1", "18", "18NN", 180])
def test_wrong_length_is_rejected(text: Any) -> None:
    with pytest.raises(AnyCodesError, match="exactly 3 characters") as info:
        AnyCodes.parse(text)
    assert info.value.position is None


def test_model_rejects_codes_outside_the_table() -> None:
    with pytest.raises(ValidationError, match="remarks"):
        AnyCodes.model_validate({"remarks": "5", "attachments": "0", "other_program_issue": False})


@given(any_codes)
def test_mentions_work_is_code_1_or_3_in_remarks_or_attachments(codes: AnyCodes) -> None:
    assert codes.mentions_work() == (codes.remarks in ("1", "3") or codes.attachments in ("1", "3"))


@pytest.mark.parametrize(
    ("text", "work"),
    [("10N", True), ("01N", True), ("30N", True), ("03N", True), ("24Y", False), ("88N", False), ("99N", False)],
)
def test_mentions_work_examples(text: str, work: bool) -> None:
    assert AnyCodes.parse(text).mentions_work() is work


def test_flags() -> None:
    assert AnyCodes.parse("09N").translation_required
    assert not AnyCodes.parse("18N").translation_required
    assert AnyCodes.parse("02N").relevant_attachments
    assert not AnyCodes.parse("08N").relevant_attachments
    assert AnyCodes.parse("40N").relevant_remarks
    assert not AnyCodes.parse("80N").relevant_remarks


# --------------------------------------------------------------------------- from_record_parts


@pytest.mark.parametrize(
    ("subject", "relevant", "present", "expected"),
    [
        (None, False, False, "0"),
        (None, False, True, "8"),
        ("WORK", True, True, "1"),
        ("MEDICAL", True, True, "2"),
        ("WORK_AND_MEDICAL", True, True, "3"),
        ("MISC", True, True, "4"),
    ],
)
def test_remarks_position(subject: Any, relevant: bool, present: bool, expected: str) -> None:
    codes = AnyCodes.from_record_parts(subject, relevant, present, [], False, False)
    assert str(codes) == expected + "0N"


@pytest.mark.parametrize(
    ("subjects", "expected"),
    [
        ([], "0"),
        ([None], "8"),
        ([None, None], "8"),
        (["MISC"], "4"),
        (["MISC", None], "4"),
        (["WORK"], "1"),
        (["WORK", "MISC"], "1"),
        (["MEDICAL"], "2"),
        (["MEDICAL", "MISC", None], "2"),
        (["WORK", "MEDICAL"], "3"),
        (["WORK_AND_MEDICAL"], "3"),
        (["MEDICAL", None, "WORK"], "3"),
    ],
)
def test_attachments_position(subjects: list[Any], expected: str) -> None:
    codes = AnyCodes.from_record_parts(None, False, False, subjects, False, False)
    assert codes.attachments == expected


def test_translation_overrides_position_1() -> None:
    assert str(AnyCodes.from_record_parts("WORK", True, True, ["MEDICAL"], True, False)) == "92N"
    assert str(AnyCodes.from_record_parts(None, False, False, [], True, True)) == "90Y"


def test_other_program_issue_is_position_3() -> None:
    assert str(AnyCodes.from_record_parts(None, False, True, [], other_program_issue=True)) == "80Y"


@given(
    st.sampled_from([None, *SUBJECTS]),
    st.booleans(),
    st.booleans(),
    attachment_lists,
    st.booleans(),
    st.booleans(),
    st.randoms(),
)
def test_from_record_parts_properties(
    subject: Any,
    relevant: bool,
    present: bool,
    attachments: list[Any],
    translation: bool,
    other: bool,
    rng: Any,
) -> None:
    consistent = (not present and not relevant and subject is None) or (present and (subject is not None) == relevant)
    if not consistent:
        with pytest.raises(ValueError, match="remarks_"):
            AnyCodes.from_record_parts(subject, relevant, present, attachments, translation, other)
        return
    codes = AnyCodes.from_record_parts(subject, relevant, present, attachments, translation, other)
    assert AnyCodes.parse(str(codes)) == codes
    assert codes.other_program_issue is other
    assert (codes.remarks == "9") is translation
    shuffled = list(attachments)
    rng.shuffle(shuffled)
    assert AnyCodes.from_record_parts(subject, relevant, present, shuffled, translation, other) == codes
    attachment_work = any(s in ("WORK", "WORK_AND_MEDICAL") for s in attachments)
    assert (codes.attachments in ("1", "3")) is attachment_work
    if not translation:
        assert codes.mentions_work() is (subject in ("WORK", "WORK_AND_MEDICAL") or attachment_work)


@pytest.mark.parametrize(
    ("subject", "relevant", "present", "argument"),
    [
        ("WORK", False, False, "remarks_present"),
        (None, True, False, "remarks_present"),
        ("WORK", False, True, "remarks_subject"),
        (None, True, True, "remarks_subject"),
        ("WAGES", True, True, "remarks_subject"),
    ],
)
def test_contradictory_remarks_are_rejected(subject: Any, relevant: bool, present: bool, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        AnyCodes.from_record_parts(subject, relevant, present, [])


def test_unknown_attachment_subject_is_rejected() -> None:
    with pytest.raises(ValueError, match="attachment_subjects"):
        AnyCodes.from_record_parts(None, False, False, ["PAYSTUB"])  # type: ignore[list-item]
