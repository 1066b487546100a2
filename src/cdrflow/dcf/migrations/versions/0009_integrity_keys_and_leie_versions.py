"""The integrity sample's secret keys (DI 40502.001G.7) and versioned national LEIE lists (PM 00215.001D.2, D.4.c).

Issue 12, items 4, 6 and 7.

* ``integrity_keys(year, key, created)``: one secret key per federal fiscal year, created by the
  system when first needed (``cdrflow.workflow.integrity``). A key is never changed or deleted once
  it exists: the database refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE), and on SQLite an
  INSERT for a year that already has a key (so ``INSERT OR REPLACE`` cannot swap it either).

  On PostgreSQL the application never reads the table: PUBLIC has no privilege on it, and the one
  way in is the SECURITY DEFINER function ``integrity_draw_hmac(year, message)``, owned by the
  role that runs this migration, which creates the year's key if there is none (random bytes drawn
  by the server, ``gen_random_uuid()``, PostgreSQL 13+) and returns HMAC-SHA256(key, message) as
  hex, never the key. The HMAC is RFC 2104 over the built-in ``sha256()`` (PostgreSQL 11+), so no
  extension is needed: pgcrypto is a trusted extension from PostgreSQL 13 on (CREATE privilege on
  the database is enough, not superuser), but installing it belongs to one schema of the
  database, which clashes with a schema per test and with a migration role that owns only its
  schema (docs/interpretations.md#integrity-key). A least-privilege application role needs
  ``EXECUTE`` on the function and nothing on ``integrity_keys``.

  On SQLite the key is in the database file, and whoever can read the file can read it: there the
  file's permissions are the boundary (the application reads it only in
  ``cdrflow.workflow.integrity``).

* ``mpr_leie_versions``: the LEIE list in force is the import named by the latest row (an IMPORT or
  a RESTORE of an earlier import, with who, when, the entries and, for a list much smaller than
  the one in force, the reason it was confirmed). ``mpr_leie`` now keeps every imported list
  (rows are no longer deleted when a list is replaced), so any earlier list can be restored. Both
  tables are append-only in the database, like ``mpr_checks`` (0005).

  An existing database's current LEIE import (if any) becomes version 1.

* The event type "BENEFICIARY DATA CHANGED" (issue 12 item 6: a population import's change to a
  beneficiary, no case) joins 0007's vocabulary under the three title labels.

Revision ID: 0009
Revises: 0007 (guards and hash chain; there is no 0008)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdrflow.dcf import guards

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

KEY_MSG = "DI 40502.001G.7: an integrity sample key is never changed or replaced"
LEIE_MSG = "the national LEIE lists are append-only: restore an earlier list instead (PM 00215.001D.2)"

VOCABULARY = (("BENEFICIARY DATA CHANGED", False, True),)
"""Event types this revision adds to 0007's vocabulary, ``(what, needs_case, after_flip)``: a population
import's change to a beneficiary (issue 12 item 6). No case, so no flip to undo."""

APPEND_ONLY = {  # table -> (its key column, the message)
    "integrity_keys": ("year", KEY_MSG),
    "mpr_leie": ("entry_id", LEIE_MSG),
    "mpr_leie_versions": ("version_id", LEIE_MSG),
}


