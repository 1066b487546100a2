"""Rendering the mailer documents (cdrflow.documents) to printable HTML."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from cdrflow.documents import KINDS, render, render_bundle

PSC_MESSAGE_6 = (
    "DE/DEC/DC REVIEW NEEDED. IF THE DE/DEC/DC FINDS THAT THE REMARKS/ATTACHMENTS ARE MATERIAL OR THAT FOLDER "
    "REVIEW IS REQUIRED, THE DE/DEC/DC SHOULD CONSIDER THE AUTOMATED RECOMMENDED DECISION WHICH IS TO REFER THE "
    "CASE FOR A MEDICAL CDR. IF THE DE/DEC/DC CONCURS WITH THE RECOMMENDED DECISION, REFER THE CASE TO THE FO "
    "USING A SSA-5526-U2-OP2."
)
MISC_MESSAGE_1 = (
    "DE/DEC/DC REVIEW NEEDED. SIGNIFICANT RESPONSES AND/OR RELEVANT REMARKS/ATTACHMENTS ARE PRESENT. IF THE "
    "DE/DEC/DC FINDS THAT THE RESPONSES AND/OR REMARKS/ATTACHMENTS ARE MATERIAL OR THAT FOLDER REVIEW IS REQUIRED, "
    "THE DE/DEC/DC SHOULD TAKE APPROPRIATE ACTION. IN DECIDING THAT ACTION, THE DE/DEC/DC SHOULD ALWAYS CONSIDER THE "
    "AUTOMATED RECOMMENDED DECISION WHICH IS TO REDIARY THE CASE. IF THE DE/DEC/DC CONCURS WITH THE AUTOMATED "
    "RECOMMENDED DECISION, DO NOT REFER THE CASE FOR A CDR."
)
LONG_REMARK = (
    "I had two operations on my back last spring and the doctor says I will need a third one. I cannot sit for "
    "more than ten minutes and I take pain medicine every day. My daughter helps me with shopping and cleaning."
)


# --------------------------------------------------------------------------- fixtures


def beneficiary(**changes: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "ssn": "123456789",
        "bic_or_id": "A",
        "name": "Maria T. Alvarez",
        "birth_date": "1971-06-14",
        "title": "T2",
        "application_date": "2012-02-03",
        "entitlement_date": "2012-08-01",
        "onset_date": "2011-11-20",
        "diagnosis_primary": "7240",
        "diagnosis_secondary": "2960",
        "impairment": "Disorders of back; affective disorder",
        "od_calc_mdr": "7",
        "qmid_mdr": "7",
        "ssr_mr": None,
        "diary_month": "2024-03",
        "ssi_diary_month": None,
        "profile": "L",
        "profile_score": 0.0312,
        "recent_earnings_year": 2022,
        "recent_earnings": 1850.5,
        "initial_claim": "Allowed 2012-07 at DDS, Reg basis 1.04",
        "prior_cdr": "CDR 2017-05: continuance",
        "servicing_pc": 7,
        "dds": "PA",
        "fo_doors": "A12",
        "fo_city": "Scranton",
        "fo_state": "PA",
        "fo_zip": "18503",
        "rep_payee": None,
        "language": "English",
        "address_line": "41 Linden Street",
        "city": "Scranton",
        "state": "PA",
        "zip": "18505",
        "country": "US",
        "foreign_address": False,
        "phone": "570-555-0142",
        "date_of_death": None,
    }
    b.update(changes)
    return b


def case(**changes: Any) -> dict[str, Any]:
    c: dict[str, Any] = {
        "case_id": "C-2024-000317",
        "title": "T2",
        "profile": "L",
        "selected_on": "2024-01-08",
        "request": "FIRST",
        "send_request_date": "2024-01-22",
        "report_period_start": "2022-01",
        "state": "PC_REVIEW",
        "pc": 7,
        "outcome": None,
        "ipca_event": None,
    }
    c.update(changes)
    return c


def mailer(**changes: Any) -> dict[str, Any]:
    m: dict[str, Any] = {
        "mailer_id": "M-0317",
        "ssn": "123456789",
        "title": "T2",
        "form": "SSA-455-OCR-SM",
        "request": "FIRST",
        "profile": "L",
        "report_period_start": "2022-01",
        "signed": True,
        "signer": "BENEFICIARY",
        "q1a_worked": "NO",
        "q1b_earnings": [],
        "q2_school": "NO",
        "q3_doctor_work": "CANNOT_WORK",
        "q4_health": "WORSE",
        "q5_doctor_visits": "YES",
        "q6_hospitalized": None,
        "vr_interest": None,
        "remarks": {"text": "My back pain is worse and I now use a cane.", "relevant": True, "subject": "MEDICAL"},
        "attachments": [],
        "translation_needed": False,
        "other_program_issue": False,
        "any_codes": "20N",
        "q5_narrative": "Every month, pain management clinic",
        "q6_narrative": None,
    }
    m.update(changes)
    return m


ISSUED: dict[str, Any] = {
    "on": "2024-05-02",
    "policy_version": {"source": "DI 40502.001 TN 2 (10-08)", "param:dircon_attempts": "2008-10-01",
                       "param:remark_short_limit": "2008-10-01"},
    "parameters": {"dircon_attempts": {"value": 2, "effective": "2008-10-01"},
                   "remark_short_limit": {"value": {"words": 30, "characters": 200}, "effective": "2008-10-01"}},
}
"""What a document issued by cdrflow records with it (cdrflow.workflow.outcomes.issued)."""


def base(**extra: Any) -> dict[str, Any]:
    return {"beneficiary": beneficiary(), "case": case(), "issued": copy.deepcopy(ISSUED), **extra}


def alert_payload(**alert_changes: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "type": "PSC MAILER",
        "message": 6,
        "text": PSC_MESSAGE_6,
        "reviewer": "DE/DEC/DC",
        "recommended_action": "DO_CDR",
    }
    alert.update(alert_changes)
    return base(
        decision={
            "outcome": "PC_REVIEW",
            "actionable": True,
            "actionable_reason": "RELEVANT_ATTACHMENTS",
            "alert": alert,
            "automated_recommendation": "DO_CDR",
            "rule_ids": ["actionable:A2", "pc_review_routing:R6"],
        },
        date="2024-05-02",
    )


def facsimile_payload(**mailer_changes: Any) -> dict[str, Any]:
    return base(mailer=mailer(**mailer_changes))


def deferral_payload(**beneficiary_changes: Any) -> dict[str, Any]:
    return {
        "beneficiary": beneficiary(**beneficiary_changes),
        "case": case(state="CLOSED", outcome="DEFER", ipca_event=4),
        "diary": {"diary_month": "2031-03", "diary_type": "MINE", "months": 84, "ssi_diary_month": None},
        "date": "2024-05-20",
    }


def ssa559_payload(action: str = "WORK_RESOLVED", annotation: str | None = "WORK RESOLVED",
                   remark: str | None = None, folder: bool = True) -> dict[str, Any]:
    return base(action=action, annotation=annotation, remark=remark, folder=folder, referred_by="bob:BET",
                date="2024-05-10")


def ssa5526_payload(cdt: int | None = 44, fiscal_year: int = 2024) -> dict[str, Any]:
    return base(
        cdt={"cdt": cdt, "fiscal_year": fiscal_year},
        date="2024-05-20",
        remarks="Mailer DO CDR: reports surgery and new work attempt.",
    )


def fo_referral_payload(title: str = "T2", reason: str = "DO CDR") -> dict[str, Any]:
    return {
        "beneficiary": beneficiary(title=title, bic_or_id="A" if title != "T16" else "DI"),
        "case": case(title=title, outcome="DO_CDR", ipca_event=2),
        "ipca_event": 2,
        "doors": "B47",
        "remarks": "CDR MAILER SENT TO FO FOR FULL MEDICAL CDR",
        "reason": reason,
        "date": "2024-05-20",
    }


def wbdoc_payload(reason: str = "FOREIGN_ADDRESS", to: str = "PC") -> dict[str, Any]:
    return base(reason=reason, to=to, details="Beneficiary reports a move to Guadalajara, Mexico.", date="2024-02-11")


def dircon_payload(outcome: str = "DO_CDR") -> dict[str, Any]:
    return base(
        attempts=[
            {"date": "2024-06-03", "result": "BUSY", "by": "DT J. Kowalski"},
            {"date": "2024-06-03", "result": "NO_ANSWER", "by": "DT J. Kowalski"},
            {"date": "2024-06-05", "result": "NO_ANSWER", "by": "DT J. Kowalski"},
        ],
        outcome=outcome,
    )


PAYLOADS: dict[str, Any] = {
    "ALERT_SHEET": alert_payload,
    "FACSIMILE": facsimile_payload,
    "PROFILE_SHEET": base,
    "SSA_559": ssa559_payload,
    "DEFERRAL_NOTICE": deferral_payload,
    "SSA_5526": ssa5526_payload,
    "FO_REFERRAL": fo_referral_payload,
    "WBDOC_REFERRAL": wbdoc_payload,
    "DIRCON_RECORD": dircon_payload,
}


def text_of(html: str) -> str:
    """The visible text of ``html`` with whitespace collapsed (entities decoded)."""

    inline = {"a", "b", "em", "i", "span", "strong", "small", "abbr", "code"}

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self._skip = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("style", "script"):
                self._skip += 1
            if tag not in inline:
                self.parts.append(" ")

        def handle_endtag(self, tag: str) -> None:
            if tag in ("style", "script"):
                self._skip -= 1
            if tag not in inline:
                self.parts.append(" ")

        def handle_data(self, data: str) -> None:
            if not self._skip:
                self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


# --------------------------------------------------------------------------- every kind


def test_kinds_are_the_documented_tuple() -> None:
    assert KINDS == (
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
    assert set(PAYLOADS) == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_a_self_contained_page_with_citations(kind: str) -> None:
    html = render(kind, PAYLOADS[kind]())
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert html.count(f'<section class="doc" data-kind="{kind}"') == 1
    assert "<style>" in html
    # No JavaScript, no external assets.
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", html)
    assert "<link" not in html.lower()
    text = text_of(html)
    assert re.search(r"Implements: DI 40502\.001[A-J]", text)
    # The beneficiary is identified by name and formatted SSN on every document.
    assert "Maria T. Alvarez" in text
    assert "123-45-6789" in text
    assert "123456789" not in text


def assert_balanced(html: str) -> None:
    """Every non-void element is closed, in order (the templates emit well-formed HTML)."""
    void = {"meta", "br", "hr", "img", "input", "link"}
    stack: list[str] = []

    class _Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag not in void:
                stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            assert stack and stack[-1] == tag, f"</{tag}> closes {stack[-1:] or 'nothing'}"
            stack.pop()

    _Tags().feed(html)
    assert stack == [], f"unclosed: {stack}"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_well_formed(kind: str) -> None:
    assert_balanced(render(kind, PAYLOADS[kind]()))


# --------------------------------------------------------------------------- alert sheet


def test_alert_sheet_psc_mailer() -> None:
    text = text_of(render("ALERT_SHEET", alert_payload()))
    assert "CDR MAILER PSC REVIEW ALERT" in text
    assert "PSC MAILER" in text
    assert "Alert message 6" in text
    assert "6. " + PSC_MESSAGE_6 in text
    assert "Alert generation run date: May 2, 2024" in text
    assert "Automated recommended final action" in text
    assert "DO CDR — refer the case to the FO for a full medical CDR" in text
    assert "guide but is not binding on the PC reviewer" in text
    # E.4.b: association of the actual mailer before processing; PC 7 -> the DSE.
    assert "Development and Support Examiner (DSE) (PC-7)" in text
    assert "Folder Location Clerk (FLC) (PCs 1-6)" in text
    assert "This case is in PC-7: the DSE associates the mailer." in text
    assert "DI 40502.001F.3" in text and "DI 40502.001E.4.b" in text and "DI 40502.001G.4.c" in text
    assert "A12" in text and "Scranton, PA 18503" in text


@pytest.mark.parametrize(("title", "system"), [("T2", "PCACS"), ("T2/16", "PCACS"), ("T16", "SSICCS")])
def test_alert_sheet_folder_data_labelled_by_title(title: str, system: str) -> None:
    """F.3: PCACS (Title II-only or concurrent) or SSICCS (Title XVI-only) folder location and date in location."""
    payload = alert_payload()
    payload["case"]["title"] = title
    payload["folder"] = {"location": "MEGASITE", "date_in_location": "2021-03-02"}
    text = text_of(render("ALERT_SHEET", payload))
    assert f"Folder data ({system}) folder location MEGASITE, in location since March 2, 2021" in text
    other = {"PCACS": "SSICCS", "SSICCS": "PCACS"}[system]
    assert other not in text
    del payload["folder"]
    text = text_of(render("ALERT_SHEET", payload))
    assert (f"Folder data ({system}) not supplied: the site gave no {system} folder location or date in location "
            "for this case") in text


def test_alert_sheet_miscellaneous_has_no_association_instruction() -> None:
    payload = alert_payload(type="MISCELLANEOUS", message=1, text=MISC_MESSAGE_1, recommended_action="DEFER")
    payload["decision"]["automated_recommendation"] = "DEFER"
    payload["case"]["pc"] = 3
    text = text_of(render("ALERT_SHEET", payload))
    assert "MISCELLANEOUS" in text
    assert "1. " + MISC_MESSAGE_1 in text
    assert "sufficient for folderless processing" in text
    assert "must be associated" not in text
    assert "DEFER — defer the full medical CDR and rediary the case" in text
    assert "DI 40502.001F.3.e" in text


def test_alert_sheet_accepts_the_calc_spelling_of_the_alert() -> None:
    # The mailer-decision calc spells the type PSC_MAILER and the action REFER_CDR.
    payload = alert_payload(type="PSC_MAILER", recommended_action="REFER_CDR")
    text = text_of(render("ALERT_SHEET", payload))
    assert "PSC MAILER" in text and "DO CDR — refer the case" in text


@pytest.mark.parametrize(("alert_type", "message"), [("PSC MAILER", 8), ("MISCELLANEOUS", 3), ("PSC MAILER", 0)])
def test_alert_sheet_rejects_a_message_the_alert_type_does_not_have(alert_type: str, message: int) -> None:
    with pytest.raises(ValueError, match=rf"ALERT_SHEET: .*messages 1-\d; got {message}"):
        render("ALERT_SHEET", alert_payload(type=alert_type, message=message))


# --------------------------------------------------------------------------- facsimile


def test_facsimile_questions_answers_and_short_remarks() -> None:
    text = text_of(render("FACSIMILE", facsimile_payload()))
    assert "Form SSA-455-OCR-SM" in text
    assert "Have you worked for someone or been self-employed since January 2022?" in text
    assert "Have you attended any school or work training program(s)" in text
    assert "Have you discussed work with your doctor?" in text
    assert "CANNOT WORK" in text
    assert "Describe your health now as compared to January 2022" in text
    assert "WORSE" in text
    assert "Have you gone to a doctor or clinic" in text
    assert "Every month, pain management clinic" in text
    # Question 4 of the OCR-SM is question 2 of the SSA-455 (B.7).
    assert "4 (2) Describe your health" in text
    assert "5 (7) Have you gone to a doctor" in text
    # Short relevant remarks are shown as keyed.
    assert "My back pain is worse and I now use a cane." in text
    assert "lengthy remarks" not in text
    assert "never considered" in text
    assert "Profile (scanline 2, field 3) L (Low)" in text


def test_facsimile_says_no_response_for_unanswered_questions() -> None:
    html = render("FACSIMILE", facsimile_payload(q1a_worked=None, q4_health=None, q6_hospitalized=None))
    text = text_of(html)
    assert re.search(r"self-employed since January 2022\? NO RESPONSE", text)
    assert re.search(r"better, the same, or worse\? NO RESPONSE", text)
    assert re.search(r"for what reason\? NO RESPONSE", text)
    # q1b empty, q1a, q4 and q6 unanswered.
    assert text.count("NO RESPONSE") == 4


def test_facsimile_hides_lengthy_remarks() -> None:
    assert len(LONG_REMARK) > 200
    html = render("FACSIMILE", facsimile_payload(remarks={"text": LONG_REMARK, "relevant": True, "subject": "MEDICAL"}))
    text = text_of(html)
    assert "lengthy remarks — see actual mailer" in text
    assert "two operations" not in text


def test_facsimile_remark_of_31_short_words_is_lengthy() -> None:
    remark = " ".join(["ok"] * 31)
    assert len(remark) < 200
    text = text_of(render("FACSIMILE", facsimile_payload(remarks={"text": remark, "relevant": True})))
    assert "lengthy remarks — see actual mailer" in text
    text = text_of(render("FACSIMILE", facsimile_payload(remarks={"text": " ".join(["ok"] * 30), "relevant": True})))
    assert "lengthy remarks" not in text


def test_facsimile_does_not_show_irrelevant_remarks() -> None:
    html = render("FACSIMILE", facsimile_payload(remarks={"text": "Please send a calendar.", "relevant": False}))
    assert "Please send a calendar." not in html
    assert "Irrelevant remarks only" in text_of(html)


def test_facsimile_escapes_remarks() -> None:
    evil = '<script>alert("x")</script> & <b>bold</b>'
    html = render("FACSIMILE", facsimile_payload(remarks={"text": evil, "relevant": True, "subject": "MISC"}))
    assert "<script" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_facsimile_earnings_attachments_and_scanlines() -> None:
    payload = facsimile_payload(
        q1a_worked="YES",
        q1b_earnings=[{"work_began": "2023-04", "work_ended": None, "monthly_earnings": 1210}],
        attachments=[{"kind": "PAY_STUB", "relevant": True, "subject": "WORK"}],
    )
    payload["scanlines"] = ["123456789 A 1971 2017 7240 2960", "7 N L 0312 2022-01 F2E 7 PA A12", "SCRANTON PA 18503"]
    html = render("FACSIMILE", payload)
    text = text_of(html)
    assert "April 2023" in text and "$1,210.00" in text and "not given" in text
    assert "PAY STUB" in text and "Yes — see actual mailer" in text
    assert re.search(r'<pre class="scanlines"[^>]*>123456789 A 1971 2017 7240 2960\n7 N L', html)
    assert "DI 40502.001B.8" in text


def test_facsimile_rejects_a_mailer_of_another_person() -> None:
    with pytest.raises(ValueError, match=r"FACSIMILE: the mailer's SSN \*\*\*-\*\*-4321") as info:
        render("FACSIMILE", facsimile_payload(ssn="587654321"))
    assert "587654321" not in str(info.value) and "587-65-4321" not in str(info.value)  # §79: never in full


# --------------------------------------------------------------------------- profile sheet


def test_profile_sheet_prints_the_profile_word_and_g3_fields() -> None:
    html = render("PROFILE_SHEET", base())
    assert re.search(r'<span class="big" data-profile="L">Low</span>', html)
    text = text_of(html)
    for expected in (
        "Account number (SSN / BIC or ID) 123-45-6789 A",
        "Application date February 3, 2012",
        "Date of entitlement August 1, 2012",
        "Date of onset of disability November 20, 2011",
        "7240 / 2960",
        "Disorders of back; affective disorder",
        "OD-CALC MDR: 7 (MINE)",
        "Recent earnings (2022) $1,850.50",
        "Allowed 2012-07 at DDS, Reg basis 1.04",
        "CDR 2017-05: continuance",
        "PC 7",
        "DDS PA",
        "Servicing FO (DOORS) A12",
        "Language English",
        "Representative payee none",
        "Title II only",
    ):
        assert expected in text, expected


@pytest.mark.parametrize(("code", "word"), [("H", "High"), ("M", "Medium")])
def test_profile_sheet_other_profiles(code: str, word: str) -> None:
    payload = {"beneficiary": beneficiary(profile=code), "case": case(profile=code)}
    assert f'data-profile="{code}">{word}</span>' in render("PROFILE_SHEET", payload)


def test_profile_sheet_rejects_an_unknown_profile() -> None:
    with pytest.raises(ValueError, match=r"PROFILE_SHEET: unknown profile 'X'"):
        render("PROFILE_SHEET", {"beneficiary": beneficiary(profile="X"), "case": case()})


# --------------------------------------------------------------------------- deferral notice


def test_deferral_notice_to_the_beneficiary() -> None:
    text = text_of(render("DEFERRAL_NOTICE", deferral_payload()))
    assert "Dear Maria T. Alvarez:" in text
    assert "We reviewed your Disability Update Report." in text
    assert "not to do a full medical review of your disability now" in text
    assert "We expect to review your case again around March 2031." in text
    assert "placeholder for the CDR mailer deferral notice (DI 40502.095 Exhibit 2)" in text
    assert "do not attempt further delivery" in text
    assert "41 Linden Street" in text and "Scranton, PA 18505" in text
    assert "DI 40502.001J.3.c" in text


def test_deferral_notice_to_the_representative_payee() -> None:
    text = text_of(render("DEFERRAL_NOTICE", deferral_payload(rep_payee="Jorge Alvarez")))
    assert "Dear Jorge Alvarez:" in text
    assert "Representative payee for Maria T. Alvarez" in text
    assert "you sent us for Maria T. Alvarez" in text
    assert "review Maria T. Alvarez’s case again around March 2031." in text
    assert "Dear Maria" not in text


def test_deferral_notice_without_a_diary_when_the_dcf_medical_data_was_blank() -> None:
    """J.3.a NOTE: blank QMID medical data -> no new diary; the notice promises no month and the office box says why."""
    payload = deferral_payload()
    payload["diary"] = None
    text = text_of(render("DEFERRAL_NOTICE", payload))
    assert "We will review your case again in the future." in text
    assert "again around" not in text and "medical diary reset" not in text
    assert "medical diary not reset: the DCF medical data (left-hand side of the QMID) is blank or zeros" in text
    assert "the pertinent medical information is in the REMARK (J.3.a NOTE)" in text


# --------------------------------------------------------------------------- SSA-559 (J.2.c)


def test_ssa559_work_resolved_with_the_folder() -> None:
    text = text_of(render("SSA_559", ssa559_payload()))
    assert "SSA-559 — REFERRAL TO THE DE/DEC/DC" in text
    assert "Worked with the claim folder" in text
    assert "Annotation on the mailer holder/paperless ACR WORK RESOLVED" in text
    assert "From bob:BET (BET/DT)" in text and "To DE/DEC/DC" in text
    assert "Please complete the PC mailer review." in text
    assert "DI 40502.001J.2.c" in text


def test_ssa559_under_tolerance_carries_the_remark_on_the_form() -> None:
    remark = "EARNINGS UNDER TOLERANCE LEVEL. RETURN TO BET/DT AFTER DE/DEC/DC REVIEW."
    text = text_of(render("SSA_559", ssa559_payload("UNDER_TOLERANCE", None, remark, folder=False)))
    assert f"Remark {remark}" in text
    assert "Annotation on the" not in text
    assert "Worked without the claim folder" in text
    assert "return the case to the BET/DT to complete the development of the unposted earnings" in text


def test_ssa559_refuses_an_action_that_gets_none() -> None:
    with pytest.raises(ValueError, match="SSA_559: an SSA-559 to the DE/DEC/DC is prepared for"):
        render("SSA_559", ssa559_payload("DEVELOP_WORK"))


# --------------------------------------------------------------------------- SSA-5526-U2-OP2


@pytest.mark.parametrize(("fy", "code"), [(2000, 40), (2003, 43), (2004, 44), (2024, 44)])
def test_ssa5526_cdt_code(fy: int, code: int) -> None:
    html = render("SSA_5526", ssa5526_payload(cdt=code, fiscal_year=fy))
    assert f'data-cdt="{code}">{code}</span>' in html
    text = text_of(html)
    assert f"CDR mailer released in FY {fy}" in text
    assert "SSA-5526-U2-OP2" in text and "DI 40502.001J.4.c" in text
    assert "Servicing FO (DOORS) A12" in text and "Title II only" in text


def test_ssa5526_before_fy2000_has_no_mailer_cdt_code() -> None:
    text = text_of(render("SSA_5526", ssa5526_payload(cdt=None, fiscal_year=1999)))
    assert "no mailer CDT code" in text


def test_ssa5526_rejects_a_cdt_code_that_does_not_match_the_fiscal_year() -> None:
    with pytest.raises(ValueError, match=r"SSA_5526: CDT code 41 does not match .* FY 2003 \(J.4.c gives 43\)"):
        render("SSA_5526", ssa5526_payload(cdt=41, fiscal_year=2003))


# --------------------------------------------------------------------------- FO referral


def test_fo_referral_puts_doors_in_the_ipcb_transfer_field() -> None:
    html = render("FO_REFERRAL", fo_referral_payload())
    field = re.search(r'<div class="field" id="ipcb-transfer">(.*?)</div>', html)
    assert field is not None
    assert text_of(field.group(1)) == "TRANSFER CASE OFFICE RESPONSIBLE FOR THE NEXT ACTION: B47"
    text = text_of(html)
    assert "REMARKS: Y" in text
    assert "CDR MAILER SENT TO FO FOR FULL MEDICAL CDR" in text
    assert "2 = INITIATE CDR" in text
    assert "Do not request the claim folder" not in text
    assert "DI 40502.001J.4.a" in text


def test_fo_referral_title_xvi_only() -> None:
    text = text_of(render("FO_REFERRAL", fo_referral_payload(title="T16")))
    assert "Do not request the claim folder. The FO will obtain it." in text
    assert "DI 40502.001J.4.b" in text and "DI 40502.001J.4.a" not in text


def test_fo_referral_asks_the_fo_to_notify_the_rep_payee() -> None:
    payload = fo_referral_payload()
    payload["beneficiary"]["rep_payee"] = "Jorge Alvarez"
    text = text_of(render("FO_REFERRAL", payload))
    assert "notify the beneficiary and the representative payee, Jorge Alvarez, that a CDR is being initiated" in text


def test_fo_referral_nonresponder() -> None:
    text = text_of(render("FO_REFERRAL", fo_referral_payload(reason="NONRESPONDER")))
    assert "the beneficiary was a non-responder" in text
    assert "The mailer is not a CDR" in text
    assert re.search(r"Implements: .*DI 40502\.001I\b", text)


def test_fo_referral_rejects_a_deferral_event() -> None:
    payload = fo_referral_payload()
    payload["ipca_event"] = 4
    with pytest.raises(ValueError, match=r"FO_REFERRAL: ipca_event must be 2 .* or 3 .*; got 4"):
        render("FO_REFERRAL", payload)


# --------------------------------------------------------------------------- WBDOC referral, DIRCON


def test_wbdoc_referral() -> None:
    text = text_of(render("WBDOC_REFERRAL", wbdoc_payload()))
    assert "Change of address to a foreign country reported" in text
    assert "Servicing processing center: PC 7" in text
    assert "Guadalajara, Mexico" in text
    assert "DI 40502.001E.2" in text


def test_wbdoc_title_xvi_reports_go_to_the_fo() -> None:
    text = text_of(render("WBDOC_REFERRAL", wbdoc_payload(reason="T16_REPORT", to="FO")))
    assert "Servicing field office A12, Scranton, PA 18503" in text
    with pytest.raises(ValueError, match=r"WBDOC_REFERRAL: T16_REPORT referrals go to the servicing FO"):
        render("WBDOC_REFERRAL", wbdoc_payload(reason="T16_REPORT", to="PC"))
    with pytest.raises(ValueError, match=r"WBDOC_REFERRAL: unknown WBDOC referral reason LOST"):
        render("WBDOC_REFERRAL", wbdoc_payload(reason="LOST"))


def test_dircon_record_counts_attempts_without_busy_signals() -> None:
    text = text_of(render("DIRCON_RECORD", dircon_payload()))
    assert "Form SSA-5002" in text
    assert "Busy signal not counted" in text
    assert "attempt 1 of 2" in text and "attempt 2 of 2" in text and "attempt 3" not in text
    assert "busy signals are not counted as attempts" in text
    assert "DO CDR" in text and "The mailer is not a CDR" in text
    assert "570-555-0142" in text


def test_dircon_record_success_has_no_remember_note() -> None:
    payload = dircon_payload(outcome="PROCESS_MAILER")
    payload["attempts"] = [{"date": "2024-06-03", "result": "REACHED", "by": "DE R. Chen"}]
    text = text_of(render("DIRCON_RECORD", payload))
    assert "process the mailer to a deferral (J.3) or a DO CDR (J.4)" in text
    assert "REMEMBER" not in text


# --------------------------------------------------------------------------- errors


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match=r"unknown document kind 'NOTICE'.*ALERT_SHEET.*DIRCON_RECORD"):
        render("NOTICE", base())


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("DEFERRAL_NOTICE", ("beneficiary", "rep_payee")),
        ("DEFERRAL_NOTICE", ("diary",)),
        ("DEFERRAL_NOTICE", ("diary", "diary_month")),
        ("ALERT_SHEET", ("decision", "alert", "text")),
        ("ALERT_SHEET", ("decision", "automated_recommendation")),
        ("FACSIMILE", ("mailer", "q4_health")),
        ("FACSIMILE", ("mailer", "remarks")),
        ("PROFILE_SHEET", ("beneficiary", "od_calc_mdr")),
        ("SSA_5526", ("cdt", "cdt")),
        ("FO_REFERRAL", ("doors",)),
        ("WBDOC_REFERRAL", ("to",)),
        ("DIRCON_RECORD", ("attempts",)),
    ],
)
def test_missing_key_names_the_kind_and_the_key(kind: str, path: tuple[str, ...]) -> None:
    payload = copy.deepcopy(PAYLOADS[kind]())
    target = payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    with pytest.raises(ValueError, match=rf"^{kind}: payload is missing key '{path[-1]}'$"):
        render(kind, payload)


def test_none_is_not_a_missing_key() -> None:
    # A nullable value that is present renders; only an absent key is an error.
    text = text_of(render("PROFILE_SHEET", {"beneficiary": beneficiary(od_calc_mdr=None), "case": case()}))
    assert "OD-CALC MDR: (blank)" in text


def test_bad_date_names_the_kind() -> None:
    with pytest.raises(ValueError, match=r"DEFERRAL_NOTICE: expected a month as YYYY-MM, got '03/2031'"):
        payload = deferral_payload()
        payload["diary"]["diary_month"] = "03/2031"
        render("DEFERRAL_NOTICE", payload)


# --------------------------------------------------------------------------- bundle


def test_bundle_contains_every_document_with_page_breaks() -> None:
    docs = [(kind, PAYLOADS[kind]()) for kind in KINDS]
    html = render_bundle("Case packet C-2024-000317", docs)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    kinds = re.findall(r'<section class="doc" data-kind="([A-Z_0-9]+)" id="doc-(\d+)">', html)
    assert kinds == [(kind, str(n)) for n, kind in enumerate(KINDS, start=1)]
    assert "section.doc + section.doc { break-before: page; page-break-before: always; }" in html
    assert html.count("<style>") == 1
    assert_balanced(html)
    text = text_of(html)
    assert "Case packet C-2024-000317" in text
    assert "We expect to review your case again around March 2031." in text
    assert PSC_MESSAGE_6 in text


def test_bundle_error_names_position_kind_and_key() -> None:
    bad = deferral_payload()
    del bad["diary"]
    with pytest.raises(ValueError, match=r"document 2 of 2: DEFERRAL_NOTICE: payload is missing key 'diary'"):
        render_bundle("packet", [("PROFILE_SHEET", base()), ("DEFERRAL_NOTICE", bad)])
    with pytest.raises(ValueError, match="no documents"):
        render_bundle("packet", [])


@pytest.mark.parametrize("clear", [False, True, None])
def test_alert_sheet_says_when_the_logic_could_not_decide(clear: bool | None) -> None:
    """F.1.b: a MISCELLANEOUS alert for answers the logic cannot clearly decide says why it is in PC review."""
    payload = alert_payload(type="MISCELLANEOUS", message=2)
    payload["decision"] = {**payload["decision"], "actionable": False, "clear_decision": clear}
    text = text_of(render("ALERT_SHEET", payload))
    said = "could not make a clear decision" in text
    assert said is (clear is False)  # absent (older alert sheets) or true: nothing is claimed


# --------------------------------------------------------------------------- documents are what was issued


def _issued_under_other_parameters() -> Any:
    """Today's parameters differ from those the documents were issued under (issue 13 item 7)."""
    from cdrflow.policy.mailer.source import what_if

    return what_if({"dircon_attempts": 5, "remark_short_limit": {"words": 100, "characters": 1000}})


