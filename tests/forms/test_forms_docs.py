"""docs/forms.md holds exactly what the render functions produce, with citations and the design note."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from cdrflow.forms import render_code_table_markdown, render_layout_markdown, render_question_map_markdown
from cdrflow.forms.docgen import GENERATED_BLOCKS, main, splice

DOC = Path(__file__).resolve().parents[2] / "docs" / "forms.md"


def _block(text: str, name: str) -> str:
    pattern = rf"^<!-- BEGIN GENERATED: {re.escape(name)} -->\n(.*?)^<!-- END GENERATED: {re.escape(name)} -->$"
    blocks = re.findall(pattern, text, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"expected exactly one {name!r} block in {DOC}"
    return str(blocks[0])


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("scanline-layout", render_layout_markdown),
        ("question-map", render_question_map_markdown),
        ("any-codes", render_code_table_markdown),
    ],
)
def test_doc_contains_exactly_the_generated_text(name: str, render: Callable[[], str]) -> None:
    assert _block(DOC.read_text(encoding="utf-8"), name) == render()


def test_generated_blocks_are_all_checked() -> None:
    assert set(GENERATED_BLOCKS) == {"scanline-layout", "question-map", "any-codes"}
    text = DOC.read_text(encoding="utf-8")
    assert splice(text) == text
    assert main([str(DOC)]) == 0


def test_layout_doc_has_every_field_with_its_columns() -> None:
    layout = render_layout_markdown()
    for row in (
        "| 1-9 | 9 | `ssn` | 1 |",
        "| 5 | 1 | `profile` | 3 |",
        "| 12-17 | 6 | `report_period` | 5 |",
        "| 25-33 | 9 | `fo_zip` | 3 |",
    ):
        assert row in layout
    assert layout.count("DI 40502.001B.8") >= 18


def test_doc_states_citations_and_design_status() -> None:
    text = DOC.read_text(encoding="utf-8")
    for citation in (
        "DI 40502.001B.7",
        "DI 40502.001B.8",
        "DI 40502.001E.3.b",
        "DI 40502.001F.3.c",
        "DI 40502.001J.2.c",
    ):
        assert citation in text
    assert "cdrflow's design" in text
    assert "names the fields" in text


def test_stale_doc_is_detected(tmp_path: Path) -> None:
    stale = tmp_path / "forms.md"
    stale.write_text(
        DOC.read_text(encoding="utf-8").replace("| 1-9 | 9 | `ssn`", "| 1-8 | 8 | `ssn`"), encoding="utf-8"
    )
    assert main([str(stale)]) == 1
    assert main([str(stale), "--write"]) == 0
    assert stale.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
