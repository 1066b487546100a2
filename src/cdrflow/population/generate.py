"""A seeded synthetic beneficiary population with realistic mixes (vectorized with NumPy and Polars).

Every row is valid per :class:`~cdrflow.population.model.Beneficiary`; the same ``count``,
``seed`` and ``as_of`` give the same rows. The mixes:

* title T2 55 %, T2/16 15 %, T16 30 %; profile L 85 %, M 10 %, H 5 % (mailers go mostly to LOWs, B.2);
* about 1 % foreign (PC-8, E.4.a): country MX/CA/PH/DE/IT/GB, ``foreign_address`` true, no state/ZIP;
* age 25-70 at ``as_of`` (skewed older); entitlement 1-25 years before ``as_of``; Title II onset
  5-23 months before entitlement (the waiting period) with the application between onset and
  entitlement; Title XVI application in the month before entitlement and onset 0-24 months before it;
* diary months: ~5 % backlog already due (the 12 months up to ``as_of``), the rest spread evenly over
  the 24 months after ``as_of`` (about 1/24 maturing each month);
* diary type (G.5, J.3.b) by profile: mostly MINE ("7", some "5"), some MIP ("3"), a few MIE ("A"/"B");
  ~8 % with no OD-CALC MDR, most of those with a QMID reason, ~2 % with no code anywhere (default 3);
  Title XVI rows carry the SSI diary (= the diary month) and, mostly, an SSR MR;
* representative payee ~20 %; language ENGLISH ~88 %, SPANISH ~9 %, others ~3 %; phone ~90 %;
  recent earnings on ~10 %; ~0.1 % with a recent date of death; ``servicing_pc`` always null.

Impairment codes, their labels, listings, FO DOORS codes and places are ILLUSTRATIVE: the codes
follow the ICD-9-CM category numbering that SSA impairment codes are based on, but the labels are
ours, not SSA's tables. SSNs use valid area numbers (001-665, 667-899), so treat the output as
synthetic test data only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .io import POLARS_SCHEMA, rows_as_dicts
from .model import COLUMNS

AS_OF = dt.date(2026, 1, 1)

# (code, illustrative label, listing, weight)
DIAGNOSES: tuple[tuple[str, str, str, float], ...] = (
    ("2960", "Affective (mood) disorders", "12.04", 0.20),
    ("2950", "Schizophrenic and other psychotic disorders", "12.03", 0.09),
    ("3190", "Intellectual disability", "12.05", 0.08),
    ("3180", "Intellectual disability, moderate", "12.05", 0.03),
    ("2990", "Autism spectrum disorder", "12.10", 0.03),
    ("3000", "Anxiety-related disorders", "12.06", 0.05),
    ("7240", "Disorders of back (discogenic and degenerative)", "1.15", 0.14),
    ("7150", "Osteoarthrosis and allied disorders", "1.18", 0.07),
    ("7140", "Rheumatoid arthritis", "14.09", 0.02),
    ("4280", "Chronic heart failure", "4.02", 0.03),
    ("4100", "Ischemic heart disease", "4.04", 0.02),
    ("4930", "Asthma", "3.03", 0.01),
    ("2500", "Diabetes mellitus", "9.00", 0.03),
    ("5850", "Chronic kidney disease", "6.05", 0.02),
    ("3400", "Multiple sclerosis", "11.09", 0.02),
    ("3450", "Epilepsy", "11.02", 0.02),
    ("3430", "Cerebral palsy", "11.07", 0.01),
    ("1500", "Malignant neoplasm", "13.17", 0.02),
    ("2040", "Lymphoid leukemia", "13.06", 0.01),
    ("3310", "Neurocognitive disorders", "12.02", 0.02),
    ("4340", "Vascular insult to the brain", "11.04", 0.02),
    ("3050", "Substance addiction disorders", "12.04", 0.01),
    ("7100", "Systemic lupus erythematosus", "14.02", 0.01),
    ("0420", "HIV infection", "14.11", 0.01),
)

# Field offices (illustrative): state, city, ZIP, area code, DOORS code, weight.
FIELD_OFFICES: tuple[tuple[str, str, str, str, str, float], ...] = (
    ("CA", "LOS ANGELES", "90012", "213", "A12", 0.05),
    ("CA", "FRESNO", "93721", "559", "A31", 0.02),
    ("CA", "SAN DIEGO", "92101", "619", "A44", 0.03),
    ("TX", "HOUSTON", "77002", "713", "B07", 0.04),
    ("TX", "SAN ANTONIO", "78205", "210", "B21", 0.03),
    ("TX", "EL PASO", "79901", "915", "B36", 0.02),
    ("FL", "MIAMI", "33130", "305", "C03", 0.03),
    ("FL", "TAMPA", "33602", "813", "C18", 0.03),
    ("FL", "JACKSONVILLE", "32202", "904", "C25", 0.02),
    ("NY", "BROOKLYN", "11201", "718", "D02", 0.04),
    ("NY", "BUFFALO", "14202", "716", "D40", 0.02),
    ("PA", "PHILADELPHIA", "19106", "215", "E11", 0.03),
    ("PA", "WILKES-BARRE", "18701", "570", "E52", 0.02),
    ("OH", "COLUMBUS", "43215", "614", "F09", 0.03),
    ("OH", "CLEVELAND", "44114", "216", "F14", 0.02),
    ("IL", "CHICAGO", "60604", "312", "G01", 0.04),
    ("MI", "DETROIT", "48226", "313", "G33", 0.03),
    ("GA", "ATLANTA", "30303", "404", "H05", 0.03),
    ("NC", "CHARLOTTE", "28202", "704", "H27", 0.03),
    ("TN", "MEMPHIS", "38103", "901", "H48", 0.02),
    ("KY", "LOUISVILLE", "40202", "502", "J12", 0.02),
    ("AL", "BIRMINGHAM", "35203", "205", "J30", 0.02),
    ("WV", "CHARLESTON", "25301", "304", "J41", 0.01),
    ("AR", "LITTLE ROCK", "72201", "501", "K06", 0.01),
    ("LA", "NEW ORLEANS", "70112", "504", "K19", 0.02),
    ("MO", "ST LOUIS", "63101", "314", "L08", 0.02),
    ("AZ", "PHOENIX", "85004", "602", "M02", 0.02),
    ("WA", "SEATTLE", "98104", "206", "N11", 0.02),
    ("MA", "BOSTON", "02203", "617", "P04", 0.02),
    ("NJ", "NEWARK", "07102", "973", "P22", 0.02),
    ("VA", "RICHMOND", "23219", "804", "Q15", 0.02),
    ("MD", "BALTIMORE", "21201", "410", "Q30", 0.02),
    ("IN", "INDIANAPOLIS", "46204", "317", "R09", 0.02),
    ("MS", "JACKSON", "39201", "601", "R26", 0.01),
    ("OK", "OKLAHOMA CITY", "73102", "405", "S03", 0.01),
    ("PR", "SAN JUAN", "00918", "787", "T01", 0.02),
)

# Foreign claims (PC-8) are serviced from Baltimore (illustrative FO data).
FOREIGN_FO = ("MD", "BALTIMORE", "21235", "B99")
FOREIGN: tuple[tuple[str, str, str, float], ...] = (
    ("MX", "GUADALAJARA", "+52", 0.35),
    ("CA", "TORONTO", "+1", 0.20),
    ("PH", "MANILA", "+63", 0.20),
    ("DE", "FRANKFURT", "+49", 0.10),
    ("IT", "NAPOLI", "+39", 0.08),
    ("GB", "LONDON", "+44", 0.07),
)
FOREIGN_SHARE = 0.01

TITLES = (("T2", 0.55), ("T2/16", 0.15), ("T16", 0.30))
PROFILES = (("L", 0.85), ("M", 0.10), ("H", 0.05))
LANGUAGES = (
    ("ENGLISH", 0.88),
    ("SPANISH", 0.09),
    ("CHINESE", 0.008),
    ("VIETNAMESE", 0.006),
    ("RUSSIAN", 0.004),
    ("TAGALOG", 0.004),
    ("KOREAN", 0.004),
    ("ARABIC", 0.004),
)
# Diary reason (MDR/MR) by profile: MINE "7"/"5", MIP "3", MIE "A"/"B" (G.5, J.3.b).
MDR_CODES = ("7", "5", "3", "A", "B")
MDR_BY_PROFILE = {
    "L": (0.70, 0.15, 0.12, 0.02, 0.01),
    "M": (0.30, 0.10, 0.50, 0.06, 0.04),
    "H": (0.10, 0.05, 0.45, 0.25, 0.15),
}
DIARY_TYPE = {"7": "MINE", "5": "MINE", "3": "MIP", "A": "MIE", "B": "MIE"}

FIRST_NAMES = (
    "JAMES",
    "MARY",
    "ROBERT",
    "PATRICIA",
    "JOHN",
    "JENNIFER",
    "MICHAEL",
    "LINDA",
    "DAVID",
    "ELIZABETH",
    "WILLIAM",
    "BARBARA",
    "RICHARD",
    "SUSAN",
    "JOSEPH",
    "JESSICA",
    "THOMAS",
    "SARAH",
    "CHARLES",
    "KAREN",
    "CHRISTOPHER",
    "LISA",
    "DANIEL",
    "NANCY",
    "MATTHEW",
    "BETTY",
    "ANTHONY",
    "SANDRA",
    "MARK",
    "MARGARET",
    "JOSE",
    "MARIA",
    "LUIS",
    "CARMEN",
    "WEI",
    "NGUYEN",
    "DMITRI",
    "ROSA",
    "TYRONE",
    "KEISHA",
)
LAST_NAMES = (
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "GARCIA",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "WILSON",
    "ANDERSON",
    "THOMAS",
    "TAYLOR",
    "MOORE",
    "JACKSON",
    "MARTIN",
    "LEE",
    "PEREZ",
    "THOMPSON",
    "WHITE",
    "HARRIS",
    "SANCHEZ",
    "CLARK",
    "RAMIREZ",
    "LEWIS",
    "ROBINSON",
    "WALKER",
    "YOUNG",
    "ALLEN",
    "KING",
    "WRIGHT",
    "SCOTT",
    "TORRES",
    "NGUYEN",
    "HILL",
    "FLORES",
)
PAYEE_ORGS = (
    "COUNTY DEPARTMENT OF SOCIAL SERVICES",
    "COMMUNITY MENTAL HEALTH CENTER",
    "ST JOSEPH CARE HOME",
    "FIRST STATE GUARDIANSHIP SERVICES",
    "VALLEY NURSING AND REHAB CENTER",
)
STREETS = (
    "MAIN",
    "OAK",
    "PINE",
    "MAPLE",
    "CEDAR",
    "ELM",
    "WASHINGTON",
    "LAKE",
    "HILL",
    "PARK",
    "LINCOLN",
    "JACKSON",
    "CHURCH",
    "RIVER",
    "MARKET",
    "SPRING",
    "CENTER",
    "FRANKLIN",
    "HIGHLAND",
    "MADISON",
)
STREET_SUFFIXES = ("ST", "AVE", "RD", "DR", "LN", "BLVD", "CT", "WAY")
BIC_T2 = (("A", 0.90), ("C1", 0.06), ("W", 0.04))
ID_T16 = "DI"
MIDDLE = tuple("ABCDEFGHJKLMNPRSTW")


def _p(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    p: np.ndarray = w / w.sum()
    return p


def _pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    picked: np.ndarray = rng.choice(len(weights), size=n, p=_p(weights))
    return picked


def _lit(values: Sequence[str], idx: pl.Expr) -> pl.Expr:
    """``values[idx]`` for an integer index expression."""
    return idx.replace_strict(list(range(len(values))), list(values), return_dtype=pl.String)


def _month_text(mi: pl.Expr) -> pl.Expr:
    """A month index (year * 12 + month - 1) as ``YYYY-MM``."""
    return pl.format("{}-{}", (mi // 12).cast(pl.String).str.zfill(4), (mi % 12 + 1).cast(pl.String).str.zfill(2))


def _month_start(mi: pl.Expr) -> pl.Expr:
    return pl.date(mi // 12, mi % 12 + 1, 1)


def generate_frame(count: int, seed: int = 7, as_of: dt.date = AS_OF) -> pl.DataFrame:
    """``count`` synthetic beneficiaries as a DataFrame with :data:`POLARS_SCHEMA` (see the module doc)."""
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    n = count
    rng = np.random.default_rng(seed)
    as_of_mi = as_of.year * 12 + as_of.month - 1

    # SSN: unique draws from the issued space (area 001-665 and 667-899, group 01-99, serial 0001-9999).
    k = rng.choice(898 * 99 * 9999, size=n, replace=False)
    area = k // (99 * 9999) + 1
    area = area + (area >= 666)
    group = (k // 9999) % 99 + 1
    serial = k % 9999 + 1
    ssn_num = area * 1_000_000 + group * 10_000 + serial

    title = _pick(rng, n, [w for _t, w in TITLES])
    profile = _pick(rng, n, [w for _p2, w in PROFILES])
    foreign = rng.random(n) < FOREIGN_SHARE
    fo = _pick(rng, n, [w for *_x, w in FIELD_OFFICES])
    country_i = _pick(rng, n, [w for *_x, w in FOREIGN])

    # Dates (as days since as_of, and month indexes).
    age = 25.0 + 45.0 * rng.beta(2.2, 1.6, size=n)
    birth = -np.round(age * 365.25).astype(np.int64) - rng.integers(0, 30, size=n)
    max_years = np.minimum(25.0, age - 19.0)
    years_since = 1.0 + (max_years - 1.0) * rng.random(n)
    ent_mi = as_of_mi - np.maximum(12, np.round(years_since * 12).astype(np.int64))
    is_t16 = title == 2
    waiting = 5 + np.minimum(rng.geometric(0.18, size=n) - 1, 18)  # T2: onset 5-23 months before entitlement

    death_back = np.where(rng.random(n) < 0.001, rng.integers(1, 181, size=n), 0)  # days before as_of; 0 = alive

    backlog = rng.random(n) < 0.05
    diary_mi = np.where(backlog, as_of_mi - rng.integers(0, 12, size=n), as_of_mi + rng.integers(1, 25, size=n))

    # Diary reason codes: OD-CALC MDR by profile; QMID mostly agrees; SSR MR on Title XVI rows.
    mdr = np.empty(n, dtype=np.int64)
    for p_i, (p_code, _w) in enumerate(PROFILES):
        sel = profile == p_i
        mdr[sel] = _pick(rng, int(sel.sum()), MDR_BY_PROFILE[p_code])
    other_mdr = _pick(rng, n, MDR_BY_PROFILE["L"])
    u_od = rng.random(n)
    od_null = u_od < 0.08
    nothing = u_od < 0.02
    u_q = rng.random(n)
    qmid = np.where(od_null, np.where(nothing, -1, mdr), np.where(u_q < 0.80, mdr, np.where(u_q < 0.85, other_mdr, -1)))
    od = np.where(od_null, -1, mdr)
    xvi = title != 0
    u_s = rng.random(n)
    ssr = np.where(xvi & (u_s < 0.65), np.where(qmid >= 0, qmid, od), -1)
    ssr = np.where(xvi & nothing & (u_s < 0.5), mdr, np.where(nothing, -1, ssr))

    frame = pl.DataFrame(
        {
            "ssn_num": ssn_num,
            "title_i": title,
            "profile_i": profile,
            "foreign": foreign,
            "fo_i": fo,
            "country_i": country_i,
            "birth_d": birth,
            "ent_mi": ent_mi,
            "is_t16": is_t16,
            "waiting": waiting,
            "u_app": rng.random(n),
            "t16_app_back": rng.integers(1, 31, size=n),
            "t16_onset_back": rng.integers(0, 731, size=n),
            "onset_day": rng.integers(0, 28, size=n),
            "death_back": death_back,
            "diary_mi": diary_mi,
            "od": od,
            "qmid": qmid,
            "ssr": ssr,
            "score_u": rng.random(n),
            "earn_u": rng.random(n),
            "earn_back": rng.integers(1, 4, size=n),
            "earn_cents": np.clip(np.round(np.exp(rng.normal(8.3, 0.9, size=n)) * 100), 10_000, 6_000_000).astype(
                np.int64
            ),
            "claim_level": _pick(rng, n, [0.70, 0.10, 0.20]),
            "claim_lag": rng.integers(3, 9, size=n),
            "listing_u": rng.random(n),
            "prior_u": rng.random(n),
            "prior_pos": rng.random(n),
            "diag1": _pick(rng, n, [w for *_x, w in DIAGNOSES]),
            "diag2_u": rng.random(n),
            "diag2_off": rng.integers(1, len(DIAGNOSES), size=n),
            "first": rng.integers(0, len(FIRST_NAMES), size=n),
            "middle": rng.integers(0, len(MIDDLE), size=n),
            "last": rng.integers(0, len(LAST_NAMES), size=n),
            "payee_u": rng.random(n),
            "payee_first": rng.integers(0, len(FIRST_NAMES), size=n),
            "payee_org": rng.integers(0, len(PAYEE_ORGS), size=n),
            "lang": _pick(rng, n, [w for _l, w in LANGUAGES]),
            "street_no": rng.integers(1, 9999, size=n),
            "street": rng.integers(0, len(STREETS), size=n),
            "suffix": rng.integers(0, len(STREET_SUFFIXES), size=n),
            "zip_tail": rng.integers(0, 100, size=n),
            "phone_u": rng.random(n),
            "phone_tail": rng.integers(0, 100, size=n),
            "bic": _pick(rng, n, [w for _b, w in BIC_T2]),
        },
        schema_overrides={"birth_d": pl.Int64, "death_back": pl.Int64},
    )

    c = pl.col
    as_of_lit = pl.lit(as_of)
    day = pl.duration(days=1)
    ent = _month_start(c("ent_mi"))
    # Title II: onset in the month `waiting` months before entitlement; application between onset
    # and entitlement, not more than 12 months before it.  Title XVI: application in the 30 days
    # before entitlement (the month after application), onset 0-24 months before the application.
    t2_onset = _month_start(c("ent_mi") - c("waiting")) + c("onset_day") * day
    t2_span = (ent - t2_onset).dt.total_days()
    t2_app = t2_onset + (c("u_app") * t2_span).floor().cast(pl.Int64) * day
    t2_app = pl.max_horizontal(t2_app, ent - pl.duration(days=365))
    t16_app = ent - c("t16_app_back") * day
    t16_onset = t16_app - c("t16_onset_back") * day
    frame = frame.with_columns(
        (as_of_lit + c("birth_d") * day).alias("birth_date"),
        ent.alias("entitlement_date"),
        pl.when(c("is_t16")).then(t16_app).otherwise(t2_app).alias("application_date"),
        pl.when(c("is_t16")).then(t16_onset).otherwise(t2_onset).alias("onset_date"),
    )

    mdr_text = list(MDR_CODES)
    diag_codes = [d[0] for d in DIAGNOSES]
    diag_labels = [d[1] for d in DIAGNOSES]
    diag_listings = [d[2] for d in DIAGNOSES]
    state_of = [f[0] for f in FIELD_OFFICES]

    def code_or_null(col: str) -> pl.Expr:
        return pl.when(c(col) >= 0).then(_lit(mdr_text, pl.when(c(col) >= 0).then(c(col)).otherwise(0)))

    diag2_i = (c("diag1") + c("diag2_off")) % len(DIAGNOSES)
    fo_state = _lit(state_of, c("fo_i"))
    area_code = _lit([f[3] for f in FIELD_OFFICES], c("fo_i"))
    zip_head = _lit([f[2][:3] for f in FIELD_OFFICES], c("fo_i"))
    diary_text = _month_text(c("diary_mi"))
    has_xvi = c("title_i") != 0
    od_type = _lit([DIARY_TYPE[m] for m in MDR_CODES], pl.coalesce(pl.when(c("od") >= 0).then(c("od")), pl.lit(2)))
    level = _lit(["Initial", "Reconsideration", "ALJ hearing"], c("claim_level"))
    lag = c("claim_lag") + c("claim_level") * 8
    claim_mi = pl.min_horizontal(c("ent_mi") + lag, pl.lit(as_of_mi - 1))
    basis = (
        pl.when(c("listing_u") < 0.6)
        .then(pl.format("listing {}", _lit(diag_listings, c("diag1"))))
        .otherwise(pl.lit("medical-vocational"))
    )
    prior_lo = c("ent_mi") + 36
    prior_hi = pl.lit(as_of_mi - 12)
    prior_mi = prior_lo + (c("prior_pos") * (prior_hi - prior_lo)).floor().cast(pl.Int64)
    prior_mailer = c("prior_u") < 0.25
    foreign_c = c("foreign")
    person_name = pl.format(
        "{} {} {}", _lit(FIRST_NAMES, c("first")), _lit(MIDDLE, c("middle")), _lit(LAST_NAMES, c("last"))
    )
    payee = (
        pl.when(c("payee_u") >= 0.20)
        .then(None)
        .when(c("payee_u") < 0.06)
        .then(_lit(PAYEE_ORGS, c("payee_org")))
        .otherwise(pl.format("{} {}", _lit(FIRST_NAMES, c("payee_first")), _lit(LAST_NAMES, c("last"))))
    )
    frame = frame.select(
        pl.col("ssn_num").cast(pl.String).str.zfill(9).alias("ssn"),
        pl.when(c("title_i") == 2)
        .then(pl.lit(ID_T16))
        .otherwise(_lit([b for b, _w in BIC_T2], c("bic")))
        .alias("bic_or_id"),
        person_name.alias("name"),
        c("birth_date"),
        _lit([t for t, _w in TITLES], c("title_i")).alias("title"),
        c("application_date"),
        c("entitlement_date"),
        c("onset_date"),
        _lit(diag_codes, c("diag1")).alias("diagnosis_primary"),
        pl.when(c("diag2_u") < 0.35).then(_lit(diag_codes, diag2_i)).alias("diagnosis_secondary"),
        pl.when(c("diag2_u") < 0.35)
        .then(pl.format("{}; {}", _lit(diag_labels, c("diag1")), _lit(diag_labels, diag2_i)))
        .otherwise(_lit(diag_labels, c("diag1")))
        .alias("impairment"),
        code_or_null("od").alias("od_calc_mdr"),
        code_or_null("qmid").alias("qmid_mdr"),
        code_or_null("ssr").alias("ssr_mr"),
        diary_text.alias("diary_month"),
        pl.when(has_xvi).then(diary_text).alias("ssi_diary_month"),
        _lit([p for p, _w in PROFILES], c("profile_i")).alias("profile"),
        pl.when(c("profile_i") == 0)
        .then(0.01 + 0.19 * c("score_u"))
        .when(c("profile_i") == 1)
        .then(0.20 + 0.25 * c("score_u"))
        .otherwise(0.45 + 0.50 * c("score_u"))
        .round(4)
        .alias("profile_score"),
        pl.when(c("earn_u") < 0.10).then(pl.lit(as_of.year) - c("earn_back")).alias("recent_earnings_year"),
        pl.when(c("earn_u") < 0.10)
        .then(
            pl.format(
                "{}.{}", (c("earn_cents") // 100).cast(pl.String), (c("earn_cents") % 100).cast(pl.String).str.zfill(2)
            )
        )
        .cast(pl.Decimal(12, 2))
        .alias("recent_earnings"),
        pl.format("{} allowance {}, {}", level, _month_text(claim_mi), basis).alias("initial_claim"),
        pl.when((c("prior_u") < 0.60) & (prior_hi >= prior_lo))
        .then(
            pl.format(
                "{} {} {} ({})",
                pl.when(prior_mailer).then(pl.lit("CDR mailer")).otherwise(pl.lit("CDR")),
                _month_text(prior_mi),
                pl.when(prior_mailer).then(pl.lit("deferred")).otherwise(pl.lit("continued")),
                od_type,
            )
        )
        .alias("prior_cdr"),
        pl.lit(None, dtype=pl.Int64).alias("servicing_pc"),
        pl.when(foreign_c).then(pl.lit(FOREIGN_FO[0])).otherwise(fo_state).alias("dds"),
        pl.when(foreign_c)
        .then(pl.lit(FOREIGN_FO[3]))
        .otherwise(_lit([f[4] for f in FIELD_OFFICES], c("fo_i")))
        .alias("fo_doors"),
        pl.when(foreign_c)
        .then(pl.lit(FOREIGN_FO[1]))
        .otherwise(_lit([f[1] for f in FIELD_OFFICES], c("fo_i")))
        .alias("fo_city"),
        pl.when(foreign_c).then(pl.lit(FOREIGN_FO[0])).otherwise(fo_state).alias("fo_state"),
        pl.when(foreign_c)
        .then(pl.lit(FOREIGN_FO[2]))
        .otherwise(_lit([f[2] for f in FIELD_OFFICES], c("fo_i")))
        .alias("fo_zip"),
        payee.alias("rep_payee"),
        _lit([lang for lang, _w in LANGUAGES], c("lang")).alias("language"),
        pl.format("{} {} {}", c("street_no"), _lit(STREETS, c("street")), _lit(STREET_SUFFIXES, c("suffix"))).alias(
            "address_line"
        ),
        pl.when(foreign_c)
        .then(_lit([f[1] for f in FOREIGN], c("country_i")))
        .otherwise(_lit([f[1] for f in FIELD_OFFICES], c("fo_i")))
        .alias("city"),
        pl.when(~foreign_c).then(fo_state).alias("state"),
        pl.when(~foreign_c).then(zip_head + c("zip_tail").cast(pl.String).str.zfill(2)).alias("zip"),
        pl.when(foreign_c).then(_lit([f[0] for f in FOREIGN], c("country_i"))).otherwise(pl.lit("US")).alias("country"),
        foreign_c.alias("foreign_address"),
        pl.when(foreign_c)
        .then(
            pl.when(c("phone_u") < 0.5).then(
                pl.format(
                    "{} 555 01{}",
                    _lit([f[2] for f in FOREIGN], c("country_i")),
                    c("phone_tail").cast(pl.String).str.zfill(2),
                )
            )
        )
        .otherwise(
            pl.when(c("phone_u") < 0.90).then(
                pl.format("{}-555-01{}", area_code, c("phone_tail").cast(pl.String).str.zfill(2))
            )
        )
        .alias("phone"),
        pl.when(c("death_back") > 0).then(as_of_lit - c("death_back") * day).alias("date_of_death"),
        # Sites supply these (F.3 folder data, the J.3.a NOTE's blank QMID); the generator does not.
        pl.lit(None, dtype=pl.String).alias("folder_location"),
        pl.lit(None, dtype=pl.Date).alias("folder_date_in_location"),
        pl.lit(None, dtype=pl.Boolean).alias("qmid_medical_blank"),
    )
    return frame.select(pl.col(name).cast(dtype) for name, dtype in POLARS_SCHEMA.items())


def generate(count: int, seed: int = 7, as_of: dt.date = AS_OF) -> list[dict[str, Any]]:
    """``count`` synthetic beneficiaries as row dicts (the rows of :func:`generate_frame`)."""
    return rows_as_dicts(generate_frame(count, seed=seed, as_of=as_of))


def to_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Row dicts (every key a column of :data:`COLUMNS`; absent keys are null) as a typed DataFrame."""
    unknown = sorted({k for r in rows for k in r} - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown columns: {', '.join(unknown)}")
    return pl.from_dicts(list(rows), schema=POLARS_SCHEMA)


def write_population(rows_or_frame: pl.DataFrame | Sequence[dict[str, Any]], path: Path) -> int:
    """Write rows (or a frame) as ``.csv`` or ``.parquet`` so that ``read_population`` reads them back
    identically. CSV: header row, ISO dates, booleans true/false, null as an empty cell. Returns the row count."""
    path = Path(path)
    if isinstance(rows_or_frame, pl.DataFrame):
        frame = rows_or_frame.select(pl.col(name).cast(dtype) for name, dtype in POLARS_SCHEMA.items())
    else:
        frame = to_frame(rows_or_frame)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.write_csv(path, date_format="%Y-%m-%d")
    elif suffix == ".parquet":
        frame.write_parquet(path)
    else:
        raise ValueError(f"{path.name}: unsupported file suffix {path.suffix!r}; use .csv or .parquet")
    return frame.height
