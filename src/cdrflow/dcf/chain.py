"""The DCF's hash chains: every event, EXR finding and M/PR check is linked to the one before it.

Each chained table has a chain of the same name. Link ``seq`` (1, 2, 3, ... with no gap) of a chain
names one row (``row_id``) and holds

    row_hash = SHA-256( prev_hash | chain | seq | row_id | canonical(row) )

where ``prev_hash`` is the ``row_hash`` of link ``seq - 1`` (64 zeros for the first link) and
``canonical(row)`` is the row's stored values as compact JSON with sorted keys (NULLs left out, so a
column a later migration adds as NULL leaves old hashes as they were). ``dcf_chain`` holds each
chain's head: how many links it has and the last ``row_hash``.

The links are in their own append-only table (``dcf_chain_links``), written when the transaction
that inserted the rows is about to commit (:func:`seal`, called by ``Store.tx``): the rows keep the
place they were inserted at among the transaction's other statements (the G.7 guard depends on that
order), and the chain head is locked only for the last moment of a transaction, after every other
lock it takes, so two writers serialize on the head without ever deadlocking on it and cannot fork
the chain.

What is hashed is what the database returns for the row (read back by id, raw driver values made
canonical by column type), the same values :func:`verify` reads later, so the two cannot disagree on
a representation. ``cdrflow dcf verify`` recomputes every link and reports the first record that does
not match, gaps, rows outside the chain, truncation against the head, and the digest of the verified
chains, which an operator stores elsewhere and checks later with ``--expect``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Boolean, Connection, Date, DateTime, Integer, LargeBinary, Numeric, text
from sqlalchemy.sql.sqltypes import Float

from .schema import metadata

CHAINS: dict[str, str] = {"events": "event_id", "exr_findings": "finding_id", "mpr_checks": "check_id",
                          "access_log": "log_id"}
"""Chained tables (the chain has the table's name) and their id column."""

GENESIS = "0" * 64
DIGEST_PREFIX = "dcf-v1"
_DT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite storage format for DateTime
_CANON_OPTS = orjson.OPT_SORT_KEYS


# ---- canonical rows -------------------------------------------------------------------------------

def _kind(col_type: Any) -> str:
    if isinstance(col_type, Boolean):
        return "bool"
    if isinstance(col_type, DateTime):
        return "datetime"
    if isinstance(col_type, Date):
        return "date"
    if isinstance(col_type, Integer):
        return "int"
    if isinstance(col_type, LargeBinary):
        return "bytes"
    if isinstance(col_type, (Numeric, Float)):
        return "num"
    return "str"


_KINDS: dict[str, dict[str, str]] = {}


def kinds(table: str) -> dict[str, str]:
    """Column name -> canonical kind for a chained table (from the code's schema)."""
    found = _KINDS.get(table)
    if found is None:
        t = metadata.tables[table]
        found = {c.name: _kind(c.type) for c in t.columns}
        _KINDS[table] = found
    return found


def _odd(v: Any) -> str:
    """A value of an unexpected type (written around the store): kept distinct from any proper value."""
    return f"?{type(v).__name__}:{v!r}"


def canon_value(kind: str, v: Any) -> Any:
    """One stored value, made canonical: the same for the driver's raw value on SQLite and PostgreSQL."""
    if kind == "str":
        return v if isinstance(v, str) else _odd(v)
    if kind == "int":
        return v if isinstance(v, int) and not isinstance(v, bool) else _odd(v)
    if kind == "bool":
        if isinstance(v, bool):
            return v
        if isinstance(v, int) and v in (0, 1):  # SQLite stores booleans as 0 / 1
            return bool(v)
        return _odd(v)
    if kind == "datetime":
        if isinstance(v, dt.datetime):
            if v.tzinfo is not None:
                v = v.astimezone(dt.UTC).replace(tzinfo=None)
            return v.isoformat(sep=" ", timespec="microseconds")
        return v if isinstance(v, str) else _odd(v)  # SQLite: the stored text
    if kind == "date":
        if isinstance(v, dt.datetime):
            return _odd(v)
        if isinstance(v, dt.date):
            return v.isoformat()
        return v if isinstance(v, str) else _odd(v)
    if kind == "bytes":
        if isinstance(v, (bytes, bytearray, memoryview)):
            return "b:" + bytes(v).hex()
        return _odd(v)
    if isinstance(v, (int, Decimal, float)) and not isinstance(v, bool):
        return str(v)
    return _odd(v)


def canonical(table: str, row: Any, columns: Sequence[str]) -> bytes:
    """The canonical bytes of a row (a mapping or a sequence aligned with ``columns``)."""
    if isinstance(row, dict):
        columns, row = list(row), list(row.values())
    return canonicalizer(table, tuple(columns))(row)


Canonicalizer = Callable[[Sequence[Any]], bytes]
_CANONICALIZERS: dict[tuple[str, tuple[str, ...]], Canonicalizer] = {}


def _fast(kind: str) -> Any:
    """``canon_value`` for one kind, with the common case (the type the driver returns) first."""
    if kind == "str":
        return lambda v: v if type(v) is str else _odd(v)
    if kind == "int":
        return lambda v: v if type(v) is int else _odd(v)
    return lambda v: canon_value(kind, v)


def canonicalizer(table: str, columns: tuple[str, ...]) -> Canonicalizer:
    """A function from a row's values (aligned with ``columns``) to its canonical bytes; cached per column list."""
    key = (table, columns)
    fn = _CANONICALIZERS.get(key)
    if fn is None:
        k = kinds(table)
        plan = [(name, _fast(k.get(name, "str"))) for name in columns]
        dumps = orjson.dumps

        def fn(values: Sequence[Any]) -> bytes:
            return dumps({name: conv(v) for (name, conv), v in zip(plan, values, strict=True) if v is not None},
                         option=_CANON_OPTS)

        _CANONICALIZERS[key] = fn
    return fn


def link_hash(prev: str, chain: str, seq: int, row_id: int, canon: bytes) -> str:
    return hashlib.sha256(f"{prev}|{chain}|{seq}|{row_id}|".encode() + canon).hexdigest()


def digest(heads: dict[str, tuple[int, str]]) -> str:
    """``dcf-v1:events=N:exr_findings=M:mpr_checks=K:<sha256>`` of the chains at those links."""
    names = sorted(heads)
    body = "\n".join(f"{n}={heads[n][0]}={heads[n][1]}" for n in names)
    h = hashlib.sha256(body.encode()).hexdigest()
    return ":".join([DIGEST_PREFIX, *(f"{n}={heads[n][0]}" for n in names), h])


def parse_digest(text_: str) -> tuple[dict[str, int], str]:
    parts = text_.strip().split(":")
    if len(parts) < 3 or parts[0] != DIGEST_PREFIX or len(parts[-1]) != 64:
        raise ValueError(f"--expect {text_!r}: not a digest printed by `cdrflow dcf verify` "
                         f"({DIGEST_PREFIX}:events=N:...:<64 hex>)")
    seqs: dict[str, int] = {}
    for p in parts[1:-1]:
        name, sep, n = p.partition("=")
        if not sep or name not in CHAINS or not n.isdigit():
            raise ValueError(f"--expect: {p!r} is not CHAIN=N with CHAIN one of {', '.join(sorted(CHAINS))}")
        seqs[name] = int(n)
    try:
        bytes.fromhex(parts[-1])
    except ValueError:
        raise ValueError(f"--expect: {parts[-1]!r} is not a SHA-256 in hex") from None
    return seqs, parts[-1].lower()


# ---- reading rows raw -----------------------------------------------------------------------------

def _rows_by_id(conn: Connection, table: str, ids: Sequence[int]) -> tuple[tuple[str, ...], list[Any]]:
    """The column names and rows of ``table`` with these ids: raw driver values (a DB-API cursor), in id order."""
    id_col = CHAINS[table]
    raw = conn.connection.dbapi_connection
    assert raw is not None
    cur = raw.cursor()
    try:
        rows: list[Any] = []
        if conn.dialect.name == "postgresql":
            cur.execute(f"SELECT * FROM {table} WHERE {id_col} = ANY(%s) ORDER BY {id_col}", (list(ids),))  # noqa: S608
            rows.extend(cur.fetchall())
        else:
            # contiguous runs (what one executemany gives on SQLite) read as ranges
            runs: list[list[int]] = []
            for i in sorted(ids):
                if runs and i == runs[-1][1] + 1:
                    runs[-1][1] = i
                else:
                    runs.append([i, i])
            for lo, hi in runs:
                cur.execute(f"SELECT * FROM {table} WHERE {id_col} BETWEEN ? AND ? ORDER BY {id_col}", (lo, hi))  # noqa: S608
                rows.extend(cur.fetchall())
        columns = tuple(d[0] for d in cur.description)
    finally:
        cur.close()
    return columns, rows


# ---- sealing: the links of a transaction's new rows -----------------------------------------------

def seal(conn: Connection, pending: dict[str, list[int]]) -> int:
    """Link the rows this transaction inserted (``pending``: chain -> ids) to their chains; returns links added.

    Runs last in the transaction: locks each chain's head (``FOR UPDATE`` on PostgreSQL; on SQLite the
    transaction already holds the database's write lock), reads the new rows back, computes their
    links and moves the head.
    """
    added = 0
    pg = conn.dialect.name == "postgresql"
    for chain in sorted(pending):
        ids = pending[chain]
        if not ids:
            continue
        lock = " FOR UPDATE" if pg else ""
        head = conn.execute(text(f"SELECT seq, head_hash FROM dcf_chain WHERE chain = :c{lock}"),  # noqa: S608
                            {"c": chain}).first()
        if head is None:
            raise RuntimeError(f"the DCF has no head for chain {chain!r}: run `cdrflow db upgrade`")
        seq, prev = int(head[0]), str(head[1])
        columns, rows = _rows_by_id(conn, chain, ids)
        if len(rows) != len(set(ids)):
            raise RuntimeError(f"chain {chain}: {len(set(ids)) - len(rows)} inserted row(s) not found to seal")
        at = columns.index(CHAINS[chain])
        canon = canonicalizer(chain, columns)
        sha = hashlib.sha256
        links: list[tuple[Any, ...]] = []
        for r in rows:
            seq += 1
            row_id = int(r[at])
            h = sha(f"{prev}|{chain}|{seq}|{row_id}|".encode() + canon(r)).hexdigest()
            links.append((chain, seq, row_id, prev, h))
            prev = h
        _insert_links(conn, links)
        conn.execute(text("UPDATE dcf_chain SET seq = :s, head_hash = :h, updated_at = :t WHERE chain = :c"),
                     {"s": seq, "h": prev, "t": _now_param(conn), "c": chain})
        added += len(links)
    return added


def _now_param(conn: Connection) -> Any:
    now = dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=None).strftime(_DT_FORMAT) if conn.dialect.name == "sqlite" else now


