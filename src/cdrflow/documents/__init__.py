"""The documents a person reads in the CDR mailer lifecycle (DI 40502.001), as printable HTML.

``render(kind, payload)`` renders one document; ``render_bundle(title, docs)`` renders a case
packet. A payload is the document as it was issued, frozen in the transaction of the decision that
issued it (``cdrflow.workflow.outcomes.issued``; docs/interpretations.md#documents-as-issued), and
rendering reads nothing else: no parameter, no DCF row, not today's date. Every payload has
``beneficiary`` and ``case`` dicts (the rows as they were at issue) and, when issued by cdrflow,
``issued``: ``{on, policy_version, parameters: {NAME: {value, effective}}}``, the parameters the
document shows with their values and effective dates. A value a payload lacks is shown as "not recorded
when issued"; a payload stored before documents were frozen is rendered from ``NOT_FROZEN`` as what was
stored. The kinds add:

* ``ALERT_SHEET`` (F.3, G.4): ``decision`` (with the alert's text), ``date``; optional ``folder`` {location,
  date_in_location} (the PCACS/SSICCS data the beneficiary had at issue, when supplied); optional
  ``jurisdiction`` {pc, basis} (E.4.a: what the case's PC rests on, shown beside it).
* ``FACSIMILE`` (F.3, G.3): ``mailer``; optional ``scanlines`` (3 strings); parameter ``remark_short_limit``.
* ``PROFILE_SHEET`` (G.3): nothing more.
* ``SSA_559`` (J.2.c): ``action``, ``annotation``, ``remark`` (or null), ``folder``, ``referred_by``, ``date``.
* ``DEFERRAL_NOTICE`` (J.3.c): ``diary`` (null when the DCF medical data was blank, J.3.a NOTE), ``date``.
* ``SSA_5526`` (J.4.c): ``cdt``, ``date``, ``remarks``.
* ``FO_REFERRAL`` (J.4.a, J.4.b, I): ``ipca_event``, ``doors``, ``remarks``, ``reason``, ``date``.
* ``WBDOC_REFERRAL`` (E.2): ``reason``, ``to``, ``details``, ``date``.
* ``DIRCON_RECORD`` (I, J.1): ``attempts``, ``outcome``; parameter ``dircon_attempts``.
"""

from .render import KINDS, NOT_FROZEN, TITLES, DocumentDataError, render, render_bundle

__all__ = ["KINDS", "NOT_FROZEN", "TITLES", "DocumentDataError", "render", "render_bundle"]
