"""EXR cases and their append-only findings (DI 28057.015).

``exr_cases`` holds an expedited reinstatement request as the FO develops it (request month, BTM,
the SSA-823's SGA and non-SGA months, the CPD, the alleged impairments) and its state;
``exr_findings`` records who found what, in order. The findings are the audit trail of the
medical determination, so, like ``events`` (0002), the database refuses UPDATE, DELETE (and on
PostgreSQL TRUNCATE) on them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LOG_MSG = "the EXR findings record is append-only (DI 28057.015)"

SQLITE_UP = [
    f"""CREATE TRIGGER exr_findings_no_update BEFORE UPDATE ON exr_findings
        BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
    f"""CREATE TRIGGER exr_findings_no_delete BEFORE DELETE ON exr_findings
        BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
]
SQLITE_DOWN = ["exr_findings_no_update", "exr_findings_no_delete"]

PG_UP = [
    f"""CREATE FUNCTION dcf_exr_findings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{LOG_MSG}' USING ERRCODE = 'integrity_constraint_violation'; END $$""",
    """CREATE TRIGGER exr_findings_append_only BEFORE UPDATE OR DELETE ON exr_findings
        FOR EACH ROW EXECUTE FUNCTION dcf_exr_findings_append_only()""",
    """CREATE TRIGGER exr_findings_no_truncate BEFORE TRUNCATE ON exr_findings
        FOR EACH STATEMENT EXECUTE FUNCTION dcf_exr_findings_append_only()""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS exr_findings_no_truncate ON exr_findings",
    "DROP TRIGGER IF EXISTS exr_findings_append_only ON exr_findings",
    "DROP FUNCTION IF EXISTS dcf_exr_findings_append_only()",
]

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect!r}: cdrflow supports SQLite and PostgreSQL")
    op.create_table(
        "exr_cases",
        sa.Column("case_id", BigId, autoincrement=True, nullable=False),
        sa.Column("ssn", sa.String(length=9), nullable=False),
        sa.Column("title", sa.String(length=3), nullable=False),
        sa.Column("request_month", sa.String(length=7), nullable=False),
        sa.Column("filing", sa.Text(), nullable=False),
        sa.Column("btm", sa.String(length=7), nullable=False),
        sa.Column("cpd", sa.Text(), nullable=True),
        sa.Column("alleged_impairments", sa.Text(), nullable=False),
        sa.Column("prior_folder_missing", sa.Boolean(), nullable=False),
        sa.Column("sga_months", sa.Text(), nullable=False),
        sa.Column("non_sga_months", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("moe", sa.String(length=7), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_exr_cases")),
        sa.UniqueConstraint("ssn", "title", "request_month", name="uq_exr_cases_request"),
    )
    with op.batch_alter_table("exr_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exr_cases_ssn"), ["ssn"], unique=False)
        batch_op.create_index(batch_op.f("ix_exr_cases_state"), ["state"], unique=False)

    op.create_table(
        "exr_findings",
        sa.Column("finding_id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("development_complete", sa.Boolean(), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("policy_version", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["exr_cases.case_id"],
                                name=op.f("fk_exr_findings_case_id_exr_cases")),
        sa.PrimaryKeyConstraint("finding_id", name=op.f("pk_exr_findings")),
    )
    with op.batch_alter_table("exr_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exr_findings_case_id"), ["case_id"], unique=False)

    for stmt in SQLITE_UP if dialect == "sqlite" else PG_UP:
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_DOWN:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for stmt in PG_DOWN:
            op.execute(stmt)
    with op.batch_alter_table("exr_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exr_findings_case_id"))
    op.drop_table("exr_findings")
    with op.batch_alter_table("exr_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exr_cases_state"))
        batch_op.drop_index(batch_op.f("ix_exr_cases_ssn"))
    op.drop_table("exr_cases")