def _insert_links(conn: Connection, links: list[tuple[Any, ...]]) -> None:
    cols = "chain, seq, row_id, prev_hash, row_hash"
    if conn.dialect.name == "postgresql":
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY dcf_chain_links ({cols}) FROM STDIN") as cp:  # type: ignore[attr-defined]
            for link in links:
                cp.write_row(link)
        return
    conn.exec_driver_sql(f"INSERT INTO dcf_chain_links ({cols}) VALUES (?, ?, ?, ?, ?)", links)  # noqa: S608


def backfill(conn: Connection, chain: str, batch: int = 20_000) -> int:
    """Link every row of ``chain``'s table that has no link yet, in id order (migrations); returns links added."""
    id_col = CHAINS[chain]
    last = conn.execute(text("SELECT max(row_id) FROM dcf_chain_links WHERE chain = :c"), {"c": chain}).scalar()
    start = int(last or 0)
    total = 0
    while True:
        ids = [int(r[0]) for r in conn.execute(
            text(f"SELECT {id_col} FROM {chain} WHERE {id_col} > :s ORDER BY {id_col} LIMIT :n"),  # noqa: S608
            {"s": start, "n": batch})]
        if not ids:
            return total
        total += seal(conn, {chain: ids})
        start = ids[-1]


# ---- verifying ------------------------------------------------------------------------------------

