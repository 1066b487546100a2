"""A state's license roster for a DDS and the link of each license to the provider holding it
(PM 00215.001D.4.c: "currently licensed")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update

from cdrflow.dcf.schema import mpr_licenses, mpr_providers, mpr_review_queue
from cdrflow.dcf.store import Actor, Store, Tx, dumps, now
from cdrflow.mpr.matching import apply_key, name_key
from cdrflow.mpr.roster import read_roster
from cdrflow.safeio import file_sha256

from .common import ImportResult, record_import
from .provider_registry import display_name, registry_dds


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
        w, org = registry_dds(tx, actor, dds, "roster", "--dds: name the DDS whose providers the roster is for")
        dds_id = org["org_id"]
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
        res.import_id = record_import(tx, w, "ROSTER", dds_id, path, sha,
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
            cands = [{"provider_id": p["provider_id"], "name": display_name(p), "npi": p["npi"],
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
