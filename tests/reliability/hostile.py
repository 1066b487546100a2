"""Helpers of the reliability suite: run the CLI and make sure it never crashed; write hostile CSV rows."""

from __future__ import annotations

import csv
import io
import json
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import Result
from typer.testing import CliRunner

from cdrflow.cli import app

runner = CliRunner()

NOT_UTF8 = "\ue000"
"""Stands in a cell for bytes that are not UTF-8: :func:`csv_bytes` writes 0xFF 0xFE in its place."""


def run(*args: str, stdin: bytes | str | None = None, token: str | None = None,
        env: dict[str, str] | None = None) -> Result:
    """``cdrflow ARGS`` in process (as the person of ``token``, with ``env`` added to the environment); fails the
    test on any exception other than the command's own exit, and on a traceback in what it printed."""
    r = runner.invoke(app, list(args), input=stdin, env={**(env or {}), **({"CDRFLOW_TOKEN": token} if token else {})})
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError("cdrflow raised instead of answering:\n"
                             + "".join(traceback.format_exception(r.exception)))
    assert "Traceback" not in r.output, r.output
    return r


def one_error_line(r: Result, *words: str) -> str:
    """The command printed exactly one ``error:`` line on stderr, holding every one of ``words``."""
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, r.output
    for w in words:
        assert w in errors[0], (w, errors[0])
    return errors[0]


def read_rejects(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert "\u2028" not in text and "\x85" not in text  # one record, one line, however the file is split
    return [json.loads(line) for line in text.split("\n") if line]


@dataclass(frozen=True)
class Bad:
    """One hostile CSV row: cell changes (``NOT_UTF8`` marks invalid bytes), cells added (``extra`` > 0) or
    removed (< 0), and the field and the words its reject must carry."""

    name: str
    cells: dict[str, str]
    field: str
    words: str
    extra: int = 0


def csv_bytes(header: Sequence[str], rows: Sequence[tuple[dict[str, str], Bad | None]]) -> bytes:
    """A CSV file (every cell quoted) of ``rows``: each a full row of cells, changed by its :class:`Bad`."""
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
    w.writerow(header)
    for cells, bad in rows:
        values = [{**cells, **(bad.cells if bad else {})}[c] for c in header]
        if bad is not None and bad.extra > 0:
            values += ["EXTRA"] * bad.extra
        elif bad is not None and bad.extra < 0:
            values = values[:bad.extra]
        w.writerow(values)
    return buf.getvalue().encode("utf-8").replace(NOT_UTF8.encode("utf-8"), b"\xff\xfe")


def interleave(good: Sequence[dict[str, str]], carriers: Sequence[dict[str, str]], bads: Sequence[Bad]
               ) -> tuple[list[tuple[dict[str, str], Bad | None]], dict[int, Bad], list[int]]:
    """good, bad, good, bad, ..., good: the rows, the data row of each bad one, and the good rows' numbers."""
    assert len(good) > len(bads) and len(carriers) >= len(bads)
    rows: list[tuple[dict[str, str], Bad | None]] = []
    where: dict[int, Bad] = {}
    good_rows: list[int] = []
    g = iter(good)
    for i, bad in enumerate(bads):
        rows.append((next(g), None))
        good_rows.append(len(rows))
        rows.append((carriers[i], bad))
        where[len(rows)] = bad
    for cells in g:
        rows.append((cells, None))
        good_rows.append(len(rows))
    return rows, where, good_rows


def check_rejects(rejects: list[dict[str, Any]], where: dict[int, Bad], *, row_key: str = "row") -> None:
    """Exactly the hostile rows are rejected, each naming its row, file line and field, with the words."""
    got = {r[row_key]: r for r in rejects}
    assert sorted(got) == sorted(where), (sorted(got), sorted(where))
    for row, bad in where.items():
        rej = got[row]
        assert rej["field"] == bad.field, (bad.name, rej)
        assert bad.words in rej["reason"], (bad.name, rej["reason"])
        assert rej.get("line") == row + 1, (bad.name, rej)  # the header is line 1, one line per row
