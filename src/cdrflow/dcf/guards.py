"""The DCF's guards as the database holds them: what ``dcf verify`` expects, and how a migration adds event types.

The guards themselves are SQL in the migrations (0002-0005, 0007). This module names them, so
``cdrflow dcf verify`` can report a guard that was dropped (SQLite, PostgreSQL) or disabled
(PostgreSQL ``ALTER TABLE ... DISABLE TRIGGER``), and gives later migrations one way to add event
types to the vocabulary the database checks every event against (``event_vocabulary``, 0007).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, text

SQLITE_TRIGGERS: tuple[str, ...] = (
    # 0002
    "events_no_update", "events_no_delete", "cases_flip_guard", "cases_flip_no_delete",
    # 0004, 0005
    "exr_findings_no_update", "exr_findings_no_delete", "mpr_checks_no_update", "mpr_checks_no_delete",
    # 0007
    "events_guard_insert", "events_positive_id", "cases_no_replace", "cases_key_fixed",
    "beneficiaries_key_fixed", "beneficiaries_no_replace", "beneficiaries_flip_no_delete",
    "exr_findings_no_replace", "exr_findings_positive_id", "mpr_checks_no_replace", "mpr_checks_positive_id",
    "event_vocabulary_no_insert", "event_vocabulary_no_update", "event_vocabulary_no_delete",
    "dcf_chain_no_insert", "dcf_chain_no_delete", "dcf_chain_head_guard",
    "dcf_chain_links_no_update", "dcf_chain_links_no_delete", "dcf_chain_links_no_replace",
    # 0009
    *(f"{t}_{w}" for t in ("integrity_keys", "mpr_leie", "mpr_leie_versions")
      for w in ("no_update", "no_delete", "no_replace", "positive_key")),
    # 0010
    "access_log_no_update", "access_log_no_delete", "access_log_no_replace", "access_log_positive_key",
    "people_no_delete", "people_key_fixed", "people_no_replace", "people_positive_key",
    "person_tokens_no_delete", "person_tokens_revoke_once", "person_tokens_no_replace", "person_tokens_positive_key",
)

PG_TRIGGERS: tuple[str, ...] = (
    # 0002, 0004, 0005
    "events_append_only", "events_no_truncate", "cases_flip_guard",
    "exr_findings_append_only", "exr_findings_no_truncate", "mpr_checks_append_only", "mpr_checks_no_truncate",
    # 0007
    "events_guard_insert", "cases_no_truncate", "beneficiaries_guard", "beneficiaries_no_truncate",
    "event_vocabulary_read_only", "event_vocabulary_no_truncate", "dcf_chain_head_guard", "dcf_chain_no_truncate",
    "dcf_chain_links_append_only", "dcf_chain_links_no_truncate",
    # 0009
    *(f"{t}_{w}" for t in ("integrity_keys", "mpr_leie", "mpr_leie_versions") for w in ("append_only", "no_truncate")),
    # 0010
    "access_log_append_only", "access_log_no_truncate", "people_guard", "people_no_truncate",
    "person_tokens_guard", "person_tokens_no_truncate",
)


def missing_guards(conn: Connection) -> tuple[list[str], int]:
    """Guards (triggers) that are missing or disabled, and how many were checked."""
    if conn.dialect.name == "postgresql":
        found = {str(r[0]): str(r[1]) for r in conn.execute(text(
            "SELECT t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal"))}
        out = []
        for name in PG_TRIGGERS:
            if name not in found:
                out.append(f"trigger {name} is missing (dropped)")
            elif found[name] == "D":
                out.append(f"trigger {name} is disabled")
        return out, len(PG_TRIGGERS)
    names = {str(r[0]) for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
    return [f"trigger {n} is missing (dropped)" for n in SQLITE_TRIGGERS if n not in names], len(SQLITE_TRIGGERS)


TITLES = ("T2", "T2/16", "T16")


def label(title: str, what: str) -> str:
    """The wording ``cdrflow.workflow.common.label`` gives (kept here so migrations do not import the workflow)."""
    if what == "PC MAILER FOLLOW-UP" and title == "T16":
        what = "PC REVIEW FOLLOW-UP"
    return f"{title} {what}"


def vocabulary_rows(whats: Iterable[tuple[str, bool, bool]]) -> list[dict[str, Any]]:
    """``(what, needs_case, after_flip)`` -> one ``event_vocabulary`` row per title label."""
    rows: dict[str, dict[str, Any]] = {}
    for what, needs_case, after_flip in whats:
        for title in TITLES:
            et = label(title, what)
            rows[et] = {"event_type": et, "title": title, "what": et[len(title) + 1:], "needs_case": needs_case,
                        "after_flip": after_flip}
    return list(rows.values())


def add_event_types(conn: Connection, whats: Iterable[tuple[str, bool, bool]]) -> int:
    """For a migration: add event types (``(what, needs_case, after_flip)``, each under the three title labels).

    The vocabulary refuses every data statement (0007), so this lifts that guard for the insert and puts it
    back, in the migration's transaction. ``after_flip``: may be posted for an integrity-flipped case (G.7);
    anything that defers, mails or reopens the case must say False. Returns the rows added.
    """
    rows = vocabulary_rows(whats)
    if not rows:
        return 0
    pg = conn.dialect.name == "postgresql"
    if pg:
        conn.execute(text("ALTER TABLE event_vocabulary DISABLE TRIGGER event_vocabulary_read_only"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS event_vocabulary_no_insert"))
    conn.execute(text("INSERT INTO event_vocabulary (event_type, title, what, needs_case, after_flip) "
                      "VALUES (:event_type, :title, :what, :needs_case, :after_flip)"), rows)
    if pg:
        conn.execute(text("ALTER TABLE event_vocabulary ENABLE TRIGGER event_vocabulary_read_only"))
    else:
        conn.execute(text(SQLITE_VOCABULARY_NO_INSERT))
    return len(rows)


VOCABULARY_MSG = "DCF guard: the event vocabulary changes only by migration"
SQLITE_VOCABULARY_NO_INSERT = (f"CREATE TRIGGER event_vocabulary_no_insert BEFORE INSERT ON event_vocabulary "
                               f"BEGIN SELECT RAISE(ABORT, '{VOCABULARY_MSG}'); END")
