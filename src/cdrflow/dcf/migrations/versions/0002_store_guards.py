"""Store-level guards: the event log is append-only; an integrity-flipped case stays DO CDR.

DI 40502.001G.7: "it is critical that no one with access to the DCF take any action to change a
'flipped' case back to a deferral". The guard is in the database, so no command, API or SQL path
through the store can undo a flip. The event log is the audit trail, so it cannot be rewritten.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FLIP_MSG = "DI 40502.001G.7: an integrity-flipped case cannot be changed back to a deferral"
LOG_MSG = "the DCF event log is append-only"

SQLITE_UP = [
    f"""CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
    f"""CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
    f"""CREATE TRIGGER cases_flip_guard BEFORE UPDATE ON cases
        WHEN OLD.integrity_flipped AND (NOT NEW.integrity_flipped OR NEW.outcome IS NOT 'DO_CDR')
        BEGIN SELECT RAISE(ABORT, '{FLIP_MSG}'); END""",
    f"""CREATE TRIGGER cases_flip_no_delete BEFORE DELETE ON cases WHEN OLD.integrity_flipped
        BEGIN SELECT RAISE(ABORT, '{FLIP_MSG}'); END""",
    f"""CREATE TRIGGER events_flip_no_defer BEFORE INSERT ON events
        WHEN NEW.event_type LIKE '%DEFER%'
         AND EXISTS (SELECT 1 FROM cases c WHERE c.case_id = NEW.case_id AND c.integrity_flipped)
        BEGIN SELECT RAISE(ABORT, '{FLIP_MSG}'); END""",
]
SQLITE_DOWN = ["events_no_update", "events_no_delete", "cases_flip_guard", "cases_flip_no_delete",
               "events_flip_no_defer"]

PG_UP = [
    f"""CREATE FUNCTION dcf_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{LOG_MSG}' USING ERRCODE = 'integrity_constraint_violation'; END $$""",
    """CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
        FOR EACH ROW EXECUTE FUNCTION dcf_events_append_only()""",
    """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION dcf_events_append_only()""",
    f"""CREATE FUNCTION dcf_cases_flip_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.integrity_flipped AND (TG_OP = 'DELETE' OR NOT NEW.integrity_flipped
                                        OR NEW.outcome IS DISTINCT FROM 'DO_CDR') THEN
            RAISE EXCEPTION '{FLIP_MSG}' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER cases_flip_guard BEFORE UPDATE OR DELETE ON cases
        FOR EACH ROW EXECUTE FUNCTION dcf_cases_flip_guard()""",
    f"""CREATE FUNCTION dcf_events_flip_no_defer() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.event_type LIKE '%DEFER%' AND EXISTS (
               SELECT 1 FROM cases c WHERE c.case_id = NEW.case_id AND c.integrity_flipped) THEN
            RAISE EXCEPTION '{FLIP_MSG}' USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER events_flip_no_defer BEFORE INSERT ON events
        FOR EACH ROW EXECUTE FUNCTION dcf_events_flip_no_defer()""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS events_flip_no_defer ON events",
    "DROP FUNCTION IF EXISTS dcf_events_flip_no_defer()",
    "DROP TRIGGER IF EXISTS cases_flip_guard ON cases",
    "DROP FUNCTION IF EXISTS dcf_cases_flip_guard()",
    "DROP TRIGGER IF EXISTS events_no_truncate ON events",
    "DROP TRIGGER IF EXISTS events_append_only ON events",
    "DROP FUNCTION IF EXISTS dcf_events_append_only()",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for stmt in SQLITE_UP:
            op.execute(stmt)
    elif dialect == "postgresql":
        for stmt in PG_UP:
            op.execute(stmt)
    else:  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect!r}: cdrflow supports SQLite and PostgreSQL")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_DOWN:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for stmt in PG_DOWN:
            op.execute(stmt)
