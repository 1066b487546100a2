"""PM 00215.001: medical and professional relations (M/PR) in the DCF, level by level.

The three operating levels (A): Central Office (CO, ODD's Medical Professional Relations Team,
D.2), the Regional Offices (RO, the Professional Relations Coordinators, D.3) and the State DDSs
(the MPRO "with the active involvement of" the DDS Administrator, the Chief Medical Consultant and
the examiners, A.3, D.4). This module is the service layer over the ``mpr_*`` tables:

* **Organisation and people** (A, D.2-D.4): :func:`add_org`, :func:`add_person`.
* **CE provider registry** (D.4.b, D.4.c): :func:`import_providers`, :func:`import_roster`,
  :func:`import_leie`, :func:`check` (the LEIE match and the ``ce-provider-eligibility`` calc per
  provider), the review queue (:func:`decide_review`), the status-change flags
  (:func:`resolve_flag`) and the schedule (:func:`due_checks`).
* **Tracked work** (D.2, D.3, D.4.a-d): :func:`open_item`, :func:`update_item`, :func:`close_item`.
* **Panel staffing** (D.4.b): :func:`set_panel_need`, :func:`panel_gap`.

Who acts
--------
An action names an :class:`~cdrflow.dcf.store.Actor` (``--as NAME:ROLE``). ``NAME`` must be an
active person of ``mpr_people``, whose record decides the organisation, and ``ROLE`` must be that
person's role; otherwise :class:`AccessDenied`. The one exception is the ``SYSTEM`` role, which
sets up organisations and people (administration, not M/PR policy), runs the scheduled checks and
the scheduled replacement of the national LEIE.

What each level may see and change (enforced here; every refusal is an :class:`AccessDenied`
naming who, what and why):

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
=========== ===================================== ==========================================================

Nothing here decides policy: eligibility is the calc ``ce-provider-eligibility``
(:mod:`cdrflow.policy.mpr.eligibility`); identities come from :mod:`cdrflow.mpr.matching`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl
from pydantic import ValidationError
from sqlalchemy import func, insert, select, update

from cdrflow.dcf.limits import characters_problem, column_problems, limit, text_problem
from cdrflow.dcf.schema import (
    mpr_checks,
    mpr_flags,
    mpr_imports,
    mpr_items,
    mpr_leie,
    mpr_leie_versions,
    mpr_licenses,
    mpr_orgs,
    mpr_panel_needs,
    mpr_people,
    mpr_providers,
    mpr_review_queue,
)
from cdrflow.dcf.store import ROLES, Actor, ConflictError, NotFound, Store, StoreError, Tx, dumps, now
from cdrflow.engine.csvrows import csv_rows
from cdrflow.mpr.leie import LEIE_COLUMNS, LEIE_SCHEMA, ROW, Reject, read_leie
from cdrflow.mpr.matching import (
    LeieIndex,
    Location,
    MatchResult,
    Provider,
    apply_key,
    match_providers,
    name_key,
)
from cdrflow.mpr.roster import read_roster
from cdrflow.policy.calcs import REGISTRY
from cdrflow.safeio import file_sha256

SOURCE = "PM 00215.001"
CALC = "ce-provider-eligibility"

# ---- levels, roles, kinds -----------------------------------------------------------------------

CO, RO, DDS = "CO", "RO", "DDS"
LEVELS: Final = (CO, RO, DDS)

MPRT, PRC, MPRO, DDS_ADMIN, CMC, EXAMINER = "MPRT", "PRC", "MPRO", "DDS_ADMIN", "CMC", "EXAMINER"
SYSTEM = "SYSTEM"
ROLE_LEVEL: Final = {MPRT: CO, PRC: RO, MPRO: DDS, DDS_ADMIN: DDS, CMC: DDS, EXAMINER: DDS}
"""Each M/PR role and the level it belongs to (A.1-A.3)."""
ROLE_TEXT: Final = {role: ROLES[role] for role in (MPRT, PRC, MPRO, DDS_ADMIN, CMC, EXAMINER)}
"""The M/PR roles as ``cdrflow.dcf.store.ROLES`` describes them (``--as NAME:ROLE``)."""

REGISTRY_ROLES: Final = frozenset({MPRO, DDS_ADMIN})
"""Import, check and change the DDS's providers, licenses and panel needs (D.4.b, D.4.c)."""
REVIEW_ROLES: Final = frozenset({MPRO, DDS_ADMIN, CMC})
"""Decide an ambiguous identity in the review queue."""
FLAG_ROLES: Final = frozenset({MPRO, DDS_ADMIN})
"""Act on a status-change flag: the MPRO must; the DDS Administrator may."""
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
ITEM_ROLES: Final = {DDS: frozenset({MPRO, DDS_ADMIN, CMC, EXAMINER}), RO: frozenset({PRC}), CO: frozenset({MPRT})}

DEFAULT_PERIOD_DAYS = 30
"""Re-check every DDS whose last check is older than this. An operating choice, not policy: PM
00215.001 says "ensure" (D.4.c) and gives no period; the CLI takes ``--period-days``."""

PROVIDER_COLUMNS: Final = (
    "PROVIDER_ID", "KIND", "LAST_NAME", "FIRST_NAME", "MIDDLE_NAME", "BUSINESS_NAME", "NPI", "SPECIALTIES",
    "PANELS", "ADDRESS", "CITY", "STATE", "ZIP", "STATUS",
)
"""The provider import layout (see :func:`import_providers`)."""


class AccessDenied(StoreError):
    """The actor's level or role does not allow this (PM 00215.001A, D.2-D.4)."""


class MprError(StoreError):
    """The action does not apply (unknown code, wrong state, missing data)."""


# ---- who is acting -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Who:
    """The acting person as the M/PR record knows them: their organisation, its level and region."""

    actor: Actor
    role: str
    org_id: int | None
    org_code: str
    level: str
    visible: frozenset[int] | None  # org ids whose data may be read; None: everything (CO, SYSTEM)

    def __str__(self) -> str:
        return f"{self.actor} ({self.org_code})"


