"""One line of JSON Lines, read so that no line can stop a stream: every failure is a reason, never a raise."""

from __future__ import annotations

import json
from typing import Any


def read_line(data: bytes | str) -> tuple[Any, str | None]:
    """``(value, None)`` for a line that is one JSON value, else ``(None, reason)``.

    The reasons: bytes that are not UTF-8 (naming the byte and where), JSON that does not parse (the
    parser's message and column), a whole number of more than 4,300 digits (Python's limit for
    reading one), nesting deeper than the JSON reader's recursion limit (about 1,000 levels).
    """
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return None, (f"not UTF-8 text: byte 0x{data[exc.start]:02x} at byte {exc.start + 1} of the line "
                          "is not valid UTF-8")
    else:
        text = data
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return None, "not read: nested deeper than the JSON reader allows (about 1,000 levels)"
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion: ..."
        return None, f"not read: a number too long to read ({str(exc).split(';')[0]})"
