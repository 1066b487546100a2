"""Guards with no way around them by data statements, and the DCF's hash chains (issue 12, items 1 and 3).

**Guards** (both backends; "data statements": INSERT, INSERT OR REPLACE / REPLACE, upserts, UPDATE,
UPDATE OR REPLACE, DELETE, TRUNCATE):

* SQLite's REPLACE (and ``UPDATE OR REPLACE``) deletes the conflicting row without firing its delete
  triggers. Every guarded table now refuses, in a BEFORE INSERT trigger, an insert whose key (primary
  key or unique key) already exists (triggers fire before conflict resolution), and refuses a change
  of a key column. An upsert (``ON CONFLICT DO UPDATE``) is refused by the same insert trigger on
  SQLite and by the UPDATE guards on PostgreSQL.
* The G.7 flip guard covers every column the workflow reads for a flipped case: ``state`` and
  ``outcome`` stay DO_CDR; both integrity flags stay set; ``case_id``, ``ssn``, ``title``,
  ``review_stage``, ``request``, ``send_request_date``, ``remailed``, ``selected_on`` and
  ``report_period_start`` (what selection, follow-ups and the print file read) do not change;
  ``closed_on`` stays set; ``ipca_event`` and ``last_event`` change only to the INITIATE CDR ones.
* Every event's type must be in ``event_vocabulary`` (exact wording with the title label, so a lower-
  case, mixed-case or padded "DEFER" is refused on both backends); a type that belongs to a case needs
  an existing case with the event's SSN and title; a flipped case takes only the types marked
  ``after_flip`` (the FO referral's INITIATE CDR and document disposals), never a deferral, a mailer
  or a review step.
* A beneficiary's SSN never changes; a flipped case's beneficiary is never deleted.
* PostgreSQL: BEFORE TRUNCATE triggers on every guarded table (``cases``, ``beneficiaries`` and the new
  tables here; ``events``, ``exr_findings``, ``mpr_checks`` had them).

**Hash chains** (``cdrflow.dcf.chain``): ``dcf_chain`` (one head per chained table: link count and
last hash) and the append-only ``dcf_chain_links`` (chain, seq, row id, prev_hash, row_hash). The
existing rows of ``events``, ``exr_findings`` and ``mpr_checks`` are linked here, in id order. The
head only moves forward, to its last link; links are never changed or removed.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdrflow.dcf import chain as dcf_chain
from cdrflow.dcf.guards import SQLITE_VOCABULARY_NO_INSERT, VOCABULARY_MSG, vocabulary_rows

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FLIP_MSG = "DI 40502.001G.7: an integrity-flipped case cannot be changed back to a deferral"
LOG_MSG = "the DCF event log is append-only"
GENESIS = dcf_chain.GENESIS

# The event types the workflow posts (cdrflow.workflow: cycle, intake, outcomes, review), as
# ``(what, needs_case, after_flip)``; each is stored under the three title labels (T16's follow-up
# is "PC REVIEW FOLLOW-UP", G.6). after_flip: may be posted for an integrity-flipped case (G.7). A later
# migration adds types with cdrflow.dcf.guards.add_event_types (0009: BENEFICIARY DATA CHANGED).
VOCABULARY: tuple[tuple[str, bool, bool], ...] = (
    ("INITIAL MAILER SENT", True, False),
    ("SECOND MAILER SENT", True, False),
    ("NONRESPONDER REVIEW", True, False),
    ("PC MAILER FOLLOW-UP", True, False),
    ("UNDELIVERABLE REMAILED", True, False),
    ("UNDELIVERABLE", True, False),
    ("SIGNATURE CONTROL", True, False),
    ("MBR UPDATE: REPORT OF DEATH", True, False),
    ("MBR UPDATE: NAME CORRECTION", True, False),
    ("MBR UPDATE: ADDRESS CHANGE", True, False),
    ("MAILER REFERRED TO PC", True, False),
    ("MAILER REFERRED TO FO", True, False),
    ("MAILER RECEIVED", True, False),
    ("WBDOC DIRCON", True, False),
    ("DEFER CDR", True, False),
    ("DEFER CDR-VR REQUESTED", True, False),
    ("INITIATE CDR", True, True),
    ("INITIATE CDR-VR REQUESTED", True, True),
    ("MEDICAL DIARY RESET", True, False),
    ("REMARK", True, False),
    ("PC MAILER REVIEW", True, False),
    ("ACTUAL MAILER ASSOCIATED", True, False),
    ("TRANSLATION REFERRAL", True, False),
    ("TRANSLATION COMPLETED", True, False),
    ("BET/DT WORK REVIEW", True, False),
    ("RETURNED TO BET/DT", True, False),
    ("RETURNED TO BET/DT FOR EARNINGS DEVELOPMENT", True, False),
    ("DIRCON ATTEMPT", True, False),
    ("REFERRAL ACTION COMPLETED", True, False),
    ("REVIEW NONRESPONDER", True, False),
    ("MAILER RESENT", True, False),
    ("DOCUMENT DISPOSAL", True, True),
    ("DEFERRAL NOTICE UNDELIVERABLE", True, False),
)

KEY_MSG = "DCF guard: a row with this key exists; REPLACE, upsert and key changes are refused"
VOCAB_TYPE_MSG = ("DCF guard: the event type is not in the DCF event vocabulary (event_vocabulary: exact wording "
                  "with the title label)")
NEEDS_CASE_MSG = "DCF guard: this event type needs the case it belongs to (an existing case id with its SSN and title)"
CASE_KEY_MSG = "DCF guard: a case id never changes"
SSN_KEY_MSG = "DCF guard: the SSN of a beneficiary never changes"
HEAD_MSG = "DCF guard: a chain head only moves forward, to its last link"
CHAINS_0007 = ("events", "exr_findings", "mpr_checks")
HEAD_ROWS_MSG = "DCF guard: chain heads are created by migrations and never removed"
LINKS_MSG = "the DCF hash chain is append-only"


def _flip_refused_sqlite() -> str:
    """The columns a flipped case keeps (SQLite WHEN clause over OLD/NEW)."""
    return """OLD.integrity_flipped AND (
           NEW.integrity_flipped IS NOT 1 OR NEW.integrity_selected IS NOT 1
        OR NEW.outcome IS NOT 'DO_CDR' OR NEW.state IS NOT 'DO_CDR'
        OR NEW.case_id IS NOT OLD.case_id OR NEW.ssn IS NOT OLD.ssn OR NEW.title IS NOT OLD.title
        OR NEW.review_stage IS NOT OLD.review_stage
        OR NEW.request IS NOT OLD.request OR NEW.send_request_date IS NOT OLD.send_request_date
        OR NEW.remailed IS NOT OLD.remailed OR NEW.selected_on IS NOT OLD.selected_on
        OR NEW.report_period_start IS NOT OLD.report_period_start
        OR NEW.closed_on IS NULL
        OR (NEW.ipca_event IS NOT OLD.ipca_event AND COALESCE(NEW.ipca_event NOT IN (2, 3), 1))
        OR (NEW.last_event IS NOT OLD.last_event
            AND COALESCE(NEW.last_event NOT IN (OLD.title || ' INITIATE CDR', OLD.title || ' INITIATE CDR-VR REQUESTED'),
                         1)))"""


def _sqlite_up() -> list[str]:
    out = [
        "DROP TRIGGER IF EXISTS events_flip_no_defer",
        f"""CREATE TRIGGER events_guard_insert BEFORE INSERT ON events BEGIN
            SELECT RAISE(ABORT, '{LOG_MSG}: an event with this event_id or idem_key exists (REPLACE and upsert are refused)')
             WHERE (NEW.event_id <> -1 AND EXISTS (SELECT 1 FROM events e WHERE e.event_id = NEW.event_id))
                OR EXISTS (SELECT 1 FROM events e WHERE e.idem_key = NEW.idem_key);
            SELECT CASE
                WHEN v.event_type IS NULL THEN RAISE(ABORT, '{VOCAB_TYPE_MSG}')
                WHEN v.needs_case AND (c.case_id IS NULL OR c.ssn IS NOT NEW.ssn OR c.title IS NOT v.title)
                  THEN RAISE(ABORT, '{NEEDS_CASE_MSG}')
                WHEN c.integrity_flipped AND NOT v.after_flip THEN RAISE(ABORT, '{FLIP_MSG}')
              END
              FROM (SELECT 1) AS one
              LEFT JOIN event_vocabulary v ON v.event_type = NEW.event_type
              LEFT JOIN cases c ON c.case_id = NEW.case_id;
        END""",
        # NEW.event_id is -1 in a BEFORE INSERT trigger when the id is left to SQLite: no row may take it.
        f"""CREATE TRIGGER events_positive_id AFTER INSERT ON events WHEN NEW.event_id <= 0
            BEGIN SELECT RAISE(ABORT, '{LOG_MSG}: event ids are positive'); END""",
        "DROP TRIGGER IF EXISTS cases_flip_guard",
        f"""CREATE TRIGGER cases_flip_guard BEFORE UPDATE ON cases WHEN {_flip_refused_sqlite()}
            BEGIN SELECT RAISE(ABORT, '{FLIP_MSG}'); END""",
        f"""CREATE TRIGGER cases_no_replace BEFORE INSERT ON cases
            WHEN EXISTS (SELECT 1 FROM cases c WHERE c.case_id = NEW.case_id)
            BEGIN SELECT RAISE(ABORT, '{KEY_MSG}'); END""",
        f"""CREATE TRIGGER cases_key_fixed BEFORE UPDATE OF case_id ON cases WHEN NEW.case_id IS NOT OLD.case_id
            BEGIN SELECT RAISE(ABORT, '{CASE_KEY_MSG}'); END""",
        f"""CREATE TRIGGER beneficiaries_key_fixed BEFORE UPDATE OF ssn ON beneficiaries WHEN NEW.ssn IS NOT OLD.ssn
            BEGIN SELECT RAISE(ABORT, '{SSN_KEY_MSG}'); END""",
        f"""CREATE TRIGGER beneficiaries_no_replace BEFORE INSERT ON beneficiaries
            WHEN EXISTS (SELECT 1 FROM beneficiaries b WHERE b.ssn = NEW.ssn)
            BEGIN SELECT RAISE(ABORT, '{KEY_MSG}'); END""",
        f"""CREATE TRIGGER beneficiaries_flip_no_delete BEFORE DELETE ON beneficiaries
            WHEN EXISTS (SELECT 1 FROM cases c WHERE c.ssn = OLD.ssn AND c.integrity_flipped)
            BEGIN SELECT RAISE(ABORT, '{FLIP_MSG}'); END""",
        f"""CREATE TRIGGER exr_findings_no_replace BEFORE INSERT ON exr_findings
            WHEN NEW.finding_id <> -1 AND EXISTS (SELECT 1 FROM exr_findings f WHERE f.finding_id = NEW.finding_id)
            BEGIN SELECT RAISE(ABORT, 'the EXR findings are append-only: {KEY_MSG[11:]}'); END""",
        """CREATE TRIGGER exr_findings_positive_id AFTER INSERT ON exr_findings WHEN NEW.finding_id <= 0
            BEGIN SELECT RAISE(ABORT, 'the EXR findings are append-only: finding ids are positive'); END""",
        f"""CREATE TRIGGER mpr_checks_no_replace BEFORE INSERT ON mpr_checks
            WHEN (NEW.check_id <> -1 AND EXISTS (SELECT 1 FROM mpr_checks m WHERE m.check_id = NEW.check_id))
              OR EXISTS (SELECT 1 FROM mpr_checks m WHERE m.idem_key = NEW.idem_key)
            BEGIN SELECT RAISE(ABORT, 'the M/PR checks are append-only: {KEY_MSG[11:]}'); END""",
        """CREATE TRIGGER mpr_checks_positive_id AFTER INSERT ON mpr_checks WHEN NEW.check_id <= 0
            BEGIN SELECT RAISE(ABORT, 'the M/PR checks are append-only: check ids are positive'); END""",
        SQLITE_VOCABULARY_NO_INSERT,
        f"""CREATE TRIGGER event_vocabulary_no_update BEFORE UPDATE ON event_vocabulary
            BEGIN SELECT RAISE(ABORT, '{VOCABULARY_MSG}'); END""",
        f"""CREATE TRIGGER event_vocabulary_no_delete BEFORE DELETE ON event_vocabulary
            BEGIN SELECT RAISE(ABORT, '{VOCABULARY_MSG}'); END""",
        f"""CREATE TRIGGER dcf_chain_no_insert BEFORE INSERT ON dcf_chain
            BEGIN SELECT RAISE(ABORT, '{HEAD_ROWS_MSG}'); END""",
        f"""CREATE TRIGGER dcf_chain_no_delete BEFORE DELETE ON dcf_chain
            BEGIN SELECT RAISE(ABORT, '{HEAD_ROWS_MSG}'); END""",
        f"""CREATE TRIGGER dcf_chain_head_guard BEFORE UPDATE ON dcf_chain
            WHEN NEW.chain IS NOT OLD.chain OR NEW.seq < OLD.seq
              OR (NEW.seq = 0 AND NEW.head_hash IS NOT '{GENESIS}')
              OR (NEW.seq <> 0 AND NEW.head_hash IS NOT (SELECT l.row_hash FROM dcf_chain_links l
                                                       WHERE l.chain = NEW.chain AND l.seq = NEW.seq))
            BEGIN SELECT RAISE(ABORT, '{HEAD_MSG}'); END""",
        f"""CREATE TRIGGER dcf_chain_links_no_update BEFORE UPDATE ON dcf_chain_links
            BEGIN SELECT RAISE(ABORT, '{LINKS_MSG}'); END""",
        f"""CREATE TRIGGER dcf_chain_links_no_delete BEFORE DELETE ON dcf_chain_links
            BEGIN SELECT RAISE(ABORT, '{LINKS_MSG}'); END""",
        # A table without rowid whose only unique key is (chain, seq): REPLACE can conflict on nothing else.
        f"""CREATE TRIGGER dcf_chain_links_no_replace BEFORE INSERT ON dcf_chain_links
            WHEN EXISTS (SELECT 1 FROM dcf_chain_links l WHERE l.chain = NEW.chain AND l.seq = NEW.seq)
            BEGIN SELECT RAISE(ABORT, '{LINKS_MSG}: a link with this seq exists'); END""",
    ]
    return out


SQLITE_DOWN = ["events_guard_insert", "events_positive_id", "cases_no_replace", "cases_key_fixed",
               "beneficiaries_key_fixed", "beneficiaries_no_replace", "beneficiaries_flip_no_delete",
               "exr_findings_no_replace", "exr_findings_positive_id", "mpr_checks_no_replace", "mpr_checks_positive_id",
               "event_vocabulary_no_insert", "event_vocabulary_no_update", "event_vocabulary_no_delete",
               "dcf_chain_no_insert", "dcf_chain_no_delete", "dcf_chain_head_guard",
               "dcf_chain_links_no_update", "dcf_chain_links_no_delete", "dcf_chain_links_no_replace"]

# 0002's versions, put back by the downgrade
SQLITE_0002_FLIP_GUARD = f"""CREATE TRIGGER cases_flip_guard BEFORE UPDATE ON cases
        WHEN OLD.integrity_flipped AND (NOT NEW.integrity_flipped OR NEW.outcome IS NOT 'DO_CDR')
        BEGIN SELECT RAISE(ABORT, '{FLIP_MSG}'); END"""
SQLITE_0002_NO_DEFER = f"""CREATE TRIGGER events_flip_no_defer BEFORE INSERT ON events
        WHEN NEW.event_type LIKE '%DEFER%'
         AND EXISTS (SELECT 1 FROM cases c WHERE c.case_id = NEW.case_id AND c.integrity_flipped)
        BEGIN SELECT RAISE(ABORT, '{FLIP_MSG}'); END"""

_PG_RAISE = "USING ERRCODE = 'integrity_constraint_violation'"

PG_CASES_GUARD = f"""CREATE OR REPLACE FUNCTION dcf_cases_flip_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND NEW.case_id IS DISTINCT FROM OLD.case_id THEN
        RAISE EXCEPTION '{CASE_KEY_MSG}' {_PG_RAISE};
      END IF;
      IF OLD.integrity_flipped THEN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION '{FLIP_MSG}' {_PG_RAISE};
        END IF;
        IF NEW.integrity_flipped IS DISTINCT FROM true OR NEW.integrity_selected IS DISTINCT FROM true
           OR NEW.outcome IS DISTINCT FROM 'DO_CDR' OR NEW.state IS DISTINCT FROM 'DO_CDR'
           OR NEW.ssn IS DISTINCT FROM OLD.ssn OR NEW.title IS DISTINCT FROM OLD.title
           OR NEW.review_stage IS DISTINCT FROM OLD.review_stage
           OR NEW.request IS DISTINCT FROM OLD.request OR NEW.send_request_date IS DISTINCT FROM OLD.send_request_date
           OR NEW.remailed IS DISTINCT FROM OLD.remailed OR NEW.selected_on IS DISTINCT FROM OLD.selected_on
           OR NEW.report_period_start IS DISTINCT FROM OLD.report_period_start
           OR NEW.closed_on IS NULL
           OR (NEW.ipca_event IS DISTINCT FROM OLD.ipca_event AND NOT COALESCE(NEW.ipca_event IN (2, 3), false))
           OR (NEW.last_event IS DISTINCT FROM OLD.last_event
               AND NOT COALESCE(NEW.last_event IN (OLD.title || ' INITIATE CDR',
                                                   OLD.title || ' INITIATE CDR-VR REQUESTED'), false)) THEN
          RAISE EXCEPTION '{FLIP_MSG}' {_PG_RAISE};
        END IF;
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$"""

PG_0002_CASES_GUARD = f"""CREATE OR REPLACE FUNCTION dcf_cases_flip_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.integrity_flipped AND (TG_OP = 'DELETE' OR NOT NEW.integrity_flipped
                                        OR NEW.outcome IS DISTINCT FROM 'DO_CDR') THEN
            RAISE EXCEPTION '{FLIP_MSG}' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$"""

PG_TRUNCATE_TABLES = ("cases", "beneficiaries", "event_vocabulary", "dcf_chain", "dcf_chain_links")


def _pg_up() -> list[str]:
    out = [
        "DROP TRIGGER IF EXISTS events_flip_no_defer ON events",
        "DROP FUNCTION IF EXISTS dcf_events_flip_no_defer()",
        f"""CREATE FUNCTION dcf_events_guard_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
              r record;
            BEGIN
              SELECT v.title, v.needs_case, v.after_flip, c.case_id AS case_id, c.ssn, c.title AS case_title,
                     c.integrity_flipped
                INTO r FROM event_vocabulary v LEFT JOIN cases c ON c.case_id = NEW.case_id
               WHERE v.event_type = NEW.event_type;
              IF NOT FOUND THEN
                RAISE EXCEPTION 'DCF guard: event type % is not in the DCF event vocabulary (event_vocabulary: exact wording with the title label)',
                  quote_nullable(NEW.event_type) {_PG_RAISE};
              END IF;
              IF r.needs_case AND (r.case_id IS NULL OR r.ssn IS DISTINCT FROM NEW.ssn
                                   OR r.case_title IS DISTINCT FROM r.title) THEN
                RAISE EXCEPTION '{NEEDS_CASE_MSG}' {_PG_RAISE};
              END IF;
              IF r.integrity_flipped AND NOT r.after_flip THEN
                RAISE EXCEPTION '{FLIP_MSG}' {_PG_RAISE};
              END IF;
              RETURN NEW;
            END $$""",
        """CREATE TRIGGER events_guard_insert BEFORE INSERT ON events
            FOR EACH ROW EXECUTE FUNCTION dcf_events_guard_insert()""",
        PG_CASES_GUARD,
        f"""CREATE FUNCTION dcf_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'DCF guard: TRUNCATE % is refused', TG_TABLE_NAME {_PG_RAISE}; END $$""",
        f"""CREATE FUNCTION dcf_beneficiaries_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'UPDATE' AND NEW.ssn IS DISTINCT FROM OLD.ssn THEN
                RAISE EXCEPTION '{SSN_KEY_MSG}' {_PG_RAISE};
              END IF;
              IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM cases c WHERE c.ssn = OLD.ssn AND c.integrity_flipped) THEN
                RAISE EXCEPTION '{FLIP_MSG}' {_PG_RAISE};
              END IF;
              IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
              RETURN NEW;
            END $$""",
        """CREATE TRIGGER beneficiaries_guard BEFORE UPDATE OF ssn OR DELETE ON beneficiaries
            FOR EACH ROW EXECUTE FUNCTION dcf_beneficiaries_guard()""",
        f"""CREATE FUNCTION dcf_vocabulary_read_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{VOCABULARY_MSG}' {_PG_RAISE}; END $$""",
        """CREATE TRIGGER event_vocabulary_read_only BEFORE INSERT OR UPDATE OR DELETE ON event_vocabulary
            FOR EACH ROW EXECUTE FUNCTION dcf_vocabulary_read_only()""",
        f"""CREATE FUNCTION dcf_chain_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP <> 'UPDATE' THEN
                RAISE EXCEPTION '{HEAD_ROWS_MSG}' {_PG_RAISE};
              END IF;
              IF NEW.chain IS DISTINCT FROM OLD.chain OR NEW.seq < OLD.seq
                 OR (NEW.seq = 0 AND NEW.head_hash IS DISTINCT FROM '{GENESIS}')
                 OR (NEW.seq <> 0 AND NEW.head_hash IS DISTINCT FROM (
                       SELECT l.row_hash FROM dcf_chain_links l WHERE l.chain = NEW.chain AND l.seq = NEW.seq)) THEN
                RAISE EXCEPTION '{HEAD_MSG}' {_PG_RAISE};
              END IF;
              RETURN NEW;
            END $$""",
        """CREATE TRIGGER dcf_chain_head_guard BEFORE INSERT OR UPDATE OR DELETE ON dcf_chain
            FOR EACH ROW EXECUTE FUNCTION dcf_chain_head_guard()""",
        f"""CREATE FUNCTION dcf_chain_links_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{LINKS_MSG}' {_PG_RAISE}; END $$""",
        """CREATE TRIGGER dcf_chain_links_append_only BEFORE UPDATE OR DELETE ON dcf_chain_links
            FOR EACH ROW EXECUTE FUNCTION dcf_chain_links_append_only()""",
    ]
    out += [f"""CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}
                FOR EACH STATEMENT EXECUTE FUNCTION dcf_no_truncate()""" for t in PG_TRUNCATE_TABLES]
    return out


