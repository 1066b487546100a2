"""People, personal tokens and the access log (issue 13, items 1 and 3).

* ``people``: everyone who acts, with their role and where they work (PC and module, FO office, DDS/RO/CO
  organisation), and the system components that act as declared principals (seeded here: selection,
  wbdoc, dcdrs, integrity-sampler, population-import, population-generate, scheduler). The M/PR people
  of 0005 (``mpr_people``) are copied in with their organisation's code. A person is never deleted
  (disabled instead), and who a row names (id, name, kind, when and by whom it was created) never
  changes.
* ``person_tokens``: the SHA-256 of each personal token; never deleted, revoked once.
* ``access_log``: append-only like the event log (no UPDATE, DELETE, TRUNCATE or REPLACE) and hash-chained
  (chain ``access_log``), so ``cdrflow dcf verify`` shows a removed or changed entry.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cdrflow.dcf import chain as dcf_chain

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
GENESIS = "0" * 64

LOG_MSG = "the access log is append-only"
PEOPLE_MSG = "a person is never deleted or renamed: disable them instead"
TOKEN_MSG = "a personal token is never deleted or changed: it can only be revoked, once"  # noqa: S105

SYSTEM_PRINCIPALS = (
    ("selection", "SYSTEM"), ("wbdoc", "WBDOC"), ("dcdrs", "DCDRS"), ("integrity-sampler", "SYSTEM"),
    ("population-import", "SYSTEM"), ("population-generate", "SYSTEM"), ("scheduler", "SYSTEM"),
)
"""The system components that act in the DCF (their events name them), as declared principals."""

PEOPLE_FIXED = ("person_id", "name", "kind", "created_at", "created_by")
TOKEN_FIXED = ("token_id", "person_id", "token_hash", "created_at", "created_by")

SQLITE_TRIGGERS = (
    "access_log_no_update", "access_log_no_delete", "access_log_no_replace", "access_log_positive_key",
    "people_no_delete", "people_key_fixed", "people_no_replace", "people_positive_key",
    "person_tokens_no_delete", "person_tokens_revoke_once", "person_tokens_no_replace", "person_tokens_positive_key",
)
PG_TRIGGERS = ("access_log_append_only", "access_log_no_truncate", "people_guard", "people_no_truncate",
               "person_tokens_guard", "person_tokens_no_truncate")


def _changed(cols: tuple[str, ...], op_: str = "IS NOT") -> str:
    return " OR ".join(f"NEW.{c} {op_} OLD.{c}" for c in cols)


def _sqlite_up() -> list[str]:
    def replace_guard(table: str, key: str, unique: str, msg: str) -> list[str]:
        return [
            # INSERT OR REPLACE deletes the old row without firing the delete trigger: refuse the insert.
            f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
                WHEN EXISTS (SELECT 1 FROM {table} WHERE {key} = NEW.{key} OR {unique} = NEW.{unique})
                BEGIN SELECT RAISE(ABORT, '{msg}'); END""",
            f"""CREATE TRIGGER {table}_positive_key AFTER INSERT ON {table} WHEN NEW.{key} <= 0
                BEGIN SELECT RAISE(ABORT, '{msg}'); END""",
        ]

    return [
        f"CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END",
        f"CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END",
        f"""CREATE TRIGGER access_log_no_replace BEFORE INSERT ON access_log
            WHEN EXISTS (SELECT 1 FROM access_log WHERE log_id = NEW.log_id)
            BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
        f"""CREATE TRIGGER access_log_positive_key AFTER INSERT ON access_log WHEN NEW.log_id <= 0
            BEGIN SELECT RAISE(ABORT, '{LOG_MSG}'); END""",
        f"CREATE TRIGGER people_no_delete BEFORE DELETE ON people BEGIN SELECT RAISE(ABORT, '{PEOPLE_MSG}'); END",
        f"""CREATE TRIGGER people_key_fixed BEFORE UPDATE ON people WHEN {_changed(PEOPLE_FIXED)}
            BEGIN SELECT RAISE(ABORT, '{PEOPLE_MSG}'); END""",
        *replace_guard("people", "person_id", "name", PEOPLE_MSG),
        f"""CREATE TRIGGER person_tokens_no_delete BEFORE DELETE ON person_tokens
            BEGIN SELECT RAISE(ABORT, '{TOKEN_MSG}'); END""",
        f"""CREATE TRIGGER person_tokens_revoke_once BEFORE UPDATE ON person_tokens
            WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL OR {_changed(TOKEN_FIXED)}
            BEGIN SELECT RAISE(ABORT, '{TOKEN_MSG}'); END""",
        *replace_guard("person_tokens", "token_id", "token_hash", TOKEN_MSG),
    ]


def _pg_up() -> list[str]:
    raise_ = "USING ERRCODE = 'integrity_constraint_violation'"
    return [
        f"""CREATE FUNCTION dcf_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{LOG_MSG}' {raise_}; END $$""",
        """CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
            FOR EACH ROW EXECUTE FUNCTION dcf_access_log_append_only()""",
        """CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
            FOR EACH STATEMENT EXECUTE FUNCTION dcf_access_log_append_only()""",
        f"""CREATE FUNCTION dcf_people_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP <> 'UPDATE' OR {_changed(PEOPLE_FIXED, 'IS DISTINCT FROM')} THEN
                RAISE EXCEPTION '{PEOPLE_MSG}' {raise_};
              END IF;
              RETURN NEW;
            END $$""",
        """CREATE TRIGGER people_guard BEFORE UPDATE OR DELETE ON people
            FOR EACH ROW EXECUTE FUNCTION dcf_people_guard()""",
        """CREATE TRIGGER people_no_truncate BEFORE TRUNCATE ON people
            FOR EACH STATEMENT EXECUTE FUNCTION dcf_people_guard()""",
        f"""CREATE FUNCTION dcf_person_tokens_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP <> 'UPDATE' OR OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
                 OR {_changed(TOKEN_FIXED, 'IS DISTINCT FROM')} THEN
                RAISE EXCEPTION '{TOKEN_MSG}' {raise_};
              END IF;
              RETURN NEW;
            END $$""",
        """CREATE TRIGGER person_tokens_guard BEFORE UPDATE OR DELETE ON person_tokens
            FOR EACH ROW EXECUTE FUNCTION dcf_person_tokens_guard()""",
        """CREATE TRIGGER person_tokens_no_truncate BEFORE TRUNCATE ON person_tokens
            FOR EACH STATEMENT EXECUTE FUNCTION dcf_person_tokens_guard()""",
    ]


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect not in ("sqlite", "postgresql"):  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect!r}: cdrflow supports SQLite and PostgreSQL")
    ts = sa.DateTime(timezone=True)
    op.create_table(
        "people",
        sa.Column("person_id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("pc", sa.Integer(), nullable=True),
        sa.Column("module", sa.String(length=8), nullable=True),
        sa.Column("org", sa.String(length=16), nullable=True),
        sa.Column("os_account", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", ts, nullable=True),
        sa.Column("changed_by", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_people")),
        sa.UniqueConstraint("name", name=op.f("uq_people_name")),
        sa.UniqueConstraint("os_account", name=op.f("uq_people_os_account")),
    )
    op.create_table(
        "person_tokens",
        sa.Column("token_id", BigId, autoincrement=True, nullable=False),
        sa.Column("person_id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", ts, nullable=True),
        sa.Column("revoked_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.person_id"], name=op.f("fk_person_tokens_person_id_people")),
        sa.PrimaryKeyConstraint("token_id", name=op.f("pk_person_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_person_tokens_token_hash")),
    )
    op.create_index(op.f("ix_person_tokens_person_id"), "person_tokens", ["person_id"])
    op.create_table(
        "access_log",
        sa.Column("log_id", BigId, autoincrement=True, nullable=False),
        sa.Column("at", ts, nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("resource", sa.String(length=120), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("log_id", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_person_at", "access_log", ["person", "at"])
    # EXR cases: the FO office that opened the case and the DDS it is routed to (authz scopes by them).
    with op.batch_alter_table("exr_cases") as b:
        b.add_column(sa.Column("fo_office", sa.String(length=16), nullable=True))
        b.add_column(sa.Column("dds", sa.String(length=16), nullable=True))
    op.create_index("ix_access_log_resource", "access_log", ["resource"])

    stamp = sa.func.now() if dialect == "postgresql" else sa.text("strftime('%Y-%m-%d %H:%M:%f000', 'now')")
    people_t = sa.table("people", *(sa.column(c) for c in (
        "name", "role", "kind", "org", "active", "created_at", "created_by", "version")))
    for name, role in SYSTEM_PRINCIPALS:
        bind.execute(sa.insert(people_t).values(name=name, role=role, kind="SYSTEM", org=None, active=True,
                                                created_at=stamp, created_by="migration-0010", version=1))
    # The M/PR people of 0005, with their organisation's code.
    bind.execute(sa.text(
        """INSERT INTO people (name, role, kind, org, active, created_at, created_by, version)
           SELECT p.name, p.role, 'PERSON', o.code, p.active, """
        + ("now()" if dialect == "postgresql" else "strftime('%Y-%m-%d %H:%M:%f000', 'now')")
        + """, 'migration-0010', 1 FROM mpr_people p JOIN mpr_orgs o ON o.org_id = p.org_id
           WHERE p.name NOT IN (SELECT name FROM people) ORDER BY p.person_id"""))

    # The access log's hash chain: a head, created here (heads are created by migrations only).
    head = sa.insert(sa.table("dcf_chain", sa.column("chain"), sa.column("seq"), sa.column("head_hash"),
                              sa.column("updated_at"))).values(chain="access_log", seq=0, head_hash=GENESIS,
                                                               updated_at=stamp)
    if dialect == "sqlite":
        sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                   "AND name = 'dcf_chain_no_insert'")).scalar_one()
        op.execute("DROP TRIGGER dcf_chain_no_insert")
        bind.execute(head)
        op.execute(sql)
        for stmt in _sqlite_up():
            op.execute(stmt)
    else:
        op.execute("ALTER TABLE dcf_chain DISABLE TRIGGER dcf_chain_head_guard")
        bind.execute(head)
        op.execute("ALTER TABLE dcf_chain ENABLE TRIGGER dcf_chain_head_guard")
        for stmt in _pg_up():
            op.execute(stmt)
    dcf_chain.backfill(bind, "access_log")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for what in ("no_insert", "no_delete"):
            sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                               {"n": f"dcf_chain_{what}"}).scalar_one()
            op.execute(f"DROP TRIGGER dcf_chain_{what}")
            if what == "no_delete":
                bind.execute(sa.text("DELETE FROM dcf_chain WHERE chain = 'access_log'"))
            op.execute(sql)
        bind.execute(sa.text("DROP TRIGGER IF EXISTS dcf_chain_links_no_delete"))
        bind.execute(sa.text("DELETE FROM dcf_chain_links WHERE chain = 'access_log'"))
        bind.execute(sa.text("CREATE TRIGGER dcf_chain_links_no_delete BEFORE DELETE ON dcf_chain_links "
                             "BEGIN SELECT RAISE(ABORT, 'the DCF hash chain is append-only'); END"))
    else:
        for t in ("access_log", "people", "person_tokens"):
            op.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")
        op.execute("DROP TRIGGER IF EXISTS access_log_append_only ON access_log")
        op.execute("DROP TRIGGER IF EXISTS people_guard ON people")
        op.execute("DROP TRIGGER IF EXISTS person_tokens_guard ON person_tokens")
        for f in ("access_log_append_only", "people_guard", "person_tokens_guard"):
            op.execute(f"DROP FUNCTION IF EXISTS dcf_{f}()")
        op.execute("ALTER TABLE dcf_chain DISABLE TRIGGER dcf_chain_head_guard")
        op.execute("ALTER TABLE dcf_chain_links DISABLE TRIGGER dcf_chain_links_append_only")
        bind.execute(sa.text("DELETE FROM dcf_chain_links WHERE chain = 'access_log'"))
        bind.execute(sa.text("DELETE FROM dcf_chain WHERE chain = 'access_log'"))
        op.execute("ALTER TABLE dcf_chain_links ENABLE TRIGGER dcf_chain_links_append_only")
        op.execute("ALTER TABLE dcf_chain ENABLE TRIGGER dcf_chain_head_guard")
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch copy: rebuilding exr_cases would drop a table
    # that exr_findings' foreign key refers to, which SQLite refuses once an EXR case has findings.
    op.drop_column("exr_cases", "dds")
    op.drop_column("exr_cases", "fo_office")
    op.drop_table("access_log")
    op.drop_table("person_tokens")
    op.drop_table("people")
