"""Form SSA-455 (hard paper) and Form SSA-455-OCR-SM (scannable): answers and question numbering.

The two forms ask the same questions in a different order (DI 40502.001B.7). The scannable
Form SSA-455-OCR-SM is used most of the time and "reflects the most current design and
processing policies"; the older hard-paper Form SSA-455 may still be used by the PCs and FOs
(DI 40502.001B.6, B.7). The PC review instructions are written in OCR-SM numbering with the
SSA-455 number in parentheses (DI 40502.001J.2.a).

This module holds

* :data:`QUESTION_MAP`, the B.7 table (topic -> question number on each form), with
  :func:`ocr_question_for_ssa455` / :func:`ssa455_question_for_ocr` to translate numbers;
* :class:`Ssa455Answers` (hard-paper numbering) and :class:`Ssa455OcrSmAnswers` (OCR-SM
  numbering), the "mark sense" answers, converted into each other through the topic, so the
  numbering lives in one place.

An answer of ``None`` means "no response". Only the check-box answers are modelled; the
narratives (e.g. the earnings of question 1.b, "how often"/"reason for visit") are not.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, Final, Literal, NamedTuple, TypeAlias

from pydantic import BaseModel, ConfigDict

B7: Final = "DI 40502.001B.7"

FORM_SSA_455: Final = "SSA-455"
FORM_SSA_455_OCR_SM: Final = "SSA-455-OCR-SM"


class Topic(StrEnum):
    """The topics of the mailer questions, as listed in DI 40502.001B.7."""

    RECENT_WORK = "RECENT_WORK"
    HEALTH_STATUS = "HEALTH_STATUS"
    DOCTOR_DISCUSSION = "DOCTOR_DISCUSSION"
    EDUCATION_TRAINING = "EDUCATION_TRAINING"
    VR_INTEREST = "VR_INTEREST"
    HOSPITALIZATIONS = "HOSPITALIZATIONS"
    MEDICAL_TREATMENT = "MEDICAL_TREATMENT"


class QuestionMapping(NamedTuple):
    """One row of the DI 40502.001B.7 table.

    ``QUESTION_MAP[topic][:2]`` is ``(ssa455_number, ocr_sm_number)``; ``ocr_sm`` is ``None``
    when the question is not on the current OCR-SM (interest in vocational services was
    "deleted as of 10/2000").
    """

    ssa455: int
    ocr_sm: int | None
    title: str
    ocr_sm_note: str
    citation: str


QUESTION_MAP: Final[Mapping[Topic, QuestionMapping]] = MappingProxyType(
    {
        Topic.RECENT_WORK: QuestionMapping(1, 1, "Recent Work", "", B7),
        Topic.HEALTH_STATUS: QuestionMapping(2, 4, "Health Status (Same, Better, or Worse)", "", B7),
        Topic.DOCTOR_DISCUSSION: QuestionMapping(3, 3, "Discussion with Doctor re: Ability To Work", "", B7),
        Topic.EDUCATION_TRAINING: QuestionMapping(4, 2, "Education/Training", "", B7),
        Topic.VR_INTEREST: QuestionMapping(5, None, "Interest in Vocational Services", "deleted as of 10/2000", B7),
        Topic.HOSPITALIZATIONS: QuestionMapping(6, 6, "Hospitalizations", "", B7),
        Topic.MEDICAL_TREATMENT: QuestionMapping(7, 5, "Medical Treatment", "", B7),
    }
)
"""Topic -> question number on Form SSA-455 and on Form SSA-455-OCR-SM (DI 40502.001B.7)."""

LEGACY_OCR_VR_QUESTION: Final = 7
"""Pre-10/2000 versions of the SSA-455-OCR-SM carried the VR inquiry as question 7
(= SSA-455 question 5); its response is never considered (DI 40502.001B.9, J.2.d NOTE)."""


def _question_number(n: object, form: str, highest: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= highest:
        raise ValueError(f"Form {form} has questions 1-{highest}; got {n!r}")
    return n


def topic_for_ssa455(n: int) -> Topic:
    """The topic of question ``n`` (1-7) of Form SSA-455 (DI 40502.001B.7)."""
    number = _question_number(n, FORM_SSA_455, 7)
    return next(topic for topic, row in QUESTION_MAP.items() if row.ssa455 == number)


def topic_for_ocr(n: int, *, legacy: bool = False) -> Topic:
    """The topic of question ``n`` of Form SSA-455-OCR-SM (DI 40502.001B.7).

    The current form has questions 1-6. With ``legacy=True`` question 7 of pre-10/2000
    versions (the VR inquiry, DI 40502.001J.2.d NOTE) is accepted too.
    """
    number = _question_number(n, FORM_SSA_455_OCR_SM, LEGACY_OCR_VR_QUESTION if legacy else 6)
    if number == LEGACY_OCR_VR_QUESTION:
        return Topic.VR_INTEREST
    return next(topic for topic, row in QUESTION_MAP.items() if row.ocr_sm == number)


def ocr_question_for_ssa455(n: int) -> int | None:
    """The Form SSA-455-OCR-SM number of Form SSA-455 question ``n`` (DI 40502.001B.7).

    ``None`` for question 5 (interest in vocational services), deleted from the OCR-SM as of
    10/2000. Raises :class:`ValueError` unless ``n`` is 1-7.
    """
    return QUESTION_MAP[topic_for_ssa455(n)].ocr_sm


def ssa455_question_for_ocr(n: int, *, legacy: bool = False) -> int:
    """The Form SSA-455 number of Form SSA-455-OCR-SM question ``n`` (DI 40502.001B.7).

    Raises :class:`ValueError` unless ``n`` is 1-6 (1-7 with ``legacy=True``, see
    :func:`topic_for_ocr`).
    """
    return QUESTION_MAP[topic_for_ocr(n, legacy=legacy)].ssa455


# --------------------------------------------------------------------------- answers

Worked: TypeAlias = Literal["YES", "NO", "BOTH"]
"""Question "Have you worked?": ``BOTH`` = both "Yes" and "No" marked (DI 40502.001E.4.b)."""
YesNo: TypeAlias = Literal["YES", "NO"]
DoctorWork: TypeAlias = Literal["HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK"]
"""Discussion with doctor re: ability to work (DI 40502.001J.2.d)."""
Health: TypeAlias = Literal["BETTER", "SAME", "WORSE"]
"""Health now compared to before (DI 40502.001J.2.d)."""
Answer: TypeAlias = Worked | YesNo | DoctorWork | Health

SSA455_FIELDS: Final[Mapping[Topic, str]] = MappingProxyType(
    {
        Topic.RECENT_WORK: "q1_worked",
        Topic.HEALTH_STATUS: "q2_health",
        Topic.DOCTOR_DISCUSSION: "q3_doctor_work",
        Topic.EDUCATION_TRAINING: "q4_school",
        Topic.VR_INTEREST: "q5_vr_interest",
        Topic.HOSPITALIZATIONS: "q6_hospitalized",
        Topic.MEDICAL_TREATMENT: "q7_doctor_visits",
    }
)
"""Topic -> field of :class:`Ssa455Answers` (hard-paper numbering, DI 40502.001B.7)."""

OCR_SM_FIELDS: Final[Mapping[Topic, str]] = MappingProxyType(
    {
        Topic.RECENT_WORK: "q1a_worked",
        Topic.EDUCATION_TRAINING: "q2_school",
        Topic.DOCTOR_DISCUSSION: "q3_doctor_work",
        Topic.HEALTH_STATUS: "q4_health",
        Topic.MEDICAL_TREATMENT: "q5_doctor_visits",
        Topic.HOSPITALIZATIONS: "q6_hospitalized",
        Topic.VR_INTEREST: "vr_interest",
    }
)
"""Topic -> field of :class:`Ssa455OcrSmAnswers` (OCR-SM numbering, DI 40502.001B.7), in form order."""


class _Answers(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    FORM: ClassVar[str]
    FIELDS: ClassVar[Mapping[Topic, str]]

    def by_topic(self) -> dict[Topic, Answer | None]:
        """The answers keyed by :class:`Topic` (form-independent)."""
        answers: dict[Topic, Answer | None] = {topic: getattr(self, name) for topic, name in self.FIELDS.items()}
        return answers


class Ssa455Answers(_Answers):
    """The check-box answers on the hard-paper Form SSA-455, in its numbering (DI 40502.001B.7).

    Question 5 (interest in vocational services) is optional and is never considered when
    deciding whether a full medical review is needed (DI 40502.001B.9).
    """

    FORM: ClassVar[str] = FORM_SSA_455
    FIELDS: ClassVar[Mapping[Topic, str]] = SSA455_FIELDS

    q1_worked: Worked | None = None
    q2_health: Health | None = None
    q3_doctor_work: DoctorWork | None = None
    q4_school: YesNo | None = None
    q5_vr_interest: YesNo | None = None
    q6_hospitalized: YesNo | None = None
    q7_doctor_visits: YesNo | None = None

    def to_ocr_numbering(self) -> dict[str, Answer | None]:
        """The same answers keyed in Form SSA-455-OCR-SM numbering (DI 40502.001B.7).

        Keys, in OCR-SM order: ``q1a_worked, q2_school, q3_doctor_work, q4_health,
        q5_doctor_visits, q6_hospitalized, vr_interest`` (the VR question has no number on
        the current OCR-SM).
        """
        answers = self.by_topic()
        return {name: answers[topic] for topic, name in OCR_SM_FIELDS.items()}

    def to_ocr_sm(self) -> Ssa455OcrSmAnswers:
        """These answers as a :class:`Ssa455OcrSmAnswers`."""
        return Ssa455OcrSmAnswers.model_validate(self.to_ocr_numbering())


class Ssa455OcrSmAnswers(_Answers):
    """The check-box answers on the scannable Form SSA-455-OCR-SM, in its numbering (DI 40502.001B.7).

    ``q1a_worked`` is question 1.a ("Have you worked?", DI 40502.001E.4.b). ``vr_interest`` is
    only present on pre-10/2000 versions (question 7, or a "VR?" inquiry below the signature
    line); it is never considered (DI 40502.001B.9, J.2.d NOTE).
    """

    FORM: ClassVar[str] = FORM_SSA_455_OCR_SM
    FIELDS: ClassVar[Mapping[Topic, str]] = OCR_SM_FIELDS

    q1a_worked: Worked | None = None
    q2_school: YesNo | None = None
    q3_doctor_work: DoctorWork | None = None
    q4_health: Health | None = None
    q5_doctor_visits: YesNo | None = None
    q6_hospitalized: YesNo | None = None
    vr_interest: YesNo | None = None

    def to_ssa455_numbering(self) -> dict[str, Answer | None]:
        """The same answers keyed in Form SSA-455 numbering (``q1_worked`` ... ``q7_doctor_visits``)."""
        answers = self.by_topic()
        return {name: answers[topic] for topic, name in SSA455_FIELDS.items()}

    def to_ssa455(self) -> Ssa455Answers:
        """These answers as a :class:`Ssa455Answers`."""
        return Ssa455Answers.model_validate(self.to_ssa455_numbering())


def render_question_map_markdown() -> str:
    """The B.7 question mapping as a Markdown table (pasted into ``docs/forms.md``)."""
    lines = [
        "| Topic (DI 40502.001B.7) | `Topic` | Form SSA-455 | Form SSA-455-OCR-SM "
        "| SSA-455 field | OCR-SM field | Citation |",
        "|---|---|---|---|---|---|---|",
    ]
    for topic, row in QUESTION_MAP.items():
        ocr = f"Question {row.ocr_sm}" if row.ocr_sm is not None else row.ocr_sm_note
        lines.append(
            f"| {row.title} | `{topic.value}` | Question {row.ssa455} | {ocr} "
            f"| `{SSA455_FIELDS[topic]}` | `{OCR_SM_FIELDS[topic]}` | {row.citation} |"
        )
    return "\n".join(lines) + "\n"