@dataclass
class Problem:
    chain: str
    kind: str  # CHANGED | BROKEN_LINK | MISSING_ROW | GAP | DUPLICATE | UNCHAINED | TRUNCATED | HEAD | GUARD | EXPECT
    seq: int | None
    row_id: int | None
    detail: str

    def line(self) -> str:
        where = self.chain
        if self.seq is not None:
            where += f" link {self.seq}"
        if self.row_id is not None:
            where += f" (row {CHAINS.get(self.chain, 'id')} {self.row_id})"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class ChainReport:
    chain: str
    rows: int = 0
    links: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    verified_seq: int = 0
    verified_hash: str = GENESIS
    problems: int = 0
    recomputed: dict[int, str] = field(default_factory=dict)  # seq -> recomputed hash (for --expect)


@dataclass
class VerifyReport:
    chains: list[ChainReport]
    problems: list[Problem]
    problem_count: int
    guards: int
    digest: str
    expect_ok: bool | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problem_count": self.problem_count,
            "first_problem": self.problems[0].line() if self.problems else None,
            "problems": [p.line() for p in self.problems],
            "chains": {c.chain: {"rows": c.rows, "links": c.links, "head": c.head_seq, "verified": c.verified_seq,
                                 "problems": c.problems} for c in self.chains},
            "guards_checked": self.guards,
            "digest": self.digest,
            "expect_ok": self.expect_ok,
        }


