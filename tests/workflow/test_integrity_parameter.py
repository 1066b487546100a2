"""The integrity sampling rate says what it is a share of (DI 40502.001G.7; interpretations §27)."""

from __future__ import annotations

import datetime as dt

from cdrflow.dcf.store import Store
from cdrflow.engine.yamlio import load_yaml
from cdrflow.policy.mailer.source import HERE, parameters
from cdrflow.workflow import integrity


def test_the_rate_names_its_base_and_cites_g7_not_b4() -> None:
    ps = parameters()
    names = set(ps)
    assert integrity.PARAMETER == "integrity_sample_rate_pc_reviewed" and integrity.PARAMETER in names
    assert "integrity_sample_rate" not in names  # the old name hid the base
    raw = load_yaml(HERE / "parameters" / f"{integrity.PARAMETER}.yaml")
    assert raw["base"].startswith(integrity.BASE)
    assert "PC-REVIEWED DECISIONS" in raw["description"] and "not a seed figure" in raw["description"]
    for v in ps[integrity.PARAMETER].values:
        # G.7 is the passage for a sample of PC-reviewed cases; B.4's 5% is of mailers received
        assert "G.7" in v.reference and "B.4" not in v.reference
        assert "cdrflow's reading" in v.reference


def test_the_draw_logs_the_base_and_the_reading(store: Store) -> None:
    with store.tx() as tx:
        d = integrity.draw(tx, {"case_id": "CASE-1", "selected_on": dt.date(2026, 1, 5)}).as_dict()
    assert d["rate"] == 0.05 and d["base"] == integrity.BASE
    assert "G.7" in str(d["cite"]) and "B.4" not in str(d["cite"])
