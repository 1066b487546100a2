"""Vectorized DCDRS decision logic over a whole file of returned mailers.

The features of :mod:`cdrflow.policy.mailer.features` as Polars expressions, then the same
decision tables compiled with :meth:`DecisionTable.polars_outputs`. A differential test
(tests/batch) proves the result equals the per-record ``mailer-decision`` calc.

The input frame must already be valid (see :mod:`cdrflow.batch.files`, which validates and
rejects); this module does no validation.
"""

from __future__ import annotations

import datetime as dt
import itertools
from functools import cache
from typing import Any

import polars as pl

from cdrflow.engine.parameters import LATEST
from cdrflow.forms.any_codes import LENGTHY_REMARK_CODES, RELEVANT_ATTACHMENT_CODES, RELEVANT_REMARK_CODES, WORK_CODES
from cdrflow.policy.mailer.features import FEATURE_PARAMETERS, WORK_SUBJECTS
from cdrflow.policy.mailer.record import ATTACHMENT_KIND_SUBJECT, MEDICAL_SIGNERS
from cdrflow.policy.mailer.source import SOURCE, alert_messages, param, parameters, tables

RULE_TABLES = ("work_activity", "actionable", "automated_recommendation", "significant_responses",
               "pc_review_routing")
"""The tables whose fired row each decision reports in ``rule_ids``: ``table:row`` for each, in evaluation
order, separated by single spaces (the flat output's form; ``str.split()`` gives the list)."""

OUTPUT_COLUMNS = [
    "mailer_id",
    "outcome",
    "actionable",
    "actionable_reason",
    "alert_type",
    "alert_message",
    "alert_reviewer",
    "alert_recommended_action",
    "automated_recommendation",
    "significant_responses",
    "clear_decision",
    "work_issue",
]


_LINES = 3  # question 1.b has up to three lines (ReturnedMailer.q1b_earnings max_length)


def _entry(i: int, field: str) -> pl.Expr:
    return pl.col(f"_q1b_{i}").struct.field(field)


def features(frame: pl.LazyFrame | pl.DataFrame, on: dt.date | None = None) -> pl.LazyFrame:
    """``mailer_id`` and the decision tables' inputs (the features) of every mailer of ``frame``.

    The three earnings lines are taken out of the list once (``_q1b_0..2``) and read by field after.
    """
    lines = [pl.col("q1b_earnings").list.get(i, null_on_oob=True).alias(f"_q1b_{i}") for i in range(_LINES)]
    enums = _enums()
    feats = [e.cast(enums[e.meta.output_name()]) if e.meta.output_name() in enums else e for e in feature_exprs(on)]
    return frame.lazy().with_columns(lines).select(pl.col("mailer_id"), *feats)


