"""Beneficiary columns for the PCACS/SSICCS folder data (F.3) and a blank QMID medical record (J.3.a NOTE).

* ``folder_location``, ``folder_date_in_location``: the PCACS (Title II-only or concurrent) or SSICCS
  (Title XVI-only) folder location and date in location the alert sheet prints when the site supplies
  them (DI 40502.001F.3).
* ``qmid_medical_blank``: the medical data on the left-hand side of the QMID is blank or zeros, so a
  deferral cannot calculate the new diary (DI 40502.001J.3.a NOTE).

All three are nullable; existing rows read as "not supplied" and "the medical data is there". No
guard of 0002-0005 touches ``beneficiaries``.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("beneficiaries", sa.Column("folder_location", sa.String(length=60), nullable=True))
    op.add_column("beneficiaries", sa.Column("folder_date_in_location", sa.Date(), nullable=True))
    op.add_column("beneficiaries", sa.Column("qmid_medical_blank", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("beneficiaries") as batch:
        batch.drop_column("qmid_medical_blank")
        batch.drop_column("folder_date_in_location")
        batch.drop_column("folder_location")
