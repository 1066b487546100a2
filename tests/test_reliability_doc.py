"""docs/reliability.md states what the reliability suite tries; these checks keep its figures true."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from .dcf import test_attacks, test_chain
from .reliability import test_hostile_inputs, test_intake_runs, test_safe_files

DOC = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"


def _stated(label: str) -> int:
    m = re.search(rf"^\| {re.escape(label)} \| ([\d,]+) \|", DOC.read_text(encoding="utf-8"), re.M)
    assert m, f"docs/reliability.md has no row {label!r}"
    return int(m.group(1).replace(",", ""))


def _tests(module: object, prefix: str = "test_") -> list[str]:
    return [n for n, f in inspect.getmembers(module, inspect.isfunction) if n.startswith(prefix)]


def test_guard_statement_counts() -> None:
    assert _stated("guard statements, SQLite") == len(test_attacks.COMMON) + len(test_attacks.SQLITE_ONLY)
    assert _stated("guard statements, PostgreSQL (each as owner and as app role)") == (
        len(test_attacks.COMMON) + len(test_attacks.PG_ONLY))


def test_hostile_input_counts() -> None:
    for reader, n in test_hostile_inputs.HOSTILE_CASES.items():
        assert _stated(reader) == n, reader
    assert _stated("hostile inputs, all readers") == sum(test_hostile_inputs.HOSTILE_CASES.values())


def test_tamper_and_file_counts() -> None:
    tamper = [n for n in _tests(test_chain, "test_a_") + _tests(test_chain, "test_an_")  # one per way of tampering
              if not n.endswith("_verifies")]
    assert _stated("tamper cases per backend (cdrflow dcf verify)") == len(tamper)
    assert _stated("intake run tests per backend") == len(_tests(test_intake_runs))
    assert _stated("safe-file tests") == len(_tests(test_safe_files))
