"""Least privilege on PostgreSQL: an owner role migrates the schema, an application role runs the workflow.

Two login roles, neither a superuser (``cdrflow db roles`` creates them; README "Deploy on PostgreSQL"):

* the **owner** owns the DCF schema and everything in it. Only ``cdrflow db upgrade`` connects as it.
* the **application** role has USAGE on the schema (not CREATE), USAGE on its sequences, and on each
  table exactly what :data:`POLICY` gives it: SELECT and INSERT by default, UPDATE of the named
  columns only where the workflow updates rows, DELETE only where the workflow deletes (nowhere
  today), nothing at all on a secret (the integrity keys), and EXECUTE on the :data:`FUNCTIONS` it
  calls. It never has TRUNCATE, REFERENCES or TRIGGER and owns nothing, so it can neither drop,
  alter nor disable a guard, nor rewrite an append-only table.

:data:`POLICY` is the one place that says what the application may do. A table it does not name
(one a later migration adds) gets :data:`DEFAULT`, INSERT and SELECT, at once through the owner's
default privileges; ``db upgrade`` re-applies the whole map after migrating, so a table that needs
UPDATE only has to be named here. The schema's comment names the application role; that is how
``db upgrade`` knows the roles are configured.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ADVISORY_LOCK = 0x6364_7266_6C6F_77  # "cdrflow": role and grant changes from concurrent sessions queue up
COMMENT_PREFIX = "cdrflow DCF"
_COMMENT_APP = re.compile(r"application role ([a-z_][a-z0-9_]{0,62})\b")


class RoleError(RuntimeError):
    """A role may not do what was asked (one line, for the command line)."""


@dataclass(frozen=True)
class AllBut:
    """Every column of the table except these (keys and the facts a row is created with)."""

    columns: tuple[str, ...]


@dataclass(frozen=True)
class TablePolicy:
    """What the application role may do on one table."""

    select: bool = True
    insert: bool = True
    update: tuple[str, ...] | AllBut = ()  # the columns it may UPDATE; () none
    delete: bool = False
    why: str = ""

    def privileges(self, columns: Sequence[str]) -> list[str]:
        """``["SELECT", "INSERT", "UPDATE (a, b)"]`` for a table with ``columns``."""
        out = [p for p, ok in (("SELECT", self.select), ("INSERT", self.insert)) if ok]
        cols = self.update_columns(columns)
        if cols:
            out.append(f"UPDATE ({', '.join(_q(c) for c in cols)})")
        if self.delete:
            out.append("DELETE")
        return out

    def update_columns(self, columns: Sequence[str]) -> list[str]:
        if isinstance(self.update, AllBut):
            return [c for c in columns if c not in self.update.columns]
        return [c for c in self.update if c in columns]


DEFAULT = TablePolicy(why="rows are added and read, never changed (the default for a table not named)")
APPEND_ONLY = DEFAULT

POLICY: dict[str, TablePolicy] = {
    "alembic_version": TablePolicy(insert=False, why="the application checks the revision; only db upgrade moves it"),
    # DI 40502.001: the DCF
    "beneficiaries": TablePolicy(update=AllBut(("ssn",)),
                                 why="population import, intake and review change a beneficiary's data"),
    "cases": TablePolicy(update=AllBut(("case_id", "ssn", "title", "selected_on")),
                         why="the lifecycle moves a case (Tx.update_cases, version-checked)"),
    "events": APPEND_ONLY,
    # issue 13: people, tokens, the access log
    "people": TablePolicy(update=AllBut(("person_id", "name", "kind", "created_at", "created_by")),
                          why="an administrator changes or disables a person; never deletes or renames one"),
    "person_tokens": TablePolicy(update=("revoked_at", "revoked_by"), why="a token is revoked, once"),
    "access_log": APPEND_ONLY,
    "documents": TablePolicy(update=("disposed_on", "disposition"), why="J.3.c, J.3.d: a document is disposed of"),
    "cycles": TablePolicy(update=("finished_at", "counts"), why="a selection run records when it finished"),
    "ingest_runs": TablePolicy(update=("finished_at", "counts"), why="an ingest records when it finished"),
    # DI 28057.015: EXR
    "exr_cases": TablePolicy(update=AllBut(("case_id", "ssn", "title", "request_month", "opened_by", "opened_at",
                                                 "fo_office")),
                             why="each finding moves the case (version-checked)"),
    "exr_findings": APPEND_ONLY,
    # PM 00215.001: M/PR
    "mpr_orgs": APPEND_ONLY,
    "mpr_people": APPEND_ONLY,
    "mpr_providers": TablePolicy(update=AllBut(("provider_id", "dds_org_id", "ext_id")),
                                 why="provider imports and flag actions change a provider"),
    "mpr_licenses": TablePolicy(update=AllBut(("license_id", "dds_org_id", "state", "number")),
                                why="roster imports change a license; matching links it to a provider"),
    "mpr_imports": APPEND_ONLY,
    "mpr_leie": APPEND_ONLY,  # every imported list is kept (0009); a restore names an earlier one
    "mpr_leie_versions": APPEND_ONLY,
    # G.7: the integrity sample's keys are never read by the application, only used through
    # integrity_draw_hmac (FUNCTIONS), which runs as the owner and returns an HMAC, never a key
    "integrity_keys": TablePolicy(select=False, insert=False, why="secret: reached only through integrity_draw_hmac"),
    # issue 12 items 1 and 3: the event vocabulary is data of the migrations; the hash chains' heads move
    # forward as each transaction seals its rows (cdrflow.dcf.chain.seal), their links are append-only
    "event_vocabulary": TablePolicy(insert=False, why="the event types the database accepts; set by migrations"),
    "dcf_chain": TablePolicy(insert=False, update=("seq", "head_hash", "updated_at"),
                             why="a transaction moves its chain's head (the migration creates the heads)"),
    "dcf_chain_links": APPEND_ONLY,
    "mpr_checks": APPEND_ONLY,
    "mpr_review_queue": TablePolicy(update=("state", "decision", "decided_by", "decided_at", "rationale"),
                                    why="a person answers a queued question"),
    "mpr_flags": TablePolicy(update=("state", "done_by", "done_at", "note"), why="the person who must act closes it"),
    "mpr_items": TablePolicy(update=AllBut(("item_id", "org_id", "kind", "cite", "opened")),
                             why="findings, owner, due date, closing (version-checked)"),
    "mpr_panel_needs": TablePolicy(update=("needed", "updated_by", "updated_at"), why="a DDS sets a panel need"),
}


FUNCTIONS: dict[str, str] = {
    "integrity_draw_hmac(integer, text)": "G.7: the year's HMAC of a case id (SECURITY DEFINER, never the key)",
}
"""Functions the application role may EXECUTE (by signature); it gets EXECUTE on no other function of the schema."""


def policy_for(table: str) -> TablePolicy:
    return POLICY.get(table, DEFAULT)


# ---- what the connecting role is ----------------------------------------------------------------------

@dataclass(frozen=True)
class RoleInfo:
    user: str
    superuser: bool
    createrole: bool
    schema: str | None  # current_schema(): where the DCF's tables are (None: no schema on the search_path)
    schema_owner: str | None
    owner_member: bool  # the user is (a member of) the schema's owner
    owns_objects: bool  # the user is (a member of) the owner of a table, sequence or function in the schema
    app_role: str | None  # the application role the schema's comment names (roles configured)

    @property
    def can_alter(self) -> bool:
        """Whether this role could drop, alter or disable the guards."""
        return self.superuser or self.owner_member or self.owns_objects


_INFO_SQL = """
SELECT r.rolname, r.rolsuper, r.rolcreaterole, n.nspname, o.rolname AS owner,
       COALESCE(pg_has_role(r.oid, n.nspowner, 'MEMBER'), false) AS owner_member,
       COALESCE((SELECT bool_or(pg_has_role(r.oid, x.owner, 'MEMBER')) FROM (
           SELECT relowner AS owner FROM pg_class WHERE relnamespace = n.oid
           UNION SELECT proowner FROM pg_proc WHERE pronamespace = n.oid) x), false) AS owns_objects,
       obj_description(n.oid, 'pg_namespace') AS comment
