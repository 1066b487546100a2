"""Who may see and change what in the M/PR record (PM 00215.001A, D.2-D.4).

The levels, the roles and the kinds of tracked work; :class:`Who`, the acting person as the
record knows them (:func:`who`); and :func:`require`, which every service of
:mod:`cdrflow.workflow.mpr` calls before it reads or changes anything. The decision itself is the
one permission model's (:mod:`cdrflow.authz.rules`, actions ``mpr.*``): :func:`require` asks
:func:`cdrflow.authz.require` with a :class:`~cdrflow.authz.Resource` carrying the organisation code,
so every allow and every refusal is in the access log.

Who acts
--------
An action names an :class:`~cdrflow.dcf.store.Actor`: the authenticated principal of the CLI, or a
bare actor that must be an active person of the ``people`` table in that role
(:func:`cdrflow.authz.principal_of`); the person's ``org`` (a CO, RO or DDS code) decides what they
see. A system component of the people table (kind ``SYSTEM``, e.g. ``scheduler``) runs the scheduled
checks and the scheduled replacement of the national LEIE. People are added by an administrator
(``cdrflow people add NAME --role MPRO --org DDS-PA``), organisations too (``mpr org add``);
``mpr_people`` is the legacy record of 0005, copied into ``people`` by migration 0010 and no longer
written.

What each level may see and change (``mpr.read``, ``mpr.registry.change``, ``mpr.review.decide``,
``mpr.flag.resolve``, ``mpr.item.change``, ``mpr.leie.replace``; every refusal is a
:class:`~cdrflow.kernel.errors.Forbidden` (:class:`AccessDenied`) naming who, what and why, and a
DENIED row of the access log):

=========== ===================================== ==========================================================
level/role  reads                                 changes
=========== ===================================== ==========================================================
DDS (MPRO,  its own DDS: providers, licenses,     MPRO, DDS_ADMIN: imports, checks, provider status, panel
DDS_ADMIN,  checks, queue, flags, items, panels   needs, the review queue (also CMC), the flags (the MPRO
CMC,                                              must act, D.4.c; the DDS_ADMIN may too). Every DDS role:
EXAMINER)                                         the DDS's work items (D.4.a-d; A.3 "with the active
                                                  involvement of ... disability examiners").
RO (PRC)    its region: the RO and every DDS      only RO items: RO_RELAY (D.3.a, c), RO_TRAINING (D.3.c,
            whose parent is the RO                h), RO_REVIEW (D.3.b, i), RECOGNITION (D.3.f). The RO
                                                  gives "technical direction" and reviews (D.3.b); the CE
                                                  oversight itself is the DDS's (D.4.c), so a PRC does not
                                                  act on a DDS's providers, queue or flags.
CO (MPRT)   everything                            only NATIONAL items (D.2) and the LEIE (a national list:
                                                  replaced or restored only by CO or SYSTEM, a much smaller
                                                  list only with a reason; every list kept).
AUDITOR     everything                            nothing
=========== ===================================== ==========================================================

A work item's kind belongs to a level (:data:`ITEM_KINDS`): a kind of another level than the
organisation's is an input error (:class:`~cdrflow.workflow.mpr.common.MprError`), not a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from cdrflow import authz
from cdrflow.authz import ACTIONS, Decision, Principal, Resource
from cdrflow.dcf.schema import mpr_orgs
from cdrflow.dcf.store import Actor, NotFound, StoreError, Tx
from cdrflow.kernel.errors import Forbidden
from cdrflow.kernel.roles import MPR_ROLE_LEVEL, ROLES

from .common import MprError

# ---- levels, roles, kinds -----------------------------------------------------------------------

CO, RO, DDS = "CO", "RO", "DDS"
LEVELS: Final = (CO, RO, DDS)

MPRT, PRC, MPRO, DDS_ADMIN, CMC, EXAMINER = "MPRT", "PRC", "MPRO", "DDS_ADMIN", "CMC", "EXAMINER"
SYSTEM = "SYSTEM"
ROLE_LEVEL: Final = dict(MPR_ROLE_LEVEL)
"""Each M/PR role and the level it belongs to (A.1-A.3)."""
ROLE_TEXT: Final = {role: ROLES[role] for role in (MPRT, PRC, MPRO, DDS_ADMIN, CMC, EXAMINER)}
"""The M/PR roles as ``cdrflow.kernel.roles.ROLES`` describes them."""

READ = "mpr.read"
REGISTRY = "mpr.registry.change"
CHECKS_RUN = "mpr.checks.run"
REVIEW = "mpr.review.decide"
FLAG = "mpr.flag.resolve"
ITEM = "mpr.item.change"
LEIE = "mpr.leie.replace"
ORG = "mpr.org.manage"


def _granted(action: str) -> frozenset[str]:
    return frozenset(r for g in ACTIONS[action].grants for r in g.roles)


REGISTRY_ROLES: Final = _granted(REGISTRY) - {SYSTEM}
"""Import, check and change the DDS's providers, licenses and panel needs (D.4.b, D.4.c); from the rules."""
REVIEW_ROLES: Final = _granted(REVIEW)
"""Decide an ambiguous identity in the review queue; from the rules."""
FLAG_ROLES: Final = _granted(FLAG)
"""Act on a status-change flag: the MPRO must; the DDS Administrator may; from the rules."""
FLAG_MUST_ACT = MPRO