def feature_exprs(on: dt.date | None) -> list[pl.Expr]:
    threshold_name, limit_name = FEATURE_PARAMETERS
    threshold = float(param(threshold_name, on))
    limit = param(limit_name, on)
    rp = pl.col("report_period_start")
    informative, counting, at_or_above, positive = [], [], [], []
    for i in range(_LINES):
        began, ended, earn = _entry(i, "work_began"), _entry(i, "work_ended"), _entry(i, "monthly_earnings")
        info = began.is_not_null() | ended.is_not_null() | earn.is_not_null()
        count = info & (ended.is_null() | (ended >= rp))
        informative.append(info.fill_null(False))
        counting.append(count.fill_null(False))
        at_or_above.append((count & earn.is_not_null() & (earn >= threshold)).fill_null(False))
        positive.append((count & earn.is_not_null() & (earn > 0)).fill_null(False))
    any_info = pl.any_horizontal(informative)
    any_count = pl.any_horizontal(counting)
    q1b = (
        pl.when(pl.any_horizontal(at_or_above))
        .then(pl.lit("AT_OR_ABOVE_THRESHOLD"))
        .when(any_info & ~any_count)
        .then(pl.lit("ONLY_BEFORE_REPORT_PERIOD"))
        .when(pl.any_horizontal(positive))
        .then(pl.lit("BELOW_THRESHOLD"))
        .otherwise(pl.lit("NO_EARNINGS"))
    )
    rem_text = pl.col("remarks").struct.field("text")
    rem_relevant = pl.col("remarks").struct.field("relevant").fill_null(False)
    words = rem_text.str.count_matches(r"[^\s\x1c-\x1f]+")  # Python's \S: Rust's \s lacks \x1c-\x1f
    codes = pl.col("any_codes")
    code1, code2 = codes.str.slice(0, 1), codes.str.slice(1, 1)
    lengthy = (rem_relevant & (
        (words > int(limit["words"])) | (rem_text.str.len_chars() > int(limit["characters"]))
    )).fill_null(False) | code1.is_in(sorted(LENGTHY_REMARK_CODES)).fill_null(False)
    att_subject = pl.coalesce(
        pl.element().struct.field("subject"),
        pl.element().struct.field("kind").str.to_uppercase().replace_strict(
            ATTACHMENT_KIND_SUBJECT, default="MISC", return_dtype=pl.String
        ),
    )
    att_relevant = pl.col("attachments").list.eval(pl.element().struct.field("relevant")).list.any().fill_null(
        False
    ) | code2.is_in(sorted(RELEVANT_ATTACHMENT_CODES)).fill_null(False)
    att_work = (
        pl.col("attachments")
        .list.eval(pl.element().struct.field("relevant") & att_subject.is_in(list(WORK_SUBJECTS)))
        .list.any()
        .fill_null(False)
    )
    codes_work = (code1.is_in(sorted(WORK_CODES)) | code2.is_in(sorted(WORK_CODES))).fill_null(False)
    rem_work = (rem_relevant & pl.col("remarks").struct.field("subject").is_in(list(WORK_SUBJECTS))).fill_null(False)
    return [
        pl.col("form"),
        pl.col("profile"),
        pl.col("q1a_worked").fill_null("NONE").alias("q1a"),
        q1b.alias("q1b"),
        pl.col("q2_school").fill_null("NONE").alias("q2"),
        pl.col("q3_doctor_work").fill_null("NONE").alias("q3"),
        pl.col("q4_health").fill_null("NONE").alias("q4"),
        pl.col("q5_doctor_visits").fill_null("NONE").alias("q5"),
        pl.col("q6_hospitalized").fill_null("NONE").alias("q6"),
        (rem_relevant | code1.is_in(sorted(RELEVANT_REMARK_CODES)).fill_null(False)).alias("relevant_remarks"),
        lengthy.fill_null(False).alias("lengthy_relevant_remarks"),
        att_relevant.alias("relevant_attachments"),
        pl.col("signer").is_in(list(MEDICAL_SIGNERS)).alias("medical_signer"),
        pl.col("translation_needed").fill_null(False),
        pl.col("other_program_issue").fill_null(False),
        (rem_work | att_work | codes_work).alias("work_mentioned"),
    ]


def decide_frame(frame: pl.LazyFrame | pl.DataFrame, on: dt.date | None = None) -> pl.LazyFrame:
    """Decide every mailer of ``frame``; returns the columns of :data:`OUTPUT_COLUMNS` and ``rule_ids``."""
    return _chain(features(frame, on), ["mailer_id"])


@cache
def _enums() -> dict[str, pl.Enum]:
    """Each text input of the tables as an Enum of its domain (the union over the tables that read
    it): conditions then compare small integers, not strings."""
    domains: dict[str, set[str]] = {}
    for table in tables().values():
        for var in table.inputs:
            if var.domain and all(isinstance(x, str) for x in var.domain):
                domains.setdefault(var.name, set()).update(str(x) for x in var.domain)
    return {name: pl.Enum(sorted(values)) for name, values in domains.items()}


@cache
def _rule_id_texts() -> tuple[list[int], pl.Series]:
    """``rule_ids`` for every combination of fired rows, and the stride of each table's position."""
    t = [tables()[name] for name in RULE_TABLES]
    strides: list[int] = []
    n = 1
    for table in reversed(t):
        strides.insert(0, n)
        n *= len(table.rules)
    texts = [" ".join(f"{table.name}:{rule.id}" for table, rule in zip(t, combo, strict=True))
             for combo in itertools.product(*(table.rules for table in t))]
    return strides, pl.Series(texts, dtype=pl.String)