def _pg_down() -> list[str]:
    out = [f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}" for t in PG_TRUNCATE_TABLES]
    out += [
        "DROP TRIGGER IF EXISTS dcf_chain_links_append_only ON dcf_chain_links",
        "DROP FUNCTION IF EXISTS dcf_chain_links_append_only()",
        "DROP TRIGGER IF EXISTS dcf_chain_head_guard ON dcf_chain",
        "DROP FUNCTION IF EXISTS dcf_chain_head_guard()",
        "DROP TRIGGER IF EXISTS event_vocabulary_read_only ON event_vocabulary",
        "DROP FUNCTION IF EXISTS dcf_vocabulary_read_only()",
        "DROP TRIGGER IF EXISTS beneficiaries_guard ON beneficiaries",
        "DROP FUNCTION IF EXISTS dcf_beneficiaries_guard()",
        "DROP FUNCTION IF EXISTS dcf_no_truncate()",
        PG_0002_CASES_GUARD,
        "DROP TRIGGER IF EXISTS events_guard_insert ON events",
        "DROP FUNCTION IF EXISTS dcf_events_guard_insert()",
        f"""CREATE FUNCTION dcf_events_flip_no_defer() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.event_type LIKE '%DEFER%' AND EXISTS (
                   SELECT 1 FROM cases c WHERE c.case_id = NEW.case_id AND c.integrity_flipped) THEN
                RAISE EXCEPTION '{FLIP_MSG}' USING ERRCODE = 'integrity_constraint_violation';
              END IF;
              RETURN NEW;
            END $$""",
        """CREATE TRIGGER events_flip_no_defer BEFORE INSERT ON events
            FOR EACH ROW WHEN (NEW.event_type LIKE '%DEFER%') EXECUTE FUNCTION dcf_events_flip_no_defer()""",
    ]
    return out


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect!r}: cdrflow supports SQLite and PostgreSQL")
    op.create_table(
        "event_vocabulary",
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=5), nullable=False),
        sa.Column("what", sa.String(length=58), nullable=False),
        sa.Column("needs_case", sa.Boolean(), nullable=False),
        sa.Column("after_flip", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_type", name=op.f("pk_event_vocabulary")),
    )
    op.create_table(
        "dcf_chain",
        sa.Column("chain", sa.String(length=24), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_dcf_chain")),
    )
    # SQLite: no rowid (REPLACE could name one) and (chain, row_id) only indexed, so the one key a REPLACE
    # can conflict on is (chain, seq), which dcf_chain_links_no_replace checks. PostgreSQL: both unique.
    sqlite = dialect == "sqlite"
    op.create_table(
        "dcf_chain_links",
        sa.Column("chain", sa.String(length=24), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("row_id", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", "seq", name=op.f("pk_dcf_chain_links")),
        *([] if sqlite else [sa.UniqueConstraint("chain", "row_id", name=op.f("uq_dcf_chain_links_chain"))]),
        sqlite_with_rowid=False,
    )
    if sqlite:
        op.create_index(op.f("ix_dcf_chain_links_chain"), "dcf_chain_links", ["chain", "row_id"])
    bind.execute(sa.text("INSERT INTO event_vocabulary (event_type, title, what, needs_case, after_flip) "
                         "VALUES (:event_type, :title, :what, :needs_case, :after_flip)"), vocabulary_rows(VOCABULARY))
    stamp = sa.func.now() if dialect == "postgresql" else sa.text("strftime('%Y-%m-%d %H:%M:%f000', 'now')")
    for name in CHAINS_0007:  # the chains as of this revision; later ones add their own heads (0010)
        bind.execute(sa.insert(sa.table("dcf_chain", sa.column("chain"), sa.column("seq"), sa.column("head_hash"),
                                        sa.column("updated_at")))
                     .values(chain=name, seq=0, head_hash=GENESIS, updated_at=stamp))
        dcf_chain.backfill(bind, name)
    for stmt in _sqlite_up() if dialect == "sqlite" else _pg_up():
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_DOWN:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TRIGGER IF EXISTS cases_flip_guard")
        op.execute(SQLITE_0002_FLIP_GUARD)
        op.execute(SQLITE_0002_NO_DEFER)
    else:
        for stmt in _pg_down():
            op.execute(stmt)
    op.drop_table("dcf_chain_links")
    op.drop_table("dcf_chain")
    op.drop_table("event_vocabulary")
