"""The DE/DEC/DC question-by-question review guide for a mailer at PC review (DI 40502.001J.2.d).

J.2.d gives, for each question of the SSA-455-OCR-SM and each profile (High, Medium, Low), the
reviewer's action: go to the next question, DO CDR, DEFER, or weigh all information, each with
the exception ("unless ...") the reviewer must check and, for some rows, a DIRCON prompt. One
decision table per question (``review_tables/reviewer_q1.yaml`` ... ``reviewer_q6.yaml``) holds
the guide; this calc walks them:

Q1 -> Q2 -> Q3 -> Q4 -> Q5 and Q6 considered together, stopping at the first DO CDR or DEFER.
A walk that ends without one (question 5 unanswered, question 6 NO) gets the profile default
of DI 40502.001B.2 (``reviewer_profile_default``). Walked with the mark-sense answers only (no
"unless" clause holds), the guide gives the automated recommendation of
``tables/automated_recommendation.yaml``; a test checks every combination.

The BET/DT's annotation of the work (J.2.c) is an input: EARNINGS UNDER TOLERANCE LEVEL cases
that are not referred for a CDR go back to the BET/DT after the review (J.2.c; J.3.a NOTE).
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import PolicyError
from cdrflow.engine.tables import DecisionTable, Hit, load_tables
from cdrflow.engine.yamlio import load_yaml

from .record import Profile, YesNo
from .registry import REGISTRY
from .source import HERE, SOURCE

Action = Literal["CONTINUE", "DO_CDR", "DEFER", "WEIGH"]
NextQuestion = Literal["Q2", "Q3", "Q4", "Q5_Q6", "Q6", "NONE"]
Unless = Literal[
    "NONE",
    "WORK_SUGGESTS_MI",
    "OTHER_INFO_MI_VERY_UNLIKELY",
    "DOUBT_ABOUT_RESPONSE",
    "NARRATIVE_NO_MI",
    "NARRATIVE_POSSIBLE_MI",
    "DIRCON_POSSIBLE_MI",
    "REMARKS_SHOW_TREATMENT",
]
BetDtAnnotation = Literal[
    "WORK ON THE DCF",
    "WORK ON THE MBR",
    "WORK RESOLVED",
    "EARNINGS UNDER TOLERANCE LEVEL. RETURN TO BET/DT AFTER DE/DEC/DC REVIEW.",
    "EARNINGS KNOWN",
    "UNKNOWN EARNINGS REFERRED TO FO",
]

EARNINGS_UNDER_TOLERANCE = "EARNINGS UNDER TOLERANCE LEVEL. RETURN TO BET/DT AFTER DE/DEC/DC REVIEW."
Recommended = Literal["DO_CDR", "DEFER"]

# Table consulted for each place in the walk; Q5_Q6 starts the block of questions 5 and 6.
_TABLE_OF: dict[str, tuple[int, str]] = {
    "Q1": (1, "reviewer_q1"),
    "Q2": (2, "reviewer_q2"),
    "Q3": (3, "reviewer_q3"),
    "Q4": (4, "reviewer_q4"),
    "Q5_Q6": (5, "reviewer_q5"),
    "Q6": (6, "reviewer_q6"),
}

# What the reviewer is asked to find out by telephone, by the exception of the row that prompts
# DIRCON (near-verbatim from DI 40502.001J.2.d).
_DIRCON_PROMPT: dict[str, str] = {
    "DOUBT_ABOUT_RESPONSE": "consider DIRCON to resolve any doubt about the response before the DO CDR action",
    "NARRATIVE_NO_MI": (
        "consider whether a telephone call to the beneficiary or representative payee will provide further "
        "details (DO CDR unless the response indicates no likelihood of medical improvement)"
    ),
    "NARRATIVE_POSSIBLE_MI": (
        "consider whether a telephone call to the beneficiary or representative payee will provide further "
        "details (DO CDR only if the response indicates possible medical improvement)"
    ),
    "DIRCON_POSSIBLE_MI": (
        "if not explained on the form, obtain by DIRCON to the beneficiary or representative payee the "
        "reason(s) for the lack of ongoing treatment (full medical CDR only if the DIRCON response indicates "
        "possible medical improvement)"
    ),
}


class ReviewerGuideInput(BaseModel):
    """The mailer's answers as the DE/DEC/DC sees them at PC review (SSA-455-OCR-SM numbering)."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile = Field(description="H, M or L: field 3 of scanline 2, or the profile sheet (J.2.d)")
    q1a_worked: Literal["YES", "NO", "BOTH"] | None = None
    q2_school: YesNo | None = None
    q3_doctor_work: Literal["HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK"] | None = None
    q4_health: Literal["BETTER", "SAME", "WORSE"] | None = None
    q5_doctor_visits: YesNo | None = None
    q6_hospitalized: YesNo | None = None
    impairment_codes: list[Annotated[str, StringConstraints(pattern=r"^\d{4}$")]] = Field(default_factory=list)
    bet_dt_annotation: BetDtAnnotation | None = Field(
        default=None, description="The BET/DT's annotation or SSA-559 remark after developing question 1 (J.2.c)"
    )


