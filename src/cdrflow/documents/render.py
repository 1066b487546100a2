"""Render the documents a person reads in the CDR mailer lifecycle as printable HTML.

Each document kind has one Jinja2 template in ``templates/`` (``<kind in lower case>.html``)
that extends ``_section.html``; ``base.html`` holds the page and the one inline style sheet.
Pages are self-contained: no external assets and no JavaScript. Autoescaping is on and
undefined values are strict, so a payload missing a key the template needs is an error that
names the key rather than a blank on paper.

* :func:`render` -- one document as a full HTML page.
* :func:`render_bundle` -- several documents on one page (a case packet), each in its own
  ``<section class="doc" data-kind=...>`` with a page break between them.

Payloads are JSON-compatible dicts (dates ``YYYY-MM-DD``, months ``YYYY-MM``); see
``cdrflow.documents`` for the keys of each kind. Every document carries a footer citing the
passages of DI 40502.001 it implements, and the date and policy version it was issued under.

Rendering reads the payload and nothing else: no parameter, no policy data, no DCF row, not
today's date. A payload is what was issued (``cdrflow.workflow.outcomes.issued``); a value it
does not hold is shown as not recorded when issued, never looked up now. A payload stored before
documents were frozen at issue comes as ``{NOT_FROZEN: {"stored": ..., "created_on": ...}}`` and
is shown as what was stored, saying that the rest was not recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final, NoReturn

from jinja2 import Environment, PackageLoader, StrictUndefined, UndefinedError
from markupsafe import Markup

from .filters import FILTERS, GLOBALS, TESTS

KINDS: Final[tuple[str, ...]] = (
    "ALERT_SHEET",
    "FACSIMILE",
    "PROFILE_SHEET",
    "SSA_559",
    "DEFERRAL_NOTICE",
    "SSA_5526",
    "FO_REFERRAL",
    "WBDOC_REFERRAL",
    "DIRCON_RECORD",
)
"""The document kinds, in the order they usually appear in a case packet."""

TITLES: Final[Mapping[str, str]] = {
    "ALERT_SHEET": "CDR MAILER PSC REVIEW alert",
    "FACSIMILE": "Facsimile of the completed mailer",
    "PROFILE_SHEET": "Profile sheet",
    "SSA_559": "SSA-559 referral to the DE/DEC/DC",
    "DEFERRAL_NOTICE": "CDR mailer deferral notice",
    "SSA_5526": "SSA-5526-U2-OP2",
    "FO_REFERRAL": "FO referral for a full medical CDR",
    "WBDOC_REFERRAL": "WBDOC referral",
    "DIRCON_RECORD": "DIRCON record",
}
"""A short human title for each kind (page title, bundle contents)."""

TEMPLATES: Final[Mapping[str, str]] = {kind: f"{kind.lower()}.html" for kind in KINDS}

_RESERVED: Final = frozenset({"kind", "section_id", "document_title"})
"""Context names the renderer sets; a payload may not use them."""

NOT_FROZEN: Final = "not_frozen"
"""The key of a payload stored before documents were frozen at issue: ``{"stored": {...}, "created_on": "..."}``
(``cdrflow.workflow.history.document_payloads``). Rendered by ``not_frozen.html`` whatever the kind."""

_MISSING_KEY = re.compile(
    r"""has no (?:attribute|element) (?P<q1>['"])(?P<attr>.+?)(?P=q1)\s*$"""
    r"""|^(?P<q2>['"])(?P<name>.+?)(?P=q2) is undefined\s*$"""
)


class DocumentDataError(ValueError):
    """A payload value that a document cannot show (raised from a template through ``fail``)."""


def _fail(message: str) -> NoReturn:
    raise DocumentDataError(message)


def environment() -> Environment:
    """The Jinja environment of the document templates: autoescape, strict, the shared filters and tests."""
    env = Environment(
        loader=PackageLoader("cdrflow.documents", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    env.tests.update(TESTS)
    return env


_ENV: Final = environment()
_ENV.globals.update(GLOBALS)
_ENV.globals["fail"] = _fail


def _missing_key(error: UndefinedError) -> str:
    match = _MISSING_KEY.search(error.message or "")
    if match is None:
        return error.message or "?"
    return match.group("attr") or match.group("name")


def _render_section(kind: str, payload: Mapping[str, Any], section_id: str) -> Markup:
    if kind not in TEMPLATES:
        raise ValueError(f"unknown document kind {kind!r}; known kinds: {', '.join(KINDS)}")
    if not isinstance(payload, Mapping):
        raise ValueError(f"{kind}: payload must be a dict, got {type(payload).__name__}")
    clash = _RESERVED.intersection(payload)
    if clash:
        raise ValueError(f"{kind}: payload may not use the reserved key(s) {', '.join(sorted(clash))}")
    context = {**payload, "kind": kind, "section_id": section_id, "document_title": TITLES[kind]}
    template = "not_frozen.html" if NOT_FROZEN in payload else TEMPLATES[kind]
    try:
        html = _ENV.get_template(template).render(context)
    except UndefinedError as exc:
        raise ValueError(f"{kind}: payload is missing key {_missing_key(exc)!r}") from exc
    except ValueError as exc:
        raise ValueError(f"{kind}: {exc}") from exc
    # The section is the output of an autoescaping template: safe to embed unescaped.
    return Markup(html)  # noqa: S704


def _page(title: str, sections: Iterable[dict[str, Any]], *, bundle: bool) -> str:
    return _ENV.get_template("base.html").render(page_title=title, sections=list(sections), bundle=bundle)


def render(kind: str, payload: dict[str, Any]) -> str:
    """One document of ``kind`` (one of :data:`KINDS`) as a full, self-contained HTML page.

    Raises :class:`ValueError` for an unknown kind (naming the known kinds), for a payload
    missing a key the document needs (naming the kind and the key), and for a value the
    document cannot show (an unknown code, a malformed date, inconsistent data).
    """
    section = _render_section(kind, payload, "doc-1")
    return _page(TITLES.get(kind, kind), [{"id": "doc-1", "title": TITLES[kind], "html": section}], bundle=False)


def render_bundle(title: str, docs: list[tuple[str, dict[str, Any]]]) -> str:
    """Several documents as one printable HTML page titled ``title`` (a case packet).

    Each document is a ``<section class="doc" data-kind="KIND">`` and starts on a new printed
    page. Errors are those of :func:`render`, prefixed with the document's position.
    """
    if not docs:
        raise ValueError("render_bundle: no documents to render")
    sections = []
    for n, (kind, payload) in enumerate(docs, start=1):
        section_id = f"doc-{n}"
        try:
            html = _render_section(kind, payload, section_id)
        except ValueError as exc:
            raise ValueError(f"render_bundle: document {n} of {len(docs)}: {exc}") from exc
        sections.append({"id": section_id, "title": f"{TITLES[kind]} ({kind})", "html": html})
    return _page(title, sections, bundle=True)