def _sqlite_up() -> list[str]:
    out: list[str] = []
    for table, (key, msg) in APPEND_ONLY.items():
        out += [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN SELECT RAISE(ABORT, '{msg}'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN SELECT RAISE(ABORT, '{msg}'); END",
            # INSERT OR REPLACE deletes the old row without firing the delete trigger: refuse the insert.
            f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
                WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key})
                BEGIN SELECT RAISE(ABORT, '{msg}'); END""",
            # a row with a key of its choosing (say -1, the key SQLite gives NEW before it assigns one)
            f"""CREATE TRIGGER {table}_positive_key AFTER INSERT ON {table} WHEN NEW.{key} <= 0
                BEGIN SELECT RAISE(ABORT, '{msg}'); END""",
        ]
    return out


def _pg_up(schema: str) -> list[str]:
    out: list[str] = []
    for table, (_key, msg) in APPEND_ONLY.items():
        out += [
            f"""CREATE FUNCTION dcf_{table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION '{msg}' USING ERRCODE = 'integrity_constraint_violation'; END $$""",
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION dcf_{table}_append_only()""",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION dcf_{table}_append_only()""",
        ]
    quoted = '"' + schema.replace('"', '""') + '"'
    out += [
        "REVOKE ALL ON TABLE integrity_keys FROM PUBLIC",
        # The one way to the keys: the year's HMAC of a message (a case id), never the key itself.
        f"""CREATE FUNCTION integrity_draw_hmac(p_year integer, p_message text) RETURNS text
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = {quoted}, pg_temp AS $$
            DECLARE
              k bytea;
              ipad bytea;
              opad bytea;
            BEGIN
              IF p_year IS NULL OR p_year < 1900 OR p_year > 9999 THEN
                RAISE EXCEPTION 'integrity key year % is not a year', p_year;
              END IF;
              IF p_message IS NULL OR length(p_message) = 0 OR length(p_message) > 64 THEN
                RAISE EXCEPTION 'integrity draw: the message must be a case id';
              END IF;
              SELECT key INTO k FROM integrity_keys WHERE year = p_year;
              IF k IS NULL THEN
                -- 3 x 122 random bits from the server's strong random source, hashed to 32 bytes
                INSERT INTO integrity_keys (year, key, created)
                VALUES (p_year, sha256(decode(replace(gen_random_uuid()::text || gen_random_uuid()::text
                                                      || gen_random_uuid()::text, '-', ''), 'hex')), now())
                ON CONFLICT (year) DO NOTHING;
                SELECT key INTO k FROM integrity_keys WHERE year = p_year;
              END IF;
              -- HMAC-SHA256 (RFC 2104): block size 64 bytes
              IF length(k) > 64 THEN k := sha256(k); END IF;
              k := k || decode(repeat('00', 64 - length(k)), 'hex');
              ipad := k;
              opad := k;
              FOR i IN 0..63 LOOP
                ipad := set_byte(ipad, i, get_byte(k, i) # 54);
                opad := set_byte(opad, i, get_byte(k, i) # 92);
              END LOOP;
              RETURN encode(sha256(opad || sha256(ipad || convert_to(p_message, 'UTF8'))), 'hex');
            END $$""",
        "REVOKE ALL ON FUNCTION integrity_draw_hmac(integer, text) FROM PUBLIC",
    ]
    return out


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect!r}: cdrflow supports SQLite and PostgreSQL")
    if dialect == "postgresql":
        # "T2/16 RETURNED TO BET/DT FOR EARNINGS DEVELOPMENT" is 49 characters; PostgreSQL enforces the
        # declared size (SQLite does not), so the longest event type of the vocabulary must fit.
        op.execute("ALTER TABLE events ALTER COLUMN event_type TYPE varchar(64)")
        op.execute("ALTER TABLE cases ALTER COLUMN last_event TYPE varchar(64)")
    op.create_table(
        "integrity_keys",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(key) >= 32", name=op.f("ck_integrity_keys_key_length")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_integrity_keys")),
    )
    op.create_table(
        "mpr_leie_versions",
        sa.Column("version_id", BigId, autoincrement=True, nullable=False),
        sa.Column("import_id", BigId, nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("previous_import_id", BigId, nullable=True),
        sa.Column("previous_entries", sa.Integer(), nullable=True),
        sa.Column("confirmed_smaller", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["mpr_imports.import_id"],
                                name=op.f("fk_mpr_leie_versions_import_id_mpr_imports")),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_mpr_leie_versions")),
    )
    # The list in force before this migration (0005 kept only the latest import's rows) is version 1.
    bind.execute(sa.text(
        """INSERT INTO mpr_leie_versions (import_id, action, entries, previous_import_id, previous_entries,
                                          confirmed_smaller, reason, actor, actor_role, at)
           SELECT i.import_id, 'IMPORT', (SELECT count(*) FROM mpr_leie l WHERE l.import_id = i.import_id),
                  NULL, NULL, :f, 'in force when migration 0009 made the LEIE versioned', 'migration-0009',
                  'SYSTEM', i.at
           FROM mpr_imports i
           WHERE i.kind = 'LEIE' AND i.import_id = (SELECT max(import_id) FROM mpr_imports WHERE kind = 'LEIE')"""),
        {"f": False})
    if dialect == "sqlite":
        for stmt in _sqlite_up():
            op.execute(stmt)
    else:
        schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
        for stmt in _pg_up(schema):
            op.execute(stmt)
    have = set(bind.execute(sa.text("SELECT event_type FROM event_vocabulary")).scalars())
    guards.add_event_types(bind, [w for w in VOCABULARY
                                  if any(r["event_type"] not in have for r in guards.vocabulary_rows([w]))])


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    types = [r["event_type"] for r in guards.vocabulary_rows(VOCABULARY)]
    delete = sa.text("DELETE FROM event_vocabulary WHERE event_type IN :t").bindparams(
        sa.bindparam("t", expanding=True))
    if dialect == "sqlite":  # the vocabulary refuses data statements: lift its delete guard for this one
        bind.execute(sa.text("DROP TRIGGER IF EXISTS event_vocabulary_no_delete"))
        bind.execute(delete, {"t": types})
        bind.execute(sa.text(f"CREATE TRIGGER event_vocabulary_no_delete BEFORE DELETE ON event_vocabulary "
                             f"BEGIN SELECT RAISE(ABORT, '{guards.VOCABULARY_MSG}'); END"))
        for table in APPEND_ONLY:
            for what in ("no_update", "no_delete", "no_replace", "positive_key"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{what}")
    else:
        bind.execute(sa.text("ALTER TABLE event_vocabulary DISABLE TRIGGER event_vocabulary_read_only"))
        bind.execute(delete, {"t": types})
        bind.execute(sa.text("ALTER TABLE event_vocabulary ENABLE TRIGGER event_vocabulary_read_only"))
        op.execute("DROP FUNCTION IF EXISTS integrity_draw_hmac(integer, text)")
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS dcf_{table}_append_only()")
    # 0005 keeps only the list in force in mpr_leie.
    bind.execute(sa.text(
        """DELETE FROM mpr_leie WHERE import_id <> COALESCE((SELECT import_id FROM mpr_leie_versions
                                                             ORDER BY version_id DESC LIMIT 1), -1)"""))
    op.drop_table("mpr_leie_versions")
    op.drop_table("integrity_keys")
