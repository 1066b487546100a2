"""A DDS's CE providers (PM 00215.001D.4.b, D.4.c): the provider file and its import, reading a
provider with its licenses, checks and flags, and its status (ACTIVE or INACTIVE)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import func, insert, select, update

from cdrflow.authz import Resource
from cdrflow.dcf.limits import characters_problem, limit, text_problem
from cdrflow.dcf.schema import mpr_checks, mpr_flags, mpr_licenses, mpr_orgs, mpr_providers
from cdrflow.dcf.store import Actor, NotFound, Store, Tx, dumps, now
from cdrflow.engine.csvrows import csv_rows
from cdrflow.mpr.leie import Reject
from cdrflow.mpr.matching import Location, Provider
from cdrflow.safeio import file_sha256

from .access import DDS, READ, REGISTRY, Who, dds_org, org_by_id, require, who
from .common import ImportResult, MprError, record_import

PROVIDER_COLUMNS: Final = (
    "PROVIDER_ID", "KIND", "LAST_NAME", "FIRST_NAME", "MIDDLE_NAME", "BUSINESS_NAME", "NPI", "SPECIALTIES",
    "PANELS", "ADDRESS", "CITY", "STATE", "ZIP", "STATUS",
)
"""The provider import layout (see :func:`import_providers`)."""


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
        w, org = registry_dds(tx, actor, dds, "providers", "--dds: name the DDS whose providers these are")
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
        res.import_id = record_import(tx, w, "PROVIDERS", org["org_id"], path, sha,
                                      {**counts, "read": read, "rejected": len(rejects)})
    return res


def registry_dds(tx: Tx, actor: Actor, dds: str | None, kind: str, missing: str) -> tuple[Who, dict[str, Any]]:
    """The DDS whose registry ``actor`` imports into (``dds``, else their own), once ``mpr.registry.change``
    allows it (logged); no DDS named or implied is an :class:`MprError`."""
    w = who(tx, actor, REGISTRY, Resource(kind, dds or "(own DDS)", org=dds))
    org = dds_org(tx, dds) if dds else (org_by_id(tx, w.org_id) if w.org_id else None)
    if org is None or org["level"] != DDS:
        raise MprError(missing, field="dds")
    require(tx, w, REGISTRY, Resource(kind, org["code"], org=org["code"]))
    return w, org


def provider_model(row: dict[str, Any]) -> Provider:
    """A stored provider as the matcher's :class:`~cdrflow.mpr.matching.Provider`."""
    return Provider(provider_id=str(row["provider_id"]), kind=row["kind"], last_name=row["last_name"],
                    first_name=row["first_name"], middle_name=row["middle_name"],
                    business_name=row["business_name"], npi=row["npi"], specialties=json.loads(row["specialties"]),
                    locations=[Location(**loc) for loc in json.loads(row["locations"])],
                    panels=json.loads(row["panels"]))


def provider_row(tx: Tx, provider_id: int) -> dict[str, Any]:
    """The stored provider, or :class:`~cdrflow.dcf.store.NotFound`."""
    row = tx.conn.execute(select(mpr_providers).where(mpr_providers.c.provider_id == provider_id)).mappings().first()
    if row is None:
        raise NotFound(f"no CE provider {provider_id}")
    return dict(row)


def provider_resource(tx: Tx, row: dict[str, Any]) -> Resource:
    """The provider as the permission model sees it: its id and its DDS's code."""
    return Resource("provider", str(row["provider_id"]), org=org_by_id(tx, row["dds_org_id"])["code"])


def visible_only(stmt: Any, w: Who) -> Any:
    """``stmt`` (joined to ``mpr_orgs``) limited to the organisations ``w`` may read (their level)."""
    return stmt if w.visible is None else stmt.where(mpr_orgs.c.code.in_(sorted(w.visible)))


def display_name(row: dict[str, Any]) -> str:
    """A practice's business name, or a person's first, middle and last name."""
    if row["kind"] == "PRACTICE":
        return str(row["business_name"])
    return " ".join(p for p in (row["first_name"], row["middle_name"], row["last_name"]) if p)


def _latest_eligibility(tx: Tx, provider_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each provider's latest ELIGIBILITY check (none: not in the dict)."""
    if not provider_ids:
        return {}
    last = (select(mpr_checks.c.provider_id, func.max(mpr_checks.c.check_id).label("cid"))
            .where(mpr_checks.c.kind == "ELIGIBILITY", mpr_checks.c.provider_id.in_(list(provider_ids)))
            .group_by(mpr_checks.c.provider_id).subquery())
    rows = tx.conn.execute(select(mpr_checks).join(last, mpr_checks.c.check_id == last.c.cid)).mappings()
    return {r["provider_id"]: dict(r) for r in rows}


def providers(store: Store, actor: Actor, *, dds: str | None = None) -> list[dict[str, Any]]:
    """The providers the actor may see (their DDS; an RO's region; CO all), with the latest eligibility."""
    with store.read() as tx:
        res = Resource("providers", f"dds={dds}" if dds is not None else "all", org=dds)
        w = who(tx, actor, READ, res)
        if dds is not None:
            org = dds_org(tx, dds)
        require(tx, w, READ, res)
        stmt = select(mpr_providers, mpr_orgs.c.code.label("dds")).join(
            mpr_orgs, mpr_orgs.c.org_id == mpr_providers.c.dds_org_id)
        if dds is not None:
            stmt = stmt.where(mpr_providers.c.dds_org_id == org["org_id"])
        stmt = visible_only(stmt, w)
        rows = [dict(r) for r in tx.conn.execute(stmt.order_by(mpr_providers.c.provider_id)).mappings()]
        latest = _latest_eligibility(tx, [r["provider_id"] for r in rows])
    for r in rows:
        r["name"] = display_name(r)
        for k in ("specialties", "locations", "panels"):
            r[k] = json.loads(r[k])
        r["eligible"] = latest.get(r["provider_id"], {}).get("eligible")
        r["checked_as_of"] = latest.get(r["provider_id"], {}).get("as_of")
    return rows


def provider(store: Store, actor: Actor, provider_id: int) -> dict[str, Any]:
    """One provider with its licenses, checks, flags and queue entries (if the actor may see it)."""
    with store.read() as tx:
        w = who(tx, actor, READ, Resource("provider", str(provider_id)))
        row = provider_row(tx, provider_id)
        require(tx, w, READ, provider_resource(tx, row))
        row["name"] = display_name(row)
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
        w = who(tx, actor, REGISTRY, Resource("provider", str(provider_id)))
        row = provider_row(tx, provider_id)
        require(tx, w, REGISTRY, provider_resource(tx, row))
        version = row["version"] if expected_version is None else expected_version
        return tx.update_versioned(
            mpr_providers, provider_id, version, {"status": status, "updated_by": str(actor), "updated_at": now()},
            lambda: f"provider {provider_id} changed since you read it (version {version}; it is "
                    f"{row['version']}, last by {row['updated_by']})")