class ReviewStep(BaseModel):
    """One question of the walk: the row of the guide that applies and what it asks."""

    question: Annotated[int, Field(ge=1, le=6)]
    answer: str = Field(description="The answer as the table reads it; NONE for no response")
    rule: str = Field(description="table:row of the guide")
    action: Action
    next_question: NextQuestion
    dircon: bool
    unless: Unless = Field(description="The exception the reviewer must check before taking the action")
    guidance: str
    cite: str


class ReviewerGuide(CalcOutput):
    steps: list[ReviewStep]
    recommended_action: Recommended
    dircon_prompts: list[str]
    return_to_bet_dt: bool
    profile_weight: str


@cache
def review_tables() -> dict[str, DecisionTable]:
    """The reviewer guide tables (``review_tables/*.yaml``), loaded once."""
    return load_tables(HERE / "review_tables")


@cache
def continuous_treatment_impairments() -> dict[str, Any]:
    """Impairment codes that usually require continuous medical intervention (J.2.d, question 5 NO)."""
    data: dict[str, Any] = load_yaml(HERE / "data" / "continuous_treatment_impairments.yaml")
    return data


def _decide(name: str, record: dict[str, Any], explain: Explain) -> Hit:
    table = review_tables()[name]
    return explain.hit(table.decide(record), table.effective.isoformat())


@calc(
    REGISTRY,
    "reviewer-guide",
    citation="DI 40502.001J.2.d",
    summary=(
        "DE/DEC/DC review guide, questions 1-6 x High/Medium/Low: each question's action, its 'unless' "
        "exception and DIRCON prompt, and the recommended DO_CDR or DEFER"
    ),
    source=SOURCE,
    input_model=ReviewerGuideInput,
    output_model=ReviewerGuide,
)
def reviewer_guide(inp: ReviewerGuideInput, explain: Explain) -> ReviewerGuide:
    ct = continuous_treatment_impairments()
    ct_codes: dict[str, str] = {str(k): str(v) for k, v in ct["codes"].items()}
    explain.versions["data:continuous_treatment_impairments"] = str(ct["effective"])
    present = [c for c in dict.fromkeys(inp.impairment_codes) if c in ct_codes]
    answers: dict[int, str] = {
        1: inp.q1a_worked or "NONE",
        2: inp.q2_school or "NONE",
        3: inp.q3_doctor_work or "NONE",
        4: inp.q4_health or "NONE",
        5: inp.q5_doctor_visits or "NONE",
        6: inp.q6_hospitalized or "NONE",
    }
    facts: dict[str, Any] = {f"q{n}": a for n, a in answers.items()}
    facts["profile"] = inp.profile
    facts["q5_or_q6_yes"] = answers[5] == "YES" or answers[6] == "YES"
    facts["continuous_treatment_impairment"] = bool(present)

    _note_bet_dt(inp, explain)

    steps: list[ReviewStep] = []
    prompts: list[str] = []
    recommended: Recommended | None = None
    where = "Q1"
    while where != "NONE":
        if where not in _TABLE_OF:
            raise PolicyError(f"reviewer guide: unknown next question {where!r}")
        question, name = _TABLE_OF[where]
        if any(s.question == question for s in steps):
            raise PolicyError(f"reviewer guide: question {question} reached twice")
        table = review_tables()[name]
        hit = _decide(name, {v.name: facts[v.name] for v in table.inputs}, explain)
        o = hit.outputs
        steps.append(
            ReviewStep(
                question=question,
                answer=answers[question],
                rule=f"{hit.table}:{hit.rule}",
                action=o["action"],
                next_question=o["next_question"],
                dircon=o["dircon"],
                unless=o["unless"],
                guidance=hit.note,
                cite=hit.cite,
            )
        )
        if o["dircon"]:
            _add_prompt(prompts, question, answers[question], str(o["unless"]))
        if question == 5 and answers[5] == "NO":
            for code in present:
                _add(
                    prompts,
                    f"Question 5 (NO): impairment code {code} ({ct_codes[code]}) usually requires continuous medical "
                    "intervention: obtain by DIRCON the reason(s) for the lack of ongoing treatment",
                )
        recommended = _terminal(o["action"])
        if recommended is not None:
            break
        where = str(o["next_question"])

    default = _decide("reviewer_profile_default", {"profile": inp.profile}, explain)
    if recommended is None:
        recommended = _terminal(default.outputs["default_action"])
        if recommended is None:
            raise PolicyError(f"reviewer guide: profile default {default.outputs!r} is not DO_CDR or DEFER")
        explain.rule(
            "reviewer-guide:profile-default",
            default.cite,
            f"No question gives a DO CDR or DEFER; the profile default applies: {recommended}",
        )

    return_to_bet_dt = inp.bet_dt_annotation == EARNINGS_UNDER_TOLERANCE and recommended == "DEFER"
    if inp.bet_dt_annotation == EARNINGS_UNDER_TOLERANCE:
        explain.rule(
            "reviewer-guide:return-to-bet-dt",
            "DI 40502.001J.2.c; DI 40502.001J.3.a NOTE",
            "EARNINGS UNDER TOLERANCE LEVEL: "
            + (
                "not referred for a CDR, so return the case to the BET/DT to complete the development of the "
                "unposted earnings (DI 40510.000) unless it is selected as an integrity sample case"
                if return_to_bet_dt
                else "referred to the FO for a CDR, so it is not returned to the BET/DT"
            ),
        )

    return ReviewerGuide(
        steps=steps,
        recommended_action=recommended,
        dircon_prompts=prompts,
        return_to_bet_dt=return_to_bet_dt,
        profile_weight=default.note,
    )


