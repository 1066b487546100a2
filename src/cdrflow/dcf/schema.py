"""The Disability Control File (DCF) as tables: SQLAlchemy Core, one metadata for SQLite and PostgreSQL.

* ``events`` is the append-only log (the QCDR event history). Database triggers refuse UPDATE and
  DELETE on it (migration 0002), on SQLite and PostgreSQL alike.
* ``beneficiaries`` and ``cases`` are current state, written in the same transaction as the events
  that change them. ``cases.version`` is the optimistic-concurrency counter.
* ``documents`` holds what a person reads (alert sheet, facsimile, profile sheet, notices,
  referrals) as data; ``cdrflow.documents`` renders them.
* ``cycles`` logs selection runs; ``ingest_runs`` logs intake files.

Dates are calendar dates; months (diaries, report periods) are ``YYYY-MM`` text, which sorts
correctly in SQL on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite, so autoincrement works on both.
BigId = BigInteger().with_variant(Integer(), "sqlite")

beneficiaries = Table(
    "beneficiaries",
    metadata,
    # Selection and profile-sheet data (DI 40502.001F.3, G.3); columns are documented in docs/population.md.
    Column("ssn", String(9), primary_key=True),
    Column("bic_or_id", String(12), nullable=False),
    Column("name", String(120), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("title", String(5), nullable=False),  # T2 | T2/16 | T16
    Column("application_date", Date, nullable=False),
    Column("entitlement_date", Date, nullable=False),
    Column("onset_date", Date, nullable=False),
    Column("diagnosis_primary", String(4), nullable=False),
    Column("diagnosis_secondary", String(4)),
    Column("impairment", String(200)),
    Column("od_calc_mdr", String(1)),  # profile sheet OD-CALC MDR: field
    Column("qmid_mdr", String(1)),  # MEDICAL RE-EXAM REASON of the latest QMID
    Column("ssr_mr", String(1)),  # MR of the SSR MG segment (Title XVI)
    Column("diary_month", String(7), nullable=False),  # medical reexamination diary, YYYY-MM
    Column("ssi_diary_month", String(7)),
    Column("profile", String(1), nullable=False),  # H | M | L
    Column("profile_score", Float),
    Column("recent_earnings_year", Integer),
    Column("recent_earnings", Numeric(12, 2)),
    Column("initial_claim", String(200)),
    Column("prior_cdr", String(200)),
    Column("servicing_pc", Integer),  # null: derived by the pc-jurisdiction calc
    Column("dds", String(2), nullable=False),
    Column("fo_doors", String(8), nullable=False),
    Column("fo_city", String(60), nullable=False),
    Column("fo_state", String(2), nullable=False),
    Column("fo_zip", String(10), nullable=False),
    Column("rep_payee", String(120)),
    Column("language", String(20), nullable=False),
    Column("address_line", String(120), nullable=False),
    Column("city", String(60), nullable=False),
    Column("state", String(2)),
    Column("zip", String(10)),
    Column("country", String(2), nullable=False),
    Column("foreign_address", Boolean, nullable=False),
    Column("phone", String(20)),
    Column("date_of_death", Date),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    # One mailer case: from selection (C, G.6) to DEFER / DO CDR / referral.
    Column("case_id", String(32), primary_key=True),  # also the mailer control number on the form
    Column("ssn", String(9), ForeignKey("beneficiaries.ssn"), nullable=False, index=True),
    Column("title", String(5), nullable=False),
    Column("profile", String(1), nullable=False),
    Column("selected_on", Date, nullable=False),
    Column("request", String(6), nullable=False),  # FIRST | SECOND: the latest mailer sent
    Column("send_request_date", Date, nullable=False),  # send request of the latest mailer
    Column("report_period_start", String(7), nullable=False),
    Column("scanline_mdr", String(1)),  # MDR/MR at selection, printed in scanline 2 field 1 (G.5)
    Column("state", String(24), nullable=False, index=True),
    Column("last_event", String(48), nullable=False),
    Column("last_event_date", Date, nullable=False),
    Column("remailed", Boolean, nullable=False),
    Column("pc", Integer),
    Column("actionable", Boolean),
    Column("alert_type", String(16)),
    Column("alert_message", Integer),
    Column("alert_reviewer", String(12)),  # BET/DT | DE/DEC/DC
    Column("automated_recommendation", String(8)),
    Column("review_stage", String(16)),  # ASSOCIATE | TRANSLATION | BET_DT | DE | DIRCON
    Column("outcome", String(8)),  # DEFER | DO_CDR
    Column("ipca_event", Integer),
    Column("integrity_selected", Boolean, nullable=False),
    Column("integrity_flipped", Boolean, nullable=False),
    Column("closed_on", Date),
    Column("policy_version", Text),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("event_id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", String(32), index=True),
    Column("ssn", String(9), nullable=False, index=True),
    Column("event_date", Date, nullable=False),
    Column("event_type", String(48), nullable=False),  # seed wording with the title label
    Column("code", String(8)),  # "001", "IPCA 2".."IPCA 7"
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("policy_version", Text),
    Column("detail", Text),  # JSON
    Column("idem_key", String(120), unique=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("ix_events_type_date", events.c.event_type, events.c.event_date)

documents = Table(
    "documents",
    metadata,
    Column("doc_id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", String(32), nullable=False, index=True),
    Column("ssn", String(9), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("payload", Text, nullable=False),  # JSON; rendered by cdrflow.documents
    Column("disposed_on", Date),
    Column("disposition", String(40)),
    Column("idem_key", String(120), unique=True),
)

cycles = Table(
    "cycles",
    metadata,
    Column("cycle_id", String(40), primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("counts", Text),  # JSON
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("run_id", BigId, primary_key=True, autoincrement=True),
    Column("file_sha256", String(64), nullable=False, index=True),
    Column("file_name", String(300), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("counts", Text),
)

# ---- DI 28057.015: expedited reinstatement (EXR) cases ------------------------------------------
# A case is the facts the FO develops (the request month, the SSA-823's SGA and non-SGA months, the
# BTM, the CPD) plus current state; ``exr_findings`` is the append-only record of who found what,
# in order (development complete, "same as or related", MIRS per month, return to work, the
# determination). Database triggers refuse UPDATE and DELETE on it (migration 0004), as for
# ``events``. JSON columns hold canonical JSON text (``store.dumps``).

exr_cases = Table(
    "exr_cases",
    metadata,
    Column("case_id", BigId, primary_key=True, autoincrement=True),
    Column("ssn", String(9), nullable=False, index=True),
    Column("title", String(3), nullable=False),  # T2 | T16
    Column("request_month", String(7), nullable=False),  # YYYY-MM: the month of the EXR request (filing month)
    Column("filing", Text, nullable=False),  # JSON: {"date", "fo"} as the FO develops it (SSA-454 / SSA-823)
    Column("btm", String(7), nullable=False),  # benefit termination month of the previous entitlement
    Column("cpd", Text),  # JSON: {"date", "impairments", "basis", "listing", "listing_obsolete"}; null if unknown
    Column("alleged_impairments", Text, nullable=False),  # JSON list of strings
    Column("prior_folder_missing", Boolean, nullable=False),
    Column("sga_months", Text, nullable=False),  # JSON list of YYYY-MM (SSA-823)
    Column("non_sga_months", Text, nullable=False),  # JSON list of YYYY-MM (SSA-823)
    Column("state", String(16), nullable=False, index=True),
    Column("outcome", String(16)),  # ENTITLED | DENIED | TECHNICAL_DENIAL once determined
    Column("moe", String(7)),  # month of entitlement (T2) or eligibility (T16)
    Column("version", Integer, nullable=False),
    Column("opened_by", String(64), nullable=False),  # NAME:ROLE
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("ssn", "title", "request_month", name="uq_exr_cases_request"),
)

exr_findings = Table(
    "exr_findings",
    metadata,
    Column("finding_id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigId, ForeignKey("exr_cases.case_id"), nullable=False, index=True),
    # step: DEVELOPMENT_COMPLETE | SAME_OR_RELATED | MIRS | RETURN_TO_WORK | DETERMINATION
    Column("step", String(24), nullable=False),
    Column("month", String(7)),  # MIRS: the month the finding is for
    Column("payload", Text, nullable=False),  # JSON: the finding (and for MIRS/DETERMINATION the calc's answer)
    Column("development_complete", Boolean, nullable=False),  # was development complete when it was made (C NOTE)
    Column("case_version", Integer, nullable=False),  # the case version the finding was made at
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("policy_version", Text),  # JSON: the calc's policy_version (MIRS, DETERMINATION)
    Column("at", DateTime(timezone=True), nullable=False),
)
