"""The one SSN type (issue 13, items 4 and 8).

* :func:`check_ssn` is the one rule: nine digits whose area, group and serial numbers are ever issued
  (area 000, 666 and 900-999, group 00 and serial 0000 never are; interpretations §77).
* :data:`Ssn` is that rule as a pydantic type, for every model that carries an SSN.
* :data:`SsnDigits` is the same rule without the dashes' leniency, for the records of a data file:
  their readers' vectorized checks and duplicate tests compare the text as it is.
* :func:`polars_ok` is the rule as a Polars expression (the file readers' fast path); it gives exactly
  :func:`check_ssn`'s answer (``tests/kernel/test_ssn.py``); this module does not import Polars itself.
* :func:`mask` is how a person sees one unless they reveal it with a reason: ``***-**-1234``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator

if TYPE_CHECKING:
    import polars as pl

_DIGITS = re.compile(r"[0-9]{9}")  # ASCII digits only: ``\d`` would take any script's digits
NEVER_AREAS = ("000", "666")
"""Area numbers never issued, besides 900-999 (interpretations §77)."""


def check_ssn(v: str) -> str:
    """Return ``v`` or raise ``ValueError`` naming what is wrong with it (the message never repeats it)."""
    if not isinstance(v, str) or not _DIGITS.fullmatch(v):
        raise ValueError("ssn must be 9 digits")
    area, group, serial = v[:3], v[3:5], v[5:]
    # The area itself is not named: with the last four digits a mask shows, it would give away seven of nine.
    if area in NEVER_AREAS or area.startswith("9"):
        raise ValueError("ssn area number (first 3 digits) is never issued (000, 666 and 900-999)")
    if group == "00":
        raise ValueError("ssn group number (digits 4-5) 00 is never issued")
    if serial == "0000":
        raise ValueError("ssn serial number (last 4 digits) 0000 is never issued")
    return v


def _strip_dashes(v: Any) -> Any:
    if isinstance(v, str) and len(v) == 11 and v[3] == "-" and v[6] == "-":
        return v.replace("-", "")
    return v


Ssn = Annotated[str, BeforeValidator(_strip_dashes), AfterValidator(check_ssn)]
"""An SSN as nine digits; ``123-45-6789`` is accepted and stored as ``123456789``."""

SsnDigits = Annotated[str, AfterValidator(check_ssn)]
"""An SSN exactly as a data file record carries it: nine digits, no dashes."""


def polars_ok(c: pl.Expr) -> pl.Expr:
    """True where the text ``c`` passes :func:`check_ssn`, false where it does not, null where it is null."""
    area, group, serial = c.str.slice(0, 3), c.str.slice(3, 2), c.str.slice(5, 4)
    return (c.str.contains(r"^[0-9]{9}$") & ~area.is_in(list(NEVER_AREAS)) & ~area.str.starts_with("9")
            & (group != "00") & (serial != "0000"))


def mask(value: Any) -> str:
    """``"123456789"`` -> ``"***-**-6789"``; anything that is not an SSN shows as ``***-**-****``."""
    digits = value.replace("-", "") if isinstance(value, str) else ""
    if _DIGITS.fullmatch(digits):
        return f"***-**-{digits[5:]}"
    return "***-**-****"


def dashed(value: str) -> str:
    """The full SSN as people write it, for a logged reveal or a document that must carry it."""
    return f"{value[:3]}-{value[3:5]}-{value[5:]}"


def mask_all(text: str, ssn: str) -> str:
    """``text`` with every occurrence of ``ssn`` (as ``123-45-6789``, ``123 45 6789`` or ``123456789``, also
    inside a scanline) masked to its last four digits: what a person sees of a document on screen."""
    if not (len(ssn) == 9 and ssn.isdigit()):
        return text
    last = ssn[5:]
    for shown, masked in ((f"{ssn[:3]}-{ssn[3:5]}-{ssn[5:]}", f"***-**-{last}"),
                          (f"{ssn[:3]} {ssn[3:5]} {ssn[5:]}", f"*** ** {last}"), (ssn, f"*****{last}")):
        text = text.replace(shown, masked)
    return text