def _org_by_code(tx: Tx, code: str) -> dict[str, Any]:
    row = tx.conn.execute(select(mpr_orgs).where(mpr_orgs.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"no M/PR organisation {code!r}")
    return dict(row)


def _org(tx: Tx, org_id: int) -> dict[str, Any]:
    row = tx.conn.execute(select(mpr_orgs).where(mpr_orgs.c.org_id == org_id)).mappings().first()
    if row is None:
        raise NotFound(f"no M/PR organisation {org_id}")
    return dict(row)


def who(tx: Tx, actor: Actor) -> Who:
    """Resolve the actor to their M/PR person record; the role must be the person's role."""
    if actor.role == SYSTEM:
        return Who(actor, SYSTEM, None, "(system)", SYSTEM, None)
    person = tx.conn.execute(select(mpr_people).where(mpr_people.c.name == actor.name)).mappings().first()
    if person is None or not person["active"]:
        raise AccessDenied(f"{actor}: not an active M/PR person; an administrator adds people with "
                           "`cdrflow mpr person add` (PM 00215.001A)")
    if person["role"] != actor.role:
        raise AccessDenied(f"{actor}: {actor.name} is {person['role']} in the M/PR record, not {actor.role}")
    org = _org(tx, person["org_id"])
    visible: frozenset[int] | None
    if org["level"] == CO:
        visible = None
    elif org["level"] == RO:
        kids = tx.conn.execute(select(mpr_orgs.c.org_id).where(mpr_orgs.c.parent_id == org["org_id"])).scalars()
        visible = frozenset({org["org_id"], *kids})
    else:
        visible = frozenset({org["org_id"]})
    return Who(actor, person["role"], org["org_id"], org["code"], org["level"], visible)


def _can_read(w: Who, org_id: int) -> bool:
    return w.visible is None or org_id in w.visible


def _require_read(tx: Tx, w: Who, org_id: int, what: str) -> None:
    if not _can_read(w, org_id):
        code = _org(tx, org_id)["code"]
        scope = {DDS: "a DDS sees only its own providers and work (PM 00215.001D.4)",
                 RO: "an RO sees only the DDSs of its region (PM 00215.001D.3)"}.get(w.level, "")
        raise AccessDenied(f"{w}: may not read {what} of {code}: {scope}")


def _require_dds_role(tx: Tx, w: Who, dds_org_id: int, roles: Iterable[str], what: str) -> None:
    """The actor must be one of ``roles`` of that very DDS (SYSTEM passes only where noted by callers)."""
    roles = frozenset(roles)
    if w.level == DDS and w.org_id == dds_org_id and w.role in roles:
        return
    code = _org(tx, dds_org_id)["code"]
    if w.level == DDS and w.org_id != dds_org_id:
        why = f"{w.org_code} may not change {code}'s registry: a DDS acts on its own providers (PM 00215.001D.4)"
    elif w.level == RO:
        why = ("the RO gives technical direction and reviews (PM 00215.001D.3.b); the CE oversight is the "
               "DDS's (D.4.c)")
    elif w.level == CO:
        why = "CO reads everything and changes only national items (PM 00215.001D.2)"
    else:
        why = f"{what} needs one of {', '.join(sorted(roles))} of {code}"
    raise AccessDenied(f"{w}: may not {what} for {code}: {why}")


def _dds(tx: Tx, code: str) -> dict[str, Any]:
    org = _org_by_code(tx, code)
    if org["level"] != DDS:
        raise MprError(f"{code} is a {org['level']}, not a DDS")
    return org


# ---- organisation and people (A, D.2-D.4) ---------------------------------------------------------

def _storable(values: dict[str, Any], columns: dict[str, Any]) -> None:
    """Refuse, before any statement, a value its column would not take (interpretations §71)."""
    bad = column_problems(values, columns)
    if bad is not None:
        raise MprError(f"{bad[0]}: {bad[1]}")


def add_org(store: Store, actor: Actor, *, level: str, code: str, name: str, parent: str | None = None) -> int:
    """Add a CO, RO or DDS (A.1-A.3). A DDS's parent is its RO, an RO's parent is the CO. SYSTEM only."""
    level = level.upper()
    if level not in LEVELS:
        raise MprError(f"level: one of {', '.join(LEVELS)}, got {level!r}")
    _storable({"code": code, "name": name, "parent": parent},
              {"code": mpr_orgs.c.code, "name": mpr_orgs.c.name, "parent": mpr_orgs.c.code})
    with store.tx() as tx:
        w = who(tx, actor)
        if w.role != SYSTEM:
            raise AccessDenied(f"{w}: organisations are set up by an administrator (--as NAME:SYSTEM)")
        want = {CO: None, RO: CO, DDS: RO}[level]
        parent_id = None
        if want is None:
            if parent is not None:
                raise MprError("the CO has no parent")
        else:
            if parent is None:
                raise MprError(f"parent: a {level} needs its {want} (PM 00215.001A)")
            p = _org_by_code(tx, parent)
            if p["level"] != want:
                raise MprError(f"parent: a {level}'s parent is a {want}; {parent} is a {p['level']}")
            parent_id = p["org_id"]
        if tx.conn.execute(select(mpr_orgs.c.org_id).where(mpr_orgs.c.code == code)).first() is not None:
            raise ConflictError(f"organisation {code} already exists")
        return int(tx.conn.execute(insert(mpr_orgs).values(level=level, code=code, name=name, parent_id=parent_id)
                                   .returning(mpr_orgs.c.org_id)).scalar_one())


def add_person(store: Store, actor: Actor, *, org: str, name: str, role: str) -> int:
    """Add a person with their M/PR role at their level (A). SYSTEM, or a DDS_ADMIN for their own DDS."""
    role = role.upper()
    if role not in ROLE_LEVEL:
        raise MprError(f"role: one of {', '.join(ROLE_LEVEL)}, got {role!r}")
    _storable({"org": org, "name": name}, {"org": mpr_orgs.c.code, "name": mpr_people.c.name})
    with store.tx() as tx:
        w = who(tx, actor)
        o = _org_by_code(tx, org)
        if not (w.role == SYSTEM or (w.role == DDS_ADMIN and w.org_id == o["org_id"])):
            raise AccessDenied(f"{w}: may not add people to {org}: an administrator (SYSTEM) or the DDS "
                               "Administrator of that DDS does")
        if ROLE_LEVEL[role] != o["level"]:
            raise MprError(f"role: {role} is a {ROLE_LEVEL[role]} role ({ROLE_TEXT[role]}); {org} is a {o['level']}")
        if tx.conn.execute(select(mpr_people.c.person_id).where(mpr_people.c.name == name)).first() is not None:
            raise ConflictError(f"person {name!r} already exists")
        return int(tx.conn.execute(insert(mpr_people).values(org_id=o["org_id"], name=name, role=role, active=True)
                                   .returning(mpr_people.c.person_id)).scalar_one())


def orgs(store: Store) -> list[dict[str, Any]]:
    """Every organisation with its parent's code (the structure is not confidential)."""
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(select(mpr_orgs).order_by(mpr_orgs.c.code)).mappings()]
    codes = {r["org_id"]: r["code"] for r in rows}
    return [{**r, "parent": codes.get(r["parent_id"])} for r in rows]


# ---- files ---------------------------------------------------------------------------------------

def _record_import(tx: Tx, w: Who, kind: str, org_id: int | None, path: Path, sha: str, counts: dict[str, Any],
                   file_date: dt.date | None = None) -> int:
    return int(tx.conn.execute(insert(mpr_imports).values(
        kind=kind, org_id=org_id, file_name=Path(path).name, file_sha256=sha, file_date=file_date,
        counts=dumps(counts), actor=w.actor.name, actor_role=w.actor.role, at=now(),
    ).returning(mpr_imports.c.import_id)).scalar_one())


@dataclass
class ImportResult:
    """What an import did; ``read == accepted + len(rejects)``."""

    read: int = 0
    accepted: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rejects: list[Reject] = field(default_factory=list)
    import_id: int | None = None

    def reconciles(self) -> bool:
        """No row was lost."""
        return self.read == self.accepted + len(self.rejects)


# ---- providers (D.4.b, D.4.c) --------------------------------------------------------------------

def _split(cell: str | None) -> list[str]:
    return [p.strip() for p in (cell or "").split(";") if p.strip()]


PROVIDER_STORED_AS: Final = {"PROVIDER_ID": "ext_id", "LAST_NAME": "last_name", "FIRST_NAME": "first_name",
                              "MIDDLE_NAME": "middle_name", "BUSINESS_NAME": "business_name", "NPI": "npi"}
"""The ``mpr_providers`` column each one-line cell of the provider file is stored in (the lists and the
location go into JSON columns, which take any length)."""


def _provider_cell_problem(raw: dict[str, str | None]) -> tuple[str, str] | None:
    """The first cell the DCF would not take: a control character, bytes that were not UTF-8 (U+FFFD), or
    more characters than its ``mpr_providers`` column keeps (:mod:`cdrflow.dcf.limits`)."""
    for name, value in raw.items():
        if value is None:
            continue
        if "\ufffd" in value:
            return name, "holds bytes that are not valid UTF-8"
        column = PROVIDER_STORED_AS.get(name)
        why = (text_problem(value, limit(mpr_providers.c[column])) if column is not None
               else characters_problem(value, single_line=True))
        if why is not None:
            return name, why
    return None


def read_providers(path: Path) -> tuple[list[dict[str, Any]], list[Reject], int]:
    """Read a provider CSV (layout in :func:`import_providers`): providers by PROVIDER_ID, rejects, rows read."""
    rejects: list[Reject] = []
    providers: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    read = 0
    with csv_rows(Path(path), MprError) as (header, reader):  # a bad byte: U+FFFD, a reject
        header = [h.strip().upper() for h in header]
        missing = [c for c in PROVIDER_COLUMNS if c not in header]
        unknown = [c for c in header if c not in PROVIDER_COLUMNS]
        if missing or unknown:
            raise MprError(f"{Path(path).name}: not the provider layout: missing {', '.join(missing) or 'none'}; "
                           f"unknown {', '.join(unknown) or 'none'}")
        for r in reader:
            read = r.row
            raw: dict[str, str | None] = dict(zip(header, (c.strip() or None for c in r.cells), strict=False))
            if r.problem is not None:
                rejects.append(Reject(read, r.line, "_row", r.problem, raw))
                continue
            bad = _provider_cell_problem(raw)
            if bad is not None:
                rejects.append(Reject(read, r.line, bad[0], bad[1], raw))
                continue
            pid = raw["PROVIDER_ID"]
            if not pid:
                rejects.append(Reject(read, r.line, "PROVIDER_ID", "required", raw))
                continue
            status = (raw["STATUS"] or "ACTIVE").upper()
            if status not in ("ACTIVE", "INACTIVE"):
                rejects.append(Reject(read, r.line, "STATUS", f"ACTIVE or INACTIVE, got {status!r}", raw))
                continue
            try:
                loc = Location(address=raw["ADDRESS"], city=raw["CITY"], state=(raw["STATE"] or "").upper(),
                               zip=raw["ZIP"])
                facts = {"kind": (raw["KIND"] or "").upper(), "last_name": raw["LAST_NAME"],
                         "first_name": raw["FIRST_NAME"], "middle_name": raw["MIDDLE_NAME"],
                         "business_name": raw["BUSINESS_NAME"], "npi": raw["NPI"],
                         "specialties": _split(raw["SPECIALTIES"]), "panels": _split(raw["PANELS"])}
                Provider(provider_id=pid, locations=[loc], **facts)
            except ValidationError as exc:
                e = exc.errors()[0]
                name = str(e["loc"][0]).upper() if e["loc"] else "_row"
                rejects.append(Reject(read, r.line, name, e["msg"], raw))
                continue
            seen = providers.get(pid)
            if seen is None:
                providers[pid] = {**facts, "status": status, "locations": [loc.model_dump()]}
                first_row[pid] = read
                continue
            differs = [k for k in (*facts, "status") if (seen[k] if k != "status" else seen["status"])
                       != (facts[k] if k != "status" else status)]
            if differs:
                rejects.append(Reject(read, r.line, differs[0].upper(),
                                      f"provider {pid} is on row {first_row[pid]} with another {differs[0]}; a "
                                      "repeated PROVIDER_ID only adds a location", raw))
                continue
            if loc.model_dump() not in seen["locations"]:
                seen["locations"].append(loc.model_dump())
    return [{"ext_id": k, **v} for k, v in providers.items()], rejects, read