FROM pg_roles r
LEFT JOIN pg_namespace n ON n.nspname = current_schema()
LEFT JOIN pg_roles o ON o.oid = n.nspowner
WHERE r.rolname = current_user
"""


def role_info(conn: Connection) -> RoleInfo:
    r = conn.execute(text(_INFO_SQL)).one()
    m = _COMMENT_APP.search(r.comment or "") if (r.comment or "").startswith(COMMENT_PREFIX) else None
    return RoleInfo(user=r.rolname, superuser=bool(r.rolsuper), createrole=bool(r.rolcreaterole), schema=r.nspname,
                    schema_owner=r.owner, owner_member=bool(r.owner_member), owns_objects=bool(r.owns_objects),
                    app_role=m.group(1) if m else None)


def refusal(info: RoleInfo) -> str | None:
    """Why the application may not run as this role, or None. One line."""
    how = ("connect as the application role (`cdrflow db roles`, README \"Deploy on PostgreSQL\"), or, "
           "on a throwaway database only, pass --allow-superuser or set CDRFLOW_ALLOW_SUPERUSER=1")
    if info.superuser:
        return (f"refusing to run as PostgreSQL role {info.user!r}: a superuser can disable or replace the DCF's "
                f"guards; {how}")
    if info.owner_member or info.owns_objects:
        return (f"refusing to run as PostgreSQL role {info.user!r}: it owns the DCF schema {info.schema!r} and can "
                f"drop or change its guards (only `cdrflow db upgrade` runs as the owner); {how}")
    if info.createrole:
        return (f"refusing to run as PostgreSQL role {info.user!r}: it has CREATEROLE and could make itself a "
                f"member of the schema owner; {how}")
    return None


# ---- roles and schema (an administrator) -----------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_name(name: str, what: str) -> str:
    if not NAME.match(name):
        raise RoleError(f"{what} {name!r}: use lower-case letters, digits and _ (a PostgreSQL name, at most 63)")
    return name


@dataclass
class Report:
    """What ``db roles`` (or a re-application of the grants) did."""

    statements: list[str] = field(default_factory=list)
    tables: dict[str, list[str]] = field(default_factory=dict)  # table -> privileges of the application role
    sequences: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)  # the application role may EXECUTE these


def _run(conn: Connection, report: Report, sql: str) -> None:
    conn.execute(text(sql))
    report.statements.append(sql)


def _lock(conn: Connection) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK})


def ensure_roles(conn: Connection, owner: str, app: str, report: Report | None = None) -> Report:
    """Create the two login roles if missing (idempotent); neither may be a superuser or in the other."""
    report = report if report is not None else Report()
    check_name(owner, "--owner")
    check_name(app, "--app")
    if owner == app:
        raise RoleError("--owner and --app must be two different roles: the application must not own the schema")
    me = conn.execute(text("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")).one()
    if not (me.rolsuper or me.rolcreaterole):
        raise RoleError("`cdrflow db roles` is run by an administrator: a superuser or a role with CREATEROLE")
    _lock(conn)
    for name in (owner, app):
        row = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
        if row is None:
            _run(conn, report, f"CREATE ROLE {_q(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                               "NOBYPASSRLS")
        elif row.rolsuper:
            raise RoleError(f"role {name!r} is a superuser: choose another name (cdrflow does not demote roles)")
        else:
            _run(conn, report, f"ALTER ROLE {_q(name)} LOGIN NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
    # the application must not inherit the owner's powers, directly or through another role
    direct = conn.execute(text(
        "SELECT 1 FROM pg_auth_members m JOIN pg_roles a ON a.oid = m.member JOIN pg_roles b ON b.oid = m.roleid "
        "WHERE a.rolname = :m AND b.rolname = :o"), {"m": app, "o": owner}).first()
    if direct is not None:
        _run(conn, report, f"REVOKE {_q(owner)} FROM {_q(app)}")
    if conn.execute(text("SELECT pg_has_role(:m, :o, 'MEMBER')"), {"m": app, "o": owner}).scalar_one():
        raise RoleError(f"role {app!r} is a member of {owner!r} through another role: revoke that membership")
    db = conn.execute(text("SELECT current_database()")).scalar_one()
    _run(conn, report, f"GRANT CONNECT ON DATABASE {_q(db)} TO {_q(owner)}, {_q(app)}")
    return report


def prepare_schema(conn: Connection, schema: str, owner: str, app: str, *, search_path: bool = False,
                   report: Report | None = None) -> Report:
    """The schema owned by ``owner`` (created, or taken over with everything in it), USAGE for ``app``,
    the owner's default privileges for tables a later migration adds, and the comment that names the app.

    ``search_path``: also make the schema the two roles' search path in this database (``db roles``).
    """
    report = report if report is not None else Report()
    check_name(schema, "--schema")
    _lock(conn)
    s, o, a = _q(schema), _q(owner), _q(app)
    row = conn.execute(text("SELECT n.oid, r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
                            "WHERE n.nspname = :s"), {"s": schema}).first()
    if row is None:
        _run(conn, report, f"CREATE SCHEMA {s} AUTHORIZATION {o}")
    else:
        if row.rolname != owner:
            _run(conn, report, f"ALTER SCHEMA {s} OWNER TO {o}")
        _take_over(conn, report, schema, owner)
    _run(conn, report, f"REVOKE CREATE ON SCHEMA {s} FROM PUBLIC, {a}")
    _run(conn, report, f"GRANT USAGE ON SCHEMA {s} TO {a}")
    default = ", ".join(p for p in DEFAULT.privileges([]) if not p.startswith("UPDATE"))
    _run(conn, report, f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT {default} ON TABLES TO {a}")
    _run(conn, report, f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE ON SEQUENCES TO {a}")
    comment = f"{COMMENT_PREFIX} schema: owner {owner}, application role {app} (set by cdrflow db roles)"
    _run(conn, report, f"COMMENT ON SCHEMA {s} IS '{comment}'")
    if search_path:
        db = _q(conn.execute(text("SELECT current_database()")).scalar_one())
        for role in (o, a):
            _run(conn, report, f"ALTER ROLE {role} IN DATABASE {db} SET search_path TO {s}")
    return report


def _take_over(conn: Connection, report: Report, schema: str, owner: str) -> None:
    """Objects an earlier setup left in the schema under another owner (a DCF migrated as ``postgres``)."""
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "f": "FOREIGN TABLE", "S": "SEQUENCE"}
    for relkinds in (("r", "p", "v", "m", "f"), ("S",)):  # a column's sequence follows its table: tables first
        rows = conn.execute(text(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_roles r ON r.oid = c.relowner WHERE n.nspname = :s AND r.rolname <> :o "
            "AND c.relkind = ANY(:k) ORDER BY c.relname"), {"s": schema, "o": owner, "k": list(relkinds)}).all()
        for r in rows:
            _run(conn, report, f"ALTER {kinds[r.relkind]} {_q(schema)}.{_q(r.relname)} OWNER TO {_q(owner)}")
    funcs = conn.execute(text(
        "SELECT p.oid::regprocedure::text AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "JOIN pg_roles r ON r.oid = p.proowner WHERE n.nspname = :s AND r.rolname <> :o ORDER BY 1"),
        {"s": schema, "o": owner}).scalars().all()
    for sig in funcs:  # regprocedure text is already qualified and quoted as needed
        _run(conn, report, f"ALTER FUNCTION {sig} OWNER TO {_q(owner)}")


def apply_grants(conn: Connection, schema: str, app: str, report: Report | None = None) -> Report:
    """Give ``app`` exactly :data:`POLICY` on every table of ``schema`` and USAGE on its sequences.

    Each table's privileges are revoked and granted again in this transaction, so what the role ends
    with is the map, whatever it had before. Run by the owner (``db upgrade``) or an administrator.
    """
    report = report if report is not None else Report()
    check_name(schema, "schema")
    check_name(app, "application role")
    _lock(conn)
    rels = conn.execute(text(
        "SELECT c.oid, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :s AND c.relkind IN ('r', 'p', 'S') ORDER BY c.relname"), {"s": schema}).all()
    s, a = _q(schema), _q(app)
    funcs = conn.execute(text(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) "
        "|| ')' AS sig, p.proname || '(' || oidvectortypes(p.proargtypes) || ')' AS name FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :s ORDER BY 2"), {"s": schema}).all()
    # The trigger functions keep PostgreSQL's default EXECUTE for PUBLIC: a trigger function cannot be
    # called except by its trigger. A function the application calls must be listed in FUNCTIONS.
    for f in funcs:
        if f.name in FUNCTIONS:
            _run(conn, report, f"REVOKE ALL ON FUNCTION {f.sig} FROM {a}")
            _run(conn, report, f"GRANT EXECUTE ON FUNCTION {f.sig} TO {a}")
            report.functions.append(f.name)
    for rel in rels:
        name = f"{s}.{_q(rel.relname)}"
        if rel.relkind == "S":
            _run(conn, report, f"REVOKE ALL ON SEQUENCE {name} FROM {a}")
            _run(conn, report, f"GRANT USAGE ON SEQUENCE {name} TO {a}")
            report.sequences.append(rel.relname)
            continue
        columns = conn.execute(text("SELECT attname FROM pg_attribute WHERE attrelid = :oid AND attnum > 0 "
                                    "AND NOT attisdropped ORDER BY attnum"), {"oid": rel.oid}).scalars().all()
        privs = policy_for(rel.relname).privileges(list(columns))
        _run(conn, report, f"REVOKE ALL ON TABLE {name} FROM {a}")
        if privs:
            _run(conn, report, f"GRANT {', '.join(privs)} ON TABLE {name} TO {a}")
        report.tables[rel.relname] = privs
    return report


def setup(conn: Connection, *, owner: str, app: str, schema: str) -> Report:
    """``cdrflow db roles``: roles, schema, default privileges, search paths, grants on the tables there."""
    report = ensure_roles(conn, owner, app)
    prepare_schema(conn, schema, owner, app, search_path=True, report=report)
    apply_grants(conn, schema, app, report=report)
    return report


# ---- around db upgrade -----------------------------------------------------------------------------

def before_upgrade(conn: Connection, info: RoleInfo) -> None:
    """A superuser (or a member of the owner) migrating a configured schema does it as the owner, so that
    what the migration creates belongs to the owner and gets the owner's default privileges."""
    if info.app_role is not None and info.schema_owner and info.schema_owner != info.user and info.can_alter:
        conn.execute(text(f"SET LOCAL ROLE {_q(info.schema_owner)}"))


