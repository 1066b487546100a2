"""Jinja2 filters, tests and globals for the mailer documents.

Every helper refuses a jinja2 ``Undefined`` (a key missing from the payload) by raising the
undefined error, so :func:`cdrflow.documents.render.render` can name the missing key. A value
that is present but cannot be shown (an unknown code, a malformed date) raises
:class:`ValueError`.

Nothing here reads policy: a value that depends on a parameter (the short-remark limit, the number
of DIRCON attempts) comes from the payload, as recorded when the document was issued
(:func:`recorded_param`); when it was not recorded the document says so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from jinja2 import Undefined

from cdrflow.forms.scanlines import b8_score as _b8_score
from cdrflow.forms.ssa455 import QUESTION_MAP, topic_for_ocr
from cdrflow.kernel.ssn import check_ssn, dashed, mask
from cdrflow.policy.mailer.features import word_count

SOURCE_PREFIX: Final = "DI 40502.001"
BLANK: Final = "—"
NOT_RECORDED: Final = "not recorded when issued"
"""What a document shows for a value its payload did not record when it was issued (never today's value)."""

MONTH_NAMES: Final = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

PROFILE_WORDS: Final[Mapping[str, str]] = {"H": "High", "M": "Medium", "L": "Low"}
"""G.3: the word High, Medium or Low is printed on the profile sheet."""

TITLE_LABELS: Final[Mapping[str, str]] = {
    "T2": "Title II only",
    "T2/16": "Concurrent Title II/Title XVI",
    "T16": "Title XVI only",
}

ANSWER_LABELS: Final[Mapping[str, str]] = {
    "YES": "YES",
    "NO": "NO",
    "BOTH": "BOTH YES AND NO",
    "HAVE_NOT_DISCUSSED": "HAVE NOT DISCUSSED",
    "CANNOT_WORK": "CANNOT WORK",
    "CAN_WORK": "CAN WORK",
    "BETTER": "BETTER",
    "SAME": "SAME",
    "WORSE": "WORSE",
}
NO_RESPONSE: Final = "NO RESPONSE"

ACTION_LABELS: Final[Mapping[str, str]] = {
    "DEFER": "DEFER — defer the full medical CDR and rediary the case",
    "REDIARY": "DEFER — defer the full medical CDR and rediary the case",
    "DO_CDR": "DO CDR — refer the case to the FO for a full medical CDR",
    "REFER_CDR": "DO CDR — refer the case to the FO for a full medical CDR",
}
"""Decision-logic actions; the ``mailer-decision`` calc spells the alert's action REDIARY/REFER_CDR."""

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MONTH = re.compile(r"^\d{4}-\d{2}$")


def defined(value: Any) -> Any:
    """``value`` itself; a jinja2 ``Undefined`` raises its undefined error."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


def blank(value: Any, text: str = BLANK) -> Any:
    """``text`` for ``None`` or an empty string, else ``value`` (unlike ``default``, never hides a missing key)."""
    value = defined(value)
    if value is None or value == "":
        return text
    return value


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        return dt.date.fromisoformat(value)
    raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")


def fmt_date(value: Any, missing: str = BLANK) -> str:
    """``"2031-03-05"`` -> ``"March 5, 2031"``; ``None`` -> ``missing``."""
    value = defined(value)
    if value is None:
        return missing
    day = _parse_date(value)
    return f"{MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


def fmt_month(value: Any, missing: str = BLANK) -> str:
    """``"2031-03"`` (or a date in that month) -> ``"March 2031"``; ``None`` -> ``missing``."""
    value = defined(value)
    if value is None:
        return missing
    if isinstance(value, str) and _ISO_MONTH.match(value):
        year, month = int(value[:4]), int(value[5:])
        if not 1 <= month <= 12:
            raise ValueError(f"expected a month as YYYY-MM, got {value!r}")
        return f"{MONTH_NAMES[month - 1]} {year}"
    try:
        day = _parse_date(value)
    except ValueError:
        raise ValueError(f"expected a month as YYYY-MM, got {value!r}") from None
    return f"{MONTH_NAMES[day.month - 1]} {day.year}"


def fmt_ssn(value: Any) -> str:
    """``"123456789"`` -> ``"123-45-6789"`` (an already dashed SSN is accepted): the one rule of
    :mod:`cdrflow.kernel.ssn`; the error names what is wrong, never the value."""
    value = defined(value)
    digits = value.replace("-", "") if isinstance(value, str) else ""
    return dashed(check_ssn(digits))


def fmt_ssn_masked(value: Any) -> str:
    """``"123456789"`` -> ``"***-**-6789"``, for a message (an error names no SSN in full)."""
    return mask(defined(value))


def fmt_money(value: Any, missing: str = BLANK) -> str:
    """``1234.5`` -> ``"$1,234.50"``; ``None`` -> ``missing``."""
    value = defined(value)
    if value is None:
        return missing
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected an amount, got {value!r}")
    return f"${float(value):,.2f}"


def _lookup(table: Mapping[str, str], value: Any, what: str) -> str:
    value = defined(value)
    if not isinstance(value, str) or value not in table:
        raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(table)}")
    return table[value]


def profile_word(value: Any) -> str:
    """``"L"`` -> ``"Low"`` (DI 40502.001G.3)."""
    return _lookup(PROFILE_WORDS, value, "profile")


def title_label(value: Any) -> str:
    """``"T2/16"`` -> ``"Concurrent Title II/Title XVI"``."""
    return _lookup(TITLE_LABELS, value, "title")


def answer(value: Any) -> str:
    """A mark-sense answer as printed on the facsimile; ``None`` -> ``"NO RESPONSE"``."""
    value = defined(value)
    if value is None:
        return NO_RESPONSE
    return _lookup(ANSWER_LABELS, value, "answer")


def action_label(value: Any) -> str:
    """``"DEFER"``/``"DO_CDR"`` (or the calc's ``REDIARY``/``REFER_CDR``) in words."""
    return _lookup(ACTION_LABELS, value, "action")


def mdr_type(value: Any) -> str:
    """The diary type of a medical diary reason (DI 40502.001G.5, J.3.b): alpha MIE, 3 MIP, 5/7 MINE."""
    value = defined(value)
    if value is None:
        return BLANK
    text = str(value)
    if len(text) == 1 and text.isalpha() and text.isupper():
        return "MIE"
    if text == "3":
        return "MIP"
    if text in ("5", "7"):
        return "MINE"
    raise ValueError(f"unknown medical diary reason {value!r}; expected an upper-case letter, 3, 5 or 7")


def words(value: Any) -> str:
    """``"FOREIGN_ADDRESS"`` -> ``"FOREIGN ADDRESS"``."""
    return str(defined(value)).replace("_", " ")


def is_lengthy_remark(value: Any, limit: Any) -> bool:
    """More than the short-remark ``limit`` ({words, characters}: 30 and 200 since 2008-10-01), the value of
    parameter ``remark_short_limit`` recorded when the document was issued (DI 40502.001E.3.a, E.4.b, G.3)."""
    text = defined(value)
    if not isinstance(text, str):
        raise ValueError(f"expected remarks text, got {text!r}")
    limit = defined(limit)
    if not isinstance(limit, Mapping) or "words" not in limit or "characters" not in limit:
        raise ValueError(f"expected the short-remark limit as {{words, characters}}, got {limit!r}")
    return word_count(text) > int(limit["words"]) or len(text) > int(limit["characters"])


def recorded_param(issued: Any, name: str) -> Any:
    """The value of parameter ``name`` as the document recorded it when issued (``issued.parameters``), or
    ``None`` when it was not recorded. Never looked up now: a reprint shows what was issued."""
    if isinstance(issued, Undefined) or not isinstance(issued, Mapping):
        return None
    entry = (issued.get("parameters") or {}).get(name)
    return entry.get("value") if isinstance(entry, Mapping) else None


def as_text(value: Any) -> str:
    """A stored value as one line: text as is, ``None`` as a dash, anything else as compact JSON."""
    value = defined(value)
    if value is None:
        return BLANK
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def b8_score(value: Any) -> str:
    """A profile score (fraction 0-1) as scanline 2's 4-digit SCORE (B.8, 9999 highest): ``0.0312`` -> ``"0312"``."""
    return f"{_b8_score(defined(value)):04d}"


def cite(*passages: str) -> str:
    """``cite("F.3", "G.4.c")`` -> ``"DI 40502.001F.3; DI 40502.001G.4.c"``."""
    return "; ".join(f"{SOURCE_PREFIX}{p}" for p in passages)


def ssa455_number(ocr_question: int) -> int:
    """The hard-paper Form SSA-455 number of an SSA-455-OCR-SM question (DI 40502.001B.7, J.2.a)."""
    return QUESTION_MAP[topic_for_ocr(ocr_question)].ssa455


FILTERS: Final = {
    "blank": blank,
    "date": fmt_date,
    "month": fmt_month,
    "ssn": fmt_ssn,
    "ssn_masked": fmt_ssn_masked,
    "money": fmt_money,
    "profile_word": profile_word,
    "title_label": title_label,
    "answer": answer,
    "action_label": action_label,
    "mdr_type": mdr_type,
    "words": words,
    "b8_score": b8_score,
    "as_text": as_text,
}
TESTS: Final = {"lengthy_remark": is_lengthy_remark}
GLOBALS: Final = {"cite": cite, "ssa455_number": ssa455_number, "recorded_param": recorded_param,
                  "NOT_RECORDED": NOT_RECORDED}