def test_rendering_reads_no_parameter_in_force_today() -> None:
    """A document shows the parameter values recorded when it was issued, whatever is in force when it is
    rendered: the same bytes under other parameters."""
    remark = " ".join(["pain"] * 31)  # lengthy under the 30-word limit recorded at issue, short under 100
    docs = [(kind, PAYLOADS[kind]()) for kind in KINDS]
    docs[KINDS.index("FACSIMILE")] = ("FACSIMILE", facsimile_payload(remarks={"text": remark, "relevant": True}))
    before = render_bundle("packet", docs)
    with _issued_under_other_parameters():
        after = render_bundle("packet", docs)
        alone = render("DIRCON_RECORD", dircon_payload())
    assert after == before
    text = text_of(before)
    assert "lengthy remarks — see actual mailer" in text and "over 30 words or 200 characters" in text
    assert "attempt 2 of 2" in text_of(alone) and "Make 2 DIRCON attempts" in text_of(alone)


def test_the_footer_names_the_issue_date_policy_version_and_parameters() -> None:
    text = text_of(render("DIRCON_RECORD", dircon_payload()))
    assert "Issued May 2, 2024 under policy version: param:dircon_attempts 2008-10-01; " in text
    assert "source DI 40502.001 TN 2 (10-08)" in text
    assert "Parameters as issued: dircon_attempts = 2 (in force from 2008-10-01); remark_short_limit = " in text


