"""The Disability Control File (DCF) as tables: SQLAlchemy Core, one metadata for SQLite and PostgreSQL.

* ``events`` is the append-only log (the QCDR event history). Database triggers refuse UPDATE and
  DELETE on it (migration 0002), on SQLite and PostgreSQL alike.
* ``beneficiaries`` and ``cases`` are current state, written in the same transaction as the events
  that change them. ``cases.version`` is the optimistic-concurrency counter.
* ``documents`` holds what a person reads (alert sheet, facsimile, profile sheet, notices,
  referrals) as data; ``cdrflow.documents`` renders them.
* ``cycles`` logs selection runs; ``ingest_runs`` logs intake files.
* ``integrity_keys`` holds the integrity sample's secret key per fiscal year (G.7), read only through
  ``cdrflow.workflow.integrity`` (on PostgreSQL through a SECURITY DEFINER function that returns an
  HMAC, never the key).

Dates are calendar dates; months (diaries, report periods) are ``YYYY-MM`` text, which sorts
correctly in SQL on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
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
    # F.3: PCACS (Title II-only, concurrent) or SSICCS (Title XVI-only) folder location and date in
    # location, when the site supplies them (migration 0006).
    Column("folder_location", String(60)),
    Column("folder_date_in_location", Date),
    # J.3.a NOTE: the medical data on the left-hand side of the QMID is blank or zeros, so a deferral
    # cannot calculate the new diary; null or false: the data is there (migration 0006).
    Column("qmid_medical_blank", Boolean),
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
    Column("last_event", String(64), nullable=False),
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
    Column("event_type", String(64), nullable=False),  # seed wording with the title label (64 on PostgreSQL from 0009)
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

integrity_keys = Table(
    "integrity_keys",
    metadata,
    # DI 40502.001G.7: one secret key per federal fiscal year for the integrity sample's draw (migration 0009).
    # Read only through cdrflow.workflow.integrity; on PostgreSQL only through the SECURITY DEFINER function
    # integrity_draw_hmac(year, message), which returns an HMAC and never the key. Never updated or deleted.
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("key", LargeBinary, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    CheckConstraint("length(key) >= 32", name="key_length"),
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
    Column("fo_office", String(16)),  # the opening FO's office (migration 0010): who may read and act (authz)
    Column("dds", String(16)),  # the DDS the case is routed to, if named (migration 0010)
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

# ---- PM 00215.001: medical and professional relations (M/PR) -------------------------------------
# The three operating levels and their people (A, D.2-D.4), the CE provider registry with licenses
# and the OIG LEIE (D.4.b, D.4.c), the append-only record of every check, the review queue for
# identities a person must decide, status-change flags, and the tracked oversight and liaison work
# (D.2-D.4). ``cdrflow.workflow.mpr`` is the service; it enforces who may see and change what.
# Database triggers refuse UPDATE and DELETE of ``mpr_checks`` (migration 0005), as for ``events``.

mpr_orgs = Table(
    "mpr_orgs",
    metadata,
    Column("org_id", BigId, primary_key=True, autoincrement=True),
    Column("level", String(3), nullable=False),  # CO | RO | DDS (A.1-A.3)
    Column("code", String(16), nullable=False, unique=True),  # e.g. CO, RO-03, DDS-PA
    Column("name", String(120), nullable=False),
    Column("parent_id", BigId, ForeignKey("mpr_orgs.org_id")),  # DDS -> its RO, RO -> CO, CO -> null
)

# Legacy (0005): the M/PR people before the people table; migration 0010 copied them into ``people`` (with
# their organisation's code). Kept, no longer written.
mpr_people = Table(
    "mpr_people",
    metadata,
    Column("person_id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False, index=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # MPRT | PRC | MPRO | DDS_ADMIN | CMC | EXAMINER
    Column("active", Boolean, nullable=False),
)

mpr_providers = Table(
    "mpr_providers",
    metadata,
    Column("provider_id", BigId, primary_key=True, autoincrement=True),
    Column("dds_org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False, index=True),
    Column("ext_id", String(40), nullable=False),  # the DDS's own provider id (the import file's PROVIDER_ID)
    Column("kind", String(8), nullable=False),  # PERSON | PRACTICE
    Column("last_name", String(80)),
    Column("first_name", String(80)),
    Column("middle_name", String(80)),
    Column("business_name", String(200)),
    Column("npi", String(10), index=True),
    Column("specialties", Text, nullable=False),  # JSON list of text
    Column("locations", Text, nullable=False),  # JSON list of {address, city, state, zip}
    Column("panels", Text, nullable=False),  # JSON list: the DDS panel areas served
    Column("status", String(8), nullable=False),  # ACTIVE | INACTIVE
    Column("version", Integer, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("dds_org_id", "ext_id", name="uq_mpr_providers_ext"),
)

mpr_licenses = Table(
    "mpr_licenses",
    metadata,
    # A license roster row as a DDS imported it; linked to one of that DDS's providers, or not (yet).
    Column("license_id", BigId, primary_key=True, autoincrement=True),
    Column("dds_org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False),
    Column("provider_id", BigId, ForeignKey("mpr_providers.provider_id"), index=True),
    Column("link", String(16)),  # NPI | NAME_STATE | PERSON (how the link was made); null: not linked
    Column("state", String(2), nullable=False),
    Column("number", String(40), nullable=False),
    Column("last_name", String(80), nullable=False),
    Column("first_name", String(80), nullable=False),
    Column("middle_name", String(80)),
    Column("npi", String(10)),
    Column("profession", String(80), nullable=False),
    Column("status", String(10), nullable=False),  # ACTIVE | EXPIRED | SUSPENDED | REVOKED
    Column("issued", Date),
    Column("expires", Date, nullable=False),
    Column("city", String(60)),
    Column("zip", String(10)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("dds_org_id", "state", "number", name="uq_mpr_licenses_key"),
)

mpr_imports = Table(
    "mpr_imports",
    metadata,
    Column("import_id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),  # LEIE | ROSTER | PROVIDERS
    Column("org_id", BigId, ForeignKey("mpr_orgs.org_id")),  # the DDS (roster, providers); null: LEIE
    Column("file_name", String(300), nullable=False),
    Column("file_sha256", String(64), nullable=False, index=True),
    Column("file_date", Date),  # LEIE: the date of the list (its publication)
    Column("counts", Text, nullable=False),  # JSON
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

mpr_leie = Table(
    "mpr_leie",
    metadata,
    # Every OIG LEIE list imported, in its published columns; the list in force is the import named by the
    # latest mpr_leie_versions row (append-only since migration 0009, so an earlier list can be restored).
    Column("entry_id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", BigId, ForeignKey("mpr_imports.import_id"), nullable=False, index=True),
    Column("row_no", Integer, nullable=False),
    Column("lastname", String(80)),
    Column("firstname", String(80)),
    Column("midname", String(80)),
    Column("busname", String(200)),
    Column("general", String(80)),
    Column("specialty", String(80)),
    Column("upin", String(20)),
    Column("npi", String(10), index=True),
    Column("dob", Date),
    Column("address", String(200)),
    Column("city", String(60)),
    Column("state", String(2)),
    Column("zip", String(10)),
    Column("excltype", String(20), nullable=False),
    Column("excldate", Date, nullable=False),
    Column("reindate", Date),
    Column("waiverdate", Date),
    Column("wvrstate", String(2)),
)

mpr_leie_versions = Table(
    "mpr_leie_versions",
    metadata,
    # Append-only (migration 0009): which imported LEIE list is in force, since when, and who put it there.
    # IMPORT: a new list; RESTORE: an earlier import put back. A list much smaller than the one in force is
    # stored only when confirmed with a reason (PM 00215.001D.2; docs/interpretations.md#leie-replacement).
    Column("version_id", BigId, primary_key=True, autoincrement=True),
    Column("import_id", BigId, ForeignKey("mpr_imports.import_id"), nullable=False),
    Column("action", String(8), nullable=False),  # IMPORT | RESTORE
    Column("entries", Integer, nullable=False),
    Column("previous_import_id", BigId),  # the list in force before (null: none)
    Column("previous_entries", Integer),
    Column("confirmed_smaller", Boolean, nullable=False),
    Column("reason", Text),
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

mpr_checks = Table(
    "mpr_checks",
    metadata,
    # Append-only: every LEIE match and eligibility answer, with its explanation and who ran it.
    Column("check_id", BigId, primary_key=True, autoincrement=True),
    Column("provider_id", BigId, ForeignKey("mpr_providers.provider_id"), nullable=False, index=True),
    Column("dds_org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False, index=True),
    Column("as_of", Date, nullable=False),
    Column("kind", String(12), nullable=False),  # LEIE | ELIGIBILITY
    Column("result", Text, nullable=False),  # JSON: the explanation (match result; licenses and calc answers)
    Column("federal_sanction", Boolean),  # null: a person must decide first (review queue)
    Column("eligible", Boolean),  # ELIGIBILITY only; null: undecided (sanction under review)
    Column("idem_key", String(120), nullable=False, unique=True),  # provider, kind, as_of, inputs hash
    Column("actor", String(64), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

mpr_review_queue = Table(
    "mpr_review_queue",
    metadata,
    # What a person must decide: an ambiguous LEIE identity (LEIE_MATCH) or which provider holds a license.
    Column("queue_id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),  # LEIE_MATCH | LICENSE_LINK
    Column("dds_org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False, index=True),
    Column("provider_id", BigId, ForeignKey("mpr_providers.provider_id")),  # LEIE_MATCH
    Column("license_id", BigId, ForeignKey("mpr_licenses.license_id")),  # LICENSE_LINK
    Column("check_id", BigId, ForeignKey("mpr_checks.check_id")),  # the LEIE check that raised it
    Column("question", Text, nullable=False),
    Column("candidates", Text, nullable=False),  # JSON
    Column("qkey", String(120), nullable=False, unique=True),  # what is asked: the same question is asked once
    Column("state", String(10), nullable=False),  # OPEN | CONFIRMED | DISMISSED
    Column("decision", Text),  # JSON (LICENSE_LINK: the provider chosen)
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("rationale", Text),
    Column("opened_at", DateTime(timezone=True), nullable=False),
)

mpr_flags = Table(
    "mpr_flags",
    metadata,
    # A provider whose eligibility changed, and who must act on it.
    Column("flag_id", BigId, primary_key=True, autoincrement=True),
    Column("provider_id", BigId, ForeignKey("mpr_providers.provider_id"), nullable=False, index=True),
    Column("dds_org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False, index=True),
    Column("check_id", BigId, ForeignKey("mpr_checks.check_id"), nullable=False, unique=True),
    Column("from_eligible", Boolean),  # null: never checked before
    Column("to_eligible", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("must_act_role", String(16), nullable=False),
    Column("must_act_org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False),
    Column("must_act_person", String(64)),
    Column("state", String(6), nullable=False),  # OPEN | DONE
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("done_by", String(64)),
    Column("done_at", DateTime(timezone=True)),
    Column("note", Text),
)

mpr_items = Table(
    "mpr_items",
    metadata,
    # Tracked M/PR work: oversight (D.4.c), recruitment (D.4.b), liaison (D.4.a, D.4.d), RO (D.3), CO (D.2).
    Column("item_id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False, index=True),  # the owning level
    Column("kind", String(24), nullable=False),
    Column("cite", String(40), nullable=False),
    Column("provider_id", BigId, ForeignKey("mpr_providers.provider_id")),
    Column("subject_org_id", BigId, ForeignKey("mpr_orgs.org_id")),  # RO items about one DDS
    Column("specialty", String(80)),  # RECRUITMENT: the panel it fills
    Column("area", String(80)),
    Column("title", String(200), nullable=False),
    Column("owner", String(64), nullable=False),  # a person (people.name) of the owning org
    Column("opened", Date, nullable=False),
    Column("due", Date),
    Column("closed", Date),
    Column("findings", Text),
    Column("outcome", Text),
    Column("state", String(6), nullable=False),  # OPEN | CLOSED
    Column("version", Integer, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

mpr_panel_needs = Table(
    "mpr_panel_needs",
    metadata,
    Column("need_id", BigId, primary_key=True, autoincrement=True),
    Column("dds_org_id", BigId, ForeignKey("mpr_orgs.org_id"), nullable=False),
    Column("specialty", String(80), nullable=False),
    Column("area", String(80), nullable=False),
    Column("needed", Integer, nullable=False),
    Column("updated_by", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("dds_org_id", "specialty", "area", name="uq_mpr_panel_needs_key"),
)

# ---- guards and hash chains (migration 0007; cdrflow.dcf.guards, cdrflow.dcf.chain) ---------------
# The event types the database accepts (exact wording with the title label); read-only outside migrations.

event_vocabulary = Table(
    "event_vocabulary",
    metadata,
    Column("event_type", String(64), primary_key=True),  # e.g. "T2 DEFER CDR"
    Column("title", String(5), nullable=False),  # T2 | T2/16 | T16: the case's title the label names
    Column("what", String(58), nullable=False),
    Column("needs_case", Boolean, nullable=False),  # an existing case with the event's SSN and title
    Column("after_flip", Boolean, nullable=False),  # may be posted for an integrity-flipped case (G.7)
)

# One head per hash chain (a chained table): how many links, the last row_hash. Moves only forward.
dcf_chain = Table(
    "dcf_chain",
    metadata,
    Column("chain", String(24), primary_key=True),  # events | exr_findings | mpr_checks
    Column("seq", BigInteger, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Append-only: link ``seq`` of a chain names one row and hashes it with the link before (cdrflow.dcf.chain).
dcf_chain_links = Table(
    "dcf_chain_links",
    metadata,
    Column("chain", String(24), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("row_id", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("row_hash", String(64), nullable=False),
    # PostgreSQL: unique. SQLite (a table without rowid): only an index, so that REPLACE can conflict on nothing
    # but (chain, seq), which a trigger checks (migration 0007); dcf verify reports a row linked twice.
    Index("ix_dcf_chain_links_chain", "chain", "row_id"),
)

# ---- people, tokens and the access log (migration 0010; issue 13) ---------------------------------

people = Table(
    "people",
    metadata,
    # Everyone who acts in cdrflow, and the system components that act as declared principals.
    # kind PERSON signs in (a personal token, or the OS account that created the database); kind SYSTEM
    # (selection, wbdoc, dcdrs, integrity-sampler, ...) never signs in: a job an operator runs acts as it.
    Column("person_id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # cdrflow.authz.ROLES
    Column("kind", String(8), nullable=False),  # PERSON | SYSTEM
    Column("pc", Integer),  # PC staff: the processing center (1-8)
    Column("module", String(8)),  # PC staff: the module within the PC, if the site uses them
    Column("org", String(16)),  # FO: the office code; DDS/RO/CO staff: the M/PR organisation code
    Column("os_account", String(64), unique=True),  # peer authentication: the OS account that is this person
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("changed_at", DateTime(timezone=True)),
    Column("changed_by", String(64)),
    Column("version", Integer, nullable=False),
)

person_tokens = Table(
    "person_tokens",
    metadata,
    # Personal tokens: only the SHA-256 of the token is kept (the token is shown once). Never deleted;
    # revoked once (revoked_at), and revoked with the person when the person is disabled.
    Column("token_id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", BigId, ForeignKey("people.person_id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revoked_by", String(64)),
)

access_log = Table(
    "access_log",
    metadata,
    # Append-only and hash-chained like the event log: every read, search, reveal, export and change, and
    # every refusal, with who, which role, what and the outcome. Never the SSN itself (a reveal logs its
    # reason and the resource, not the number).
    Column("log_id", BigId, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("person", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(40), nullable=False),  # e.g. mailer.case.read, ssn.reveal, people.add
    Column("kind", String(8), nullable=False),  # READ | SEARCH | REVEAL | EXPORT | CHANGE
    Column("resource", String(120), nullable=False),  # e.g. case:M20260202-7KQ2W9XH4M, provider:12, people
    Column("outcome", String(8), nullable=False),  # ALLOWED | DENIED
    Column("rule", String(64)),  # the authorization rule that decided
    Column("reason", Text),  # a reveal's reason; a denial's why
    Index("ix_access_log_person_at", "person", "at"),
    Index("ix_access_log_resource", "resource"),
)
