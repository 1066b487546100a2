"""One way for the CLI tests to run ``cdrflow`` in process (Typer's CliRunner) against a test store."""

from __future__ import annotations

from urllib.parse import quote

from typer.testing import CliRunner

from cdrflow.cli import app
from cdrflow.dcf.store import Store

runner = CliRunner()


def store_url(st: Store) -> str:
    """The ``--db`` URL of a test store: PostgreSQL tests carry their schema as the search path."""
    url: str = st.test_url  # type: ignore[attr-defined]
    schema = st.test_schema  # type: ignore[attr-defined]
    if schema:
        url += "?options=" + quote(f"-csearch_path={schema}")
    return url


def cli(*args: str) -> tuple[int, str]:
    """Run ``cdrflow ARGS``; the exit code and everything it printed."""
    r = runner.invoke(app, list(args))
    return r.exit_code, r.output