def import_providers(store: Store, actor: Actor, path: Path, *, dds: str | None = None) -> ImportResult:
    """Import a DDS's CE providers (D.4.b recruitment, D.4.c oversight) from a CSV file.

    Layout (UTF-8, header row, columns in any order; ``;`` separates list values)::

        PROVIDER_ID   the DDS's own id of the provider (required; unique within the DDS)
        KIND          PERSON or PRACTICE
        LAST_NAME, FIRST_NAME, MIDDLE_NAME   a PERSON's name (last and first required)
        BUSINESS_NAME a PRACTICE's name (required for a practice)
        NPI           10 digits with a valid check digit, or empty where not known
        SPECIALTIES   e.g. "PSYCHOLOGY;PEDIATRICS"
        PANELS        the DDS panel areas the provider serves, e.g. "CENTRAL;NORTHEAST"
        ADDRESS, CITY, STATE, ZIP            one location (STATE required: two letters)
        STATUS        ACTIVE (default when empty) or INACTIVE

    A provider with several locations has one row per location with the same PROVIDER_ID and the
    same other fields (a row that differs is rejected, naming the first row). New providers are
    inserted, changed ones updated (``version`` + 1), identical ones left alone, so re-importing a
    file changes nothing. Every row is accepted or rejected with its row, line, field and reason.
    """
    path = Path(path)
    rows, rejects, read = read_providers(path)
    sha = file_sha256(path)
    res = ImportResult(read=read, accepted=read - len(rejects), rejects=rejects)
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    with store.tx() as tx:
        w = who(tx, actor)
        org = _dds(tx, dds) if dds else (_org(tx, w.org_id) if w.org_id else None)
        if org is None or org["level"] != DDS:
            raise MprError("--dds: name the DDS whose providers these are")
        _require_dds_role(tx, w, org["org_id"], REGISTRY_ROLES, "import providers")
        existing = {r["ext_id"]: dict(r) for r in tx.conn.execute(
            select(mpr_providers).where(mpr_providers.c.dds_org_id == org["org_id"])).mappings()}
        stamp = now()
        for p in rows:
            values = {"kind": p["kind"], "last_name": p["last_name"], "first_name": p["first_name"],
                      "middle_name": p["middle_name"], "business_name": p["business_name"], "npi": p["npi"],
                      "specialties": dumps(p["specialties"]), "locations": dumps(p["locations"]),
                      "panels": dumps(p["panels"]), "status": p["status"]}
            old = existing.get(p["ext_id"])
            if old is None:
                tx.conn.execute(insert(mpr_providers).values(dds_org_id=org["org_id"], ext_id=p["ext_id"], version=1,
                                                             updated_by=str(actor), updated_at=stamp, **values))
                counts["inserted"] += 1
            elif any(old[k] != v for k, v in values.items()):
                tx.conn.execute(update(mpr_providers).where(mpr_providers.c.provider_id == old["provider_id"])
                                .values(version=old["version"] + 1, updated_by=str(actor), updated_at=stamp, **values))
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        res.counts = counts
        res.import_id = _record_import(tx, w, "PROVIDERS", org["org_id"], path, sha,
                                       {**counts, "read": read, "rejected": len(rejects)})
    return res


def _provider_model(row: dict[str, Any]) -> Provider:
    return Provider(provider_id=str(row["provider_id"]), kind=row["kind"], last_name=row["last_name"],
                    first_name=row["first_name"], middle_name=row["middle_name"],
                    business_name=row["business_name"], npi=row["npi"], specialties=json.loads(row["specialties"]),
                    locations=[Location(**loc) for loc in json.loads(row["locations"])],
                    panels=json.loads(row["panels"]))


def _provider_row(tx: Tx, provider_id: int) -> dict[str, Any]:
    row = tx.conn.execute(select(mpr_providers).where(mpr_providers.c.provider_id == provider_id)).mappings().first()
    if row is None:
        raise NotFound(f"no CE provider {provider_id}")
    return dict(row)


def _display(row: dict[str, Any]) -> str:
    if row["kind"] == "PRACTICE":
        return str(row["business_name"])
    return " ".join(p for p in (row["first_name"], row["middle_name"], row["last_name"]) if p)


def providers(store: Store, actor: Actor, *, dds: str | None = None) -> list[dict[str, Any]]:
    """The providers the actor may see (their DDS; an RO's region; CO all), with the latest eligibility."""
    with store.read() as tx:
        w = who(tx, actor)
        stmt = select(mpr_providers, mpr_orgs.c.code.label("dds")).join(
            mpr_orgs, mpr_orgs.c.org_id == mpr_providers.c.dds_org_id)
        if dds is not None:
            org = _dds(tx, dds)
            _require_read(tx, w, org["org_id"], "the providers")
            stmt = stmt.where(mpr_providers.c.dds_org_id == org["org_id"])
        elif w.visible is not None:
            stmt = stmt.where(mpr_providers.c.dds_org_id.in_(sorted(w.visible)))
        rows = [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_providers.c.provider_id)).mappings()]
        latest = _latest_eligibility(tx, [r["provider_id"] for r in rows])
    for r in rows:
        r["name"] = _display(r)
        for k in ("specialties", "locations", "panels"):
            r[k] = json.loads(r[k])
        r["eligible"] = latest.get(r["provider_id"], {}).get("eligible")
        r["checked_as_of"] = latest.get(r["provider_id"], {}).get("as_of")
    return rows


def provider(store: Store, actor: Actor, provider_id: int) -> dict[str, Any]:
    """One provider with its licenses, checks, flags and queue entries (if the actor may see it)."""
    with store.read() as tx:
        w = who(tx, actor)
        row = _provider_row(tx, provider_id)
        _require_read(tx, w, row["dds_org_id"], f"provider {provider_id}")
        row["name"] = _display(row)
        for k in ("specialties", "locations", "panels"):
            row[k] = json.loads(row[k])
        row["licenses"] = [dict(r) for r in tx.conn.execute(
            select(mpr_licenses).where(mpr_licenses.c.provider_id == provider_id)
            .order_by(mpr_licenses.c.state, mpr_licenses.c.number)).mappings()]
        row["checks"] = [{**dict(r), "result": json.loads(r["result"])} for r in tx.conn.execute(
            select(mpr_checks).where(mpr_checks.c.provider_id == provider_id)
            .order_by(mpr_checks.c.check_id)).mappings()]
        row["flags"] = [dict(r) for r in tx.conn.execute(
            select(mpr_flags).where(mpr_flags.c.provider_id == provider_id).order_by(mpr_flags.c.flag_id)).mappings()]
    return row


def set_provider_status(store: Store, actor: Actor, provider_id: int, status: str, *,
                        expected_version: int | None = None) -> int:
    """ACTIVE or INACTIVE (stop using a source, D.4.c); the DDS's MPRO or Administrator. Returns the version."""
    status = status.upper()
    if status not in ("ACTIVE", "INACTIVE"):
        raise MprError(f"status: ACTIVE or INACTIVE, got {status!r}")
    with store.tx() as tx:
        w = who(tx, actor)
        row = _provider_row(tx, provider_id)
        _require_dds_role(tx, w, row["dds_org_id"], REGISTRY_ROLES, f"change provider {provider_id}")
        version = row["version"] if expected_version is None else expected_version
        n = tx.conn.execute(update(mpr_providers).where(mpr_providers.c.provider_id == provider_id,
                                                        mpr_providers.c.version == version)
                            .values(status=status, version=version + 1, updated_by=str(actor),
                                    updated_at=now())).rowcount
        if n != 1:
            raise ConflictError(f"provider {provider_id} changed since you read it (version {version}; it is "
                                f"{row['version']}, last by {row['updated_by']})")
        return version + 1


# ---- the license roster (D.4.c: currently licensed) -------------------------------------------------

