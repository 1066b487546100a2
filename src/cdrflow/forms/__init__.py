"""The CDR mailer forms (DI 40502.001): Form SSA-455 / SSA-455-OCR-SM answers and question
numbering (B.7), the three scanlines (B.8) and the ANY CODES? codes (E.3.b).

Where the seed names fields but not their encodings (scanline layout, SFIC, ANY CODES? values)
the encodings are cdrflow's design; see ``docs/forms.md``.
"""

from __future__ import annotations

from .any_codes import CODE_TABLE, AnyCodes, AnyCodesError, BoxCode, CodeEntry, Subject, render_code_table_markdown
from .scanlines import (
    LAYOUTS,
    FieldSpec,
    Scanline1,
    Scanline2,
    Scanline3,
    ScanlineError,
    ScanlineLayout,
    Scanlines,
    Sfic,
    SficError,
    render_layout_markdown,
)
from .ssa455 import (
    QUESTION_MAP,
    QuestionMapping,
    Ssa455Answers,
    Ssa455OcrSmAnswers,
    Topic,
    ocr_question_for_ssa455,
    render_question_map_markdown,
    ssa455_question_for_ocr,
    topic_for_ocr,
    topic_for_ssa455,
)

__all__ = [
    "CODE_TABLE",
    "LAYOUTS",
    "QUESTION_MAP",
    "AnyCodes",
    "AnyCodesError",
    "BoxCode",
    "CodeEntry",
    "FieldSpec",
    "QuestionMapping",
    "Scanline1",
    "Scanline2",
    "Scanline3",
    "ScanlineError",
    "ScanlineLayout",
    "Scanlines",
    "Sfic",
    "SficError",
    "Ssa455Answers",
    "Ssa455OcrSmAnswers",
    "Subject",
    "Topic",
    "ocr_question_for_ssa455",
    "render_code_table_markdown",
    "render_layout_markdown",
    "render_question_map_markdown",
    "ssa455_question_for_ocr",
    "topic_for_ocr",
    "topic_for_ssa455",
]
