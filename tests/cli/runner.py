"""One way for the CLI tests to run ``cdrflow`` in process (Typer's CliRunner) against a test store."""

from __future__ import annotations

from typer.testing import CliRunner

from cdrflow.cli import app

from ..dbfixtures import store_url

runner = CliRunner()
__all__ = ["cli", "runner", "store_url"]


def cli(*args: str, token: str | None = None, stdin: str | None = None) -> tuple[int, str]:
    """Run ``cdrflow ARGS`` (as the person of ``token``, with ``stdin``); the exit code and everything it printed."""
    r = runner.invoke(app, list(args), env={"CDRFLOW_TOKEN": token} if token else None, input=stdin)
    return r.exit_code, r.output