def import_roster(store: Store, actor: Actor, path: Path, *, dds: str | None = None) -> ImportResult:
    """Import a state license roster (``docs/mpr-formats.md``) for a DDS and link licenses to its providers.

    Every accepted row is stored for the DDS (new ones inserted, changed ones updated; key STATE +
    LICENSE_NUMBER per DDS). A license not yet linked is linked to one of the DDS's PERSON
    providers:

    1. by NPI: the roster's NPI is a provider's NPI (exact);
    2. else by name and state: the same normalized last and first name (the matcher's
       :func:`~cdrflow.mpr.matching.name_key`) and a location in the licensing state. One such
       provider links; several are queued for a person (``LICENSE_LINK``), who picks one or none;
       none leaves the license unlinked (a roster lists the whole state).

    A link once made (by NPI, name or a person) is kept on later imports.
    """
    path = Path(path)
    rr = read_roster(path)
    sha = file_sha256(path)
    res = ImportResult(read=rr.read, accepted=rr.accepted, rejects=list(rr.rejects))
    counts = {"inserted": 0, "updated": 0, "unchanged": 0, "linked_npi": 0, "linked_name": 0, "queued": 0,
              "unlinked": 0}
    with store.tx() as tx:
        w = who(tx, actor)
        org = _dds(tx, dds) if dds else (_org(tx, w.org_id) if w.org_id else None)
        if org is None or org["level"] != DDS:
            raise MprError("--dds: name the DDS whose providers the roster is for")
        dds_id = org["org_id"]
        _require_dds_role(tx, w, dds_id, REGISTRY_ROLES, "import a license roster")
        existing = {(r["state"], r["number"]): dict(r) for r in tx.conn.execute(
            select(mpr_licenses).where(mpr_licenses.c.dds_org_id == dds_id)).mappings()}
        stamp = now()
        for r in rr.frame.iter_rows(named=True):
            values = {"last_name": r["LAST_NAME"], "first_name": r["FIRST_NAME"], "middle_name": r["MIDDLE_NAME"],
                      "npi": r["NPI"], "profession": r["PROFESSION"], "status": r["STATUS"], "issued": r["ISSUED"],
                      "expires": r["EXPIRES"], "city": r["CITY"], "zip": r["ZIP"]}
            old = existing.get((r["STATE"], r["LICENSE_NUMBER"]))
            if old is None:
                tx.conn.execute(insert(mpr_licenses).values(dds_org_id=dds_id, state=r["STATE"],
                                                            number=r["LICENSE_NUMBER"], updated_at=stamp, **values))
                counts["inserted"] += 1
            elif any(old[k] != v for k, v in values.items()):
                tx.conn.execute(update(mpr_licenses).where(mpr_licenses.c.license_id == old["license_id"])
                                .values(updated_at=stamp, **values))
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        for k, v in _link_licenses(tx, dds_id).items():
            counts[k] += v
        res.counts = counts
        res.import_id = _record_import(tx, w, "ROSTER", dds_id, path, sha,
                                       {**counts, "read": rr.read, "rejected": len(rr.rejects)})
    return res


def _link_licenses(tx: Tx, dds_id: int) -> dict[str, int]:
    counts = {"linked_npi": 0, "linked_name": 0, "queued": 0, "unlinked": 0}
    people = [dict(r) for r in tx.conn.execute(select(mpr_providers).where(
        mpr_providers.c.dds_org_id == dds_id, mpr_providers.c.kind == "PERSON")).mappings()]
    by_npi: dict[str, list[dict[str, Any]]] = {}
    by_name: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
    lasts = apply_key(name_key, [p["last_name"] for p in people])
    firsts = apply_key(name_key, [p["first_name"] for p in people])
    for p, last, first in zip(people, lasts, firsts, strict=True):
        if p["npi"]:
            by_npi.setdefault(p["npi"], []).append(p)
        by_name.setdefault((last, first), []).append(p)
    open_ = [dict(r) for r in tx.conn.execute(select(mpr_licenses).where(
        mpr_licenses.c.dds_org_id == dds_id, mpr_licenses.c.provider_id.is_(None))).mappings()]
    l_last = apply_key(name_key, [lic["last_name"] for lic in open_])
    l_first = apply_key(name_key, [lic["first_name"] for lic in open_])
    decided = {r["license_id"] for r in tx.conn.execute(
        select(mpr_review_queue.c.license_id).where(mpr_review_queue.c.kind == "LICENSE_LINK",
                                                    mpr_review_queue.c.dds_org_id == dds_id)).mappings()}
    for lic, last, first in zip(open_, l_last, l_first, strict=True):
        if lic["license_id"] in decided:
            continue  # asked once already: a person answers (or has answered) it
        hits = by_npi.get(lic["npi"], []) if lic["npi"] else []
        how = "NPI"
        if not hits:
            how = "NAME_STATE"
            hits = [p for p in by_name.get((last, first), [])
                    if (not lic["npi"] or not p["npi"])  # another NPI is another person
                    and any(loc["state"] == lic["state"] for loc in json.loads(p["locations"]))]
        if len(hits) == 1:
            tx.conn.execute(update(mpr_licenses).where(mpr_licenses.c.license_id == lic["license_id"])
                            .values(provider_id=hits[0]["provider_id"], link=how))
            counts["linked_npi" if how == "NPI" else "linked_name"] += 1
        elif hits:
            cands = [{"provider_id": p["provider_id"], "name": _display(p), "npi": p["npi"],
                      "locations": json.loads(p["locations"])} for p in hits]
            tx.conn.execute(insert(mpr_review_queue).values(
                kind="LICENSE_LINK", dds_org_id=dds_id, license_id=lic["license_id"],
                question=(f"license {lic['state']} {lic['number']} ({lic['first_name']} {lic['last_name']}, "
                          f"{lic['profession']}): {len(hits)} providers match by {how}; confirm which one "
                          "holds it, or dismiss"),
                candidates=dumps(cands), qkey=f"LICENSE:{lic['license_id']}", state="OPEN", opened_at=now()))
            counts["queued"] += 1
        else:
            counts["unlinked"] += 1
    return counts


# ---- the LEIE (D.4.c: without federal sanction) -----------------------------------------------------

_LEIE_COLS: Final = {c: c.lower() for c in LEIE_COLUMNS}


LEIE_ROLES: Final = frozenset({MPRT, SYSTEM})
"""Who replaces or restores the national LEIE: the CO MPRT (D.2) or the scheduled job (SYSTEM). A DDS ensures
its own sources against the list (D.4.c) but does not change what every other state checks against."""
LEIE_SHRINK_PARAMETER = "leie_min_share_of_list_in_force"


class LeieRefused(MprError):
    """The new list is empty, all rejected, or much smaller than the one in force, and was not confirmed."""


def leie_min_share(on: dt.date) -> float:
    """The parameter :data:`LEIE_SHRINK_PARAMETER` in force on ``on`` (docs/interpretations.md#leie-replacement)."""
    from cdrflow.policy.mpr.eligibility import parameters

    return float(parameters()[LEIE_SHRINK_PARAMETER].at(on).value)


def _require_leie_role(w: Who, what: str) -> None:
    if w.role not in LEIE_ROLES:
        raise AccessDenied(f"{w}: may not {what}: the LEIE is national data, replaced only by the CO MPRT or the "
                           "scheduled job (SYSTEM); a DDS checks its own sources against it (PM 00215.001D.2, "
                           "D.4.c)")


def _shrink(read: int, accepted: int, in_force: int | None, share: float) -> str | None:
    """Why the new list needs a confirmation, or None."""
    if read == 0:
        return "the file has no entries"
    if accepted == 0:
        return f"every one of its {read:,} rows was rejected"
    if in_force and accepted < share * in_force:
        return (f"it has {accepted:,} accepted entries, {accepted / in_force:.1%} of the {in_force:,} in force "
                f"(less than {share:.0%}, parameter {LEIE_SHRINK_PARAMETER})")
    return None


def import_leie(store: Store, actor: Actor, path: Path, *, file_date: dt.date | None = None,
                confirm_smaller: bool = False, reason: str | None = None) -> ImportResult:
    """Store the OIG LEIE (``docs/mpr-formats.md``) as a new version of the national list, with its date and hash.

    The list is national: only the CO MPRT or the scheduled job (SYSTEM) replaces it (:data:`LEIE_ROLES`).
    An empty file, one whose rows are all rejected, or a list with fewer accepted entries than
    :func:`leie_min_share` of the list in force is refused (:class:`LeieRefused`, nothing changes) unless
    ``confirm_smaller`` with a ``reason``, which the version records. Every earlier list is kept
    (:func:`leie_history`, :func:`restore_leie`). Importing the file that is already in force changes nothing.
    """
    path = Path(path)
    with store.read() as tx:
        w = who(tx, actor)
    _require_leie_role(w, "replace the national LEIE")
    reason = (reason or "").strip() or None
    if confirm_smaller and reason is None:
        raise MprError("--confirm-smaller needs --reason TEXT: why this smaller list is the right one (recorded)")
    sha = file_sha256(path)
    rr = read_leie(path)
    res = ImportResult(read=rr.read, accepted=rr.accepted, rejects=list(rr.rejects))
    with store.tx() as tx:
        current = _current_leie_import(tx)
        if current is not None and current["file_sha256"] == sha:
            res.counts = {"unchanged": rr.accepted}
            res.import_id = current["import_id"]
            return res
        in_force = current["entries"] if current is not None else None
        problem = _shrink(rr.read, rr.accepted, in_force, leie_min_share(dt.date.today()))
        if problem is not None and not confirm_smaller:
            raise LeieRefused(f"{path.name}: not stored, the list in force stays: {problem}. If this list is right, "
                              "import it again with --confirm-smaller --reason TEXT (PM 00215.001D.2, D.4.c; "
                              "docs/interpretations.md#leie-replacement)")
        iid = _record_import(tx, w, "LEIE", None, path, sha, {"read": rr.read, "accepted": rr.accepted,
                                                               "rejected": len(rr.rejects)}, file_date)
        cols = ["import_id", "row_no", *_LEIE_COLS.values()]
        rows = [{"import_id": iid, "row_no": r[ROW], **{v: r[k] for k, v in _LEIE_COLS.items()}}
                for r in rr.frame.iter_rows(named=True)]
        if rows:
            tx.insert_rows(mpr_leie, cols, rows)
        vid = _new_version(tx, w, iid, "IMPORT", len(rows), current, confirmed=problem is not None, reason=reason)
        res.counts = {"stored": len(rows), "version": vid}
        if problem is not None:
            res.counts["confirmed_smaller"] = 1
        res.import_id = iid
    return res


