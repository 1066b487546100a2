"""PM 00215.001: medical and professional relations (M/PR) tables.

The three operating levels and their people (A, D.2-D.4: ``mpr_orgs``, ``mpr_people``), the CE
provider registry (D.4.b, D.4.c: ``mpr_providers``, ``mpr_licenses``, ``mpr_panel_needs``), the OIG
LEIE as last imported (``mpr_leie``, ``mpr_imports``), the record of every check
(``mpr_checks``), the review queue for identities a person decides (``mpr_review_queue``), the
status-change flags (``mpr_flags``) and the tracked M/PR work (``mpr_items``).

``mpr_checks`` is the audit trail of "Ensure sources are currently licensed and without federal
sanction" (D.4.c), so, like ``events`` (0002) and ``exr_findings`` (0004), the database refuses
UPDATE, DELETE (and on PostgreSQL TRUNCATE) on it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LOG_MSG = "the M/PR checks record is append-only (PM 00215.001D.4.c)"

SQLITE_UP = [
    f"""CREATE TRIGGER mpr_checks_no_update BEFORE UPDATE ON mpr_checks
        BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
    f"""CREATE TRIGGER mpr_checks_no_delete BEFORE DELETE ON mpr_checks
        BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
]
SQLITE_DOWN = ["mpr_checks_no_update", "mpr_checks_no_delete"]

PG_UP = [
    f"""CREATE FUNCTION dcf_mpr_checks_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{LOG_MSG}' USING ERRCODE = 'integrity_constraint_violation'; END $$""",
    """CREATE TRIGGER mpr_checks_append_only BEFORE UPDATE OR DELETE ON mpr_checks
        FOR EACH ROW EXECUTE FUNCTION dcf_mpr_checks_append_only()""",
    """CREATE TRIGGER mpr_checks_no_truncate BEFORE TRUNCATE ON mpr_checks
        FOR EACH STATEMENT EXECUTE FUNCTION dcf_mpr_checks_append_only()""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS mpr_checks_no_truncate ON mpr_checks",
    "DROP TRIGGER IF EXISTS mpr_checks_append_only ON mpr_checks",
    "DROP FUNCTION IF EXISTS dcf_mpr_checks_append_only()",
]

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect!r}: cdrflow supports SQLite and PostgreSQL")
    op.create_table('mpr_orgs',
    sa.Column('org_id', BigId, autoincrement=True, nullable=False),
    sa.Column('level', sa.String(length=3), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('parent_id', BigId, nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_orgs_parent_id_mpr_orgs')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_mpr_orgs')),
    sa.UniqueConstraint('code', name=op.f('uq_mpr_orgs_code'))
    )
    op.create_table('mpr_imports',
    sa.Column('import_id', BigId, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('org_id', BigId, nullable=True),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_date', sa.Date(), nullable=True),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_imports_org_id_mpr_orgs')),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_mpr_imports'))
    )
    with op.batch_alter_table('mpr_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_imports_file_sha256'), ['file_sha256'], unique=False)

    op.create_table('mpr_panel_needs',
    sa.Column('need_id', BigId, autoincrement=True, nullable=False),
    sa.Column('dds_org_id', BigId, nullable=False),
    sa.Column('specialty', sa.String(length=80), nullable=False),
    sa.Column('area', sa.String(length=80), nullable=False),
    sa.Column('needed', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dds_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_panel_needs_dds_org_id_mpr_orgs')),
    sa.PrimaryKeyConstraint('need_id', name=op.f('pk_mpr_panel_needs')),
    sa.UniqueConstraint('dds_org_id', 'specialty', 'area', name='uq_mpr_panel_needs_key')
    )
    op.create_table('mpr_people',
    sa.Column('person_id', BigId, autoincrement=True, nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_people_org_id_mpr_orgs')),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_mpr_people')),
    sa.UniqueConstraint('name', name=op.f('uq_mpr_people_name'))
    )
    with op.batch_alter_table('mpr_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_people_org_id'), ['org_id'], unique=False)

    op.create_table('mpr_providers',
    sa.Column('provider_id', BigId, autoincrement=True, nullable=False),
    sa.Column('dds_org_id', BigId, nullable=False),
    sa.Column('ext_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=True),
    sa.Column('first_name', sa.String(length=80), nullable=True),
    sa.Column('middle_name', sa.String(length=80), nullable=True),
    sa.Column('business_name', sa.String(length=200), nullable=True),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('specialties', sa.Text(), nullable=False),
    sa.Column('locations', sa.Text(), nullable=False),
    sa.Column('panels', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dds_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_providers_dds_org_id_mpr_orgs')),
    sa.PrimaryKeyConstraint('provider_id', name=op.f('pk_mpr_providers')),
    sa.UniqueConstraint('dds_org_id', 'ext_id', name='uq_mpr_providers_ext')
    )
    with op.batch_alter_table('mpr_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_providers_dds_org_id'), ['dds_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mpr_providers_npi'), ['npi'], unique=False)

    op.create_table('mpr_checks',
    sa.Column('check_id', BigId, autoincrement=True, nullable=False),
    sa.Column('provider_id', BigId, nullable=False),
    sa.Column('dds_org_id', BigId, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('federal_sanction', sa.Boolean(), nullable=True),
    sa.Column('eligible', sa.Boolean(), nullable=True),
    sa.Column('idem_key', sa.String(length=120), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dds_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_checks_dds_org_id_mpr_orgs')),
    sa.ForeignKeyConstraint(['provider_id'], ['mpr_providers.provider_id'], name=op.f('fk_mpr_checks_provider_id_mpr_providers')),
    sa.PrimaryKeyConstraint('check_id', name=op.f('pk_mpr_checks')),
    sa.UniqueConstraint('idem_key', name=op.f('uq_mpr_checks_idem_key'))
    )
    with op.batch_alter_table('mpr_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_checks_dds_org_id'), ['dds_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mpr_checks_provider_id'), ['provider_id'], unique=False)

    op.create_table('mpr_items',
    sa.Column('item_id', BigId, autoincrement=True, nullable=False),
    sa.Column('org_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('cite', sa.String(length=40), nullable=False),
    sa.Column('provider_id', BigId, nullable=True),
    sa.Column('subject_org_id', BigId, nullable=True),
    sa.Column('specialty', sa.String(length=80), nullable=True),
    sa.Column('area', sa.String(length=80), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('opened', sa.Date(), nullable=False),
    sa.Column('due', sa.Date(), nullable=True),
    sa.Column('closed', sa.Date(), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=6), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_items_org_id_mpr_orgs')),
    sa.ForeignKeyConstraint(['provider_id'], ['mpr_providers.provider_id'], name=op.f('fk_mpr_items_provider_id_mpr_providers')),
    sa.ForeignKeyConstraint(['subject_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_items_subject_org_id_mpr_orgs')),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_mpr_items'))
    )
    with op.batch_alter_table('mpr_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_items_org_id'), ['org_id'], unique=False)

    op.create_table('mpr_leie',
    sa.Column('entry_id', BigId, autoincrement=True, nullable=False),
    sa.Column('import_id', BigId, nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('lastname', sa.String(length=80), nullable=True),
    sa.Column('firstname', sa.String(length=80), nullable=True),
    sa.Column('midname', sa.String(length=80), nullable=True),
    sa.Column('busname', sa.String(length=200), nullable=True),
    sa.Column('general', sa.String(length=80), nullable=True),
    sa.Column('specialty', sa.String(length=80), nullable=True),
    sa.Column('upin', sa.String(length=20), nullable=True),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('dob', sa.Date(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('city', sa.String(length=60), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('zip', sa.String(length=10), nullable=True),
    sa.Column('excltype', sa.String(length=20), nullable=False),
    sa.Column('excldate', sa.Date(), nullable=False),
    sa.Column('reindate', sa.Date(), nullable=True),
    sa.Column('waiverdate', sa.Date(), nullable=True),
    sa.Column('wvrstate', sa.String(length=2), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['mpr_imports.import_id'], name=op.f('fk_mpr_leie_import_id_mpr_imports')),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_mpr_leie'))
    )
    with op.batch_alter_table('mpr_leie', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_leie_import_id'), ['import_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mpr_leie_npi'), ['npi'], unique=False)

    op.create_table('mpr_licenses',
    sa.Column('license_id', BigId, autoincrement=True, nullable=False),
    sa.Column('dds_org_id', BigId, nullable=False),
    sa.Column('provider_id', BigId, nullable=True),
    sa.Column('link', sa.String(length=16), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('middle_name', sa.String(length=80), nullable=True),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('profession', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('issued', sa.Date(), nullable=True),
    sa.Column('expires', sa.Date(), nullable=False),
    sa.Column('city', sa.String(length=60), nullable=True),
    sa.Column('zip', sa.String(length=10), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dds_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_licenses_dds_org_id_mpr_orgs')),
    sa.ForeignKeyConstraint(['provider_id'], ['mpr_providers.provider_id'], name=op.f('fk_mpr_licenses_provider_id_mpr_providers')),
    sa.PrimaryKeyConstraint('license_id', name=op.f('pk_mpr_licenses')),
    sa.UniqueConstraint('dds_org_id', 'state', 'number', name='uq_mpr_licenses_key')
    )
    with op.batch_alter_table('mpr_licenses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_licenses_provider_id'), ['provider_id'], unique=False)

    op.create_table('mpr_flags',
    sa.Column('flag_id', BigId, autoincrement=True, nullable=False),
    sa.Column('provider_id', BigId, nullable=False),
    sa.Column('dds_org_id', BigId, nullable=False),
    sa.Column('check_id', BigId, nullable=False),
    sa.Column('from_eligible', sa.Boolean(), nullable=True),
    sa.Column('to_eligible', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('must_act_role', sa.String(length=16), nullable=False),
    sa.Column('must_act_org_id', BigId, nullable=False),
    sa.Column('must_act_person', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=6), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['check_id'], ['mpr_checks.check_id'], name=op.f('fk_mpr_flags_check_id_mpr_checks')),
    sa.ForeignKeyConstraint(['dds_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_flags_dds_org_id_mpr_orgs')),
    sa.ForeignKeyConstraint(['must_act_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_flags_must_act_org_id_mpr_orgs')),
    sa.ForeignKeyConstraint(['provider_id'], ['mpr_providers.provider_id'], name=op.f('fk_mpr_flags_provider_id_mpr_providers')),
    sa.PrimaryKeyConstraint('flag_id', name=op.f('pk_mpr_flags')),
    sa.UniqueConstraint('check_id', name=op.f('uq_mpr_flags_check_id'))
    )
    with op.batch_alter_table('mpr_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_flags_dds_org_id'), ['dds_org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mpr_flags_provider_id'), ['provider_id'], unique=False)

    op.create_table('mpr_review_queue',
    sa.Column('queue_id', BigId, autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('dds_org_id', BigId, nullable=False),
    sa.Column('provider_id', BigId, nullable=True),
    sa.Column('license_id', BigId, nullable=True),
    sa.Column('check_id', BigId, nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('candidates', sa.Text(), nullable=False),
    sa.Column('qkey', sa.String(length=120), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['check_id'], ['mpr_checks.check_id'], name=op.f('fk_mpr_review_queue_check_id_mpr_checks')),
    sa.ForeignKeyConstraint(['dds_org_id'], ['mpr_orgs.org_id'], name=op.f('fk_mpr_review_queue_dds_org_id_mpr_orgs')),
    sa.ForeignKeyConstraint(['license_id'], ['mpr_licenses.license_id'], name=op.f('fk_mpr_review_queue_license_id_mpr_licenses')),
    sa.ForeignKeyConstraint(['provider_id'], ['mpr_providers.provider_id'], name=op.f('fk_mpr_review_queue_provider_id_mpr_providers')),
    sa.PrimaryKeyConstraint('queue_id', name=op.f('pk_mpr_review_queue')),
    sa.UniqueConstraint('qkey', name=op.f('uq_mpr_review_queue_qkey'))
    )
    with op.batch_alter_table('mpr_review_queue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mpr_review_queue_dds_org_id'), ['dds_org_id'], unique=False)

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
    with op.batch_alter_table('mpr_review_queue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_review_queue_dds_org_id'))

    op.drop_table('mpr_review_queue')
    with op.batch_alter_table('mpr_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_flags_provider_id'))
        batch_op.drop_index(batch_op.f('ix_mpr_flags_dds_org_id'))

    op.drop_table('mpr_flags')
    with op.batch_alter_table('mpr_licenses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_licenses_provider_id'))

    op.drop_table('mpr_licenses')
    with op.batch_alter_table('mpr_leie', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_leie_npi'))
        batch_op.drop_index(batch_op.f('ix_mpr_leie_import_id'))

    op.drop_table('mpr_leie')
    with op.batch_alter_table('mpr_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_items_org_id'))

    op.drop_table('mpr_items')
    with op.batch_alter_table('mpr_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_checks_provider_id'))
        batch_op.drop_index(batch_op.f('ix_mpr_checks_dds_org_id'))

    op.drop_table('mpr_checks')
    with op.batch_alter_table('mpr_providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_providers_npi'))
        batch_op.drop_index(batch_op.f('ix_mpr_providers_dds_org_id'))

    op.drop_table('mpr_providers')
    with op.batch_alter_table('mpr_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_people_org_id'))

    op.drop_table('mpr_people')
    op.drop_table('mpr_panel_needs')
    with op.batch_alter_table('mpr_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mpr_imports_file_sha256'))

    op.drop_table('mpr_imports')
    op.drop_table('mpr_orgs')