MAX_LISTED = 50


class _Collector:
    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.count = 0

    def add(self, p: Problem) -> None:
        self.count += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(p)


def _verify_chain(conn: Connection, chain: str, out: _Collector, want: set[int]) -> ChainReport:
    id_col = CHAINS[chain]
    rep = ChainReport(chain)
    rep.rows = int(conn.execute(text(f"SELECT count(*) FROM {chain}")).scalar_one())  # noqa: S608
    head = conn.execute(text("SELECT seq, head_hash FROM dcf_chain WHERE chain = :c"), {"c": chain}).first()
    if head is None:
        out.add(Problem(chain, "HEAD", None, None, "the chain's head row in dcf_chain is missing"))
        rep.problems += 1
    else:
        rep.head_seq, rep.head_hash = int(head[0]), str(head[1])
    first_bad: int | None = None
    expected = 1
    prev_stored = GENESIS
    rec = GENESIS
    last_seq = 0
    sql = (f"SELECT l.seq AS l_seq, l.row_id AS l_row_id, l.prev_hash AS l_prev, l.row_hash AS l_hash, "  # noqa: S608
           f"t.{id_col} AS l_present, t.* FROM dcf_chain_links l LEFT JOIN {chain} t ON t.{id_col} = l.row_id "
           f"WHERE l.chain = :c ORDER BY l.seq")
    canon_of: Any = None
    result = conn.execution_options(stream_results=True, yield_per=10_000).execute(text(sql), {"c": chain})
    for r in result:
        if canon_of is None:
            canon_of = canonicalizer(chain, tuple(str(k) for k in list(result.keys())[5:]))
        seq, row_id, prev, stored = int(r[0]), int(r[1]), str(r[2]), str(r[3])
        rep.links += 1
        problems: list[Problem] = []
        if seq != expected:
            if seq > expected:
                problems.append(Problem(chain, "GAP", expected, None,
                                        f"links {expected}..{seq - 1} are missing (deleted from dcf_chain_links)"))
            expected = seq
        if prev != prev_stored:
            problems.append(Problem(chain, "BROKEN_LINK", seq, row_id,
                                    "its prev_hash is not the row_hash of the link before it (a link was rewritten, "
                                    "removed or inserted)"))
        if r[4] is None:
            problems.append(Problem(chain, "MISSING_ROW", seq, row_id, f"the row is gone from {chain} (deleted)"))
            canon = b""
        else:
            canon = canon_of(r[5:])
            if link_hash(prev, chain, seq, row_id, canon) != stored:
                problems.append(Problem(chain, "CHANGED", seq, row_id,
                                        "the row's stored values do not hash to its link: it was changed after it "
                                        "was written (or the link was)"))
        rec = link_hash(rec, chain, seq, row_id, canon)
        if seq in want:
            rep.recomputed[seq] = rec
        for p in problems:
            out.add(p)
        if problems:
            rep.problems += len(problems)
            if first_bad is None:  # the verified prefix ends at the link before this one
                first_bad = seq
                rep.verified_seq, rep.verified_hash = last_seq, prev_stored
        prev_stored = stored
        last_seq = seq
        expected = seq + 1
    if first_bad is None:
        rep.verified_seq, rep.verified_hash = last_seq, prev_stored
    if head is not None:
        if last_seq < rep.head_seq:
            out.add(Problem(chain, "TRUNCATED", last_seq + 1, None,
                            f"the head records {rep.head_seq} links but the chain ends at {last_seq}: the last "
                            f"{rep.head_seq - last_seq} record(s) were removed"))
            rep.problems += 1
        elif last_seq > rep.head_seq:
            out.add(Problem(chain, "HEAD", rep.head_seq + 1, None,
                            f"links {rep.head_seq + 1}..{last_seq} are beyond the head ({rep.head_seq}): written "
                            "around the store"))
            rep.problems += 1
        elif rep.head_hash != prev_stored:
            out.add(Problem(chain, "HEAD", last_seq, None, "the head's hash is not the last link's hash"))
            rep.problems += 1
    twice = int(conn.execute(text("SELECT count(*) - count(DISTINCT row_id) FROM dcf_chain_links WHERE chain = :c"),
                             {"c": chain}).scalar_one())
    if twice:
        out.add(Problem(chain, "DUPLICATE", None, None, f"{twice} link(s) name a row another link names"))
        rep.problems += 1
    # rows no link names: inserted around the store (or put back under a new id)
    n_unchained = int(conn.execute(text(
        f"SELECT count(*) FROM {chain} t WHERE NOT EXISTS (SELECT 1 FROM dcf_chain_links l "  # noqa: S608
        f"WHERE l.chain = :c AND l.row_id = t.{id_col})"), {"c": chain}).scalar_one())
    if n_unchained:
        first_ids = [int(x[0]) for x in conn.execute(text(
            f"SELECT t.{id_col} FROM {chain} t WHERE NOT EXISTS (SELECT 1 FROM dcf_chain_links l "  # noqa: S608
            f"WHERE l.chain = :c AND l.row_id = t.{id_col}) ORDER BY t.{id_col} LIMIT 5"), {"c": chain})]
        out.add(Problem(chain, "UNCHAINED", None, first_ids[0],
                        f"{n_unchained} row(s) are in no link (written around the store), first ids "
                        f"{', '.join(map(str, first_ids))}"))
        rep.problems += 1
    return rep


