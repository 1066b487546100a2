"""Files are safe (issue 12, item 8): an output is never an input, outputs appear whole or not at all, and
what holds SSNs is owner-only (0600)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from cdrflow import safeio
from cdrflow.batch import files
from cdrflow.dcf.db import make_engine
from cdrflow.dcf.schema import cases
from cdrflow.dcf.store import Store

from ..conftest import BASE_MAILER
from ..dbfixtures import returned_mailer, store, store_url, write_jsonl
from ..population.helpers import raw_rows, write_csv
from .hostile import one_error_line, run

__all__ = ["store"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _input(tmp_path: Path) -> tuple[Path, bytes]:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({**BASE_MAILER, "mailer_id": f"M{i}"}) for i in range(5)) + "\n")
    return src, src.read_bytes()


# ---- an output is never an input ------------------------------------------------------------------

SAME_PATH_CASES: list[tuple[str, Callable[[Path, Path], list[str]]]] = [
    ("-o is the input", lambda d, src: ["-o", str(src)]),
    ("--rejects is the input", lambda d, src: ["-o", str(d / "out.jsonl"), "--rejects", str(src)]),
    ("-o is the input by a relative path", lambda d, src: ["-o", "sub/../in.jsonl"]),
    ("-o is a symbolic link to the input", lambda d, src: ["-o", str(d / "link.jsonl")]),
    ("--rejects is a hard link to the input", lambda d, src: ["-o", str(d / "o.csv"), "--rejects",
                                                              str(d / "hard.jsonl")]),
    ("-o and --rejects are one file", lambda d, src: ["-o", str(d / "x.jsonl"), "--rejects", str(d / "x.jsonl")]),
]


@pytest.mark.parametrize(("name", "args"), SAME_PATH_CASES, ids=[n for n, _ in SAME_PATH_CASES])
def test_decide_refuses_an_output_that_is_its_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str,
                                                    args: Callable[[Path, Path], list[str]]) -> None:
    src, before = _input(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.jsonl").symlink_to(src)
    os.link(src, tmp_path / "hard.jsonl")
    monkeypatch.chdir(tmp_path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    r = run("decide", str(src), *args(tmp_path, src))
    assert r.exit_code == 2, r.output
    one_error_line(r, "nothing was written")
    assert src.read_bytes() == before  # the input is whole
    assert sorted(p.name for p in tmp_path.iterdir()) == listing  # and nothing was created


def test_the_library_refuses_too(tmp_path: Path) -> None:
    src, before = _input(tmp_path)
    with pytest.raises(safeio.SamePathError):
        files.decide_stream(src, src)
    with pytest.raises(safeio.SamePathError):
        files.decide_stream(src, tmp_path / "out.csv", tmp_path / "in.jsonl")
    assert src.read_bytes() == before


def test_ingest_population_and_mpr_refuse_a_reject_file_that_is_the_input_or_the_database(
        store: Store, tmp_path: Path) -> None:
    db = store_url(store)
    src, before = _input(tmp_path)
    r = run("ingest", str(src), "--as-of", "2026-03-10", "--rejects", str(src), "--db", db)
    assert r.exit_code == 2 and src.read_bytes() == before, r.output
    one_error_line(r, "--rejects", "is FILE")
    pop = write_csv(tmp_path / "pop.csv", raw_rows(tmp_path, count=3))
    pop_before = pop.read_bytes()
    r = run("population", "import", str(pop), "--rejects", str(pop), "--db", db)
    assert r.exit_code == 2 and pop.read_bytes() == pop_before, r.output
    r = run("mpr", "import", "leie", str(pop), "--rejects", str(pop), "--db", db)
    assert r.exit_code == 2 and pop.read_bytes() == pop_before, r.output
    database = tmp_path / "own.db"
    own = f"sqlite:///{database}"
    assert run("db", "upgrade", "--db", own).exit_code == 0
    for args in (["ingest", str(src), "--as-of", "2026-03-10", "--rejects", str(database)],
                 ["cycle", "--as-of", "2026-03-10", "--print-file", str(database)],
                 ["documents", "M1", "--out", str(database)]):
        r = run(*args, "--db", own)
        assert r.exit_code == 2 and "the database" in r.stderr, (args, r.output)
    assert database.read_bytes().startswith(b"SQLite format 3\x00")  # still the database, not a reject file
    r = run("db", "current", "--db", own)
    assert r.exit_code == 0 and "database none" not in r.stdout, r.output


# ---- whole or not at all --------------------------------------------------------------------------

def test_an_output_replaces_the_old_one_only_when_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src, _ = _input(tmp_path)
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    out.write_text("the last good decisions\n")
    rej.write_text("the last good rejects\n")
    real = files.decide_chunk
    calls = {"n": 0}

    def failing(*a: object, **k: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the machine stopped")
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "decide_chunk", failing)
    with pytest.raises(RuntimeError):
        files.decide_stream(src, out, rej, chunk_size=2)
    assert out.read_text() == "the last good decisions\n" and rej.read_text() == "the last good rejects\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "rej.jsonl"]
    monkeypatch.setattr(files, "decide_chunk", real)
    summary = files.decide_stream(src, out, rej, chunk_size=2)
    assert summary.decided == 5 and len(out.read_text().splitlines()) == 5 and rej.read_text() == ""


def test_atomic_leaves_the_target_alone_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    target.write_text("old")
    with pytest.raises(ValueError), safeio.atomic(target) as fh:
        fh.write("half")
        raise ValueError("stop")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["t.txt"]


# ---- owner-only ----------------------------------------------------------------------------------

def test_what_cdrflow_writes_is_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = os.umask(0o022)  # a usual umask: files would be world-readable unless created owner-only
    try:
        database = tmp_path / "dcf.db"
        db = f"sqlite:///{database}"
        assert run("db", "upgrade", "--db", db).exit_code == 0
        r = run("population", "generate", "--count", "60", "--as-of", "2026-01-01", "--db", db)
        assert r.exit_code == 0, r.output
        pf = tmp_path / "print.jsonl"
        r = run("cycle", "--as-of", "2026-02-02", "--print-file", str(pf), "--db", db)
        assert r.exit_code == 0, r.output
        with Store(make_engine(db)).read() as tx:
            case = dict(tx.conn.execute(select(cases).limit(1)).mappings().one())
        returns = tmp_path / "returns.jsonl"
        write_jsonl(returns, [returned_mailer(case["case_id"], case["ssn"], title=case["title"],
                                              profile=case["profile"]),
                              {"mailer_id": case["case_id"], "ssn": "000000000"}])
        r = run("ingest", str(returns), "--as-of", "2026-03-10", "--db", db)
        assert r.exit_code == 0 and "processed 1" in r.stdout and "rejected 1" in r.stdout, r.output
        html = tmp_path / "case.html"
        assert run("people", "add", "ada", "--role", "AUDITOR", "--db", db).exit_code == 0  # the OS account: ADMIN
        r = run("people", "token", "ada", "--db", db)
        assert r.exit_code == 0, r.output
        r = run("documents", case["case_id"], "--out", str(html), "--db", db, token=r.stdout.strip())
        assert r.exit_code == 0, r.output
        src, _ = _input(tmp_path)
        out = tmp_path / "decisions.parquet"
        assert run("decide", str(src), "-o", str(out)).exit_code == 0
        pop = write_csv(tmp_path / "pop.csv", [{**raw_rows(tmp_path, count=1)[0], "ssn": "12"}])
        assert run("population", "import", str(pop), "--db", db).exit_code == 0
        written = [database, pf, tmp_path / "returns.jsonl.rejects.jsonl", html, out,
                   tmp_path / "decisions.rejects.jsonl", tmp_path / "pop.csv.rejects.jsonl"]
        written += [p for p in (tmp_path / "dcf.db-wal", tmp_path / "dcf.db-shm") if p.exists()]
        assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(0o600) for p in written}
    finally:
        os.umask(old)