ITEM_KINDS: Final[dict[str, tuple[str, str]]] = {
    # kind: (level that owns it, the passage)
    "ONSITE_VISIT": (DDS, "PM 00215.001D.4.c"),
    "CONDUCT_COMPLAINT": (DDS, "PM 00215.001D.4.c"),
    "INADEQUATE_REPORT": (DDS, "PM 00215.001D.4.c"),
    "TRAINING_MONITORING": (DDS, "PM 00215.001D.4.c"),
    "REPORTING_PAYMENT": (DDS, "PM 00215.001D.4.c"),
    "RECRUITMENT": (DDS, "PM 00215.001D.4.b"),
    "LIAISON_CONTACT": (DDS, "PM 00215.001D.4.a, D.4.d"),
    "MEETING": (DDS, "PM 00215.001D.4.d"),
    "MATERIALS": (DDS, "PM 00215.001D.4.d"),
    "ERE_PROMOTION": (DDS, "PM 00215.001D.4.a, D.4.d"),
    "STUDY_SURVEY": (DDS, "PM 00215.001D.4.d"),
    "RO_RELAY": (RO, "PM 00215.001D.3.a, D.3.c"),
    "RO_TRAINING": (RO, "PM 00215.001D.3.c, D.3.h"),
    "RO_REVIEW": (RO, "PM 00215.001D.3.b, D.3.i"),
    "RECOGNITION": (RO, "PM 00215.001D.3.f"),
    "NATIONAL": (CO, "PM 00215.001D.2"),
}
"""Every kind of tracked M/PR work, the level that owns it and the passage it rests on."""
ITEM_ROLES: Final = {level: frozenset(r for r, lv in ROLE_LEVEL.items() if lv == level) for level in LEVELS}
"""The roles of each level that change that level's items (of their own organisation: ``mpr.item.change``)."""

LEIE_ROLES: Final = _granted(LEIE)
"""Who replaces or restores the national LEIE: the CO MPRT (D.2) or the scheduled job (SYSTEM). A DDS ensures
its own sources against the list (D.4.c) but does not change what every other state checks against."""


class AccessDenied(Forbidden, StoreError):
    """The actor's level or role does not allow this (PM 00215.001A, D.2-D.4): a
    :class:`~cdrflow.kernel.errors.Forbidden` (exit 4), with the level's reason added."""


# ---- who is acting -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Who:
    """The acting principal as the M/PR record knows them: their organisation, its level and region."""

    actor: Principal
    role: str
    org_id: int | None
    org_code: str
    level: str
    visible: frozenset[str] | None  # organisation codes whose data may be read; None: every one (CO, audit)

    def __str__(self) -> str:
        return f"{self.actor} ({self.org_code})"


