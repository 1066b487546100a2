"""The EXR worksheet (DI 28057.015): one stored case as a readable, printable HTML page.

:func:`render_exr_worksheet` takes the dict :func:`cdrflow.workflow.exr.case_view` returns (the
case's facts, its findings in order with who made them and when, the status derived from them,
and the latest determination) and renders ``templates/exr_worksheet.html`` inside the shared
``base.html`` page. The months table walks the months of the window from the determination's
``months`` rows (month, SGA?, the MIRS finding on file, MIRS met?, qualifies?, why, citation).

Like the mailer documents, autoescaping is on and undefined values are strict: a view missing a
key the worksheet needs is a :class:`ValueError` naming the key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from jinja2 import Undefined, UndefinedError
from markupsafe import Markup

from .render import environment

KIND: Final = "EXR_WORKSHEET"

STEP_LABELS: Final[Mapping[str, str]] = {
    "DEVELOPMENT_COMPLETE": "Medical development complete",
    "SAME_OR_RELATED": "“Same as or related” finding",
    "MIRS": "MIRS finding",
    "RETURN_TO_WORK": "Return to work (SGA reported)",
    "DETERMINATION": "EXR determination",
}

STEP_CITES: Final[Mapping[str, str]] = {
    "DEVELOPMENT_COMPLETE": "DI 28057.015C NOTE",
    "SAME_OR_RELATED": "DI 28057.015A; DI 28057.015C",
    "MIRS": "DI 28057.015D",
    "RETURN_TO_WORK": "DI 28057.015G",
    "DETERMINATION": "DI 28057.015A-G",
}

def stamp(value: Any) -> str:
    """An ISO timestamp (``2004-10-15T14:03:07.5+00:00``) -> ``"2004-10-15 14:03 UTC"``."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"expected a timestamp, got {value!r}") from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return f"{when:%Y-%m-%d %H:%M} UTC"


_ENV: Final = environment()
_ENV.filters["stamp"] = stamp
_ENV.globals.update(step_label=STEP_LABELS.get, step_cite=STEP_CITES.get)


def render_exr_worksheet(view: Mapping[str, Any], *, title: str | None = None, full_ssn: bool = False) -> str:
    """The EXR worksheet of one case as a full, self-contained HTML page.

    ``view`` is :func:`cdrflow.workflow.exr.case_view`'s answer. The SSN shows masked (``***-**-1234``)
    unless ``full_ssn``, which the caller sets only after a logged reveal
    (:func:`cdrflow.workflow.exr.reveal_ssn`). Raises :class:`ValueError` when a key the worksheet needs
    is missing (naming it) or a value cannot be shown.
    """
    for key in ("case", "findings", "status", "determination"):
        if key not in view:
            raise ValueError(f"{KIND}: view is missing key {key!r}")
    case_id = view["case"].get("case_id")
    page_title = title or f"EXR worksheet, case {case_id}"
    try:
        body = _ENV.get_template("exr_worksheet.html").render(
            **view, kind=KIND, section_id="exr-worksheet", full_ssn=full_ssn)
    except UndefinedError as exc:
        raise ValueError(f"{KIND}: {exc.message}") from exc
    except ValueError as exc:
        raise ValueError(f"{KIND}: {exc}") from exc
    section = Markup(body)  # noqa: S704 - the output of an autoescaping template
    return _ENV.get_template("base.html").render(
        page_title=page_title, sections=[{"id": "exr-worksheet", "title": page_title, "html": section}],
        bundle=False)
