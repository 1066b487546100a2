"""The duplicate check of a returned-mailer file: a repeated ``mailer_id`` is rejected, naming the
line of the record that stands. :class:`SeenIds` remembers every id (any input);
:class:`FirstValid` comes from a Parquet file's pre-pass (:func:`parquet_duplicates`) and is
stateless, so chunks can be decided anywhere."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from pydantic import ValidationError

from cdrflow.policy.mailer.record import ReturnedMailer

from .reading import Reject


class SeenIds:
    """Exact duplicate check that remembers every id (any input; memory grows with the file)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def split(self, valid: pl.DataFrame) -> tuple[pl.DataFrame, list[Reject]]:
        return _split(valid, self.seen, None)


class FirstValid:
    """Exact duplicate check from a pre-pass: for each id the file holds more than once, the line of
    its first valid record. Stateless, so chunks can be decided in any order or in parallel."""

    def __init__(self, first: dict[str, int]) -> None:
        self.first = first

    def split(self, valid: pl.DataFrame) -> tuple[pl.DataFrame, list[Reject]]:
        return _split(valid, None, self.first)


def _split(valid: pl.DataFrame, seen: dict[str, int] | None, first: dict[str, int] | None
           ) -> tuple[pl.DataFrame, list[Reject]]:
    ids = valid["mailer_id"]
    lines = valid["_line"]
    if first is not None:
        if not first:
            return valid, []
        mask = ids.is_in(list(first))
        ids, lines = ids.filter(mask), lines.filter(mask)
    dup_lines: list[int] = []
    rejects: list[Reject] = []
    for mid, line in zip(ids.to_list(), lines.to_list(), strict=True):
        if first is not None:
            if first[mid] != line:
                dup_lines.append(line)
                rejects.append(Reject(line, mid, "mailer_id", f"duplicate of the record on line {first[mid]}"))
        elif seen is not None:
            if mid in seen:
                dup_lines.append(line)
                rejects.append(Reject(line, mid, "mailer_id", f"duplicate of the record on line {seen[mid]}"))
            else:
                seen[mid] = line
    if dup_lines:
        valid = valid.filter(~pl.col("_line").is_in(dup_lines))
    return valid, rejects


_ID_EDGE = r"^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$"


def parquet_duplicates(path: Path) -> FirstValid:
    """The duplicate check of a Parquet file, from its ``mailer_id`` column alone.

    Ids are compared with every character the model could strip removed from both ends (a superset
    of what it strips, so no true duplicate is missed); only the records of ids seen more than once
    are read again and judged by the model, to find each id's first valid record.
    """
    scan = pl.scan_parquet(path)
    kind = scan.collect_schema().get("mailer_id")
    if kind is None or not (kind == pl.String or isinstance(kind, (pl.Categorical, pl.Enum))):
        return FirstValid({})  # no record has a valid id: all are rejected anyway
    raw = pl.col("mailer_id").cast(pl.String)  # a dictionary-encoded id is the same text
    # the key strips only ids that have something to strip (few); a 64-bit hash of it finds the
    # repeats cheaply, and a collision only adds a candidate, which the exact step below clears
    key = pl.when(raw.str.contains(_ID_EDGE)).then(raw.str.replace_all(_ID_EDGE, "")).otherwise(raw)
    hashed = key.hash(seed=455)
    hashes = scan.select(hashed.alias("h")).collect()["h"]
    if hashes.n_unique() == hashes.len():  # the usual file: every id once
        return FirstValid({})
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1)).unique()
    rows = (scan.with_row_index("_line", offset=1).filter(hashed.is_in(repeated.implode()))
            .collect(engine="streaming"))
    first: dict[str, int] = {}
    lines = rows["_line"].to_list()
    for line, rec in zip(lines, rows.drop("_line").to_dicts(), strict=True):
        try:
            mid = ReturnedMailer.model_validate(rec).mailer_id
        except ValidationError:
            continue
        first.setdefault(mid, line)
    return FirstValid(first)