def _none(value: Any) -> Any:
    return None if value == "NONE" else value


def _chain(lf: pl.LazyFrame, keep: list[str]) -> pl.LazyFrame:
    """The five tables in evaluation order over the feature columns: ``keep`` and every output.

    Each table adds the position of its first matching row (``<table>__hit``); outputs are gathered
    by it, with the alert's "NONE" as null and message 0 as null (the flat output's terms), and
    ``rule_ids`` is gathered once from the combination of the five positions.
    """
    t = tables()
    enums = _enums()

    def hit(name: str, columns: dict[str, pl.Expr] | None = None) -> pl.Expr:
        return t[name].polars_first_hit(columns).alias(f"{name}__hit")

    def value(name: str, output: str, alias: str, convert: Any = None, dtype: Any = None) -> pl.Expr:
        return t[name].polars_value(pl.col(f"{name}__hit"), output, convert, dtype).alias(alias)

    lf = lf.with_columns(hit("work_activity"))
    lf = lf.with_columns(value("work_activity", "work_issue", "work_issue"))
    lf = lf.with_columns(hit("actionable"))
    lf = lf.with_columns(value("actionable", "actionable", "actionable"),
                         value("actionable", "reason", "actionable_reason"))
    lf = lf.with_columns(hit("automated_recommendation"))
    lf = lf.with_columns(value("automated_recommendation", "recommendation", "recommendation",
                               dtype=enums.get("recommendation")),
                         value("automated_recommendation", "clear", "clear"))
    lf = lf.with_columns(hit("significant_responses"))
    lf = lf.with_columns(value("significant_responses", "significant", "significant"))
    lf = lf.with_columns(hit("pc_review_routing", {
        "work_reported": pl.col("work_issue") | pl.col("work_mentioned"),
        "remarks_or_attachments": pl.col("relevant_remarks") | pl.col("relevant_attachments"),
    }))
    strides, texts = _rule_id_texts()
    combo: pl.Expr = pl.lit(0, pl.UInt64)
    for name, stride in zip(RULE_TABLES, strides, strict=True):
        combo = combo + pl.col(f"{name}__hit").cast(pl.UInt64) * stride
    return lf.select(
        *keep,
        value("pc_review_routing", "outcome", "outcome"),
        pl.col("actionable"),
        pl.col("actionable_reason"),
        value("pc_review_routing", "alert_type", "alert_type", _none, pl.String),
        value("pc_review_routing", "message", "alert_message", lambda m: int(m) or None, pl.Int64),
        value("pc_review_routing", "reviewer", "alert_reviewer", _none, pl.String),
        value("pc_review_routing", "recommended_action", "alert_recommended_action", _none, pl.String),
        pl.col("recommendation").cast(pl.String).alias("automated_recommendation"),
        pl.col("significant").alias("significant_responses"),
        pl.col("clear").alias("clear_decision"),
        pl.col("work_issue"),
        pl.lit(texts).gather(combo).alias("rule_ids"),
    )


def policy_version(on: dt.date | None) -> dict[str, str]:
    """The versions a decision on ``on`` uses: the same keys the per-record calc reports."""
    when = on or LATEST
    versions = {"source": SOURCE}
    for name in FEATURE_PARAMETERS:
        versions[f"param:{name}"] = parameters()[name].at(when).label
    for table in tables().values():  # every table of the chain fires once per record
        versions[f"table:{table.name}"] = table.effective.isoformat()
    return versions


def alert_text_expr() -> pl.Expr:
    """The alert message text for the columns alert_type and alert_message."""
    mapping = {
        f"{kind}:{n}": str(text)
        for kind, block in alert_messages().items()
        for n, text in block["messages"].items()
    }
    key = pl.concat_str([pl.col("alert_type"), pl.col("alert_message").cast(pl.String)], separator=":")
    return key.replace_strict(mapping, default=None, return_dtype=pl.String).alias("alert_text")
