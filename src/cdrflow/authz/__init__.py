"""Authorization: one module answers "may this person do this action on this resource" (issue 13 item 2).

* :func:`decide` applies :data:`~cdrflow.authz.rules.ACTIONS` (deny by default; each grant cites its
  passage) and returns a :class:`Decision`.
* :func:`require` is what a service calls inside its unit of work: it records the decision in the access
  log (allowed or denied, with the rule) and raises :class:`~cdrflow.kernel.errors.Forbidden` on a denial.
  The refusal is logged even though the transaction rolls back (``Store.tx`` writes it on its own).
* :func:`principal_of` turns an :class:`~cdrflow.dcf.store.Actor` a service was handed into the
  principal the people table knows (active, with that role), or refuses it.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from cdrflow.dcf.schema import mpr_orgs, people
from cdrflow.dcf.store import Actor, Tx, now
from cdrflow.kernel.errors import Forbidden, InvalidInput

from .model import Decision, Kind, Principal, Resource
from .rules import ACTIONS, actions_for

__all__ = [
    "ACTIONS",
    "Decision",
    "Principal",
    "Resource",
    "actions_for",
    "decide",
    "log",
    "principal_of",
    "require",
    "reveal_reason",
    "visible_orgs",
]


def decide(principal: Principal, action: str, resource: Resource) -> Decision:
    """Deny by default: the first grant of ``action`` whose roles include the principal's and whose scope
    holds. A grant for the role whose scope fails gives its reason."""
    spec = ACTIONS.get(action)
    if spec is None:
        return Decision(False, "deny-by-default", "", f"{action} is not an action cdrflow knows")
    if principal.kind == "PERSON" and principal.person_id is None:
        return Decision(False, "unauthenticated", "", f"{principal} is not an authenticated person")
    scoped: Decision | None = None
    for g in spec.grants:
        if principal.role not in g.roles:
            continue
        why = g.scope(principal, resource)
        if why is None:
            return Decision(True, g.rule, g.cite)
        scoped = scoped or Decision(False, g.rule, g.cite, why)
    if scoped is not None:
        return scoped
    roles = sorted({r for g in spec.grants for r in g.roles})
    return Decision(False, "deny-by-default", "", f"the role {principal.role} may not; only {', '.join(roles)}")


def log(tx: Tx, principal: Actor, action: str, resource: Resource | str, decision: Decision | None = None, *,
        kind: Kind | None = None, reason: str | None = None) -> None:
    """Add one access-log row to the unit of work (written with it, or on its own if it fails)."""
    spec = ACTIONS.get(action)
    tx.access.append({
        "at": now(), "person": principal.name[:64], "role": principal.role[:16], "action": action[:40],
        "kind": kind or (spec.kind if spec else "READ"), "resource": str(resource)[:120],
        "outcome": "ALLOWED" if decision is None or decision.allowed else "DENIED",
        "rule": decision.rule[:64] if decision else None,
        "reason": reason if decision is None or decision.allowed else (decision.why or reason),
    })


def require(tx: Tx, actor: Actor, action: str, resource: Resource, *, reason: str | None = None,
            quiet: bool = False) -> Principal:
    """The principal, if ``action`` on ``resource`` is allowed; else :class:`Forbidden` (logged either way).

    ``quiet`` leaves an allowed decision out of the log (a list logs itself once, not every row it checks).
    """
    try:
        principal = principal_of(tx, actor)
    except Forbidden as exc:
        log(tx, actor, action, resource, Decision(False, "unknown-person", "", exc.message), reason=reason)
        raise
    d = decide(principal, action, resource)
    if not d.allowed or not quiet:
        log(tx, principal, action, resource, d, reason=reason)
    if not d.allowed:
        raise Forbidden(f"{principal} may not {ACTIONS[action].summary if action in ACTIONS else action} "
                        f"on {resource}: {d.why}", resource=str(resource))
    return principal


_SSN_LIKE = re.compile(r"(?<!\d)\d{3}[- ]?\d{2}[- ]?\d{4}(?!\d)")


def reveal_reason(reason: str | None) -> str:
    """The reason a reveal of an SSN is logged with, stripped: one line of at most 500 characters, and never an
    SSN itself (the access log holds the reason). Else :class:`~cdrflow.kernel.errors.InvalidInput`."""
    from cdrflow.dcf.limits import characters_problem

    why = characters_problem(reason, single_line=True) if reason else "is empty"
    if reason is None or why is not None or not reason.strip() or len(reason) > 500:
        raise InvalidInput(f"a reveal needs a reason: one line of at most 500 characters ({why or 'too long'})",
                           field="reason")
    if _SSN_LIKE.search(reason):
        raise InvalidInput("the reason is logged: leave the SSN (any nine-digit number) out of it", field="reason")
    return reason.strip()


def visible_orgs(tx: Tx, org: str | None) -> tuple[str | None, frozenset[str] | None]:
    """(level, org codes readable) for a person of M/PR organisation ``org`` (A, D.3: an RO sees its DDSs)."""
    if org is None:
        return None, None
    row = tx.conn.execute(select(mpr_orgs.c.org_id, mpr_orgs.c.level).where(mpr_orgs.c.code == org)).first()
    if row is None:
        return None, frozenset({org})  # an FO office: not an M/PR organisation
    if row.level == "CO":
        return "CO", None
    codes = {org}
    if row.level == "RO":
        codes |= set(tx.conn.execute(select(mpr_orgs.c.code).where(mpr_orgs.c.parent_id == row.org_id)).scalars())
    return str(row.level), frozenset(codes)


def principal_from_row(tx: Tx, row: Any, via: str) -> Principal:
    level, visible = visible_orgs(tx, row.org)
    return Principal(row.name, row.role, person_id=int(row.person_id), kind=row.kind, pc=row.pc, module=row.module,
                     org=row.org, level=level, visible_orgs=visible, via=via)


def principal_of(tx: Tx, actor: Actor) -> Principal:
    """An authenticated principal as is; a bare Actor only if the people table has it, active, in that role."""
    if isinstance(actor, Principal) and (actor.person_id is not None or actor.kind != "PERSON"):
        return actor
    row = tx.conn.execute(select(people).where(people.c.name == actor.name)).first()
    if row is None or not row.active:
        raise Forbidden(f"{actor.name!r} is not an active person in the people table; an administrator adds "
                        "people (cdrflow people add)", resource="people")
    if row.role != actor.role:
        raise Forbidden(f"{actor.name} is {row.role} in the people table, not {actor.role}", resource="people")
    return principal_from_row(tx, row, via=getattr(actor, "via", "") or "service")
