"""CSV rows read so that no row can stop a file: a row that cannot be split is a reason, never a raise.

Python's C ``csv`` parser counts each row's fields (a Polars scan would pad a short row or refuse
the whole file for a long one), and resumes at the next line after a row it cannot split. Bytes
that are not valid in the encoding become U+FFFD, which the readers' column checks reject, so a bad
byte costs its row, not the file. One reader for the population, LEIE, license roster and provider
files.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

FIELD_LIMIT: Final = 1 << 20
"""The longest cell the CSV reader takes (characters); a longer one rejects its row, not the file."""


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: its number (1-based, blank lines not counted), the file line it ends on, its cells,
    and, when it cannot be taken as it is, why (it cannot be split, or has another number of fields
    than the header)."""

    row: int
    line: int
    cells: list[str]
    problem: str | None


def raw_record(names: Sequence[str], cells: Sequence[str]) -> dict[str, str]:
    """A ragged row's cells by column name, for its reject: the cells past the header as ``_extra``."""
    raw = dict(zip(names, cells, strict=False))
    if len(cells) > len(names):
        raw["_extra"] = ",".join(cells[len(names):])
    return raw


@contextmanager
def csv_rows(path: Path, error: Callable[[str], Exception], *,
             encoding: str = "utf-8-sig") -> Iterator[tuple[list[str], Iterator[CsvRow]]]:
    """Open ``path``: its header (the first row that is not blank) and an iterator over its data rows.

    A header that cannot be read, or no header at all, raises ``error(message)`` naming the file.
    """
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    with Path(path).open(encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
            while header == []:
                header = next(reader, None)
        except csv.Error as exc:
            raise error(f"{path.name}: line {reader.line_num}: the header cannot be read: {exc}") from None
        if header is None:
            raise error(f"{path.name}: the file is empty (no header row)")
        yield header, _rows(reader, len(header))


def _rows(reader: Any, n: int) -> Iterator[CsvRow]:
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a cell beyond FIELD_LIMIT; the parser resumes at the next line
            row += 1
            yield CsvRow(row, reader.line_num, [], f"the row cannot be read: {exc}")
            continue
        if not cells:
            continue  # a blank line is not a row
        row += 1
        problem = None if len(cells) == n else f"{len(cells)} fields; the header has {n}"
        yield CsvRow(row, reader.line_num, cells, problem)