def _new_version(tx: Tx, w: Who, import_id: int, action: str, entries: int, current: dict[str, Any] | None, *,
                 confirmed: bool, reason: str | None) -> int:
    return int(tx.conn.execute(insert(mpr_leie_versions).values(
        import_id=import_id, action=action, entries=entries,
        previous_import_id=current["import_id"] if current is not None else None,
        previous_entries=current["entries"] if current is not None else None,
        confirmed_smaller=confirmed, reason=reason, actor=w.actor.name, actor_role=w.actor.role, at=now(),
    ).returning(mpr_leie_versions.c.version_id)).scalar_one())


def _current_leie_import(tx: Tx) -> dict[str, Any] | None:
    """The import in force (the latest version's), with ``entries`` and ``version_id``; None before any."""
    row = tx.conn.execute(
        select(mpr_imports, mpr_leie_versions.c.version_id, mpr_leie_versions.c.entries)
        .join(mpr_leie_versions, mpr_leie_versions.c.import_id == mpr_imports.c.import_id)
        .order_by(mpr_leie_versions.c.version_id.desc()).limit(1)).mappings().first()
    return dict(row) if row is not None else None


def leie_history(store: Store) -> list[dict[str, Any]]:
    """Every version of the national LEIE, newest first: the list (file, date, hash), who put it in force, why.

    The LEIE is public data; its history is not confidential.
    """
    with store.read() as tx:
        rows = [dict(r) for r in tx.conn.execute(
            select(mpr_leie_versions, mpr_imports.c.file_name, mpr_imports.c.file_date, mpr_imports.c.file_sha256,
                   mpr_imports.c.counts)
            .join(mpr_imports, mpr_imports.c.import_id == mpr_leie_versions.c.import_id)
            .order_by(mpr_leie_versions.c.version_id.desc())).mappings()]
    for i, r in enumerate(rows):
        r["in_force"] = i == 0
        r["counts"] = json.loads(r["counts"]) if r["counts"] else None
    return rows


def restore_leie(store: Store, actor: Actor, version_id: int, *, reason: str) -> int:
    """Put the list of an earlier version back in force (a new RESTORE version); returns its id.

    CO MPRT or SYSTEM only, with a reason. The rows are those stored with that import, unchanged.
    """
    reason = (reason or "").strip()
    with store.tx() as tx:
        w = who(tx, actor)
        _require_leie_role(w, "restore a national LEIE")
        if not reason:
            raise MprError("--reason TEXT: why the earlier list is put back (recorded)")
        target = tx.conn.execute(select(mpr_leie_versions).where(mpr_leie_versions.c.version_id == version_id)) \
            .mappings().first()
        if target is None:
            raise NotFound(f"no LEIE version {version_id}: `cdrflow mpr leie history` lists them")
        current = _current_leie_import(tx)
        if current is not None and current["import_id"] == target["import_id"]:
            raise MprError(f"LEIE version {version_id}'s list (import {target['import_id']}) is already in force")
        entries = int(tx.conn.execute(select(func.count()).select_from(mpr_leie)
                                      .where(mpr_leie.c.import_id == target["import_id"])).scalar_one())
        in_force = current["entries"] if current is not None else None
        smaller = _shrink(entries, entries, in_force, leie_min_share(dt.date.today())) is not None
        return _new_version(tx, w, target["import_id"], "RESTORE", entries, current, confirmed=smaller, reason=reason)


def _leie_index(tx: Tx) -> tuple[LeieIndex, dict[str, Any]]:
    imp = _current_leie_import(tx)
    if imp is None:
        raise MprError("no LEIE imported yet: run `cdrflow mpr import leie FILE` first (PM 00215.001D.4.c)")
    rows = tx.conn.execute(select(mpr_leie).where(mpr_leie.c.import_id == imp["import_id"])
                           .order_by(mpr_leie.c.row_no)).mappings().all()
    data: dict[str, list[Any]] = {ROW: [r["row_no"] for r in rows]}
    for k, v in _LEIE_COLS.items():
        data[k] = [r[v] for r in rows]
    frame = pl.DataFrame(data, schema=LEIE_SCHEMA)
    return LeieIndex.from_frame(frame), imp


# ---- the check (D.4.c) -------------------------------------------------------------------------------

@dataclass
class CheckRun:
    """What one check of a DDS did."""

    dds: str
    as_of: dt.date
    providers: int = 0
    new_checks: int = 0
    eligible: int = 0
    not_eligible: int = 0
    undecided: int = 0
    queued: int = 0
    flags: list[int] = field(default_factory=list)


def _hash(obj: Any) -> str:
    return hashlib.sha256(dumps(obj).encode()).hexdigest()[:24]


def _candidate_key(result: MatchResult) -> str:
    ident = sorted((c.listed_name, c.npi or "", c.excl_type, str(c.excl_date), str(c.rein_date),
                    str(c.waiver_date), c.waiver_state or "", c.sanction) for c in result.candidates)
    return _hash(ident)


