"""``cdrflow simulate``: synthetic inputs for trying the process on your own DCF (no database is touched).

``cdrflow simulate returns PRINT_FILE -o RETURNS.jsonl`` answers the mailers of a print file that
``cdrflow cycle --print-file`` wrote, as :mod:`cdrflow.simulate.returns` answers them in ``cdrflow demo``:
most come back answered (some undeliverable, unsigned, with a report of death, a change of address, ...),
a few never. The result is a WBDOC file ``cdrflow ingest`` takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

out = Console()
err = Console(stderr=True)

simulate_app = typer.Typer(help="Synthetic inputs for trying the process (no database is touched).",
                           no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    return typer.Exit(2)


@simulate_app.command("returns")
def simulate_returns_cmd(
    print_file: Annotated[Path, typer.Argument(help="a print file of `cdrflow cycle --print-file` (JSONL)")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="the returned mailers to write (JSONL, 0600), "
                                                               "for `cdrflow ingest`")],
    seed: Annotated[int, typer.Option(help="the same seed gives the same returns")] = 455,
    returned: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of the mailers answered and "
                                                                   "returned")] = 0.9,
    malformed: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of the returned mailers made "
                                                                    "malformed, to see the reject file")] = 0.0,
) -> None:
    """Simulate the returned mailers of a print file: what WBDOC would receive back for that cycle."""
    import dataclasses

    from cdrflow.safeio import SamePathError, atomic, jsonl_line, refuse_overwrite
    from cdrflow.simulate.returns import PRINT_FILE_MIX, PrintFileError, print_file_cases, simulate_returns

    if not print_file.is_file():
        raise _fail(f"{print_file}: no such file")
    try:
        refuse_overwrite({"PRINT_FILE": print_file}, {"--out": out_file})
    except SamePathError as exc:
        raise _fail(str(exc)) from None
    mix = dataclasses.replace(PRINT_FILE_MIX, returned=returned, bad_record=malformed)
    counts = {"mailers": 0, "returned": 0, "undeliverable": 0}
    try:
        cases = list(print_file_cases(print_file))
        with atomic(out_file) as fh:  # owner-only (the records carry SSNs), renamed into place when complete
            for rec in simulate_returns(cases, seed, mix):
                fh.write(jsonl_line(rec) + "\n")
                counts["undeliverable" if rec.get("undeliverable") else "returned"] += 1
    except PrintFileError as exc:
        raise _fail(f"{print_file}: {exc}; nothing was written") from None
    except (OSError, ValueError) as exc:
        raise _fail(f"{print_file}: cannot be read ({exc}); nothing was written") from None
    counts["mailers"] = len(cases)
    not_back = counts["mailers"] - counts["returned"] - counts["undeliverable"]
    out.print(f"{counts['mailers']:,} mailers in {print_file.name} = returned {counts['returned']:,} + "
              f"undeliverable {counts['undeliverable']:,} + not back {not_back:,} -> {out_file} (seed {seed})",
              markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(simulate_app, name="simulate")
