"""PM 00215.001: medical and professional relations (M/PR) in the DCF, level by level.

The three operating levels (A): Central Office (CO, ODD's Medical Professional Relations Team,
D.2), the Regional Offices (RO, the Professional Relations Coordinators, D.3) and the State DDSs
(the MPRO "with the active involvement of" the DDS Administrator, the Chief Medical Consultant and
the examiners, A.3, D.4). This package is the service layer over the ``mpr_*`` tables:

* **Who acts, and what each level may see and change** (A, D.2-D.4): :mod:`.access` (the levels
  and roles, :func:`who` over the ``people`` table, and :func:`~.access.require`, which asks the one
  permission model, :mod:`cdrflow.authz` actions ``mpr.*``, and logs every decision).
* **Organisation and people** (A, D.2-D.4): :mod:`.organisation`: :func:`add_org`; :func:`add_person`
  is :func:`cdrflow.workflow.people.add` (administrators).
* **CE provider registry** (D.4.b, D.4.c): :mod:`.provider_registry` (:func:`import_providers`),
  :mod:`.licenses` (:func:`import_roster`), :mod:`.leie` (:func:`import_leie`, versions,
  :func:`restore_leie`), :mod:`.checks` (:func:`check`: the LEIE match and the
  ``ce-provider-eligibility`` calc per provider; the schedule, :func:`due_checks`), and
  :mod:`.review` (the review queue, :func:`decide_review`; the status-change flags,
  :func:`resolve_flag`).
* **Tracked work** (D.2, D.3, D.4.a-d): :mod:`.work_items`: :func:`open_item`, :func:`update_item`,
  :func:`close_item`.
* **Panel staffing** (D.4.b): :mod:`.panels`: :func:`set_panel_need`, :func:`panel_gap`.
* **Reports** (D.3.i, D.4): :mod:`.reports`, one DDS's fiscal year (imported on its own).

Shared by all of them: :mod:`.common` (:class:`MprError`, :class:`MprStateError`, :class:`ImportResult`).
A refusal is :class:`AccessDenied`, a :class:`~cdrflow.kernel.errors.Forbidden`. Callers use
the package: ``from cdrflow.workflow import mpr; mpr.check(...)``.

Nothing here decides policy: eligibility is the calc ``ce-provider-eligibility``
(:mod:`cdrflow.policy.mpr.eligibility`); identities come from :mod:`cdrflow.mpr.matching`.
"""

from __future__ import annotations

from .access import (
    CMC,
    CO,
    DDS,
    DDS_ADMIN,
    EXAMINER,
    FLAG_MUST_ACT,
    FLAG_ROLES,
    ITEM_KINDS,
    ITEM_ROLES,
    LEIE_ROLES,
    LEVELS,
    MPRO,
    MPRT,
    PRC,
    REGISTRY_ROLES,
    REVIEW_ROLES,
    RO,
    ROLE_LEVEL,
    ROLE_TEXT,
    SYSTEM,
    AccessDenied,
    Who,
    who,
)
from .checks import DEFAULT_PERIOD_DAYS, CheckRun, check, check_due, due_checks
from .common import CALC, SOURCE, ImportResult, MprError, MprStateError
from .leie import LEIE_SHRINK_PARAMETER, LeieRefused, import_leie, leie_history, leie_min_share, restore_leie
from .licenses import import_roster
from .organisation import add_org, add_person, orgs
from .panels import panel_gap, set_panel_need
from .provider_registry import (
    PROVIDER_COLUMNS,
    PROVIDER_STORED_AS,
    import_providers,
    provider,
    providers,
    read_providers,
    set_provider_status,
)
from .review import decide_review, flags, queue, resolve_flag
from .work_items import close_item, item, items, open_item, update_item

__all__ = [
    "CALC",
    "CMC",
    "CO",
    "DDS",
    "DDS_ADMIN",
    "DEFAULT_PERIOD_DAYS",
    "EXAMINER",
    "FLAG_MUST_ACT",
    "FLAG_ROLES",
    "ITEM_KINDS",
    "ITEM_ROLES",
    "LEIE_ROLES",
    "LEIE_SHRINK_PARAMETER",
    "LEVELS",
    "MPRO",
    "MPRT",
    "PRC",
    "PROVIDER_COLUMNS",
    "PROVIDER_STORED_AS",
    "REGISTRY_ROLES",
    "REVIEW_ROLES",
    "RO",
    "ROLE_LEVEL",
    "ROLE_TEXT",
    "SOURCE",
    "SYSTEM",
    "AccessDenied",
    "CheckRun",
    "ImportResult",
    "LeieRefused",
    "MprError",
    "MprStateError",
    "Who",
    "add_org",
    "add_person",
    "check",
    "check_due",
    "close_item",
    "decide_review",
    "due_checks",
    "flags",
    "import_leie",
    "import_providers",
    "import_roster",
    "item",
    "items",
    "leie_history",
    "leie_min_share",
    "open_item",
    "orgs",
    "panel_gap",
    "provider",
    "providers",
    "queue",
    "read_providers",
    "resolve_flag",
    "restore_leie",
    "set_panel_need",
    "set_provider_status",
    "update_item",
    "who",
]
