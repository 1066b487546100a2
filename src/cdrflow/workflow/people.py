"""People and identity (issue 13 item 1): who may act, how they prove it, and what they may do.

* The OS account that creates a database becomes its first administrator (:func:`bootstrap_admin`,
  run by ``cdrflow db upgrade`` and ``cdrflow demo``), as PostgreSQL's initdb makes the OS user the
  superuser; that account is then authenticated by the operating system (peer authentication).
* Administrators add, change and disable people (:func:`add`, :func:`disable`) and issue personal
  tokens (:func:`issue_token`): the token is shown once and only its SHA-256 is stored.
* :func:`authenticate` turns a token (``CDRFLOW_TOKEN`` or a 0600 token file), else the OS account, into
  a :class:`~cdrflow.authz.Principal`, or refuses with one line. Nothing typed on a command line is an
  identity.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import func, insert, select, update

from cdrflow import authz
from cdrflow.authz import Principal, Resource
from cdrflow.dcf.limits import limit, text_problem
from cdrflow.dcf.schema import mpr_orgs, people, person_tokens
from cdrflow.dcf.store import Actor, Store, Tx, now
from cdrflow.kernel.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from cdrflow.kernel.roles import MPR_ROLE_LEVEL, MPR_ROLES, PC_ROLES, ROLES, SYSTEM_ROLES

TOKEN_PREFIX = "cdrf_"  # noqa: S105 - a visible prefix, not a secret
PEOPLE = Resource("people")


def os_account() -> str:
    """The OS account running this process, as the operating system knows it (not $USER, which is typed)."""
    import os
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def _row(tx: Tx, name: str) -> Any:
    row = tx.conn.execute(select(people).where(people.c.name == name)).first()
    if row is None:
        raise NotFound(f"no person {name!r} in the people table", resource=f"person:{name}"[:120])
    return row


def bootstrap_admin(store: Store, os_account: str) -> str | None:
    """Make ``os_account`` the first administrator of a DCF that has none; returns its name if it did."""
    why = text_problem(os_account, limit(people.c.name))
    if why is not None:
        raise InvalidInput(f"OS account name {why}", field="os_account")
    with store.tx() as tx:
        if tx.conn.execute(select(func.count()).select_from(people).where(people.c.role == "ADMIN")).scalar_one():
            return None
        if tx.conn.execute(select(people.c.person_id).where(people.c.name == os_account)).first() is not None:
            raise Conflict(f"a person named {os_account!r} exists but the DCF has no administrator", field="name")
        tx.conn.execute(insert(people).values(
            name=os_account, role="ADMIN", kind="PERSON", os_account=os_account, active=True, created_at=now(),
            created_by="initdb (the OS account that created the database)", version=1))
        authz.log(tx, Actor(os_account, "ADMIN"), "people.manage", f"person:{os_account}",
                  reason="first administrator: the OS account that created the database")
        return os_account


def _check_person(name: str, role: str, pc: int | None, org: str | None, module: str | None, tx: Tx) -> None:
    why = text_problem(name, limit(people.c.name))
    if why is not None or not name.strip() or ":" in name or name != name.strip():
        raise InvalidInput(f"name {why or 'must be a non-empty name without spaces around it or a colon'}",
                           field="name")
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}", field="role")
    if role in SYSTEM_ROLES:
        raise InvalidInput(f"{role} is a system component's role, not a person's", field="role")
    if role in PC_ROLES and (pc is None or not 1 <= pc <= 8):
        raise InvalidInput(f"{role} works at one processing center: give its number, 1-8", field="pc")
    if role not in PC_ROLES and pc is not None:
        raise InvalidInput(f"{role} is not processing-center staff: no processing center", field="pc")
    if module is not None and (role not in PC_ROLES or text_problem(module, limit(people.c.module))):
        raise InvalidInput("module is for PC staff, at most 8 characters", field="module")
    if role in MPR_ROLES | {"FO"} and not org:
        raise InvalidInput(f"{role} belongs to an organisation: give its code", field="org")
    if org is not None:
        why = text_problem(org, limit(people.c.org))
        if why is not None:
            raise InvalidInput(f"org {why}", field="org")
        if role in MPR_ROLES:
            level = tx.conn.execute(select(mpr_orgs.c.level).where(mpr_orgs.c.code == org)).scalar()
            if level is None:
                raise InvalidInput(f"no M/PR organisation {org!r} (cdrflow mpr org add)", field="org")
            if level != MPR_ROLE_LEVEL[role]:  # PM 00215.001A.1-A.3: each role belongs to one level
                raise InvalidInput(f"{role} is a {MPR_ROLE_LEVEL[role]} role ({ROLES[role]}); {org} is a {level}",
                                   field="role")


def add(store: Store, actor: Actor, *, name: str, role: str, pc: int | None = None, module: str | None = None,
        org: str | None = None) -> int:
    """Add a person (administrators)."""
    role = role.strip().upper()
    with store.tx() as tx:
        authz.require(tx, actor, "people.manage", Resource("person", name[:64]))
        _check_person(name, role, pc, org, module, tx)
        if tx.conn.execute(select(people.c.person_id).where(people.c.name == name)).first() is not None:
            raise Conflict(f"a person named {name!r} exists", field="name", resource=f"person:{name}")
        res = tx.conn.execute(insert(people).values(
            name=name, role=role, kind="PERSON", pc=pc, module=module, org=org, active=True, created_at=now(),
            created_by=str(actor), version=1))
        key = res.inserted_primary_key
        assert key is not None
        return int(key[0])


def disable(store: Store, actor: Actor, name: str) -> int:
    """Disable a person and revoke their tokens; returns how many tokens were revoked."""
    with store.tx() as tx:
        authz.require(tx, actor, "people.manage", Resource("person", name[:64]))
        row = _row(tx, name)
        if row.kind != "PERSON":
            raise InvalidInput(f"{name} is a system component", field="name")
        stamp = now()
        tx.conn.execute(update(people).where(people.c.person_id == row.person_id).values(
            active=False, changed_at=stamp, changed_by=str(actor), version=row.version + 1))
        res = tx.conn.execute(update(person_tokens).where(
            person_tokens.c.person_id == row.person_id, person_tokens.c.revoked_at.is_(None)).values(
            revoked_at=stamp, revoked_by=str(actor)))
        return int(res.rowcount or 0)


def issue_token(store: Store, actor: Actor, name: str) -> str:
    """A new personal token for an active person; returned once, only its hash is kept."""
    with store.tx() as tx:
        authz.require(tx, actor, "people.manage", Resource("person", name[:64]))
        row = _row(tx, name)
        if row.kind != "PERSON" or not row.active:
            raise InvalidInput(f"{name} is {'a system component' if row.kind != 'PERSON' else 'disabled'}: "
                               "no token", field="name")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        tx.conn.execute(insert(person_tokens).values(person_id=row.person_id, token_hash=token_hash(token),
                                                     created_at=now(), created_by=str(actor)))
        return token


def listing(store: Store, actor: Actor) -> list[dict[str, Any]]:
    with store.tx() as tx:
        authz.require(tx, actor, "people.read", PEOPLE)
        rows = tx.conn.execute(select(people).order_by(people.c.kind, people.c.name)).mappings().all()
        tokens = {int(pid): int(n) for pid, n in tx.conn.execute(
            select(person_tokens.c.person_id, func.count()).where(person_tokens.c.revoked_at.is_(None))
            .group_by(person_tokens.c.person_id))}
        return [{k: r[k] for k in ("name", "role", "kind", "pc", "module", "org", "os_account", "active")}
                | {"tokens": int(tokens.get(r["person_id"], 0))} for r in rows]


def authenticate(store: Store, *, token: str | None = None, os_account: str | None = None) -> Principal:
    """The principal a token (first) or the OS account (peer authentication) proves; else Unauthenticated."""
    with store.tx() as tx:
        if token:
            row = tx.conn.execute(
                select(people).join(person_tokens, person_tokens.c.person_id == people.c.person_id)
                .where(person_tokens.c.token_hash == token_hash(token), person_tokens.c.revoked_at.is_(None))
            ).first()
            if row is None or not row.active:
                authz.log(tx, Actor("(unknown)", "NONE"), "authenticate", "people",
                          authz.Decision(False, "bad-token", "", "a token that is unknown, revoked or disabled"))
                raise Unauthenticated("the token is unknown, revoked, or its person is disabled; ask an "
                                      "administrator for a new one (cdrflow people token NAME)")
            return authz.principal_from_row(tx, row, via="token")
        if os_account:
            row = tx.conn.execute(select(people).where(people.c.os_account == os_account)).first()
            if row is not None and row.active:
                return authz.principal_from_row(tx, row, via="os-account")
            authz.log(tx, Actor(os_account[:64], "NONE"), "authenticate", "people",
                      authz.Decision(False, "unknown-os-account", "", "no active person with this OS account"))
        raise Unauthenticated(
            f"you are not a person of this DCF{f' (OS account {os_account!r})' if os_account else ''}: set "
            "CDRFLOW_TOKEN or a token file to the token an administrator gave you (cdrflow people token NAME)")


def system_principal(store: Store, name: str) -> Principal:
    """A declared system component (selection, wbdoc, dcdrs, integrity-sampler, ...)."""
    with store.read() as tx:
        row = _row(tx, name)
        if row.kind != "SYSTEM":
            raise InvalidInput(f"{name} is not a system component", field="name")
        return authz.principal_from_row(tx, row, via="system")
