"""The documents a person reads in the CDR mailer lifecycle (DI 40502.001), as printable HTML.

``render(kind, payload)`` renders one document; ``render_bundle(title, docs)`` renders a case
packet. Every payload has ``beneficiary`` and ``case`` dicts; the kinds add:

* ``ALERT_SHEET`` (F.3, G.4): ``decision``, ``date``; optional ``folder`` {location, date_in_location}.
* ``FACSIMILE`` (F.3, G.3): ``mailer``; optional ``scanlines`` (3 strings).
* ``PROFILE_SHEET`` (G.3): nothing more.
* ``DEFERRAL_NOTICE`` (J.3.c): ``diary``, ``date``.
* ``SSA_5526`` (J.4.c): ``cdt``, ``date``, ``remarks``.
* ``FO_REFERRAL`` (J.4.a, J.4.b, I): ``ipca_event``, ``doors``, ``remarks``, ``reason``, ``date``.
* ``WBDOC_REFERRAL`` (E.2): ``reason``, ``to``, ``details``, ``date``.
* ``DIRCON_RECORD`` (I, J.1): ``attempts``, ``outcome``.
"""

from .render import KINDS, TITLES, DocumentDataError, render, render_bundle

__all__ = ["KINDS", "TITLES", "DocumentDataError", "render", "render_bundle"]
