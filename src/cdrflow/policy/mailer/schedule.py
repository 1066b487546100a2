"""Second requests and nonresponders at a mailer selection run (DI 40502.001G.6, E.1, H.2)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cdrflow.engine.calc import CalcOutput, Explain, calc
from cdrflow.engine.errors import InputError
from cdrflow.engine.months import days_between

from .record import Title
from .registry import REGISTRY
from .source import SOURCE, param

KNOWN_EVENTS = (
    "INITIAL MAILER SENT",
    "SECOND MAILER SENT",
    "NONRESPONDER REVIEW",
    "UNDELIVERABLE",
    "PC MAILER REVIEW",
    "PC MAILER FOLLOW-UP",
    "PC REVIEW FOLLOW-UP",
    "INITIATE CDR",
    "INITIATE CDR-VR REQUESTED",
    "DEFER CDR",
    "DEFER CDR-VR REQUESTED",
    "DO CDR",
    "MAILER RECEIVED",
)
FOLLOWUPS: dict[str, tuple[str, Literal["SEND_SECOND_MAILER", "NONRESPONDER_REVIEW"], str, str]] = {
    "INITIAL MAILER SENT": ("second_request_days", "SEND_SECOND_MAILER", "SECOND MAILER SENT", "second-request"),
    "SECOND MAILER SENT": ("nonresponder_days", "NONRESPONDER_REVIEW", "NONRESPONDER REVIEW", "nonresponder"),
}
"""Event -> (parameter of its age limit, action, event posted, rule id): DI 40502.001G.6."""
_PREFIX = re.compile(r"^(?:\d{3}\s*/\s*)?(?:(T2/16|T2|T16)\s+)?(.*)$")


def split_event(text: str) -> tuple[str | None, str]:
    """``"001/T16 INITIAL MAILER SENT"`` -> ``("T16", "INITIAL MAILER SENT")``."""
    m = _PREFIX.match(" ".join(text.upper().split()))
    assert m is not None
    return m.group(1), m.group(2)


class FollowupInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    last_event: str = Field(description='DCF event wording, e.g. "INITIAL MAILER SENT" or "T2/16 SECOND MAILER SENT"')
    last_event_date: dt.date
    as_of: dt.date = Field(description="the selection run date")
    send_request_date: dt.date | None = Field(
        None, description="for UNDELIVERABLE: the send request date of the mailer (default: last_event_date)"
    )


class Followup(CalcOutput):
    action: Literal["NONE", "SEND_SECOND_MAILER", "NONRESPONDER_REVIEW"]
    event: str | None = Field(description="the DCF event posted, with the title label")
    days: int


@calc(
    REGISTRY,
    "followup-selection",
    citation="DI 40502.001G.6; DI 40502.001E.1; DI 40502.001H.2",
    summary="At a selection run: send a second-request mailer, alert a nonresponder, or nothing",
    source=SOURCE,
    input_model=FollowupInput,
    output_model=Followup,
)
def followup_selection(inp: FollowupInput, explain: Explain) -> Followup:
    label_title, event = split_event(inp.last_event)
    if event not in KNOWN_EVENTS:
        raise InputError("last_event", f"unknown DCF event {inp.last_event!r}; known: {', '.join(KNOWN_EVENTS)}")
    if label_title is not None and label_title != inp.title:
        raise InputError("last_event", f"event is labelled {label_title} but title is {inp.title}")
    if inp.as_of < inp.last_event_date:
        raise InputError("as_of", f"selection run {inp.as_of} is before the last event {inp.last_event_date}")
    age = days_between(inp.last_event_date, inp.as_of)
    if event in FOLLOWUPS:
        limit_param, action, posted, rule = FOLLOWUPS[event]
        limit = int(param(limit_param, inp.as_of, explain))
        if age > limit:
            explain.rule(rule, "DI 40502.001G.6", f"{event} {age} days old > {limit}")
            return Followup(action=action, event=f"{inp.title} {posted}", days=age)
        explain.rule("wait", "DI 40502.001G.6", f"{event} {age} days old, not more than {limit}")
        return Followup(action="NONE", event=None, days=age)
    if event == "UNDELIVERABLE":
        start = inp.send_request_date or inp.last_event_date
        if inp.as_of < start:
            raise InputError("send_request_date", f"{start} is after the selection run {inp.as_of}")
        age = days_between(start, inp.as_of)
        limit = int(param("undeliverable_nonresponder_days", inp.as_of, explain))
        if age >= limit:
            explain.rule("undeliverable-nonresponder", "DI 40502.001E.1; DI 40502.001H.2",
                         f"{age} days from the send request; {limit} have passed")
            return Followup(action="NONRESPONDER_REVIEW", event=f"{inp.title} NONRESPONDER REVIEW", days=age)
        explain.rule("hold-undeliverable", "DI 40502.001E.1", f"{age} of {limit} days from the send request")
        return Followup(action="NONE", event=None, days=age)
    explain.rule("no-followup", "DI 40502.001G.6",
                 f"{event} is not selected for a second request or nonresponder alert")
    return Followup(action="NONE", event=None, days=age)
