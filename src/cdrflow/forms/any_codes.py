"""The three "ANY CODES?" codes the WBDOC keys for each scannable mailer (DI 40502.001E.3).

DI 40502.001E.3.a puts "a set of three codes (called ANY CODES?)" in each mailer's electronic
data file, "used to identify if irrelevant or relevant short or lengthy relevant remarks or
attachments are present". E.3.b says

* the first two codes identify the subject matter of relevant submissions ("work, medical, both
  work and medical, or miscellaneous"), the submission of irrelevant remarks, and cases in which
  translation is required;
* the third alerts the PC when other program issues are raised (a change of name, the need to
  develop for a representative payee, workers' compensation); a "Y" there makes the mailer
  actionable (DI 40502.001E.4.b).

F.3.c, G.4.a and J.2.c add that a code of "1" (or, in certain cases, "3") in the "Remarks"
and/or "Attachments" boxes reports work and sends the case to BET/DT review; J.2.c says this of
"a code of '1' in position 1 or 2". So position 1 is the Remarks box and position 2 the
Attachments box.

E.3.a adds that the codes identify "irrelevant or relevant short or lengthy relevant remarks or
attachments"; only short remarks are keyed into the file, so a lengthy relevant remark exists in the
file only as its code.

The seed gives no full code table. :data:`CODE_TABLE` is **cdrflow's design**, consistent with
those passages: ``1`` work, ``2`` medical, ``3`` work and medical, ``4`` miscellaneous (relevant,
short when in position 1), ``A``-``D`` the same four subjects for a *lengthy* relevant remark
(position 1 only), ``8`` irrelevant only, ``9`` translation required, ``0`` none present; position 3
``Y``/``N``. A relevant code in position 2 means relevant attachments are present, which makes the
mailer actionable (E.4.b; docs/interpretations.md#position-2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, NamedTuple, TypeAlias

from pydantic import BaseModel, ConfigDict

E3B: Final = "DI 40502.001E.3.b"
_WORK_CITES: Final = f"{E3B}; DI 40502.001F.3.c; DI 40502.001G.4.a; DI 40502.001J.2.c"

BoxCode: TypeAlias = Literal["0", "1", "2", "3", "4", "A", "B", "C", "D", "8", "9"]
"""A code for position 1 (Remarks box) or position 2 (Attachments box); ``A``-``D`` only in position 1."""
Subject: TypeAlias = Literal["WORK", "MEDICAL", "WORK_AND_MEDICAL", "MISC"]
"""The subject matter of a relevant remark or attachment (DI 40502.001E.3.b)."""

SUBJECT_CODES: Final[dict[Subject, BoxCode]] = {"WORK": "1", "MEDICAL": "2", "WORK_AND_MEDICAL": "3", "MISC": "4"}
"""Subject of relevant remarks/attachments -> box code."""

LENGTHY_SUBJECT_CODES: Final[dict[Subject, BoxCode]] = {
    "WORK": "A", "MEDICAL": "B", "WORK_AND_MEDICAL": "C", "MISC": "D",
}
"""Subject of a *lengthy* relevant remark -> position 1 code (DI 40502.001E.3.a: "short or lengthy")."""

RELEVANT_REMARK_CODES: Final[frozenset[str]] = frozenset({"1", "2", "3", "4", "A", "B", "C", "D"})
"""Position 1 codes for relevant remarks, short or lengthy (DI 40502.001E.3.a, E.3.b, J.2.c)."""

LENGTHY_REMARK_CODES: Final[frozenset[str]] = frozenset(LENGTHY_SUBJECT_CODES.values())
"""Position 1 codes for a lengthy relevant remark: the mailer is actionable (DI 40502.001E.4.b)."""

RELEVANT_ATTACHMENT_CODES: Final[frozenset[str]] = frozenset({"1", "2", "3", "4"})
"""Position 2 codes for relevant attachments: the mailer is actionable (DI 40502.001E.4.b)."""

WORK_CODES: Final[frozenset[str]] = frozenset({"1", "3", "A", "C"})
"""Box codes that report work: "1" (or, in certain cases, "3"), short or lengthy (DI 40502.001F.3.c,
G.4.a, J.2.c)."""


class CodeEntry(NamedTuple):
    """One row of :data:`CODE_TABLE`: the positions a code is valid in, the code, its meaning, citations."""

    positions: tuple[int, ...]
    code: str
    meaning: str
    citation: str


CODE_TABLE: Final[tuple[CodeEntry, ...]] = (
    CodeEntry((1, 2), "0", "none present", E3B),
    CodeEntry((1, 2), "1", "relevant, work", _WORK_CITES),
    CodeEntry((1, 2), "2", "relevant, medical", E3B),
    CodeEntry((1, 2), "3", "relevant, work and medical", _WORK_CITES),
    CodeEntry((1, 2), "4", "relevant, miscellaneous", E3B),
    CodeEntry((1,), "A", "lengthy relevant remark, work", f"{_WORK_CITES}; DI 40502.001E.3.a; DI 40502.001E.4.b"),
    CodeEntry((1,), "B", "lengthy relevant remark, medical", f"{E3B}; DI 40502.001E.3.a; DI 40502.001E.4.b"),
    CodeEntry((1,), "C", "lengthy relevant remark, work and medical",
              f"{_WORK_CITES}; DI 40502.001E.3.a; DI 40502.001E.4.b"),
    CodeEntry((1,), "D", "lengthy relevant remark, miscellaneous", f"{E3B}; DI 40502.001E.3.a; DI 40502.001E.4.b"),
    CodeEntry((1, 2), "8", "irrelevant only", f"{E3B}; DI 40502.001E.3.a"),
    CodeEntry((1, 2), "9", "translation required", f"{E3B}; DI 40502.001E.4.b"),
    CodeEntry(
        (3,),
        "Y",
        "other program issue raised (e.g. name change, need to develop for a representative payee, "
        "workers' compensation, request to waive overpayment recovery)",
        f"{E3B}; DI 40502.001E.4.b",
    ),
    CodeEntry((3,), "N", "no other program issue", E3B),
)
"""The ANY CODES? code values (cdrflow's design; the seed names the codes' purpose, not their values)."""

POSITION_NAMES: Final[dict[int, str]] = {1: "remarks", 2: "attachments", 3: "other_program_issue"}
"""Position -> :class:`AnyCodes` field."""

_POSITION_CODES: Final[dict[int, frozenset[str]]] = {
    p: frozenset(e.code for e in CODE_TABLE if p in e.positions) for p in (1, 2)
}


class AnyCodesError(ValueError):
    """A malformed ANY CODES? value; ``position`` is 1-3 (``None`` for a bad length) and ``field`` its name."""

    def __init__(self, position: int | None, message: str) -> None:
        where = f"ANY CODES? position {position} ({POSITION_NAMES[position]})" if position else "ANY CODES?"
        super().__init__(f"{where}: {message}")
        self.position = position
        self.field = POSITION_NAMES[position] if position else None
        self.message = message


def _attachments_code(subjects: Sequence[Subject | None]) -> BoxCode:
    """Combine the subjects of the attachments (``None`` = irrelevant) into one box code.

    Work and medical together give "3"; work or medical outrank miscellaneous, which
    outranks irrelevant-only "8"; no attachments give "0".
    """
    if not subjects:
        return "0"
    for subject in subjects:
        if subject is not None and subject not in SUBJECT_CODES:
            raise ValueError(f"attachment_subjects: unknown subject {subject!r}; expected one of {list(SUBJECT_CODES)}")
    work = any(s in ("WORK", "WORK_AND_MEDICAL") for s in subjects)
    medical = any(s in ("MEDICAL", "WORK_AND_MEDICAL") for s in subjects)
    if work and medical:
        return "3"
    if work:
        return "1"
    if medical:
        return "2"
    if "MISC" in subjects:
        return "4"
    return "8"


def _remarks_code(subject: Subject | None, relevant: bool, present: bool, lengthy: bool = False) -> BoxCode:
    if not present:
        if relevant or subject is not None:
            raise ValueError("remarks_present: remarks are absent but remarks_relevant/remarks_subject is set")
        return "0"
    if not relevant:
        if subject is not None:
            raise ValueError(f"remarks_subject: irrelevant remarks cannot have subject {subject!r}")
        return "8"
    if subject is None or subject not in SUBJECT_CODES:
        raise ValueError(f"remarks_subject: relevant remarks need a subject in {list(SUBJECT_CODES)}; got {subject!r}")
    return LENGTHY_SUBJECT_CODES[subject] if lengthy else SUBJECT_CODES[subject]


class AnyCodes(BaseModel):
    """The three ANY CODES? codes (DI 40502.001E.3.b), written as 3 characters, e.g. ``"18N"``.

    * ``remarks`` (position 1, the Remarks box) and ``attachments`` (position 2, the
      Attachments box) are box codes from :data:`CODE_TABLE`;
    * ``other_program_issue`` (position 3) is ``Y``/``N``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    remarks: BoxCode
    attachments: BoxCode
    other_program_issue: bool

    @classmethod
    def parse(cls, text: str) -> AnyCodes:
        """Read the 3-character codes; raises :class:`AnyCodesError` naming the bad position."""
        if not isinstance(text, str) or len(text) != 3:
            raise AnyCodesError(None, f"expected exactly 3 characters, got {text!r}")
        for position in (1, 2):
            if text[position - 1] not in _POSITION_CODES[position]:
                allowed = ", ".join(sorted(_POSITION_CODES[position]))
                raise AnyCodesError(position, f"expected one of {allowed}; got {text[position - 1]!r}")
        if text[2] not in ("Y", "N"):
            raise AnyCodesError(3, f"expected Y or N; got {text[2]!r}")
        return cls.model_validate({"remarks": text[0], "attachments": text[1], "other_program_issue": text[2] == "Y"})

    def __str__(self) -> str:
        return f"{self.remarks}{self.attachments}{'Y' if self.other_program_issue else 'N'}"

    @classmethod
    def from_record_parts(
        cls,
        remarks_subject: Subject | None,
        remarks_relevant: bool,
        remarks_present: bool,
        attachment_subjects: Sequence[Subject | None],
        translation_needed: bool = False,
        other_program_issue: bool = False,
        remarks_lengthy: bool = False,
    ) -> AnyCodes:
        """Code a mailer from what the WBDOC analyst found (DI 40502.001E.3).

        * Position 1: ``0`` no remarks, ``8`` irrelevant remarks, else the subject's code
          (``1`` work, ``2`` medical, ``3`` both, ``4`` miscellaneous; ``A``-``D`` for the same
          subjects when ``remarks_lengthy``); ``9`` whenever ``translation_needed`` (translation
          overrides the subject).
        * Position 2: ``0`` no attachments; otherwise the attachments' subjects combined, ``None``
          standing for an irrelevant attachment: work and medical (in one or across several)
          give ``3``, work ``1``, medical ``2``, miscellaneous only ``4``, irrelevant only ``8``.
        * Position 3: ``Y`` if ``other_program_issue``.

        Raises :class:`ValueError` naming the argument for contradictory inputs (e.g. a subject
        for absent or irrelevant remarks, or relevant remarks without a subject).
        """
        if remarks_lengthy and not remarks_relevant:
            raise ValueError("remarks_lengthy: only a relevant remark is coded as lengthy (E.3.a)")
        remarks = _remarks_code(remarks_subject, remarks_relevant, remarks_present, remarks_lengthy)
        if translation_needed:
            remarks = "9"
        return cls(
            remarks=remarks,
            attachments=_attachments_code(attachment_subjects),
            other_program_issue=other_program_issue,
        )

    def mentions_work(self) -> bool:
        """True if the Remarks or Attachments box reports work: code "1" or "3" (lengthy: "A" or "C")
        (DI 40502.001F.3.c, J.2.c).

        The seed qualifies "3" with "in certain cases" without saying which; cdrflow counts every
        "3" (work and medical) as a work report and leaves any finer rule to the decision logic.
        """
        return self.remarks in WORK_CODES or self.attachments in WORK_CODES

    @property
    def translation_required(self) -> bool:
        """True if either box is "9" (DI 40502.001E.3.b, E.4.b)."""
        return "9" in (self.remarks, self.attachments)

    @property
    def relevant_remarks(self) -> bool:
        """True if the Remarks box codes a relevant subject, short ("1"-"4") or lengthy ("A"-"D")."""
        return self.remarks in RELEVANT_REMARK_CODES

    @property
    def lengthy_relevant_remarks(self) -> bool:
        """True if the Remarks box codes a lengthy relevant remark ("A"-"D"); such a mailer is actionable
        (DI 40502.001E.4.b)."""
        return self.remarks in LENGTHY_REMARK_CODES

    @property
    def relevant_attachments(self) -> bool:
        """True if the Attachments box codes a relevant subject ("1"-"4"); such a mailer is actionable
        (DI 40502.001E.4.b)."""
        return self.attachments in RELEVANT_ATTACHMENT_CODES


def render_code_table_markdown() -> str:
    """:data:`CODE_TABLE` as a Markdown table (pasted into ``docs/forms.md``)."""
    rows = ["| Position(s) | Box | Code | Meaning | Citation |", "|---|---|---|---|---|"]
    box = {(1, 2): "Remarks (1), Attachments (2)", (1,): "Remarks (1)", (3,): "other program issue"}
    for entry in CODE_TABLE:
        positions = ", ".join(str(p) for p in entry.positions)
        rows.append(f"| {positions} | {box[entry.positions]} | `{entry.code}` | {entry.meaning} | {entry.citation} |")
    return "\n".join(rows) + "\n"
