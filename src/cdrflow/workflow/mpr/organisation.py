"""The M/PR organisation (CO → RO → DDS) and its people, each with their role (PM 00215.001A, D.2-D.4).

Organisations are added by an administrator (``mpr.org.manage``). People are the ``people`` table's
(:mod:`cdrflow.workflow.people`): an administrator adds them with their M/PR role and organisation
(``cdrflow people add NAME --role MPRO --org DDS-PA``); :func:`add_person` is that call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from cdrflow.authz import Resource
from cdrflow.dcf.limits import column_problems
from cdrflow.dcf.schema import mpr_orgs
from cdrflow.dcf.store import Actor, ConflictError, Store

from .access import CO, DDS, LEVELS, ORG, RO, ROLE_LEVEL, authorize, org_by_code
from .common import MprError


def _storable(values: dict[str, Any], columns: dict[str, Any]) -> None:
    """Refuse, before any statement, a value its column would not take (interpretations §71)."""
    bad = column_problems(values, columns)
    if bad is not None:
        raise MprError(f"{bad[0]}: {bad[1]}", field=bad[0])


def add_org(store: Store, actor: Actor, *, level: str, code: str, name: str, parent: str | None = None) -> int:
    """Add a CO, RO or DDS (A.1-A.3). A DDS's parent is its RO, an RO's parent is the CO. Administrators
    (``mpr.org.manage``)."""
    level = level.upper()
    if level not in LEVELS:
        raise MprError(f"level: one of {', '.join(LEVELS)}, got {level!r}", field="level")
    _storable({"code": code, "name": name, "parent": parent},
              {"code": mpr_orgs.c.code, "name": mpr_orgs.c.name, "parent": mpr_orgs.c.code})
    with store.tx() as tx:
        authorize(tx, actor, ORG, Resource("org", code, org=code),
                  hint="organisations are set up by an administrator")
        want = {CO: None, RO: CO, DDS: RO}[level]
        parent_id = None
        if want is None:
            if parent is not None:
                raise MprError("the CO has no parent", field="parent")
        else:
            if parent is None:
                raise MprError(f"parent: a {level} needs its {want} (PM 00215.001A)", field="parent")
            p = org_by_code(tx, parent)
            if p["level"] != want:
                raise MprError(f"parent: a {level}'s parent is a {want}; {parent} is a {p['level']}", field="parent")
            parent_id = p["org_id"]
        if tx.conn.execute(select(mpr_orgs.c.org_id).where(mpr_orgs.c.code == code)).first() is not None:
            raise ConflictError(f"organisation {code} already exists", field="code")
        return int(tx.conn.execute(insert(mpr_orgs).values(level=level, code=code, name=name, parent_id=parent_id)
                                   .returning(mpr_orgs.c.org_id)).scalar_one())


def add_person(store: Store, actor: Actor, *, org: str, name: str, role: str) -> int:
    """Add a person with their M/PR role at their level (A): :func:`cdrflow.workflow.people.add`
    (administrators, ``people.manage``), which checks the role belongs to the organisation's level."""
    from cdrflow.workflow import people

    role = role.strip().upper()
    if role not in ROLE_LEVEL:
        raise MprError(f"role: one of {', '.join(ROLE_LEVEL)}, got {role!r}", field="role")
    return people.add(store, actor, name=name, role=role, org=org)


def orgs(store: Store) -> list[dict[str, Any]]:
    """Every organisation with its parent's code (the structure is not confidential)."""
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(select(mpr_orgs).order_by(mpr_orgs.c.code)).mappings()]
    codes = {r["org_id"]: r["code"] for r in rows}
    return [{**r, "parent": codes.get(r["parent_id"])} for r in rows]