def _latest_eligibility(tx: Tx, provider_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    if not provider_ids:
        return {}
    last = (select(mpr_checks.c.provider_id, func.max(mpr_checks.c.check_id).label("cid"))
            .where(mpr_checks.c.kind == "ELIGIBILITY", mpr_checks.c.provider_id.in_(list(provider_ids)))
            .group_by(mpr_checks.c.provider_id).subquery())
    rows = tx.conn.execute(select(mpr_checks).join(last, mpr_checks.c.check_id == last.c.cid)).mappings()
    return {r["provider_id"]: dict(r) for r in rows}


def _previous_decided(tx: Tx, provider_id: int) -> bool | None:
    row = tx.conn.execute(select(mpr_checks.c.eligible).where(
        mpr_checks.c.provider_id == provider_id, mpr_checks.c.kind == "ELIGIBILITY",
        mpr_checks.c.eligible.is_not(None)).order_by(mpr_checks.c.check_id.desc()).limit(1)).first()
    return None if row is None else bool(row[0])


def _insert_check(tx: Tx, w: Who, row: dict[str, Any], kind: str, as_of: dt.date, inputs: Any, result: Any,
                  *, federal_sanction: bool | None, eligible: bool | None = None) -> int | None:
    """Append a check unless the same one (provider, kind, as_of, inputs) is on file: then None."""
    key = f"{row['provider_id']}:{kind}:{as_of.isoformat()}:{_hash(inputs)}"
    if tx.conn.execute(select(mpr_checks.c.check_id).where(mpr_checks.c.idem_key == key)).first() is not None:
        return None
    return tx.insert_chained(mpr_checks, [dict(  # linked to the checks' hash chain at commit (cdrflow.dcf.chain)
        provider_id=row["provider_id"], dds_org_id=row["dds_org_id"], as_of=as_of, kind=kind,
        result=dumps(result), federal_sanction=federal_sanction, eligible=eligible, idem_key=key,
        actor=w.actor.name, actor_role=w.actor.role, at=now())])[0]


def check(store: Store, actor: Actor, dds: str, as_of: dt.date) -> CheckRun:
    """Check every ACTIVE provider of a DDS on ``as_of``: "Ensure sources are currently licensed and
    without federal sanction" (PM 00215.001D.4.c).

    Per provider, in one transaction for the DDS:

    1. **LEIE** (:func:`cdrflow.mpr.matching.match_providers` on the stored list). When the matcher
       leaves ``federal_sanction`` undecided (an unconfirmed identity or a waiver), the question
       goes to the review queue (``LEIE_MATCH``), keyed by the provider and the candidates; a
       person's answer decides it on later checks: CONFIRMED (the entry is this provider and the
       sanction stands) gives ``True``, DISMISSED (not this provider, or the waiver covers the
       work) gives ``False``. A changed candidate set asks again.
    2. **ELIGIBILITY**: the licenses that count are those linked to the provider in a state where
       the provider has a location (a CE is performed at a location, so that state's license is the
       one in question). The calc ``ce-provider-eligibility`` runs on each; the provider is
       eligible when at least one is. No such license: not eligible ("not currently licensed" cannot
       be ensured). While the sanction question is open the answer is undecided (``eligible``
       null), never guessed.
    3. **Flag**: when the decided answer differs from the provider's previous decided answer (or a
       first check finds the provider not eligible), a flag is opened for the DDS's MPRO, who must
       act.

    Each check row's ``idem_key`` holds a hash of its inputs, so re-running a check on the same
    ``as_of`` with the same data adds nothing. INACTIVE providers are not checked (not in use).
    """
    with store.tx() as tx:
        w = who(tx, actor)
        org = _dds(tx, dds)
        if w.role != SYSTEM:
            _require_dds_role(tx, w, org["org_id"], REGISTRY_ROLES, "run the CE provider check")
        index, imp = _leie_index(tx)
        rows = [dict(r) for r in tx.conn.execute(select(mpr_providers).where(
            mpr_providers.c.dds_org_id == org["org_id"], mpr_providers.c.status == "ACTIVE")
            .order_by(mpr_providers.c.provider_id)).mappings()]
        run = CheckRun(dds=dds, as_of=as_of, providers=len(rows))
        models = [_provider_model(r) for r in rows]
        results = match_providers(models, index, as_of).results
        mpro = tx.conn.execute(select(mpr_people.c.name).where(
            mpr_people.c.org_id == org["org_id"], mpr_people.c.role == MPRO, mpr_people.c.active.is_(True))
            .order_by(mpr_people.c.person_id).limit(1)).scalar()
        for row, model, res in zip(rows, models, results, strict=True):
            _check_one(tx, w, row, model, res, as_of, imp, mpro, run)
    return run


def _check_one(tx: Tx, w: Who, row: dict[str, Any], model: Provider, res: MatchResult, as_of: dt.date,
               imp: dict[str, Any], mpro: str | None, run: CheckRun) -> None:
    sanction = res.federal_sanction
    review: dict[str, Any] | None = None
    qkey = None
    if sanction is None:
        qkey = f"LEIE:{row['provider_id']}:{_candidate_key(res)}"
        q = tx.conn.execute(select(mpr_review_queue).where(mpr_review_queue.c.qkey == qkey)).mappings().first()
        if q is not None and q["state"] != "OPEN":
            sanction = q["state"] == "CONFIRMED"
            review = {"queue_id": q["queue_id"], "state": q["state"], "decided_by": q["decided_by"],
                      "rationale": q["rationale"]}
    facts = model.model_dump(mode="json", exclude={"provider_id"})
    leie_inputs = {"leie": imp["file_sha256"], "provider": facts, "review": review}
    leie_result = {**res.model_dump(mode="json"), "leie_import": imp["import_id"], "leie_file": imp["file_name"],
                   "leie_date": str(imp["file_date"]) if imp["file_date"] else None, "review_decision": review}
    leie_check = _insert_check(tx, w, row, "LEIE", as_of, leie_inputs, leie_result, federal_sanction=sanction)
    if sanction is None and qkey is not None:
        exists = tx.conn.execute(select(mpr_review_queue.c.queue_id).where(mpr_review_queue.c.qkey == qkey)).first()
        if exists is None:
            tx.conn.execute(insert(mpr_review_queue).values(
                kind="LEIE_MATCH", dds_org_id=row["dds_org_id"], provider_id=row["provider_id"], check_id=leie_check,
                question=f"{res.provider_name}: " + "; ".join(res.review),
                candidates=dumps([c.model_dump(mode="json") for c in res.candidates]), qkey=qkey, state="OPEN",
                opened_at=now()))
            run.queued += 1

    states = {loc.state for loc in model.locations}
    lics = [dict(r) for r in tx.conn.execute(select(mpr_licenses).where(
        mpr_licenses.c.provider_id == row["provider_id"]).order_by(mpr_licenses.c.state, mpr_licenses.c.number))
        .mappings()]
    counted = [lic for lic in lics if lic["state"] in states]
    cite = "PM 00215.001D.4.c"
    answers: list[dict[str, Any]] = []
    eligible: bool | None
    if sanction is None:
        eligible = None
        why = ("the federal sanction question is for a person (review queue): eligibility is not decided until "
               "then")
    else:
        for lic in counted:
            payload = {"license_status": lic["status"], "license_expires": lic["expires"].isoformat(),
                       "federal_sanction": sanction, "as_of": as_of.isoformat()}
            out = REGISTRY[CALC].run(payload)
            answers.append({"license": f"{lic['state']} {lic['number']}", "input": payload,
                            "output": out})
        eligible = any(a["output"]["eligible"] for a in answers)
        why = ("currently licensed and without federal sanction under at least one license" if eligible
               else _why_not_eligible(sanction, res, review, counted, states, answers))
    inputs = {"sanction": sanction, "states": sorted(states),
              "licenses": [{k: str(lic[k]) for k in ("state", "number", "status", "expires")} for lic in counted]}
    result = {"eligible": eligible, "why": why, "cite": cite, "federal_sanction": sanction,
              "leie_check": leie_check, "licenses_counted": inputs["licenses"],
              "licenses_not_counted": [f"{lic['state']} {lic['number']}" for lic in lics if lic not in counted],
              "calc": answers}
    previous = _previous_decided(tx, row["provider_id"])
    cid = _insert_check(tx, w, row, "ELIGIBILITY", as_of, inputs, result, federal_sanction=sanction,
                        eligible=eligible)
    run.eligible += eligible is True
    run.not_eligible += eligible is False
    run.undecided += eligible is None
    if cid is None:
        return
    run.new_checks += 1
    if eligible is None or eligible == previous or (previous is None and eligible):
        return
    before = {None: "never checked", True: "eligible", False: "not eligible"}[previous]
    reason = (f"{_display(row)} was {before} and is {'eligible' if eligible else 'NOT eligible'} on {as_of}: {why}"
              f" ({cite})")
    fid = int(tx.conn.execute(insert(mpr_flags).values(
        provider_id=row["provider_id"], dds_org_id=row["dds_org_id"], check_id=cid, from_eligible=previous,
        to_eligible=eligible, reason=reason, must_act_role=FLAG_MUST_ACT, must_act_org_id=row["dds_org_id"],
        must_act_person=mpro, state="OPEN", opened_at=now()).returning(mpr_flags.c.flag_id)).scalar_one())
    run.flags.append(fid)


_STRENGTH_WORDS = {"NPI": "matched by NPI", "NAME_LOCATION": "matched by name and location",
                   "NAME_STATE": "matched by name and state", "NAME_ONLY": "matched by name"}


def _why_not_eligible(sanction: bool, res: MatchResult, review: dict[str, Any] | None,
                      counted: list[dict[str, Any]], states: set[str], answers: list[dict[str, Any]]) -> str:
    """Every condition of D.4.c the provider fails, named: the exclusion (which LEIE entry) and the licenses.

    A provider on the LEIE with an active license is not eligible because of the exclusion, and the
    flag says so; "no license" is said only when no license is on file (docs/interpretations.md#federal-sanction).
    """
    parts: list[str] = []
    if sanction:
        entries = [c for c in res.candidates if c.sanction == "CURRENT"] or list(res.candidates)
        listed = "; ".join(
            f"{c.listed_name}, {c.location}, exclusion {c.excl_type} since {c.excl_date}"
            + (f" ({c.sanction.lower().replace('_', ' ')})" if c.sanction != "CURRENT" else "")
            + (f", {_STRENGTH_WORDS[c.strength]}" if c.confirmed else "") for c in entries)
        who = f"; identity confirmed by {review['decided_by']}" if review and review.get("decided_by") else ""
        parts.append(f"on the OIG exclusion list (LEIE): {listed or 'an entry'}{who}: a federal sanction")
    if not counted:
        parts.append(f"no license on file in a state where the provider has a location ({', '.join(sorted(states))}):"
                      " the source is not shown to be currently licensed")
    else:
        current = [a for a in answers if a["output"]["currently_licensed"]]
        if current:
            licensed = "currently licensed (" + ", ".join(
                f"{a['license']} {a['input']['license_status']} until {a['input']['license_expires']}"
                for a in current) + ")"
            return f"{parts[0]}, although {licensed}" if parts else licensed
        else:
            texts = [f"{a['license']}: " + "; ".join(
                r["text"] for r in a["output"]["reasons"] if r["text"].endswith("not currently licensed"))
                for a in answers]
            parts.append("not currently licensed (" + "; ".join(texts) + ")")
    return "; ".join(parts)


def due_checks(store: Store, as_of: dt.date, *, period_days: int = DEFAULT_PERIOD_DAYS,
               actor: Actor | None = None) -> list[dict[str, Any]]:
    """DDSs with ACTIVE providers whose last check is older than ``period_days`` before ``as_of`` (or never).

    The period is an operating choice (:data:`DEFAULT_PERIOD_DAYS`), not policy. With ``actor``,
    only the DDSs the actor may see.
    """
    if period_days < 1:
        raise MprError("period_days: at least 1")
    cutoff = as_of - dt.timedelta(days=period_days)
    with store.read() as tx:
        w = who(tx, actor) if actor is not None else None
        active = (select(mpr_providers.c.dds_org_id, func.count().label("n"))
                  .where(mpr_providers.c.status == "ACTIVE").group_by(mpr_providers.c.dds_org_id).subquery())
        last = (select(mpr_checks.c.dds_org_id, func.max(mpr_checks.c.as_of).label("last"))
                .group_by(mpr_checks.c.dds_org_id).subquery())
        stmt = (select(mpr_orgs.c.org_id, mpr_orgs.c.code, active.c.n, last.c.last)
                .join(active, active.c.dds_org_id == mpr_orgs.c.org_id)
                .outerjoin(last, last.c.dds_org_id == mpr_orgs.c.org_id).order_by(mpr_orgs.c.code))
        out = []
        for r in tx.conn.execute(stmt).mappings():
            if w is not None and not _can_read(w, r["org_id"]):
                continue
            if r["last"] is None or r["last"] < cutoff:
                out.append({"dds": r["code"], "providers": r["n"], "last_check": r["last"],
                            "days": None if r["last"] is None else (as_of - r["last"]).days})
    return out


def check_due(store: Store, as_of: dt.date, *, period_days: int = DEFAULT_PERIOD_DAYS,
              actor: Actor | None = None) -> list[CheckRun]:
    """The schedule: check every DDS :func:`due_checks` lists (as SYSTEM unless an actor is given)."""
    a = actor or Actor("scheduler", SYSTEM)
    return [check(store, a, d["dds"], as_of) for d in due_checks(store, as_of, period_days=period_days)]


# ---- the review queue --------------------------------------------------------------------------------

def queue(store: Store, actor: Actor, *, state: str | None = "OPEN") -> list[dict[str, Any]]:
    """Queue entries the actor may see (OPEN by default; ``state=None`` for all)."""
    with store.read() as tx:
        w = who(tx, actor)
        stmt = select(mpr_review_queue, mpr_orgs.c.code.label("dds")).join(
            mpr_orgs, mpr_orgs.c.org_id == mpr_review_queue.c.dds_org_id)
        if state is not None:
            stmt = stmt.where(mpr_review_queue.c.state == state)
        if w.visible is not None:
            stmt = stmt.where(mpr_review_queue.c.dds_org_id.in_(sorted(w.visible)))
        rows = [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_review_queue.c.queue_id)).mappings()]
    for r in rows:
        r["candidates"] = json.loads(r["candidates"])
        r["decision"] = json.loads(r["decision"]) if r["decision"] else None
    return rows


