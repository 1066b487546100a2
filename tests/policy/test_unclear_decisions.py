"""F.1.a/F.1.b: only answers the J.2.d rows decide by themselves are closed by the logic.

The predicate below is written from the reviewer guide's text, independently of the table: the
walk reaches questions 5 and 6 when no earlier row ended it (question 2 YES for High/Medium with
neither 5 nor 6 YES, question 3 CAN WORK for High/Medium, question 4 BETTER, question 4 SAME for
High/Medium); there, the rows conflict (5 YES for HIGHS/MEDIUMS against 6 YES or NO), call for
weighing (question 2 YES for High/Medium with 5 or 6 YES) or say nothing (5 unanswered, 6 NO).
"""

from __future__ import annotations

import itertools
from collections import Counter

from cdrflow.policy.mailer.source import decide

Q2 = ["YES", "NO", "NONE"]
Q3 = ["HAVE_NOT_DISCUSSED", "CANNOT_WORK", "CAN_WORK", "NONE"]
Q4 = ["BETTER", "SAME", "WORSE", "NONE"]
YN = ["YES", "NO", "NONE"]


def _text_says_unclear(profile: str, q2: str, q3: str, q4: str, q5: str, q6: str) -> bool:
    hm = profile in ("H", "M")
    ended_before_q5 = (
        (hm and q2 == "YES" and q5 != "YES" and q6 != "YES")
        or (hm and q3 == "CAN_WORK")
        or q4 == "BETTER"
        or (hm and q4 == "SAME")
    )
    if ended_before_q5:
        return False
    conflict = hm and q5 == "YES" and q6 in ("YES", "NO")
    weigh = hm and q2 == "YES" and "YES" in (q5, q6)
    silent = q5 == "NONE" and q6 == "NO"
    return conflict or weigh or silent


def test_clear_is_false_exactly_where_the_rows_conflict_weigh_or_say_nothing() -> None:
    for profile, q2, q3, q4, q5, q6 in itertools.product("HML", Q2, Q3, Q4, YN, YN):
        answers = {"profile": profile, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6}
        got = decide("automated_recommendation", answers, None).outputs["clear"]
        assert got is not _text_says_unclear(profile, q2, q3, q4, q5, q6), answers


def test_how_many_answer_combinations_move_to_pc_review() -> None:
    """The count docs/interpretations.md#unclear reports: of the 1,296 answer combinations, those the
    logic used to close by itself (recommendation agrees with the profile) and now sends to PC review."""
    moved: Counter[str] = Counter()
    automatic = 0
    for profile, q2, q3, q4, q5, q6 in itertools.product("HML", Q2, Q3, Q4, YN, YN):
        rec = decide("automated_recommendation",
                     {"profile": profile, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q6": q6}, None).outputs
        significant = decide("significant_responses", {"profile": profile, "recommendation": rec["recommendation"]},
                             None).outputs["significant"]
        if not significant:
            automatic += 1
            if not rec["clear"]:
                moved[profile] += 1
    assert automatic == 1020
    assert dict(moved) == {"H": 54, "M": 54, "L": 36}
    assert sum(moved.values()) == 144