def verify(conn: Connection, expect: str | None = None) -> VerifyReport:
    """Recompute every chain; check the head, the guards, and optionally a digest stored earlier."""
    from .guards import missing_guards

    want_seqs: dict[str, int] = {}
    want_hash = ""
    if expect is not None:
        want_seqs, want_hash = parse_digest(expect)
    out = _Collector()
    reports = [_verify_chain(conn, chain, out, {want_seqs[chain]} if chain in want_seqs else set())
               for chain in sorted(CHAINS)]
    missing, checked = missing_guards(conn)
    for name in missing:
        out.add(Problem("guards", "GUARD", None, None, name))
    heads = {c.chain: (c.verified_seq, c.verified_hash) for c in reports}
    rep = VerifyReport(reports, out.listed, out.count, checked, digest(heads))
    if expect is not None:
        at: dict[str, tuple[int, str]] = {}
        short: list[str] = []
        for c in reports:
            if c.chain in want_seqs:
                n = want_seqs[c.chain]
                if n == 0:
                    at[c.chain] = (0, GENESIS)
                elif n in c.recomputed:
                    at[c.chain] = (n, c.recomputed[n])
                else:
                    short.append(f"{c.chain} has {c.links} links, the digest covers {n}")
        ok = not short and digest(at).rsplit(":", 1)[1] == want_hash
        rep.expect_ok = ok
        if not ok:
            why = "; ".join(short) if short else ("the recomputed chains at the digest's links do not give the "
                                                   "digest: history it covers was changed, removed or rewritten")
            p = Problem("digest", "EXPECT", None, None, why)
            rep.problems.insert(0, p)
            rep.problem_count += 1
    return rep


def verify_engine(engine: Any, expect: str | None = None) -> VerifyReport:
    """:func:`verify` on one consistent snapshot of the database (writers may go on meanwhile)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
            return verify(conn, expect)
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("BEGIN")  # one read transaction: every query below sees the same WAL snapshot
        try:
            return verify(conn, expect)
        finally:
            raw.rollback()