def decide_review(store: Store, actor: Actor, queue_id: int, *, confirm: bool, rationale: str,
                  provider_id: int | None = None) -> str:
    """A person answers a queued question (PM 00215.001D.4.c; ``docs/interpretations.md#matching``).

    ``LEIE_MATCH``: confirm (the entry is this provider and the sanction stands) or dismiss (it is
    not, or a waiver covers the work); the next :func:`check` uses the answer. ``LICENSE_LINK``:
    confirm with the ``provider_id`` that holds the license (it is linked), or dismiss (none does).
    The DDS's MPRO, Administrator or Chief Medical Consultant decides. Returns the new state.
    """
    if not rationale.strip():
        raise MprError("rationale: say why")
    with store.tx() as tx:
        w = who(tx, actor)
        q = tx.conn.execute(select(mpr_review_queue).where(mpr_review_queue.c.queue_id == queue_id)).mappings().first()
        if q is None:
            raise NotFound(f"no review queue entry {queue_id}")
        _require_dds_role(tx, w, q["dds_org_id"], REVIEW_ROLES, f"decide review {queue_id}")
        if q["state"] != "OPEN":
            raise ConflictError(f"review {queue_id} was already {q['state']} by {q['decided_by']} at {q['decided_at']}")
        state = "CONFIRMED" if confirm else "DISMISSED"
        decision: dict[str, Any] = {"confirm": confirm}
        if q["kind"] == "LICENSE_LINK":
            ids = [c["provider_id"] for c in json.loads(q["candidates"])]
            if confirm:
                if provider_id not in ids:
                    raise MprError(f"provider_id: confirm names the provider holding the license, one of "
                                   f"{', '.join(map(str, ids))}")
                tx.conn.execute(update(mpr_licenses).where(mpr_licenses.c.license_id == q["license_id"])
                                .values(provider_id=provider_id, link="PERSON"))
                decision["provider_id"] = provider_id
        elif provider_id is not None:
            raise MprError("provider_id: only for a LICENSE_LINK question")
        n = tx.conn.execute(update(mpr_review_queue).where(mpr_review_queue.c.queue_id == queue_id,
                                                           mpr_review_queue.c.state == "OPEN")
                            .values(state=state, decision=dumps(decision), decided_by=str(actor),
                                    decided_at=now(), rationale=rationale)).rowcount
        if n != 1:
            raise ConflictError(f"review {queue_id} was decided by someone else meanwhile")
        return state


# ---- flags ---------------------------------------------------------------------------------------------

def flags(store: Store, actor: Actor, *, state: str | None = "OPEN") -> list[dict[str, Any]]:
    """Status-change flags the actor may see, with the provider's name and the DDS."""
    with store.read() as tx:
        w = who(tx, actor)
        stmt = (select(mpr_flags, mpr_orgs.c.code.label("dds"), mpr_providers.c.kind, mpr_providers.c.last_name,
                       mpr_providers.c.first_name, mpr_providers.c.middle_name, mpr_providers.c.business_name)
                .join(mpr_orgs, mpr_orgs.c.org_id == mpr_flags.c.dds_org_id)
                .join(mpr_providers, mpr_providers.c.provider_id == mpr_flags.c.provider_id))
        if state is not None:
            stmt = stmt.where(mpr_flags.c.state == state)
        if w.visible is not None:
            stmt = stmt.where(mpr_flags.c.dds_org_id.in_(sorted(w.visible)))
        rows = [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_flags.c.flag_id)).mappings()]
    for r in rows:
        r["provider"] = _display(r)
    return rows


def resolve_flag(store: Store, actor: Actor, flag_id: int, *, note: str, deactivate: bool = False) -> None:
    """The MPRO (or the DDS Administrator) of the provider's DDS acts on a flag (D.4.c) and closes it.

    ``deactivate`` also sets the provider INACTIVE (no further CEs from this source).
    """
    if not note.strip():
        raise MprError("note: say what was done")
    with store.tx() as tx:
        w = who(tx, actor)
        f = tx.conn.execute(select(mpr_flags).where(mpr_flags.c.flag_id == flag_id)).mappings().first()
        if f is None:
            raise NotFound(f"no flag {flag_id}")
        _require_dds_role(tx, w, f["must_act_org_id"], FLAG_ROLES, f"act on flag {flag_id}")
        if f["state"] != "OPEN":
            raise ConflictError(f"flag {flag_id} is already DONE by {f['done_by']} at {f['done_at']}")
        tx.conn.execute(update(mpr_flags).where(mpr_flags.c.flag_id == flag_id)
                        .values(state="DONE", done_by=str(actor), done_at=now(), note=note))
        if deactivate:
            row = _provider_row(tx, f["provider_id"])
            tx.conn.execute(update(mpr_providers).where(mpr_providers.c.provider_id == f["provider_id"])
                            .values(status="INACTIVE", version=row["version"] + 1, updated_by=str(actor),
                                    updated_at=now()))


# ---- tracked work (D.2, D.3, D.4) ---------------------------------------------------------------------

def _require_item_change(tx: Tx, w: Who, org: dict[str, Any], kind: str) -> None:
    level, cite = ITEM_KINDS[kind]
    if org["level"] != level:
        raise MprError(f"kind: {kind} ({cite}) is {level} work; {org['code']} is a {org['level']}")
    if w.org_id == org["org_id"] and w.role in ITEM_ROLES[level]:
        return
    why = {DDS: f"{kind} is the DDS's own work ({cite}): only a person of {org['code']} changes it",
           RO: f"{kind} is RO work ({cite}): only a PRC of {org['code']} changes it",
           CO: f"{kind} is national work ({cite}): only the CO MPRT changes it"}[level]
    if w.level == CO and level != CO:
        why += "; CO reads everything and changes only national items (PM 00215.001D.2)"
    raise AccessDenied(f"{w}: may not change {kind} items of {org['code']}: {why}")


def _owner_ok(tx: Tx, org_id: int, owner: str) -> None:
    p = tx.conn.execute(select(mpr_people).where(mpr_people.c.name == owner)).mappings().first()
    if p is None or not p["active"] or p["org_id"] != org_id:
        raise MprError(f"owner: {owner!r} is not an active person of the item's organisation")


