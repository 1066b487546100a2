"""The one permission model: for each action, who may take it, on which resources, and the passage.

Deny by default: an action not named here, a role not granted, or a resource outside the person's scope
is refused. Each grant names the roles, a scope (which resources of the action they reach) and the
passage it rests on; ``cdrflow whoami`` prints the grants of the caller's role. Where the text does not
assign the action (administration, audit, operations), the citation says it is cdrflow's operating
rule (docs/interpretations.md §82).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cdrflow.kernel.roles import PC_ROLES

from .model import Kind, Principal, Resource

Scope = Callable[[Principal, Resource], str | None]
"""None when the resource is in the principal's scope, else why not (one clause)."""


def anywhere(p: Principal, r: Resource) -> str | None:
    return None


def same_pc(p: Principal, r: Resource) -> str | None:
    if p.pc is None:
        return f"{p.name} is not assigned to a processing center"
    if r.pc is not None and r.pc != p.pc:
        return f"{p.name} works at PC {p.pc}; {r} is at PC {r.pc}"
    return None


def pc7(p: Principal, r: Resource) -> str | None:
    if r.pc is not None and r.pc != 7:
        return f"{r} is at PC {r.pc}: at PCs 1-6 the FLC associates (E.4.b)"
    return same_pc(p, r)


def pcs_1_6(p: Principal, r: Resource) -> str | None:
    if r.pc is not None and not 1 <= r.pc <= 6:
        return f"{r} is at PC {r.pc}: at PC-7 the DSE associates (E.4.b)"
    return same_pc(p, r)


def own_office(p: Principal, r: Resource) -> str | None:
    if p.org is None:
        return f"{p.name} is not assigned to a field office"
    if r.office is not None and r.office != p.org:
        return f"{p.name} works at field office {p.org}; {r} belongs to {r.office}"
    return None


def routed_dds(p: Principal, r: Resource) -> str | None:
    if r.dds is not None and r.dds != p.org:
        return f"{p.name} works at {p.org or 'no DDS'}; {r} is routed to {r.dds}"
    return None


def mpr_visible(p: Principal, r: Resource) -> str | None:
    if p.level == "CO":
        return None
    if p.visible_orgs is None:
        return f"{p.name} has no M/PR organisation"
    if r.org is None or r.org in p.visible_orgs:
        return None
    return f"{p.name} ({p.org}) may not see {r.org}'s records (PM 00215.001A, D.3)"


def own_org(p: Principal, r: Resource) -> str | None:
    if r.org is not None and r.org != p.org:
        return f"{p.name} acts for {p.org}, not {r.org} (PM 00215.001D.4)"
    return None


@dataclass(frozen=True)
class Grant:
    rule: str
    roles: frozenset[str]
    cite: str
    scope: Scope = anywhere


@dataclass(frozen=True)
class Action:
    name: str
    kind: Kind
    summary: str
    grants: tuple[Grant, ...]


def _g(rule: str, roles: str | frozenset[str], cite: str, scope: Scope = anywhere) -> Grant:
    return Grant(rule, frozenset(roles.split()) if isinstance(roles, str) else roles, cite, scope)


PC_CASE_WORKERS = PC_ROLES - {"MAILROOM"}
MAILROOM_ROLES = "MAILROOM DSE FLC BET DT"
EXAMINERS = "DE DEC DC"
OPS = "OPERATOR ADMIN"
OPS_CITE = "cdrflow operating rule: jobs are run by operations staff (interpretations §82)"
AUDIT_CITE = "cdrflow operating rule: auditors read everything and change nothing (interpretations §82)"

