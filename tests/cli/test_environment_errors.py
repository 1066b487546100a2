"""A database that cannot be reached or opened is one ``error:`` line naming it, exit 2 (issue 13, item 10).

Whatever the command: PostgreSQL that refuses the connection, a SQLite file whose directory does not
exist (or cannot be written), a file that is not a database. The line names the database with its
password hidden and says what failed; nothing else is printed and there is no traceback. Also
``cdrflow --version``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from cdrflow.cli import app

from .runner import runner

CLI = [sys.executable, "-m", "cdrflow.cli"]
REFUSED_PG = "postgresql://nobody:s3cret@127.0.0.1:1/x"  # port 1: the connection is refused at once
COMMANDS = [
    ["db", "upgrade"],
    ["db", "current"],
    ["review", "queue"],
    ["dcf", "verify"],
    ["mpr", "org", "list"],
    ["exr", "list"],
    ["case", "123456789"],
    ["runs"],
    ["population", "generate", "--count", "3"],
    ["cycle", "--as-of", "2026-02-02", "--print-file", "{tmp}/print.jsonl"],
]


def _bad_databases(tmp: Path) -> dict[str, tuple[str, str]]:
    """name -> (URL, what the line must name)."""
    a_file = tmp / "plain-file"
    a_file.write_text("not a directory\n", encoding="utf-8")
    return {
        "postgresql refused": (REFUSED_PG, "postgresql+psycopg://nobody:***@127.0.0.1:1/x"),
        "sqlite no such directory": ("sqlite:////proc/nope/x.db", "sqlite:////proc/nope/x.db"),
        "sqlite under a file": (f"sqlite:///{a_file}/x.db", f"sqlite:///{a_file}/x.db"),
    }


def _invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str, BaseException | None]:
    r = runner.invoke(app, args, env=env)
    exc = r.exception if not isinstance(r.exception, SystemExit) else None
    return r.exit_code, r.stdout, r.stderr, exc


def _one_error_line(code: int, stdout: str, stderr: str, exc: BaseException | None, named: str) -> str:
    assert exc is None, repr(exc)
    assert code == 2, (code, stdout, stderr)
    assert stdout == "", stdout
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr and "s3cret" not in stderr
    assert named in lines[0] or "no SQLite database" in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:2]) for a in COMMANDS])
def test_every_command_names_a_database_it_cannot_use_in_one_line(args: list[str], tmp_path: Path) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    for what, (url, named) in _bad_databases(tmp_path).items():
        code, out, err, exc = _invoke([*args, "--db", url])
        line = _one_error_line(code, out, err, exc, named)
        if "no SQLite database" not in line:  # dcf verify never creates a file: it says there is none
            assert "cannot be used: " in line, (what, line)
        if what == "postgresql refused":
            assert "Connection refused" in line or "connection failed" in line, line


def test_the_environment_variable_database_is_named_too(tmp_path: Path) -> None:
    code, out, err, exc = _invoke(["review", "queue"], env={"CDRFLOW_DATABASE_URL": REFUSED_PG})
    _one_error_line(code, out, err, exc, "postgresql+psycopg://nobody:***@127.0.0.1:1/x")


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "text.db"
    path.write_text("this is text, not SQLite\n" * 200, encoding="utf-8")
    for args in (["review", "queue"], ["db", "upgrade"], ["mpr", "org", "list"]):
        code, out, err, exc = _invoke([*args, "--db", f"sqlite:///{path}"])
        line = _one_error_line(code, out, err, exc, f"sqlite:///{path}")
        assert "file is not a database" in line, line


def test_a_path_where_no_database_can_be_created(tmp_path: Path) -> None:
    """The same for every account (root included, which writes into any directory): a file where the
    database's directory should be, and a directory under /proc."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    for url in (f"sqlite:///{blocker}/x.db", "sqlite:////proc/self/nope/x.db"):
        for args in (["db", "upgrade"], ["review", "queue"]):
            code, out, err, exc = _invoke([*args, "--db", url])
            _one_error_line(code, out, err, exc, url)


def test_a_bad_setting_is_one_line_naming_the_variable() -> None:
    code, out, err, exc = _invoke(["review", "queue"], env={"CDRFLOW_ALLOW_SUPERUSER": "maybe"})
    assert exc is None and code == 2 and out == ""
    assert err.splitlines() == [err.strip()] and err.startswith("error: CDRFLOW_ALLOW_SUPERUSER: "), err


def test_the_installed_command_prints_one_line_not_a_traceback() -> None:
    env = {**os.environ, "COLUMNS": "60"}
    for args in (["db", "upgrade", "--db", REFUSED_PG], ["review", "queue", "--db", "sqlite:////proc/nope/x.db"]):
        p = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120, env=env)
        assert p.returncode == 2, p.stderr
        assert p.stdout == "" and "Traceback" not in p.stderr, p.stderr
        assert len(p.stderr.splitlines()) == 1 and p.stderr.startswith("error: database "), p.stderr


def test_version() -> None:
    expected = f"cdrflow {version('cdrflow')}"
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.stdout.strip() == expected, r.output
    p = subprocess.run([*CLI, "--version"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == expected and p.stderr == "", p.stderr
