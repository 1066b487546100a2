"""Keep the generated blocks of ``docs/forms.md`` in step with the code.

A generated block sits between ``<!-- BEGIN GENERATED: NAME -->`` and
``<!-- END GENERATED: NAME -->`` lines, NAME being a key of :data:`GENERATED_BLOCKS`.

``python -m cdrflow.forms.docgen docs/forms.md`` exits 1 if a block is stale;
add ``--write`` to rewrite the blocks in place.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Final

from .any_codes import render_code_table_markdown
from .scanlines import render_layout_markdown
from .ssa455 import render_question_map_markdown

GENERATED_BLOCKS: Final[Mapping[str, Callable[[], str]]] = MappingProxyType(
    {
        "question-map": render_question_map_markdown,
        "scanline-layout": render_layout_markdown,
        "any-codes": render_code_table_markdown,
    }
)
"""Block name -> the function whose output the block holds."""


def block_pattern(name: str) -> re.Pattern[str]:
    """Matches a whole block; group ``body`` is the text between the marker lines."""
    return re.compile(
        rf"^<!-- BEGIN GENERATED: {re.escape(name)} -->\n(?P<body>.*?)^<!-- END GENERATED: {re.escape(name)} -->$",
        re.MULTILINE | re.DOTALL,
    )


def splice(text: str) -> str:
    """``text`` with every generated block replaced by the current output of its function."""
    for name, render in GENERATED_BLOCKS.items():
        match = block_pattern(name).search(text)
        if match is None:
            raise ValueError(f"no generated block {name!r} in the document")
        block = f"<!-- BEGIN GENERATED: {name} -->\n{render()}<!-- END GENERATED: {name} -->"
        text = text[: match.start()] + block + text[match.end() :]
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("path", type=Path)
    parser.add_argument("--write", action="store_true", help="rewrite the generated blocks in place")
    args = parser.parse_args(argv)
    text = args.path.read_text(encoding="utf-8")
    new = splice(text)
    if args.write:
        if new != text:
            args.path.write_text(new, encoding="utf-8")
        return 0
    if new != text:
        print(f"{args.path}: generated blocks are stale; rerun with --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
