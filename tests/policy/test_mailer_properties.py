"""Properties of the mailer decision that users rely on, over generated records."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cdrflow.policy.mailer.calcs import REGISTRY

from ..strategies import mailer_records

decide = REGISTRY["mailer-decision"].run


@given(mailer_records())
@settings(max_examples=400, deadline=None)
def test_exactly_one_outcome_and_alert_agrees(rec: dict[str, Any]) -> None:
    d = decide(rec)
    assert d["outcome"] in ("DEFER", "DO_CDR", "PC_REVIEW")
    if d["outcome"] != "PC_REVIEW":
        assert d["alert"] is None
        assert d["outcome"] == d["automated_recommendation"], "a clear decision is the automated one"
    elif rec["form"] == "SSA-455-OCR-SM":
        assert d["alert"] is not None, "every OCR mailer sent to PC review carries an alert (F.3)"
        assert (d["alert"]["type"] == "PSC_MAILER") == d["actionable"], "PSC MAILER iff actionable (E.4.b, F.3)"
        rec_action = {"DEFER": "REDIARY", "DO_CDR": "REFER_CDR"}[d["automated_recommendation"]]
        assert d["alert"]["recommended_action"] == rec_action
    assert d["actionable"] is False or d["outcome"] == "PC_REVIEW", "actionable mailers always need PC review"


@given(mailer_records(), st.sampled_from(["YES", "NO", None]))
@settings(max_examples=300, deadline=None)
def test_vr_answer_never_matters(rec: dict[str, Any], vr: Any) -> None:
    a = decide({**rec, "vr_interest": rec["vr_interest"]})
    b = decide({**rec, "vr_interest": vr})
    assert a == b


@given(mailer_records())
@settings(max_examples=300, deadline=None)
def test_translation_always_goes_to_bet_dt_first(rec: dict[str, Any]) -> None:
    rec = {**rec, "translation_needed": True, "form": "SSA-455-OCR-SM"}
    d = decide(rec)
    assert d["outcome"] == "PC_REVIEW"
    assert d["alert"]["reviewer"] == "BET/DT"
    assert d["alert"]["message"] in (1, 2)


@given(mailer_records())
@settings(max_examples=300, deadline=None)
def test_hard_paper_never_gets_an_alert(rec: dict[str, Any]) -> None:
    d = decide({**rec, "form": "SSA-455"})
    assert d["outcome"] == "PC_REVIEW"
    assert d["alert"] is None


@given(mailer_records())
@settings(max_examples=200, deadline=None)
def test_same_input_same_answer(rec: dict[str, Any]) -> None:
    assert decide(rec) == decide(dict(rec))