def after_upgrade(conn: Connection, info: RoleInfo) -> Report | None:
    """Re-apply the application role's grants when the roles are configured and this session may."""
    if info.app_role is None or info.schema is None or not info.can_alter:
        return None
    return apply_grants(conn, info.schema, info.app_role)


def table_grants(conn: Connection, schema: str, role: str) -> dict[str, set[str]]:
    """What ``role`` holds on each table of ``schema``: ``{"events": {"INSERT", "SELECT"}, "cases":
    {"SELECT", "INSERT", "UPDATE(state)", ...}}`` (table privileges, then column privileges as ``UPDATE(col)``)."""
    out: dict[str, set[str]] = {}
    for r in conn.execute(text(
            "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = :s AND grantee = :r"), {"s": schema, "r": role}):
        out.setdefault(r.table_name, set()).add(r.privilege_type)
    for r in conn.execute(text(
            "SELECT c.relname, a.attname, x.privilege_type FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
            "CROSS JOIN LATERAL aclexplode(a.attacl) x JOIN pg_roles g ON g.oid = x.grantee "
            "WHERE n.nspname = :s AND g.rolname = :r AND a.attacl IS NOT NULL"), {"s": schema, "r": role}):
        out.setdefault(r.relname, set()).add(f"{r.privilege_type}({r.attname})")
    return out


def describe(report: Report) -> list[str]:
    """Lines for the command line: each table and what the application role may do on it."""
    lines = []
    for t, privs in sorted(report.tables.items()):
        pol = policy_for(t)
        if isinstance(pol.update, AllBut):
            privs = [f"UPDATE (every column but {', '.join(pol.update.columns)})" if p.startswith("UPDATE") else p
                     for p in privs]
        lines.append(f"{t}: {', '.join(privs) or 'nothing'}")
    if report.sequences:
        lines.append(f"sequences ({len(report.sequences)}): USAGE")
    lines += [f"function {f}: EXECUTE" for f in report.functions]
    return lines
