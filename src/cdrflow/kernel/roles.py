"""Every role a person or a system component can hold, with the passage that names it (one list)."""

from __future__ import annotations

ROLES: dict[str, str] = {
    "SYSTEM": "a scheduled or automatic component",
    "WBDOC": "Wilkes-Barre Direct Operations Center intake (E)",
    "DCDRS": "Division of CDR Support decision logic (F)",
    "DSE": "Development and Support Examiner, PC-7 (E.4.b)",
    "FLC": "Folder Location Clerk, PCs 1-6 (E.4.b)",
    "BET": "Benefit Earnings Technician, PC-7 (G.4.a, J.2.c)",
    "DT": "Disability Technician, PCs 1-6 (G.4.a, J.2.c)",
    "DE": "Disability Examiner (DI 40502.001G.5, J.2; EXR findings, DI 28057.015C, D)",
    "DEC": "Disability Examiner Consultant (DI 40502.001G.5, J.2; EXR findings, DI 28057.015C, D)",
    "DC": "Disability Consultant (DI 40502.001G.5, J.2; EXR findings, DI 28057.015C, D)",
    "FO": "Field office staff: opens EXR requests, records SGA months and returns to work (DI 28057.015E, G)",
    "MPRT": "CO ODD Medical Professional Relations Team (PM 00215.001A.1, D.2)",
    "PRC": "RO Professional Relations Coordinator (PM 00215.001A.2, D.3)",
    "MPRO": "DDS Medical and Professional Relations Officer (PM 00215.001A.3, D.4)",
    "DDS_ADMIN": "DDS Administrator (PM 00215.001A.3)",
    "CMC": "DDS Chief Medical Consultant (PM 00215.001A.3)",
    "EXAMINER": "DDS disability examiner or other management official (PM 00215.001A.3)",
    "MAILROOM": "PC mailroom / DPB (H.1)",
    "ANALYST": "policy analyst (read only: aggregate reports, what-if; no person's case)",
    "AUDITOR": "auditor (read only: every record and the access log; changes nothing)",
    "OPERATOR": "operations staff: runs the system jobs (selection, intake, imports, checks, verify)",
    "ADMIN": "administrator: people, tokens and the database (not case work)",
}

PC_ROLES = frozenset({"DSE", "FLC", "BET", "DT", "DE", "DEC", "DC", "MAILROOM"})
"""Roles that work at one processing center (people need ``--pc``)."""
MPR_ROLES = frozenset({"MPRT", "PRC", "MPRO", "DDS_ADMIN", "CMC", "EXAMINER"})
"""M/PR roles: people need ``--org`` (their CO, RO or DDS)."""
MPR_ROLE_LEVEL: dict[str, str] = {"MPRT": "CO", "PRC": "RO", "MPRO": "DDS", "DDS_ADMIN": "DDS", "CMC": "DDS",
                                  "EXAMINER": "DDS"}
"""The M/PR level each M/PR role belongs to (PM 00215.001A.1-A.3): its ``--org`` must be of that level."""
SYSTEM_ROLES = frozenset({"SYSTEM", "WBDOC", "DCDRS"})
"""Roles of system components: declared principals that never sign in."""
