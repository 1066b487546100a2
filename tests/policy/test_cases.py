"""Run the seed-derived cases of src/cdrflow/policy/*/cases/*.yaml against the calcs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cdrflow.engine.errors import InputError, PolicyError
from cdrflow.engine.yamlio import load_yaml
from cdrflow.policy.calcs import REGISTRY

from ..conftest import BASE_MAILER

POLICY_DIR = Path(__file__).parents[2] / "src" / "cdrflow" / "policy"
CASES_DIR = POLICY_DIR / "mailer" / "cases"
CASE_FILES = sorted(POLICY_DIR.glob("*/cases/*.yaml"))


def _cases() -> list[Any]:
    params = []
    for path in CASE_FILES:
        doc = load_yaml(path)
        for case in doc["cases"]:
            params.append(pytest.param(doc["calc"], case, id=f"{path.stem}: {case['name']}"))
    return params


def assert_subset(expected: Any, actual: Any, where: str = "") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing from {actual}"
            assert_subset(value, actual[key], f"{where}.{key}")
    else:
        assert actual == expected, f"{where}: expected {expected!r}, got {actual!r}"


@pytest.mark.parametrize(("calc", "case"), _cases())
def test_seed_case(calc: str, case: dict[str, Any]) -> None:
    assert case.get("cite", "").strip(), "every case cites its passage"
    payload = {**BASE_MAILER, **case["input"]} if calc == "mailer-decision" else dict(case["input"])
    if "error_field" in case:
        if case["error_field"] == "(policy)":
            with pytest.raises(PolicyError) as perr:
                REGISTRY[calc].run(payload)
            assert not isinstance(perr.value, InputError)
            return
        with pytest.raises(InputError) as err:
            REGISTRY[calc].run(payload)
        assert err.value.field == case["error_field"], str(err.value)
        return
    answer = REGISTRY[calc].run(payload)
    assert_subset(case["expect"], answer, calc)
    assert answer["trace"], "every answer carries its trace"
    assert all(step["cite"] for step in answer["trace"])
    assert answer["policy_version"]["source"]


def test_every_calc_has_cases() -> None:
    covered = {load_yaml(p)["calc"] for p in CASE_FILES}
    covered.add("reviewer-guide")  # its cases are tests/policy/reviewer_guide_cases.yaml (test_reviewer_guide.py)
    assert covered == {c.name for c in REGISTRY}, "every registered calc has seed cases, and every case file a calc"