def _terminal(action: object) -> Recommended | None:
    """DO_CDR and DEFER end the walk; CONTINUE and WEIGH do not."""
    if action == "DO_CDR":
        return "DO_CDR"
    if action == "DEFER":
        return "DEFER"
    return None


def _add(prompts: list[str], prompt: str) -> None:
    if prompt not in prompts:
        prompts.append(prompt)


def _add_prompt(prompts: list[str], question: int, answer: str, unless: str) -> None:
    body = _DIRCON_PROMPT.get(unless)
    if body is None:
        raise PolicyError(f"reviewer guide: no DIRCON prompt for exception {unless!r}")
    if any(p.endswith(body) for p in prompts):
        return  # the same request was already made for an earlier question
    _add(prompts, f"Question {question} ({answer.replace('_', ' ')}): {body}")


def _note_bet_dt(inp: ReviewerGuideInput, explain: Explain) -> None:
    """Record in the trace what the BET/DT's annotation means for the review (J.2.c, J.2.d question 1)."""
    ann = inp.bet_dt_annotation
    if ann is None:
        if inp.q1a_worked in ("YES", "BOTH"):
            explain.rule(
                "reviewer-guide:bet-dt-not-reported",
                "DI 40502.001J.2.c; DI 40502.001J.2.d (question 1, YES)",
                "Question 1 shows work but no BET/DT report is given: the BET/DT develops the work (J.2.c); "
                "question 2 onward is reviewed when the BET/DT reports it.",
            )
        return
    meaning = {
        "WORK ON THE DCF": "work already posted to the DCF (read as WORK ON THE MBR)",
        "WORK ON THE MBR": "work already posted",
        "WORK RESOLVED": "work and earnings already resolved",
        EARNINGS_UNDER_TOLERANCE: "unposted Title II earnings at or under 1/2 the yearly SGA, not yet developed",
        "EARNINGS KNOWN": "Title XVI earnings known/already reported",
        "UNKNOWN EARNINGS REFERRED TO FO": "Title XVI unknown earnings referred to the servicing FO",
    }[ann]
    explain.rule(
        "reviewer-guide:bet-dt-report",
        "DI 40502.001J.2.c; DI 40502.001J.2.d (question 1, YES)",
        f'BET/DT reports "{ann}" ({meaning}); the DE/DEC/DC goes to question 2.',
    )
