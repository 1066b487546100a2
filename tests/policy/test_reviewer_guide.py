"""The DE/DEC/DC review guide (DI 40502.001J.2.d): tables, walk, and consistency with the automated recommendation."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

import cdrflow.policy.mailer.review as review
from cdrflow.engine.errors import InputError
from cdrflow.engine.yamlio import load_yaml
from cdrflow.policy.mailer import source
from cdrflow.policy.mailer.registry import REGISTRY

CASES: list[dict[str, Any]] = load_yaml(Path(__file__).with_name("reviewer_guide_cases.yaml"))["cases"]
QUESTION_TABLES = [f"reviewer_q{n}" for n in range(1, 7)]
ALL_TABLES = [*QUESTION_TABLES, "reviewer_profile_default", "reviewer_profile_source"]
COMMON_OUTPUTS = ["action", "next_question", "dircon", "unless"]

_NONE_TO_NULL = {"NONE": None}


def run(payload: dict[str, Any]) -> dict[str, Any]:
    return REGISTRY["reviewer-guide"].run(payload)


# ---------------------------------------------------------------- the tables


@pytest.mark.parametrize("name", ALL_TABLES)
def test_table_is_gap_free_and_every_row_reachable(name: str) -> None:
    table = review.review_tables()[name]
    assert table.uncovered() == []
    assert table.unreachable_rows() == []
    assert table.effective.isoformat() == "2008-10-01"
    assert table.hit_policy == "FIRST"


def test_review_tables_are_exactly_the_guide() -> None:
    assert sorted(review.review_tables()) == sorted(ALL_TABLES)


@pytest.mark.parametrize("name", QUESTION_TABLES)
def test_question_tables_share_outputs_and_cite_j2d(name: str) -> None:
    table = review.review_tables()[name]
    assert [o.name for o in table.outputs] == COMMON_OUTPUTS
    first = review.review_tables()["reviewer_q1"]
    assert [o.domain for o in table.outputs] == [o.domain for o in first.outputs]
    for rule in table.rules:
        assert "DI 40502.001J.2.d (question" in rule.cite, rule.id
        assert rule.note, rule.id
        if rule.outputs["action"] in ("DO_CDR", "DEFER"):
            assert rule.outputs["next_question"] == "NONE", rule.id
        if rule.outputs["action"] == "CONTINUE":
            assert rule.outputs["next_question"] != "NONE", rule.id


def test_question_tables_keep_yes_no_as_strings() -> None:
    q2 = review.review_tables()["reviewer_q2"]
    assert q2.inputs[0].domain == ("YES", "NO", "NONE")
    assert q2.decide({"q2": "YES", "profile": "H", "q5_or_q6_yes": False}).rule == "Q2-YES-HM"


def test_continuous_treatment_impairments_data() -> None:
    data = review.continuous_treatment_impairments()
    assert data["codes"] == {"4140": "angina", "4430": "arterial", "5710": "liver", "5840": "renal",
                             "2500": "diabetes"}
    assert data["reference"] == "DI 40502.001J.2.d (question 5, NO)"


# ---------------------------------------------------------------- seed cases


def test_enough_seed_cases() -> None:
    assert len(CASES) >= 15
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_seed_case(case: dict[str, Any]) -> None:
    out = run(case["input"])
    exp = case["expect"]
    assert out["recommended_action"] == exp["recommended_action"]
    steps = {s["question"]: s for s in out["steps"]}
    assert [s["question"] for s in out["steps"]] == sorted(steps)
    if "questions" in exp:
        assert [s["question"] for s in out["steps"]] == exp["questions"]
    for question, fields in (exp.get("steps") or {}).items():
        assert question in steps, f"question {question} not walked"
        for key, value in fields.items():
            assert steps[question][key] == value, (question, key)
    for text in exp.get("dircon_prompts_contain", []):
        assert any(text in p for p in out["dircon_prompts"]), (text, out["dircon_prompts"])
    if exp.get("no_dircon_prompts"):
        assert out["dircon_prompts"] == []
    if "return_to_bet_dt" in exp:
        assert out["return_to_bet_dt"] is exp["return_to_bet_dt"]
    if "profile_weight_contains" in exp:
        assert exp["profile_weight_contains"] in out["profile_weight"]
    trace_rules = [t["rule"] for t in out["trace"]]
    for rule in exp.get("trace_rules", []):
        assert rule in trace_rules


# ---------------------------------------------------------------- the walk


def _walk_inputs() -> list[dict[str, Any]]:
    combos = []
    for profile, q2, q3, q4, q5, q6 in itertools.product(
        ["H", "M", "L"],
        ["YES", "NO", "NONE"],
        ["HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK", "NONE"],
        ["BETTER", "SAME", "WORSE", "NONE"],
        ["YES", "NO", "NONE"],
        ["YES", "NO", "NONE"],
    ):
        combos.append({"profile": profile, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6})
    return combos


def _payload(c: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "profile": c["profile"],
        "q2_school": _NONE_TO_NULL.get(c["q2"], c["q2"]),
        "q3_doctor_work": _NONE_TO_NULL.get(c["q3"], c["q3"]),
        "q4_health": _NONE_TO_NULL.get(c["q4"], c["q4"]),
        "q5_doctor_visits": _NONE_TO_NULL.get(c["q5"], c["q5"]),
        "q6_hospitalized": _NONE_TO_NULL.get(c["q6"], c["q6"]),
        **extra,
    }


def test_mark_sense_walk_agrees_with_automated_recommendation() -> None:
    """With mark-sense answers only (no 'unless' holds), the guide gives the automated recommendation."""
    automated = source.tables()["automated_recommendation"]
    combos = _walk_inputs()
    assert len(combos) == 3 * 3 * 4 * 4 * 3 * 3
    mismatches = []
    for c in combos:
        expected = automated.decide(c).outputs["recommendation"]
        for q1 in (None, "YES", "NO", "BOTH"):
            got = run(_payload(c, q1a_worked=q1))["recommended_action"]
            if got != expected:
                mismatches.append((c, q1, got, expected))
    assert mismatches == []


def test_q6_table_alone_agrees_with_automated_rows_r5_to_r11() -> None:
    """reviewer_q6 orders questions 5 and 6 as automated_recommendation R5-R11 (profile default for WEIGH)."""
    automated = source.tables()["automated_recommendation"]
    q6 = review.review_tables()["reviewer_q6"]
    default = review.review_tables()["reviewer_profile_default"]
    for profile, q5, q6_answer in itertools.product(["H", "M", "L"], ["YES", "NO", "NONE"], ["YES", "NO", "NONE"]):
        # q2..q4 chosen so that R1-R4 never fire
        expected = automated.decide(
            {"profile": profile, "q2": "NO", "q3": "CANNOT_WORK", "q4": "WORSE", "q5": q5, "q6": q6_answer}
        ).outputs["recommendation"]
        action = q6.decide({"q6": q6_answer, "q5": q5, "profile": profile}).outputs["action"]
        if action == "WEIGH":
            action = default.decide({"profile": profile}).outputs["default_action"]
        assert action == expected, (profile, q5, q6_answer)


def test_walk_structure_for_every_combination() -> None:
    """Steps are in question order, only the last may be terminal, and the walk follows next_question."""
    for c in _walk_inputs():
        out = run(_payload(c, q1a_worked="NO"))
        steps = out["steps"]
        assert steps[0]["question"] == 1
        for before, after in itertools.pairwise(steps):
            assert before["action"] in ("CONTINUE", "WEIGH")
            nq = before["next_question"]
            assert after["question"] == {"Q2": 2, "Q3": 3, "Q4": 4, "Q5_Q6": 5, "Q6": 6}[nq]
        last = steps[-1]
        if last["action"] in ("DO_CDR", "DEFER"):
            assert out["recommended_action"] == last["action"]
        else:
            assert (last["question"], last["action"]) == (6, "WEIGH")
        # every step is in the trace with its citation
        trace = [(t["rule"], t["cite"]) for t in out["trace"]]
        for s in steps:
            assert (s["rule"], s["cite"]) in trace


def test_q2_yes_high_waits_for_q5_or_q6_yes() -> None:
    base = {"profile": "H", "q2_school": "YES", "q3_doctor_work": "CANNOT_WORK", "q4_health": "WORSE"}
    out = run({**base, "q5_doctor_visits": "NO", "q6_hospitalized": "YES"})
    assert out["steps"][1]["action"] == "WEIGH"
    assert out["recommended_action"] == "DEFER"  # question 6 YES
    assert out["steps"][-1]["question"] == 6


def test_dircon_prompts_only_for_questions_walked() -> None:
    """J.1: no DIRCON when the responses already indicate a full CDR (walk stopped at question 3)."""
    out = run({"profile": "H", "q3_doctor_work": "CAN_WORK", "q5_doctor_visits": "NO", "impairment_codes": ["4140"]})
    assert out["recommended_action"] == "DO_CDR"
    assert len(out["dircon_prompts"]) == 1
    assert "angina" not in out["dircon_prompts"][0]


def test_dircon_prompt_for_q5_no_is_not_repeated_at_q6() -> None:
    out = run({"profile": "L", "q5_doctor_visits": "NO", "q6_hospitalized": "NO", "impairment_codes": ["4430"]})
    assert out["steps"][-1]["dircon"] is True
    assert len([p for p in out["dircon_prompts"] if "lack of ongoing treatment" in p and "4430" not in p]) == 1
    assert any("4430 (arterial)" in p for p in out["dircon_prompts"])


# ---------------------------------------------------------------- the calc


def test_calc_via_registry_carries_trace_and_policy_version() -> None:
    calc = REGISTRY["reviewer-guide"]
    assert calc.citation == "DI 40502.001J.2.d"
    out = calc.run({"profile": "L", "q1a_worked": "NO", "q4_health": "WORSE", "q5_doctor_visits": "YES"})
    assert out["trace"]
    assert out["policy_version"]["source"] == source.SOURCE
    for name in ("reviewer_q1", "reviewer_q5", "reviewer_profile_default"):
        assert out["policy_version"][f"table:{name}"] == "2008-10-01"
    assert out["policy_version"]["data:continuous_treatment_impairments"] == "2008-10-01"
    assert set(out) >= {"steps", "recommended_action", "dircon_prompts", "return_to_bet_dt", "profile_weight"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"profile": "X"}, "profile"),
        ({}, "profile"),
        ({"profile": "L", "q2_school": "MAYBE"}, "q2_school"),
        ({"profile": "L", "q1a_worked": "SOMETIMES"}, "q1a_worked"),
        ({"profile": "L", "impairment_codes": ["414"]}, "impairment_codes.0"),
        ({"profile": "L", "bet_dt_annotation": "WORK ON THE MOON"}, "bet_dt_annotation"),
        ({"profile": "L", "vr_interest": "YES"}, "vr_interest"),
    ],
)
def test_bad_input_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        REGISTRY["reviewer-guide"].run(payload)
    assert err.value.field == field
