"""PostgreSQL: fire the no-DEFER-after-flip guard only for DEFER events (as SQLite's trigger does).

Same guard, same message (DI 40502.001G.7); the ``WHEN`` clause spares the function call for the
events that are not deferrals. SQLite's trigger already had it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS events_flip_no_defer ON events")
    op.execute("""CREATE TRIGGER events_flip_no_defer BEFORE INSERT ON events
        FOR EACH ROW WHEN (NEW.event_type LIKE '%DEFER%') EXECUTE FUNCTION dcf_events_flip_no_defer()""")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS events_flip_no_defer ON events")
    op.execute("""CREATE TRIGGER events_flip_no_defer BEFORE INSERT ON events
        FOR EACH ROW EXECUTE FUNCTION dcf_events_flip_no_defer()""")
