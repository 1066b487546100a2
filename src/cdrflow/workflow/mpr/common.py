"""What every part of the M/PR service shares: its source and calc, :class:`MprError` and
:class:`MprStateError`, and the record of an imported file (:class:`ImportResult`, :func:`record_import`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert

from cdrflow.dcf.schema import mpr_imports
from cdrflow.dcf.store import StoreError, Tx, dumps, now
from cdrflow.kernel.errors import InvalidInput, InvalidState
from cdrflow.mpr.leie import Reject

if TYPE_CHECKING:
    from .access import Who

SOURCE = "PM 00215.001"
CALC = "ce-provider-eligibility"


class MprError(StoreError, InvalidInput):
    """A value the M/PR service cannot take (an unknown level or kind, a missing reason, a wrong parent,
    a work item's kind of another level than its organisation): ``invalid_input``, exit 2."""


class MprStateError(StoreError, InvalidState):
    """The record is not in a state for this (no LEIE yet, an item already CLOSED, a list already in
    force): ``invalid_state``, exit 2."""


def record_import(tx: Tx, w: Who, kind: str, org_id: int | None, path: Path, sha: str, counts: dict[str, Any],
                  file_date: dt.date | None = None) -> int:
    """Record an imported file (kind, organisation, name, hash, counts, who); returns the import id."""
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