def org_by_code(tx: Tx, code: str) -> dict[str, Any]:
    """The organisation with that code, or :class:`~cdrflow.dcf.store.NotFound`."""
    row = tx.conn.execute(select(mpr_orgs).where(mpr_orgs.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no M/PR organisation {code!r}", resource=f"org:{code}"[:120])
    return dict(row)


def org_by_id(tx: Tx, org_id: int) -> dict[str, Any]:
    """The organisation with that id, or :class:`~cdrflow.dcf.store.NotFound`."""
    row = tx.conn.execute(select(mpr_orgs).where(mpr_orgs.c.org_id == org_id)).mappings().first()
    if row is None:
        raise NotFound(f"no M/PR organisation {org_id}")
    return dict(row)


def who(tx: Tx, actor: Actor, action: str = READ, resource: Resource | None = None) -> Who:
    """The actor as the people table knows them (:func:`cdrflow.authz.principal_of`), with their M/PR
    organisation; a person it does not know (or not in that role) is refused, logged under ``action``."""
    try:
        p = authz.principal_of(tx, actor)
    except Forbidden as exc:
        authz.log(tx, actor, action, resource or Resource("mpr"), Decision(False, "unknown-person", "", exc.message))
        raise AccessDenied(exc.message, resource=exc.resource) from None
    if p.kind == "SYSTEM":
        return Who(p, p.role, None, "(system)", SYSTEM, None)
    org = None
    if p.org is not None:
        org = tx.conn.execute(select(mpr_orgs.c.org_id).where(mpr_orgs.c.code == p.org)).scalar()
    return Who(p, p.role, None if org is None else int(org), p.org or "(no organisation)", p.level or "",
               p.visible_orgs)


def can_read(w: Who, code: str) -> bool:
    """Whether ``w``'s level lets them read the data of organisation ``code`` (their DDS; an RO's region;
    CO, auditors and system components all). Whether their role may read at all is ``mpr.read``'s."""
    return w.visible is None or code in w.visible


def _hint(w: Who, action: str, org: str | None) -> str:
    """Why the level does not allow it, in the words of PM 00215.001 (added to the refusal)."""
    if action == LEIE:
        return ("the LEIE is national data, replaced only by the CO MPRT or the scheduled job (SYSTEM); a DDS "
                "checks its own sources against it (PM 00215.001D.2, D.4.c)")
    if action == READ:
        return {DDS: "a DDS sees only its own providers and work (PM 00215.001D.4)",
                RO: "an RO sees only the DDSs of its region (PM 00215.001D.3)"}.get(w.level, "")
    if action in (REGISTRY, REVIEW, FLAG):
        if w.level == RO:
            return ("the RO gives technical direction and reviews (PM 00215.001D.3.b); the CE oversight is the "
                    "DDS's (D.4.c)")
        if w.level == CO:
            return "CO reads everything and changes only national items (PM 00215.001D.2)"
        if w.level == DDS and org is not None and org != w.org_code:
            return f"{w.org_code} may not change {org}'s registry: a DDS acts on its own providers (PM 00215.001D.4)"
    return ""


def require(tx: Tx, w: Who, action: str, resource: Resource, *, hint: str | None = None) -> None:
    """``action`` on ``resource`` for ``w`` (:func:`cdrflow.authz.require`: logged, allowed or refused), or
    :class:`AccessDenied` with the level's reason (``hint``, else :func:`_hint`)."""
    try:
        authz.require(tx, w.actor, action, resource)
    except Forbidden as exc:
        why = hint if hint is not None else _hint(w, action, resource.org)
        raise AccessDenied(f"{exc.message}{f'; {why}' if why else ''}", resource=exc.resource) from None


def authorize(tx: Tx, actor: Actor, action: str, resource: Resource, *, hint: str | None = None) -> Who:
    """:func:`who`, then :func:`require`."""
    w = who(tx, actor, action, resource)
    require(tx, w, action, resource, hint=hint)
    return w


def dds_org(tx: Tx, code: str) -> dict[str, Any]:
    """The DDS with that code; another level is an :class:`~cdrflow.workflow.mpr.common.MprError`."""
    org = org_by_code(tx, code)
    if org["level"] != DDS:
        raise MprError(f"{code} is a {org['level']}, not a DDS", field="dds")
    return org


def item_level(org: dict[str, Any], kind: str) -> None:
    """``kind`` must be work of ``org``'s level (an input error otherwise, not a refusal)."""
    level, cite = ITEM_KINDS[kind]
    if org["level"] != level:
        raise MprError(f"kind: {kind} ({cite}) is {level} work; {org['code']} is a {org['level']}", field="kind")


def require_item_change(tx: Tx, w: Who, org: dict[str, Any], kind: str, item_id: int | None = None) -> None:
    """``kind`` is work of ``org``'s level (:func:`item_level`) and ``w`` may change ``org``'s items of it
    (``mpr.item.change``: a person of ``org`` in a role of its level)."""
    item_level(org, kind)
    level, cite = ITEM_KINDS[kind]
    why = {DDS: f"{kind} is the DDS's own work ({cite}): only a person of {org['code']} changes it",
           RO: f"{kind} is RO work ({cite}): only a PRC of {org['code']} changes it",
           CO: f"{kind} is national work ({cite}): only the CO MPRT changes it"}[level]
    if w.level == CO and level != CO:
        why += "; CO reads everything and changes only national items (PM 00215.001D.2)"
    require(tx, w, ITEM, Resource("item", str(item_id) if item_id is not None else f"new {kind}", org=org["code"]),
            hint=why)
