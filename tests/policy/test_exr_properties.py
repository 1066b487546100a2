"""Properties of the EXR determination (DI 28057.015) that hold for every input, in both versions.

The month of entitlement is never after the latest allowed month, never an SGA month, never
before the BTM, January 2001 or the 12-month retroactive period, always a month under a
disability under MIRS, and the earliest such month; the version is the one in force on the
determination date; return to work and MIRS in the request month decide before any month does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cdrflow.engine.months import Month
from cdrflow.policy.calcs import REGISTRY

TN2_FROM = dt.date(2018, 2, 6)
JAN_2001 = Month(2001, 1)


@st.composite
def exr_inputs(draw: st.DrawFn) -> dict[str, Any]:
    req = JAN_2001 + draw(st.integers(0, 12 * 24))
    btm = req + (-draw(st.integers(0, 40)))
    window = [req + i for i in range(-14, 3)]
    sga = draw(st.lists(st.sampled_from(window), unique=True, max_size=len(window)))
    mirs = draw(st.one_of(st.none(), st.sampled_from([req + i for i in range(-16, 3)])))
    # determination dates around the version change, never before the request month
    start = max(req.first_day(), dt.date(2001, 1, 1))
    as_of = draw(st.one_of(
        st.dates(min_value=start, max_value=start + dt.timedelta(days=900)),
        st.dates(min_value=max(start, TN2_FROM - dt.timedelta(days=3)),
                 max_value=max(start, TN2_FROM) + dt.timedelta(days=3)),
    ))
    return {"title": draw(st.sampled_from(["T2", "T16"])), "request_month": str(req), "btm": str(btm),
            "sga_months": [str(m) for m in sga], "mirs_met_from": None if mirs is None else str(mirs),
            "same_or_related": True, "as_of": as_of.isoformat()}


@given(exr_inputs())
@settings(max_examples=400, deadline=None)
def test_month_of_entitlement_obeys_every_limit(inp: dict[str, Any]) -> None:
    out = REGISTRY["exr-determination"].run(inp)
    tn2 = dt.date.fromisoformat(inp["as_of"]) >= TN2_FROM
    assert out["version"] == ("TN 2 (02-18)" if tn2 else "TN 1 (02-06)")
    req, btm = Month.parse(inp["request_month"]), Month.parse(inp["btm"])
    sga = {Month.parse(m) for m in inp["sga_months"]}
    mirs = Month.parse(inp["mirs_met_from"]) if inp["mirs_met_from"] else None

    technical = req in sga and (not tn2 or req + 1 in sga)
    if technical:  # G: return to work decides first
        assert out["outcome"] == "TECHNICAL_DENIAL" and out["moe"] is None
        return
    if mirs is None or mirs > req:  # B, D: disabled under MIRS in the request month
        assert out["outcome"] == "DENIED" and out["moe"] is None
        return
    assert out["outcome"] == "ENTITLED"
    moe = Month.parse(out["moe"])
    if inp["title"] == "T16":  # F: the month after the request, never before February 2001
        assert moe == max(req + 1, Month(2001, 2))
        return
    latest = req + 1 if (tn2 and req in sga) else req
    earliest = max(req + (-12), btm, JAN_2001)
    assert earliest <= moe <= latest, (earliest, moe, latest)
    assert moe not in sga
    assert moe >= mirs
    assert moe >= btm
    m = earliest
    while m < moe:  # the earliest qualifying month
        assert m in sga or m < mirs, f"{m} qualifies before {moe}"
        m = m + 1
    months = {row["month"]: row for row in out["months"]}
    assert months[str(moe)]["qualifies"] is True


@given(exr_inputs())
@settings(max_examples=100, deadline=None)
def test_not_same_or_related_is_denied_before_anything_else_but_return_to_work(inp: dict[str, Any]) -> None:
    out = REGISTRY["exr-determination"].run({**inp, "same_or_related": False})
    assert out["outcome"] in ("DENIED", "TECHNICAL_DENIAL")
    assert out["moe"] is None
    if out["outcome"] == "DENIED":
        assert not any("MIRS" in r["text"] for r in out["reasons"])  # no MIRS determination is made
        assert any("DI 28057.020B" in r["cite"] for r in out["reasons"])


@given(exr_inputs())
@settings(max_examples=100, deadline=None)
def test_same_input_same_answer(inp: dict[str, Any]) -> None:
    assert REGISTRY["exr-determination"].run(inp) == REGISTRY["exr-determination"].run(inp)


@given(exr_inputs(), st.sampled_from([None, "LISTING", "MEDICAL_VOCATIONAL"]), st.booleans(), st.booleans())
@settings(max_examples=150, deadline=None)
def test_facts_the_policy_calls_irrelevant_change_nothing(
    inp: dict[str, Any], basis: str | None, obsolete: bool, screen_out: bool
) -> None:
    """C.1 (listing or medical-vocational basis), C.3 (obsolete listing), D NOTE (screen-out)."""
    plain = REGISTRY["exr-determination"].run(inp)
    given_ = REGISTRY["exr-determination"].run(
        {**inp, "cpd_basis": basis, "cpd_listing_obsolete": obsolete, "cdr_screen_out_would_apply": screen_out})
    assert (given_["outcome"], given_["moe"], given_["months"]) == (plain["outcome"], plain["moe"], plain["months"])
