"""The national LEIE (PM 00215.001D.2, D.4.c: "without federal sanction"): each list imported as a
new version, its history, a restore, and the index a check matches providers against."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Final

import polars as pl
from sqlalchemy import func, insert, select

from cdrflow.authz import Resource
from cdrflow.dcf.schema import mpr_imports, mpr_leie, mpr_leie_versions
from cdrflow.dcf.store import Actor, NotFound, Store, Tx, now
from cdrflow.mpr.leie import LEIE_COLUMNS, LEIE_SCHEMA, ROW, read_leie
from cdrflow.mpr.matching import LeieIndex
from cdrflow.safeio import file_sha256

from .access import LEIE, Who, authorize
from .common import ImportResult, MprError, MprStateError, record_import

_LEIE_COLS: Final = {c: c.lower() for c in LEIE_COLUMNS}


LEIE_SHRINK_PARAMETER = "leie_min_share_of_list_in_force"


class LeieRefused(MprError):
    """The new list is empty, all rejected, or much smaller than the one in force, and was not confirmed."""


def leie_min_share(on: dt.date) -> float:
    """The parameter :data:`LEIE_SHRINK_PARAMETER` in force on ``on`` (docs/interpretations.md#leie-replacement)."""
    from cdrflow.policy.mpr.eligibility import parameters

    return float(parameters()[LEIE_SHRINK_PARAMETER].at(on).value)


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

    The list is national: only the CO MPRT or the scheduled job (SYSTEM) replaces it
    (:data:`~cdrflow.workflow.mpr.access.LEIE_ROLES`).
    An empty file, one whose rows are all rejected, or a list with fewer accepted entries than
    :func:`leie_min_share` of the list in force is refused (:class:`LeieRefused`, nothing changes) unless
    ``confirm_smaller`` with a ``reason``, which the version records. Every earlier list is kept
    (:func:`leie_history`, :func:`restore_leie`). Importing the file that is already in force changes nothing.
    """
    path = Path(path)
    with store.read() as tx:
        w = authorize(tx, actor, LEIE, Resource("leie", "national"))
    reason = (reason or "").strip() or None
    if confirm_smaller and reason is None:
        raise MprError("--confirm-smaller needs --reason TEXT: why this smaller list is the right one (recorded)",
                       field="reason")
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
        iid = record_import(tx, w, "LEIE", None, path, sha, {"read": rr.read, "accepted": rr.accepted,
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
        w = authorize(tx, actor, LEIE, Resource("leie_version", str(version_id)))
        if not reason:
            raise MprError("--reason TEXT: why the earlier list is put back (recorded)", field="reason")
        target = tx.conn.execute(select(mpr_leie_versions).where(mpr_leie_versions.c.version_id == version_id)) \
            .mappings().first()
        if target is None:
            raise NotFound(f"no LEIE version {version_id}: `cdrflow mpr leie history` lists them")
        current = _current_leie_import(tx)
        if current is not None and current["import_id"] == target["import_id"]:
            raise MprStateError(f"LEIE version {version_id}'s list (import {target['import_id']}) is already in "
                                "force")
        entries = int(tx.conn.execute(select(func.count()).select_from(mpr_leie)
                                      .where(mpr_leie.c.import_id == target["import_id"])).scalar_one())
        in_force = current["entries"] if current is not None else None
        smaller = _shrink(entries, entries, in_force, leie_min_share(dt.date.today())) is not None
        return _new_version(tx, w, target["import_id"], "RESTORE", entries, current, confirmed=smaller, reason=reason)


def leie_index(tx: Tx) -> tuple[LeieIndex, dict[str, Any]]:
    """The list in force as the matcher's index, with its import; none yet is an :class:`MprError`."""
    imp = _current_leie_import(tx)
    if imp is None:
        raise MprStateError("no LEIE imported yet: run `cdrflow mpr import leie FILE` first (PM 00215.001D.4.c)")
    rows = tx.conn.execute(select(mpr_leie).where(mpr_leie.c.import_id == imp["import_id"])
                           .order_by(mpr_leie.c.row_no)).mappings().all()
    data: dict[str, list[Any]] = {ROW: [r["row_no"] for r in rows]}
    for k, v in _LEIE_COLS.items():
        data[k] = [r[v] for r in rows]
    frame = pl.DataFrame(data, schema=LEIE_SCHEMA)
    return LeieIndex.from_frame(frame), imp
