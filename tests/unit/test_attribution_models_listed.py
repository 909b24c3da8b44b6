"""The attribution models are listed in a few places dbt, GX and Python each read; they must name the same eight.

northstar/config.py ATTRIBUTION_MODELS is the reference. macros/attribution_models.sql feeds the SQL (campaign
performance's per-model columns, the coverage test); YAML accepted_values and the GX suite cannot call a macro.
"""

from __future__ import annotations

import json
import re

import yaml

from northstar.config import ATTRIBUTION_MODELS, LEARNED_ATTRIBUTION_MODELS, PROJECT_DIR


def test_the_dbt_macro_lists_the_models_in_the_same_order() -> None:
    macro = (PROJECT_DIR / "macros" / "attribution_models.sql").read_text()
    listed = re.search(r"return\(\[(.*?)\]\)", macro, re.S)
    assert listed, "macros/attribution_models.sql returns no list"
    assert tuple(re.findall(r"'(\w+)'", listed.group(1))) == ATTRIBUTION_MODELS


def _accepted_values(path: str, model: str, column: str) -> list[str]:
    spec = yaml.safe_load((PROJECT_DIR / path).read_text())
    (entry,) = [m for m in spec["models"] if m["name"] == model]
    (col,) = [c for c in entry["columns"] if c["name"] == column]
    (test,) = [t["accepted_values"] for t in col["data_tests"] if isinstance(t, dict) and "accepted_values" in t]
    return test["arguments"]["values"]


def test_yaml_and_gx_accept_every_model() -> None:
    accepted = {
        "fct_attributed_conversions.model": _accepted_values(
            "models/marts/attribution/_attribution__models.yml", "fct_attributed_conversions", "model"
        ),
        "fct_campaign_performance.attribution_model": _accepted_values(
            "models/marts/kpis/_kpis__models.yml", "fct_campaign_performance", "attribution_model"
        ),
        "fct_revenue_reconciliation.attribution_model": _accepted_values(
            "models/marts/reconciliation/_reconciliation__models.yml", "fct_revenue_reconciliation", "attribution_model"
        ),
        "fct_attribution_channel_weights.model": _accepted_values(
            "models/marts/attribution/_attribution__models.yml", "fct_attribution_channel_weights", "model"
        ),
    }
    suite = json.loads((PROJECT_DIR / "expectations" / "marts_fct_attributed_conversions.json").read_text())
    (gx,) = [
        e["kwargs"]["value_set"]
        for e in suite["expectations"]
        if e["type"] == "expect_column_values_to_be_in_set" and e["kwargs"]["column"] == "model"
    ]
    assert sorted(accepted["fct_attributed_conversions.model"]) == sorted(ATTRIBUTION_MODELS)
    assert sorted(accepted["fct_campaign_performance.attribution_model"]) == sorted(ATTRIBUTION_MODELS)
    assert sorted(accepted["fct_revenue_reconciliation.attribution_model"]) == sorted(ATTRIBUTION_MODELS)
    assert sorted(accepted["fct_attribution_channel_weights.model"]) == sorted(LEARNED_ATTRIBUTION_MODELS)
    assert sorted(gx) == sorted(ATTRIBUTION_MODELS)
