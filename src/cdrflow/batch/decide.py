"""Vectorized DCDRS decision logic over a whole file of returned mailers.

The features of :mod:`cdrflow.policy.mailer.features` as Polars expressions, then the same
decision tables compiled with :meth:`DecisionTable.polars_outputs`. A differential test
(tests/batch) proves the result equals the per-record ``mailer-decision`` calc.

The input frame must already be valid (see :mod:`cdrflow.batch.files`, which validates and
rejects); this module does no validation.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from cdrflow.engine.parameters import LATEST
from cdrflow.policy.mailer.features import FEATURE_PARAMETERS, RELEVANT_CODES, WORK_SUBJECTS
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
    return frame.lazy().with_columns(lines).select(pl.col("mailer_id"), *feature_exprs(on))


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
    lengthy = rem_relevant & (
        (words > int(limit["words"])) | (rem_text.str.len_chars() > int(limit["characters"]))
    )
    att_subject = pl.coalesce(
        pl.element().struct.field("subject"),
        pl.element().struct.field("kind").str.to_uppercase().replace_strict(
            ATTACHMENT_KIND_SUBJECT, default="MISC", return_dtype=pl.String
        ),
    )
    att_relevant = pl.col("attachments").list.eval(pl.element().struct.field("relevant")).list.any().fill_null(False)
    att_work = (
        pl.col("attachments")
        .list.eval(pl.element().struct.field("relevant") & att_subject.is_in(list(WORK_SUBJECTS)))
        .list.any()
        .fill_null(False)
    )
    codes = pl.col("any_codes")
    codes_work = (
        codes.str.slice(0, 1).is_in(["1", "3"]) | codes.str.slice(1, 1).is_in(["1", "3"])
    ).fill_null(False)
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
        (rem_relevant | codes.str.slice(0, 1).is_in(list(RELEVANT_CODES)).fill_null(False)).alias("relevant_remarks"),
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


def _chain(lf: pl.LazyFrame, keep: list[str]) -> pl.LazyFrame:
    """The five tables in evaluation order over the feature columns: ``keep`` and every output."""
    t = tables()
    work = t["work_activity"].polars_outputs()
    lf = lf.with_columns(work["work_issue"], work["work_activity__rule"])
    act = t["actionable"].polars_outputs()
    lf = lf.with_columns(act["actionable"], act["reason"].alias("actionable_reason"), act["actionable__rule"])
    rec = t["automated_recommendation"].polars_outputs()
    lf = lf.with_columns(rec["recommendation"], rec["automated_recommendation__rule"])
    sig = t["significant_responses"].polars_outputs()
    lf = lf.with_columns(sig["significant"], sig["significant_responses__rule"])
    route = t["pc_review_routing"].polars_outputs(
        {
            "work_reported": pl.col("work_issue") | pl.col("work_mentioned"),
            "remarks_or_attachments": pl.col("relevant_remarks") | pl.col("relevant_attachments"),
        }
    )
    lf = lf.with_columns(*(route[k] for k in ("outcome", "alert_type", "message", "reviewer", "recommended_action",
                                              "pc_review_routing__rule")))
    none_to_null = {"NONE": None}
    parts: list[pl.Expr] = []
    for i, name in enumerate(RULE_TABLES):  # one string, built in one pass (a list column costs 20x more)
        parts += [pl.lit(f"{' ' if i else ''}{name}:"), pl.col(f"{name}__rule")]
    rule_ids = pl.concat_str(parts).alias("rule_ids")
    return lf.select(
        *keep,
        pl.col("outcome"),
        pl.col("actionable"),
        pl.col("actionable_reason"),
        pl.col("alert_type").replace(none_to_null),
        pl.when(pl.col("message") > 0).then(pl.col("message")).otherwise(None).cast(pl.Int64).alias("alert_message"),
        pl.col("reviewer").replace(none_to_null).alias("alert_reviewer"),
        pl.col("recommended_action").replace(none_to_null).alias("alert_recommended_action"),
        pl.col("recommendation").alias("automated_recommendation"),
        pl.col("significant").alias("significant_responses"),
        pl.col("work_issue"),
        rule_ids,
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
