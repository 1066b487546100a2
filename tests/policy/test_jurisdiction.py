"""pc-jurisdiction (DI 40502.001E.4.a): the shipped public data, a site's table, and the labels that travel.

The seed-derived cases are in src/cdrflow/policy/mailer/cases/pc_jurisdiction.yaml (run by
test_cases.py against the shipped data); this file covers what needs a site table, the CLI, or
every area number.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cdrflow.engine.errors import InputError, NoValueInForce
from cdrflow.policy.calcs import REGISTRY
from cdrflow.policy.mailer import jurisdiction
from cdrflow.policy.mailer.source import parameters

from ..conftest import FIXTURES

CHART_LABEL = "GN 01704.910 (1985) public chart — partial, historical; not GN 01070.245"
PUBLIC_CHART = {  # GN 01704.910 (1985), as quoted in issue 11: area numbers -> PC
    **{a: 1 for a in range(1, 135)},
    **{a: 2 for a in range(135, 223)},
    **{a: 3 for a in range(223, 232)},
    **{a: 4 for a in range(268, 303)},
    **{a: 6 for a in range(303, 316)},
    **{a: 5 for a in range(501, 505)},
}
CENTERS = {
    1: "Northeastern Program Service Center",
    2: "Mid-Atlantic Program Service Center",
    3: "Southeastern Program Service Center",
    4: "Great Lakes Program Service Center",
    5: "Western Program Service Center",
    6: "Mid-America Program Service Center",
    7: "Office of Disability Operations",
    8: "Office of International Operations",
}


def t16(area: int, site_table: jurisdiction.SsnTable | None = None) -> dict[str, Any]:
    return REGISTRY["pc-jurisdiction"].run({"title": "T16", "ssn": f"{area:03d}450001", "beneficiary_type": "OTHER",
                                            **({"site_table": site_table} if site_table is not None else {})})


@pytest.mark.parametrize("ssn", ["666450001", "900450001", "000450001", "123000001", "123450000"])
def test_a_never_issued_ssn_is_refused_and_not_repeated(ssn: str) -> None:
    """The one SSN rule (cdrflow.kernel.ssn; interpretations §77); the message never repeats the SSN."""
    with pytest.raises(InputError) as info:
        REGISTRY["pc-jurisdiction"].run({"title": "T16", "ssn": ssn, "beneficiary_type": "OTHER"})
    assert info.value.field == "ssn" and "never issued" in info.value.message and ssn not in str(info.value)


def test_the_shipped_chart_answers_its_ranges_with_its_label_and_nothing_else() -> None:
    for area in (a for a in range(1, 900) if a != 666):  # 666 is never issued (interpretations §77)
        ans = t16(area)
        if area in PUBLIC_CHART:
            assert (ans["pc"], ans["source"], ans["basis"]) == (PUBLIC_CHART[area], "PUBLIC_CHART", CHART_LABEL), area
            assert ans["center"] == CENTERS[ans["pc"]]
            assert ans["policy_version"]["data:pc_ssn_public_chart"] == "GN 01704.910 (1985)"
        else:
            assert (ans["pc"], ans["center"], ans["source"]) == (None, None, "UNKNOWN"), area
            assert ans["basis"].startswith("unknown")
        assert "2011-06-25" in ans["note"]  # randomized SSNs: an area number alone cannot place them


def test_an_unknown_range_says_so_and_how_a_site_loads_its_table() -> None:
    ans = t16(899)
    assert ans["pc"] is None and ans["source"] == "UNKNOWN"
    assert "unknown" in ans["reason"]
    assert "--pc-ssn-table FILE" in ans["reason"] and "CDRFLOW_PC_SSN_TABLE" in ans["reason"]
    assert "GN 01704.910" in ans["reason"]


def test_a_site_table_takes_precedence_with_its_own_label(test_ssn_table: jurisdiction.SsnTable) -> None:
    ans = t16(300, test_ssn_table)  # the public chart says PC 4 (268-302); the site fixture says PC 3
    assert (ans["pc"], ans["source"]) == (3, "SITE_TABLE")
    assert ans["basis"] == "site table: test fixture (not GN 01070.245)"
    assert ans["center"] == CENTERS[3]
    assert "data:pc_ssn_public_chart" not in ans["policy_version"]  # not consulted once the site table knew it
    unknown = t16(899, test_ssn_table)  # in neither table
    assert unknown["pc"] is None and unknown["source"] == "UNKNOWN"
    assert "site table (test fixture" in unknown["reason"] and "GN 01704.910" in unknown["reason"]


def test_an_area_the_site_table_lacks_falls_back_to_the_public_chart(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text('reference: "GN 01070.245 (site copy, 2026-11)"\nranges:\n  - {from: "500", to: "599", pc: 2}\n',
                    encoding="utf-8")
    table = jurisdiction.load_ssn_table(site)
    assert (t16(550, table)["pc"], t16(550, table)["basis"]) == (2, "site table: GN 01070.245 (site copy, 2026-11)")
    assert (t16(502, table)["pc"], t16(502, table)["source"]) == (2, "SITE_TABLE")  # the chart's PC 5 loses
    assert (t16(123, table)["pc"], t16(123, table)["basis"]) == (1, CHART_LABEL)


def test_the_rules_table_has_no_gaps_and_no_dead_rows() -> None:
    table = jurisdiction.rules()
    assert table.uncovered() == []
    assert table.unreachable_rows() == []
    assert [r.id for r in table.rules] == ["J1", "J2", "J3", "J4", "J5", "J6"]
    assert all(r.cite for r in table.rules)


def test_the_centers_are_named_from_the_public_list() -> None:
    assert {pc: jurisdiction.center_name(pc) for pc in range(1, 9)} == CENTERS


def test_the_transfer_age_is_54_by_the_main_sentence_and_by_the_note() -> None:
    p = parameters()["pc7_transfer_age"]
    before, after = p.at(dt.date(2009, 4, 30)), p.at(dt.date(2009, 5, 1))
    assert (before.value, before.effective) == (54, dt.date(1986, 6, 1))
    assert "main sentence" in before.reference
    assert (after.value, after.effective) == (54, dt.date(2009, 5, 1))
    assert "NOTE" in after.reference
    with pytest.raises(NoValueInForce):
        p.at(dt.date(1986, 5, 31))


# ---- the CLI: --pc-ssn-table and CDRFLOW_PC_SSN_TABLE keep working -------------------------------

def _calc(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    payload = json.dumps({"title": "T16", "ssn": "300450001", "beneficiary_type": "OTHER"})
    clean = {k: v for k, v in os.environ.items() if k != "CDRFLOW_PC_SSN_TABLE"}
    p = subprocess.run([sys.executable, "-m", "cdrflow.cli", "calc", "pc-jurisdiction", payload, *args],
                       capture_output=True, text=True, timeout=120, env={**clean, **(env or {})})
    assert p.returncode == 0, p.stderr
    answer: dict[str, Any] = json.loads(p.stdout)
    return answer


def test_cli_site_table_by_option_and_by_environment() -> None:
    table = str(FIXTURES / "pc_ssn_test_table.yaml")
    shipped = _calc()
    assert (shipped["pc"], shipped["source"], shipped["basis"]) == (4, "PUBLIC_CHART", CHART_LABEL)
    for answer in (_calc("--pc-ssn-table", table), _calc(env={"CDRFLOW_PC_SSN_TABLE": table})):
        assert (answer["pc"], answer["source"]) == (3, "SITE_TABLE")
        assert answer["basis"].startswith("site table: ")