def test_a_value_not_recorded_when_issued_is_said_so_not_looked_up() -> None:
    dircon = dircon_payload()
    del dircon["issued"]
    text = text_of(render("DIRCON_RECORD", dircon))
    assert "attempt 1 " in text and "attempt 2 " in text and " of 2" not in text
    assert "The number of DIRCON attempts to make was not recorded when issued" in text
    assert "Issue date and policy version: not recorded when issued." in text

    fax = facsimile_payload(remarks={"text": LONG_REMARK, "relevant": True})
    fax["issued"]["parameters"] = {}
    text = text_of(render("FACSIMILE", fax))
    assert LONG_REMARK in text and "lengthy remarks" not in text
    assert "The short-remark limit (E.3.a; E.4.b; G.3) was not recorded when issued" in text


def test_a_payload_stored_before_documents_were_frozen_shows_what_was_stored() -> None:
    from cdrflow.documents import NOT_FROZEN

    stored = {"date": "2024-05-20", "diary": {"diary_month": "2031-03", "diary_type": "MINE", "months": 84,
                                              "ssi_diary_month": None}}
    html = render_bundle("packet", [("DEFERRAL_NOTICE", {NOT_FROZEN: {"stored": stored, "created_on": "2024-05-20"}}),
                                    ("PROFILE_SHEET", base())])
    assert_balanced(html)
    section = html.split('id="doc-2"')[0]
    text = text_of(section)
    assert 'data-kind="DEFERRAL_NOTICE"' in section
    assert "CDR MAILER DEFERRAL NOTICE" in text and "Stored on May 20, 2024" in text
    assert "were not recorded when issued, and cdrflow does not fill them in" in text
    assert '"diary_month": "2031-03"' in text and "date 2024-05-20" in text
    assert "Dear" not in text and "Maria" not in text  # nothing of today's beneficiary
    assert "Issue date and policy version: not recorded when issued." in text