def open_item(store: Store, actor: Actor, *, org: str, kind: str, title: str, owner: str, opened: dt.date,
              due: dt.date | None = None, provider_id: int | None = None, subject: str | None = None,
              specialty: str | None = None, area: str | None = None, findings: str | None = None) -> int:
    """Open a tracked M/PR work item of ``kind`` (:data:`ITEM_KINDS`, each with its passage) for ``org``.

    The owner is a person of that organisation. A provider named must be one of that DDS's; a
    subject DDS (RO items) must be in the RO's region. Returns the item id.
    """
    kind = kind.upper()
    if kind not in ITEM_KINDS:
        raise MprError(f"kind: one of {', '.join(ITEM_KINDS)}, got {kind!r}")
    if not title.strip():
        raise MprError("title: required")
    if due is not None and due < opened:
        raise MprError(f"due: {due} is before the item is opened ({opened})")
    with store.tx() as tx:
        w = who(tx, actor)
        o = _org_by_code(tx, org)
        _require_item_change(tx, w, o, kind)
        _owner_ok(tx, o["org_id"], owner)
        if provider_id is not None:
            p = _provider_row(tx, provider_id)
            if p["dds_org_id"] != o["org_id"]:
                raise AccessDenied(f"{w}: provider {provider_id} is not a provider of {org}")
        subject_id = None
        if subject is not None:
            s = _org_by_code(tx, subject)
            if s["parent_id"] != o["org_id"] and s["org_id"] != o["org_id"]:
                raise AccessDenied(f"{w}: {subject} is not in {org}'s region")
            subject_id = s["org_id"]
        stamp = now()
        return int(tx.conn.execute(insert(mpr_items).values(
            org_id=o["org_id"], kind=kind, cite=ITEM_KINDS[kind][1], provider_id=provider_id,
            subject_org_id=subject_id, specialty=specialty, area=area, title=title, owner=owner, opened=opened,
            due=due, closed=None, findings=findings, outcome=None, state="OPEN", version=1, updated_by=str(actor),
            updated_at=stamp).returning(mpr_items.c.item_id)).scalar_one())


def _item(tx: Tx, item_id: int) -> dict[str, Any]:
    row = tx.conn.execute(select(mpr_items).where(mpr_items.c.item_id == item_id)).mappings().first()
    if row is None:
        raise NotFound(f"no M/PR item {item_id}")
    return dict(row)


def _change_item(store: Store, actor: Actor, item_id: int, expected_version: int | None,
                 changes: dict[str, Any], *, closing: bool = False) -> int:
    with store.tx() as tx:
        w = who(tx, actor)
        it = _item(tx, item_id)
        org = _org(tx, it["org_id"])
        if not _can_read(w, it["org_id"]):
            _require_read(tx, w, it["org_id"], f"item {item_id}")
        _require_item_change(tx, w, org, it["kind"])
        if it["state"] != "OPEN":
            raise MprError(f"item {item_id} is CLOSED ({it['closed']}, by {it['updated_by']})")
        if "owner" in changes:
            _owner_ok(tx, it["org_id"], changes["owner"])
        if closing and changes["closed"] < it["opened"]:
            raise MprError(f"closed: {changes['closed']} is before the item was opened ({it['opened']})")
        version = it["version"] if expected_version is None else expected_version
        n = tx.conn.execute(update(mpr_items).where(mpr_items.c.item_id == item_id, mpr_items.c.version == version)
                            .values(**changes, version=version + 1, updated_by=str(actor), updated_at=now())).rowcount
        if n != 1:
            raise ConflictError(f"item {item_id} changed since you read it (you read version {version}; it is "
                                f"{it['version']}, last by {it['updated_by']}). Reload and try again.")
        return version + 1


def update_item(store: Store, actor: Actor, item_id: int, *, expected_version: int | None = None,
                findings: str | None = None, owner: str | None = None, due: dt.date | None = None,
                title: str | None = None) -> int:
    """Record findings, reassign, or move the due date of an OPEN item; returns the new version."""
    changes = {k: v for k, v in {"findings": findings, "owner": owner, "due": due, "title": title}.items()
               if v is not None}
    if not changes:
        raise MprError("nothing to change: give findings, owner, due or title")
    return _change_item(store, actor, item_id, expected_version, changes)


def close_item(store: Store, actor: Actor, item_id: int, *, closed: dt.date, outcome: str,
               findings: str | None = None, expected_version: int | None = None) -> int:
    """Close an item with its outcome (required) and, optionally, the final findings."""
    if not outcome.strip():
        raise MprError("outcome: required to close an item")
    changes: dict[str, Any] = {"closed": closed, "outcome": outcome, "state": "CLOSED"}
    if findings is not None:
        changes["findings"] = findings
    return _change_item(store, actor, item_id, expected_version, changes, closing=True)


def items(store: Store, actor: Actor, *, org: str | None = None, kind: str | None = None,
          state: str | None = None) -> list[dict[str, Any]]:
    """Items the actor may see (their DDS; an RO's region; CO all), oldest first."""
    with store.read() as tx:
        w = who(tx, actor)
        stmt = select(mpr_items, mpr_orgs.c.code.label("org")).join(mpr_orgs, mpr_orgs.c.org_id == mpr_items.c.org_id)
        if org is not None:
            o = _org_by_code(tx, org)
            _require_read(tx, w, o["org_id"], "the items")
            stmt = stmt.where(mpr_items.c.org_id == o["org_id"])
        elif w.visible is not None:
            stmt = stmt.where(mpr_items.c.org_id.in_(sorted(w.visible)))
        if kind is not None:
            stmt = stmt.where(mpr_items.c.kind == kind.upper())
        if state is not None:
            stmt = stmt.where(mpr_items.c.state == state.upper())
        return [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_items.c.item_id)).mappings()]


def item(store: Store, actor: Actor, item_id: int) -> dict[str, Any]:
    """One item, if the actor may see it."""
    with store.read() as tx:
        w = who(tx, actor)
        it = _item(tx, item_id)
        _require_read(tx, w, it["org_id"], f"item {item_id}")
        return it


# ---- panel staffing (D.4.b) ------------------------------------------------------------------------

def set_panel_need(store: Store, actor: Actor, *, dds: str, specialty: str, area: str, needed: int) -> None:
    """How many eligible providers of ``specialty`` the DDS needs on its ``area`` panel (D.4.b)."""
    if needed < 0:
        raise MprError("needed: 0 or more")
    specialty, area = specialty.strip().upper(), area.strip().upper()
    with store.tx() as tx:
        w = who(tx, actor)
        org = _dds(tx, dds)
        _require_dds_role(tx, w, org["org_id"], REGISTRY_ROLES, "set panel needs")
        key = (mpr_panel_needs.c.dds_org_id == org["org_id"], mpr_panel_needs.c.specialty == specialty,
               mpr_panel_needs.c.area == area)
        values = {"needed": needed, "updated_by": str(actor), "updated_at": now()}
        if tx.conn.execute(update(mpr_panel_needs).where(*key).values(**values)).rowcount == 0:
            tx.conn.execute(insert(mpr_panel_needs).values(dds_org_id=org["org_id"], specialty=specialty, area=area,
                                                           **values))


def panel_gap(store: Store, actor: Actor, dds: str, as_of: dt.date) -> list[dict[str, Any]]:
    """Per specialty and area: needed − eligible ACTIVE providers serving that panel (D.4.b).

    A provider counts when ACTIVE, the specialty is one of theirs and the area one of their panels
    (both compared upper-case), and their latest ELIGIBILITY check on or before ``as_of`` says
    eligible. ``recruiting`` is the number of OPEN RECRUITMENT items for that specialty and area.
    """
    with store.read() as tx:
        w = who(tx, actor)
        org = _dds(tx, dds)
        _require_read(tx, w, org["org_id"], "the panels")
        needs = [dict(r) for r in tx.conn.execute(select(mpr_panel_needs).where(
            mpr_panel_needs.c.dds_org_id == org["org_id"]).order_by(mpr_panel_needs.c.specialty,
                                                                    mpr_panel_needs.c.area)).mappings()]
        provs = [dict(r) for r in tx.conn.execute(select(mpr_providers).where(
            mpr_providers.c.dds_org_id == org["org_id"], mpr_providers.c.status == "ACTIVE")).mappings()]
        last = (select(mpr_checks.c.provider_id, func.max(mpr_checks.c.check_id).label("cid"))
                .where(mpr_checks.c.kind == "ELIGIBILITY", mpr_checks.c.dds_org_id == org["org_id"],
                       mpr_checks.c.as_of <= as_of).group_by(mpr_checks.c.provider_id).subquery())
        ok = {r[0] for r in tx.conn.execute(select(mpr_checks.c.provider_id).join(
            last, mpr_checks.c.check_id == last.c.cid).where(mpr_checks.c.eligible.is_(True)))}
        recruiting: dict[tuple[str, str], int] = {}
        for r in tx.conn.execute(select(mpr_items.c.specialty, mpr_items.c.area).where(
                mpr_items.c.org_id == org["org_id"], mpr_items.c.kind == "RECRUITMENT",
                mpr_items.c.state == "OPEN")):
            k = ((r[0] or "").upper(), (r[1] or "").upper())
            recruiting[k] = recruiting.get(k, 0) + 1
    out = []
    for n in needs:
        serving = [p for p in provs if n["specialty"] in {s.upper() for s in json.loads(p["specialties"])}
                   and n["area"] in {a.upper() for a in json.loads(p["panels"])}]
        eligible = sum(1 for p in serving if p["provider_id"] in ok)
        out.append({"specialty": n["specialty"], "area": n["area"], "needed": n["needed"], "serving": len(serving),
                    "eligible": eligible, "gap": max(n["needed"] - eligible, 0),
                    "recruiting": recruiting.get((n["specialty"], n["area"]), 0), "cite": "PM 00215.001D.4.b"})
    return out

