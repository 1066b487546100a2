"""The documents a person reads in the CDR mailer lifecycle (DI 40502.001), as printable HTML.

``render(kind, payload)`` renders one document; ``render_bundle(title, docs)`` renders a case
packet. Every payload has ``beneficiary`` and ``case`` dicts; the kinds add:

* ``ALERT_SHEET`` (F.3, G.4): ``decision``, ``date``; optional ``folder`` {location, date_in_location} (the
  PCACS/SSICCS data; ``cdrflow.workflow.history.document_payloads`` adds it from the beneficiary when supplied);
  optional ``jurisdiction`` {pc, basis} (E.4.a: what the case's PC rests on, shown beside it).
* ``FACSIMILE`` (F.3, G.3): ``mailer``; optional ``scanlines`` (3 strings).
* ``PROFILE_SHEET`` (G.3): nothing more.
* ``SSA_559`` (J.2.c): ``action``, ``annotation``, ``remark`` (or null), ``folder``, ``referred_by``, ``date``.
* ``DEFERRAL_NOTICE`` (J.3.c): ``diary`` (null when the DCF medical data was blank, J.3.a NOTE), ``date``.
* ``SSA_5526`` (J.4.c): ``cdt``, ``date``, ``remarks``.
* ``FO_REFERRAL`` (J.4.a, J.4.b, I): ``ipca_event``, ``doors``, ``remarks``, ``reason``, ``date``.
* ``WBDOC_REFERRAL`` (E.2): ``reason``, ``to``, ``details``, ``date``.
* ``DIRCON_RECORD`` (I, J.1): ``attempts``, ``outcome``.
"""

from .render import KINDS, TITLES, DocumentDataError, render, render_bundle

__all__ = ["KINDS", "TITLES", "DocumentDataError", "render", "render_bundle"]
