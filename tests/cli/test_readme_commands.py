"""README "Run the process" (the mailer) runs as written, as a newcomer runs it from the repository root.

The first ``sh`` block of the section is run by bash, line by line as written, in a fresh directory holding
the repository's ``examples/`` (SQLite). So that it takes seconds, not a process start per command,
``.venv/bin/activate`` there puts a ``cdrflow`` on PATH that hands its arguments, its ``CDRFLOW_*`` environment
and its directory to this test, which runs them in process (Typer's CliRunner) and hands back the output
and the exit code. Every command must exit 0. The second block (the other actions, each for a case at its
stage) is checked against the command line: every command and option it names exists and parses.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from cdrflow.cli import app

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"

CLIENT = """\
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(os.environ["CDRFLOW_README_SOCKET"])
env = {k: v for k, v in os.environ.items() if k.startswith("CDRFLOW_") and k != "CDRFLOW_README_SOCKET"}
s.sendall(json.dumps({"argv": sys.argv[1:], "env": env, "cwd": os.getcwd()}).encode() + b"\\n")
s.shutdown(socket.SHUT_WR)
data = b""
while chunk := s.recv(65536):
    data += chunk
r = json.loads(data)
sys.stdout.write(r["stdout"])
sys.stderr.write(r["stderr"])
sys.exit(r["code"])
"""


def run_the_process_blocks() -> list[str]:
    """The ``sh`` blocks of README's "## Run the process" section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Run the process\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def _shim(tmp: Path, sock: Path) -> dict[str, str]:
    """``tmp/.venv/bin/activate`` and the ``cdrflow`` it puts on PATH; the environment bash starts with."""
    bin_dir = tmp / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    client = bin_dir / "cdrflow"
    client.write_text(f"#!{sys.executable} -S\n{CLIENT}", encoding="utf-8")
    client.chmod(0o755)
    (bin_dir / "activate").write_text(f'PATH="{bin_dir}:$PATH"\nexport PATH\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDRFLOW_")}
    env.update(HOME=str(tmp / "home"), CDRFLOW_README_SOCKET=str(sock))
    (tmp / "home").mkdir()
    return env


def _serve(conn: socket.socket, runner: CliRunner, home: str, cwd: Path) -> dict[str, Any]:
    data = b""
    while chunk := conn.recv(65536):
        data += chunk
    req = json.loads(data)
    assert Path(req["cwd"]) == cwd, f"the README changed directory: {req['cwd']}"
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CDRFLOW_")}
    env.update(req["env"], HOME=home)
    t0 = time.monotonic()
    r = runner.invoke(app, req["argv"], env=env)
    seconds = time.monotonic() - t0
    stderr = r.stderr
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        import traceback

        stderr += "".join(traceback.format_exception(r.exception))
    reply = {"stdout": r.stdout, "stderr": stderr, "code": r.exit_code}
    conn.sendall(json.dumps(reply).encode())
    conn.close()
    return {"argv": req["argv"], "seconds": seconds, **reply}


def _command(words: list[str]) -> str:
    """The command ``cdrflow WORDS`` runs: ``case``, ``review associate``, ..."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return " ".join(words[:2]) if isinstance(root.commands.get(words[0]), TyperGroup) else words[0]


def test_the_mailer_commands_run_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cdrflow import cli_lifecycle, cli_people

    for console in (cli_lifecycle.out, cli_people.out):
        monkeypatch.setattr(console, "_width", 160)  # lines unfolded, as in a wide terminal
    block = run_the_process_blocks()[0]
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    sock = tmp_path / "cdrflow.sock"
    if len(str(sock)) > 100:  # a UNIX socket's path is at most 107 bytes
        sock = Path(tempfile.mkdtemp(prefix="cdrflow-")) / "s.sock"
    env = _shim(tmp_path, sock)
    script = tmp_path / "readme.sh"
    script.write_text("set -eu -o pipefail\n" + block, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    calls: list[dict[str, Any]] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock))
    server.listen(1)
    server.settimeout(0.05)
    log = tmp_path / "bash.log"
    t0 = time.monotonic()
    try:
        with log.open("w") as fh:
            proc = subprocess.Popen(["bash", "-x", str(script)], cwd=tmp_path, env=env, stdout=fh,
                                    stderr=subprocess.STDOUT)
            while proc.poll() is None:
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    assert time.monotonic() - t0 < 300, "the README block did not finish in 5 minutes"
                    continue
                calls.append(_serve(conn, runner, env["HOME"], tmp_path))
    finally:
        server.close()
        sock.unlink(missing_ok=True)

    def shown(c: dict[str, Any]) -> str:
        return f"cdrflow {shlex.join(c['argv'])} -> exit {c['code']} ({c['seconds']:.1f} s)\n{c['stdout']}{c['stderr']}"

    failed = [c for c in calls if c["code"] != 0]
    assert not failed, "\n".join(shown(c) for c in failed)
    assert proc.returncode == 0, log.read_text()[-4000:]

    # Every cdrflow line of the block ran (the loop once per case it found).
    written = [line for line in block.splitlines() if re.search(r"(^|\$\(|; do )cdrflow ", line)]
    ran = {_command(c["argv"]) for c in calls}
    for line in written:
        assert _command(shlex.split(line.split("cdrflow ", 1)[1], comments=True)) in ran, line
    by = {shlex.join(c["argv"]): c for c in calls}
    text = "\n".join(shown(c) for c in calls)
    assert "first administrator" in text
    imported = next(c for k, c in by.items() if k.startswith("population import"))
    assert "rejected 0" in imported["stdout"], imported
    ingested = [c for c in calls if c["argv"][0] == "ingest"]
    assert ingested and "rejected 0" in ingested[0]["stdout"] and "reconciled" in ingested[0]["stdout"], ingested
    assert "processed 0" in ingested[-1]["stdout"], ingested[-1]
    assert any(k.startswith("review associate") for k in by), "the examples gave PC 7 no PSC MAILER alert"
    decided = next(c for k, c in by.items() if k.startswith("review decide"))
    assert "IPCA 4 DEFER CDR recorded" in decided["stdout"], decided
    assert "***-**-" in by[next(k for k in by if k.startswith("case ") and "--reveal" not in k)]["stdout"]
    assert "OK:" in by[next(k for k in by if k.startswith("dcf verify --expect"))]["stdout"]
    assert (tmp_path / "out" / "case.html").stat().st_mode & 0o777 == 0o600


def _parse(args: list[str]) -> Any:
    """Parse ``cdrflow ARGS`` down to the command it names, as it would run; nothing is invoked. A usage
    error (no such command or option, a missing or bad value) raises Typer's click ``UsageError``."""
    cmd: Any = typer.main.get_command(app)
    ctx = cmd.make_context("cdrflow", list(args))
    while isinstance(cmd, TyperGroup):
        name, cmd, rest = cmd.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert cmd is not None and name is not None
        ctx = cmd.make_context(name, rest, parent=ctx)
    return ctx


def test_the_other_actions_name_real_commands_and_options() -> None:
    blocks = run_the_process_blocks()
    assert len(blocks) >= 2
    lines = [line for line in blocks[1].splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert lines
    for line in lines:
        words = shlex.split(line, comments=True)
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value before the command
            words.pop(0)
        assert words[0] == "cdrflow", line
        try:
            ctx = _parse(words[1:])
        except Exception as exc:  # Typer's click UsageError: the README names what the CLI does not have
            pytest.fail(f"{line}\n  {type(exc).__name__}: {getattr(exc, 'format_message', exc.__str__)()}")
        assert not isinstance(ctx.command, TyperGroup), line
