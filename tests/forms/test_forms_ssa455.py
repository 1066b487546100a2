"""Form SSA-455 / SSA-455-OCR-SM question numbering and answers (DI 40502.001B.7)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cdrflow.forms import (
    QUESTION_MAP,
    Ssa455Answers,
    Ssa455OcrSmAnswers,
    Topic,
    ocr_question_for_ssa455,
    ssa455_question_for_ocr,
    topic_for_ocr,
    topic_for_ssa455,
)
from cdrflow.forms.ssa455 import OCR_SM_FIELDS, SSA455_FIELDS

# DI 40502.001B.7, copied verbatim from the seed (one table cell per paragraph).
B7_TABLE = """\
Topic

Form SSA-455

Form SSA-455-OCR-SM

Recent Work

Question 1

Question 1

Health Status (Same, Better, or Worse)

Question 2

Question 4

Discussion with Doctor re: Ability To Work

Question 3

Question 3

Education/Training

Question 4

Question 2

Interest in Vocational Services

Question 5

deleted as of 10/2000

Hospitalizations

Question 6

Question 6

Medical Treatment

Question 7

Question 5
"""

SEED = Path(__file__).resolve().parents[2] / "docs" / "seeds" / "001_0f04af8a9a0d0bc2.txt"


def _b7_rows() -> list[tuple[str, int, int | None]]:
    cells = [c for c in B7_TABLE.split("\n\n") if c.strip()]
    assert cells[:3] == ["Topic", "Form SSA-455", "Form SSA-455-OCR-SM"]
    body = cells[3:]
    assert len(body) == 21
    rows = []
    for title, paper, ocr in zip(body[0::3], body[1::3], body[2::3], strict=True):
        paper_n = int(paper.removeprefix("Question "))
        ocr_n = None if ocr.strip() == "deleted as of 10/2000" else int(ocr.removeprefix("Question "))
        rows.append((title.strip(), paper_n, ocr_n))
    return rows


B7_ROWS = _b7_rows()


def test_b7_table_is_verbatim_from_the_seed() -> None:
    assert SEED.exists(), f"the seed text ships with the repository: {SEED}"
    assert B7_TABLE.strip() in SEED.read_text(encoding="utf-8")


def test_question_map_is_the_b7_table() -> None:
    assert [(m.title, m.ssa455, m.ocr_sm) for m in QUESTION_MAP.values()] == B7_ROWS
    assert all(m.citation == "DI 40502.001B.7" for m in QUESTION_MAP.values())
    assert set(QUESTION_MAP) == set(Topic)


@pytest.mark.parametrize(("title", "paper", "ocr"), B7_ROWS)
def test_number_translation_follows_b7(title: str, paper: int, ocr: int | None) -> None:
    assert ocr_question_for_ssa455(paper) == ocr
    if ocr is not None:
        assert ssa455_question_for_ocr(ocr) == paper
        assert topic_for_ocr(ocr) == topic_for_ssa455(paper)
    assert QUESTION_MAP[topic_for_ssa455(paper)].title == title


def test_specific_b7_rows() -> None:
    assert QUESTION_MAP[Topic.HEALTH_STATUS][:2] == (2, 4)
    assert QUESTION_MAP[Topic.EDUCATION_TRAINING][:2] == (4, 2)
    assert QUESTION_MAP[Topic.MEDICAL_TREATMENT][:2] == (7, 5)
    assert QUESTION_MAP["VR_INTEREST"][:2] == (5, None)  # type: ignore[index]  # Topic is a StrEnum
    assert QUESTION_MAP[Topic.VR_INTEREST].ocr_sm_note == "deleted as of 10/2000"


def test_translations_are_inverse_bijections_on_the_current_forms() -> None:
    assert sorted(ssa455_question_for_ocr(n) for n in range(1, 7)) == [1, 2, 3, 4, 6, 7]
    for n in range(1, 7):
        back = ocr_question_for_ssa455(ssa455_question_for_ocr(n))
        assert back == n


@pytest.mark.parametrize("bad", [0, 8, -1, True, "1", 1.0, None])
def test_bad_ssa455_question_numbers_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="SSA-455 has questions 1-7"):
        ocr_question_for_ssa455(bad)


@pytest.mark.parametrize("bad", [0, 7, 8, False, "2"])
def test_bad_ocr_question_numbers_are_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="SSA-455-OCR-SM has questions 1-6"):
        ssa455_question_for_ocr(bad)


def test_legacy_ocr_question_7_is_the_vr_inquiry() -> None:
    # DI 40502.001J.2.d NOTE: "versions of the SSA-455-OCR-SM with question 7 (SSA-455, Question 5)".
    assert ssa455_question_for_ocr(7, legacy=True) == 5
    assert topic_for_ocr(7, legacy=True) is Topic.VR_INTEREST
    with pytest.raises(ValueError, match="questions 1-7"):
        ssa455_question_for_ocr(8, legacy=True)


@pytest.mark.parametrize(("fields", "numbers"), [(SSA455_FIELDS, "ssa455"), (OCR_SM_FIELDS, "ocr_sm")])
def test_field_names_carry_their_form_numbers(fields: Any, numbers: str) -> None:
    for topic, name in fields.items():
        match = re.match(r"q(\d+)", name)
        expected = getattr(QUESTION_MAP[topic], numbers)
        assert (int(match.group(1)) if match else None) == expected, (topic, name)


def test_to_ocr_numbering_moves_each_answer_to_its_ocr_question() -> None:
    answers = Ssa455Answers(
        q1_worked="BOTH",
        q2_health="BETTER",
        q3_doctor_work="CAN_WORK",
        q4_school="YES",
        q5_vr_interest="NO",
        q6_hospitalized="NO",
        q7_doctor_visits="YES",
    )
    assert answers.to_ocr_numbering() == {
        "q1a_worked": "BOTH",
        "q2_school": "YES",
        "q3_doctor_work": "CAN_WORK",
        "q4_health": "BETTER",
        "q5_doctor_visits": "YES",
        "q6_hospitalized": "NO",
        "vr_interest": "NO",
    }
    assert list(answers.to_ocr_numbering()) == [
        "q1a_worked",
        "q2_school",
        "q3_doctor_work",
        "q4_health",
        "q5_doctor_visits",
        "q6_hospitalized",
        "vr_interest",
    ]


def test_no_response_is_none() -> None:
    assert Ssa455Answers().to_ocr_numbering() == dict.fromkeys(OCR_SM_FIELDS.values())
    assert Ssa455Answers(q2_health="WORSE").to_ocr_sm() == Ssa455OcrSmAnswers(q4_health="WORSE")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("q1_worked", "MAYBE"),
        ("q2_health", "YES"),
        ("q3_doctor_work", "YES"),
        ("q4_school", "BOTH"),
        ("q7_doctor_visits", "yes"),
        ("q8_extra", "YES"),
    ],
)
def test_answers_outside_the_domain_are_rejected(field: str, value: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Ssa455Answers.model_validate({field: value})


def test_ocr_sm_health_domain_is_enforced() -> None:
    with pytest.raises(ValidationError, match="q4_health"):
        Ssa455OcrSmAnswers.model_validate({"q4_health": "NO"})


yes_no = st.sampled_from([None, "YES", "NO"])
ssa455_answers = st.builds(
    Ssa455Answers,
    q1_worked=st.sampled_from([None, "YES", "NO", "BOTH"]),
    q2_health=st.sampled_from([None, "BETTER", "SAME", "WORSE"]),
    q3_doctor_work=st.sampled_from([None, "HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK"]),
    q4_school=yes_no,
    q5_vr_interest=yes_no,
    q6_hospitalized=yes_no,
    q7_doctor_visits=yes_no,
)


@given(ssa455_answers)
def test_answers_round_trip_between_numberings(answers: Ssa455Answers) -> None:
    ocr = answers.to_ocr_sm()
    assert ocr.to_ssa455() == answers
    assert ocr.by_topic() == answers.by_topic()
    assert ocr.model_dump() == answers.to_ocr_numbering()
    for topic in Topic:
        assert getattr(ocr, OCR_SM_FIELDS[topic]) == getattr(answers, SSA455_FIELDS[topic])