_ACTIONS: tuple[Action, ...] = (
    # ---- DI 40502.001: the mailer ------------------------------------------------------------------
    Action("mailer.queue.read", "SEARCH", "list the PC review queue", (
        _g("pc-staff-own-pc", PC_ROLES, "DI 40502.001E.4.a, G.4 (the PC of jurisdiction works its alerts)", same_pc),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("mailer.case.read", "READ", "read a mailer case, its history and guide", (
        _g("pc-staff-own-pc", PC_ROLES, "DI 40502.001E.4.a, G.4", same_pc),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("mailer.case.search", "SEARCH", "find a beneficiary's cases by SSN", (
        _g("pc-staff-own-pc", PC_ROLES, "DI 40502.001E.4.a, G.6 (QCDR history)", same_pc),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("mailer.documents.export", "EXPORT", "write a case's documents to a file", (
        _g("pc-staff-own-pc", PC_ROLES, "DI 40502.001G.3, G.4 (alert output and facsimile to the reviewer)",
           same_pc),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("mailer.associate", "CHANGE", "associate the actual mailer", (
        _g("dse-at-pc7", "DSE", "DI 40502.001E.4.b, G.4.a (DSE at PC-7)", pc7),
        _g("flc-at-pcs-1-6", "FLC", "DI 40502.001E.4.b, G.4.a (FLC at PCs 1-6)", pcs_1_6))),
    Action("mailer.translation", "CHANGE", "refer to a translator", (
        _g("bet-dt", "BET DT", "DI 40502.001G.4.a", same_pc),)),
    Action("mailer.work", "CHANGE", "develop work activity (earnings)", (
        _g("bet-dt", "BET DT", "DI 40502.001G.4.a, J.2.c", same_pc),)),
    Action("mailer.guide", "READ", "walk the reviewer guide", (
        _g("pc-staff-own-pc", PC_ROLES, "DI 40502.001J.2.d (the guide the DE/DEC/DC follows; PC staff read it "
           "with the case)", same_pc),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("mailer.decide", "CHANGE", "decide DEFER or DO CDR (IPCA 2-5)", (
        _g("examiners", EXAMINERS, "DI 40502.001G.5, J.2, J.3, J.4", same_pc),)),
    Action("mailer.return_to_bet", "CHANGE", "return the case to the BET/DT", (
        _g("examiners", EXAMINERS, "DI 40502.001J.2.c, J.3.a NOTE", same_pc),)),
    Action("mailer.dircon", "CHANGE", "record a DIRCON attempt", (
        _g("pc-reviewers", f"BET DT {EXAMINERS}", "DI 40502.001I, J.1", same_pc),)),
    Action("mailer.referral_done", "CHANGE", "record the action on a WBDOC referral", (
        _g("pc-staff", PC_CASE_WORKERS, "DI 40502.001E.2 (referred to the PC)", same_pc),)),
    Action("mailer.undeliverable", "CHANGE", "record an undeliverable mailer", (
        _g("mailroom", MAILROOM_ROLES, "DI 40502.001H.1, H.2", same_pc),)),
    Action("mailer.notice_undeliverable", "CHANGE", "record a returned deferral notice", (
        _g("mailroom", MAILROOM_ROLES, "DI 40502.001J.3.c", same_pc),)),
    Action("mailer.dispose", "CHANGE", "record a document's disposal", (
        _g("pc-staff", PC_ROLES, "DI 40502.001J.3.d", same_pc),)),
    Action("mailer.cycle.run", "CHANGE", "run a selection cycle (as the selection component)", (
        _g("operations", OPS, f"DI 40502.001C, G.6; {OPS_CITE}"),
        _g("selection", "SYSTEM", "DI 40502.001C, G.6 (the scheduled selection run)"))),
    Action("mailer.ingest.run", "CHANGE", "ingest a WBDOC file (as WBDOC and DCDRS)", (
        _g("operations", OPS, f"DI 40502.001E, F; {OPS_CITE}"),
        _g("wbdoc", "WBDOC", "DI 40502.001E (WBDOC receives and processes the mailers)"))),
    Action("mailer.runs.read", "READ", "list selection and intake runs", (
        _g("operations", f"{OPS} AUDITOR", OPS_CITE),)),
    Action("population.import", "CHANGE", "import or generate beneficiary data", (
        _g("operations", OPS, f"DI 40502.001F.3, G.3 (the DCF's data); {OPS_CITE}"),
        _g("feed", "SYSTEM", "DI 40502.001F.3 (the DCF's data feed)"))),
    Action("ssn.reveal", "REVEAL", "show a full SSN, with a reason", (
        _g("pc-staff-own-pc", PC_ROLES, "DI 40502.001G.6 (the reviewer works the beneficiary's record)", same_pc),
        _g("fo-own-office", "FO", "DI 28057.015E (the FO develops the request)", own_office),
        _g("dds-examiners", EXAMINERS, "DI 28057.015C, D", routed_dds),
        _g("auditor", "AUDITOR", AUDIT_CITE))),
    # ---- DI 28057.015: EXR --------------------------------------------------------------------------
    Action("exr.open", "CHANGE", "open an EXR case", (
        _g("fo", "FO", "DI 28057.015E (the FO takes and develops the request)", own_office),)),
    Action("exr.read", "READ", "read an EXR case and its worksheet", (
        _g("fo-own-office", "FO", "DI 28057.015E", own_office),
        _g("dds-examiners", EXAMINERS, "DI 28057.015C, D", routed_dds),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("exr.list", "SEARCH", "list EXR cases", (
        _g("fo-own-office", "FO", "DI 28057.015E", own_office),
        _g("dds-examiners", EXAMINERS, "DI 28057.015C, D", routed_dds),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("exr.examine", "CHANGE", "record development, 'same as or related', MIRS, the determination", (
        _g("dds-examiners", EXAMINERS, "DI 28057.015B, C, D", routed_dds),)),
    Action("exr.return_to_work", "CHANGE", "record SGA months and a return to work", (
        _g("fo-own-office", "FO", "DI 28057.015G", own_office),)),
    # ---- PM 00215.001: M/PR -------------------------------------------------------------------------
    Action("mpr.read", "READ", "read M/PR records (providers, checks, queue, flags, items, panels)", (
        _g("mpr-level", "MPRT PRC MPRO DDS_ADMIN CMC EXAMINER", "PM 00215.001A, D.2-D.4", mpr_visible),
        _g("auditor-reads", "AUDITOR", AUDIT_CITE))),
    Action("mpr.registry.change", "CHANGE", "import, check and change a DDS's providers, licenses, panels", (
        _g("dds-mpro", "MPRO DDS_ADMIN", "PM 00215.001D.4.b, D.4.c", own_org),
        _g("scheduler", "SYSTEM", "PM 00215.001D.4.c (ensure; scheduled checks)"))),
    Action("mpr.checks.run", "CHANGE", "run the scheduled CE provider checks (as the scheduler)", (
        _g("operations", OPS, f"PM 00215.001D.4.c (ensure; the schedule); {OPS_CITE}"),
        _g("scheduler", "SYSTEM", "PM 00215.001D.4.c (ensure; scheduled checks)"))),
    Action("mpr.review.decide", "CHANGE", "decide an ambiguous identity or license link", (
        _g("dds-review", "MPRO DDS_ADMIN CMC", "PM 00215.001D.4.c", own_org),)),
    Action("mpr.flag.resolve", "CHANGE", "act on an eligibility-change flag", (
        _g("dds-mpro", "MPRO DDS_ADMIN", "PM 00215.001D.4.c (the MPRO must act)", own_org),)),
    Action("mpr.item.change", "CHANGE", "open, update or close tracked M/PR work", (
        _g("own-level", "MPRT PRC MPRO DDS_ADMIN CMC EXAMINER", "PM 00215.001A.3, D.2, D.3, D.4", own_org),)),
    Action("mpr.leie.replace", "CHANGE", "replace or restore the national LEIE", (
        _g("co", "MPRT", "PM 00215.001D.2 (CO: national)"),
        _g("scheduler", "SYSTEM", "PM 00215.001D.2 (scheduled replacement)"))),
    Action("mpr.org.manage", "CHANGE", "add M/PR organisations", (
        _g("admin", "ADMIN SYSTEM", "cdrflow operating rule: administration (interpretations §82)"),)),
    # ---- people, audit, the DCF ---------------------------------------------------------------------
    Action("people.manage", "CHANGE", "add, change, disable people; issue and revoke tokens", (
        _g("admin", "ADMIN", "cdrflow operating rule: administrators manage people (interpretations §82)"),)),
    Action("people.read", "READ", "list people", (
        _g("admin", "ADMIN AUDITOR", "cdrflow operating rule (interpretations §82)"),)),
    Action("audit.read", "READ", "read the access log", (
        _g("auditor", "AUDITOR", AUDIT_CITE),)),
    Action("dcf.verify", "READ", "verify the hash chains and guards", (
        _g("operations", f"{OPS} AUDITOR", OPS_CITE),)),
)

ACTIONS: dict[str, Action] = {a.name: a for a in _ACTIONS}
"""Every action the services ask about, by name."""


def actions_for(role: str) -> list[tuple[Action, Grant]]:
    """What a role may do (for ``cdrflow whoami``): each action with the grant that gives it."""
    out = []
    for a in _ACTIONS:
        for g in a.grants:
            if role in g.roles:
                out.append((a, g))
                break
    return out
