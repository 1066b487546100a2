"""Who is acting and on what: the principal and the resource the rules decide over."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cdrflow.dcf.store import Actor

Kind = Literal["READ", "SEARCH", "REVEAL", "EXPORT", "CHANGE"]


@dataclass(frozen=True)
class Principal(Actor):
    """An authenticated person (or a declared system component) as the people table records them.

    It is an :class:`~cdrflow.dcf.store.Actor` (events name ``name:role``) with where the person works:
    ``pc`` and ``module`` for PC staff, ``org`` for an FO office or an M/PR organisation (CO, RO, DDS),
    and ``visible_orgs``, the M/PR organisation codes the person may read (``None``: every one, CO).
    ``via`` says how the identity was established (``token``, ``os-account``, ``system``, ``job``).
    """

    person_id: int | None = None
    kind: str = "PERSON"
    pc: int | None = None
    module: str | None = None
    org: str | None = None
    level: str | None = None  # M/PR: CO | RO | DDS
    visible_orgs: frozenset[str] | None = field(default=None, compare=False)
    via: str = ""
    on_behalf_of: str | None = None  # a system principal acting for the operator who ran the job

    def __str__(self) -> str:
        return f"{self.name}:{self.role}"

    def acting_as(self, system: Principal) -> Principal:
        """The system component this person runs a job as (selection, WBDOC, ...), naming who ran it."""
        return Principal(system.name, system.role, person_id=system.person_id, kind=system.kind, via="job",
                         on_behalf_of=str(self))


@dataclass(frozen=True)
class Resource:
    """What an action is on: ``kind`` and ``id`` (never an SSN) and the facts the rules scope by."""

    kind: str  # case | exr_case | provider | org | item | people | access_log | dcf | cycle | file | ...
    id: str = ""
    pc: int | None = None  # a mailer case's processing center
    office: str | None = None  # an EXR case's field office
    dds: str | None = None  # an EXR case's DDS, if routed
    org: str | None = None  # the M/PR organisation that owns it
    stage: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else self.kind


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str  # the rule that decided (or "deny-by-default")
    cite: str
    why: str = ""
