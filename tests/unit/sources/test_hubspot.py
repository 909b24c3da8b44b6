"""HubSpot CRM adapter: contacts / deals (API v3 documents and JSON Lines) -> raw.leads through the stage-mapping
seed, checked value by value against the hand-written samples; the export round trip."""

from __future__ import annotations

import json
import shutil
from datetime import datetime as dt
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from sourcetest import SAMPLES, load, rows

from northstar import config
from northstar.config import Settings

HS = SAMPLES / "hubspot"
LEADS = "select lead_id, changed_at, user_id, stage, deal_value, currency from raw.leads order by row_number"


def _result(settings: Settings, path: Path, source: str | None = None):
    (res,) = load(settings, path, source=source).files
    return res


def _counts(res) -> tuple:
    return res.status, res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped


def test_contacts_api_document(settings: Settings) -> None:
    res = _result(settings, HS / "contacts_api.json")
    assert res.kind == "leads" and res.message == "bad rows in raw.quarantine"
    # 101: 6 lifecycle entries, subscriber ignored -> 5; hs_lead_status NEW / IN_PROGRESS ignored
    # 102: lead, mql + hs_lead_status UNQUALIFIED -> lost; 103: lead + custom stage 1234567890 (quarantined)
    # 104: no history -> hs_lifecyclestage_*_date / hs_v2_date_entered_* (lead twice, same time: once)
    # 105: lead, then other (ignored)
    assert _counts(res) == ("loaded", 13, 12, 1, 0)
    assert rows(settings, LEADS) == [
        ("101", dt(2026, 1, 5, 10), "u-101", "lead", None, None),
        ("101", dt(2026, 1, 6, 10), "u-101", "mql", None, None),
        ("101", dt(2026, 1, 8, 11), "u-101", "sql", None, None),
        ("101", dt(2026, 1, 12, 9), "u-101", "opportunity", None, None),
        ("101", dt(2026, 1, 20, 15), "u-101", "won", None, None),
        ("102", dt(2026, 1, 7, 12), "102", "lead", None, None),  # no user_id property: the contact id
        ("102", dt(2026, 1, 9, 9, 30), "102", "mql", None, None),
        ("102", dt(2026, 1, 15, 16, 30), "102", "lost", None, None),
        ("103", dt(2026, 1, 10, 8), "103", "lead", None, None),  # user_id "" counts as unset
        ("104", dt(2026, 1, 14, 10), "u-104", "lead", None, None),
        ("104", dt(2026, 1, 16, 10), "u-104", "mql", None, None),
        ("105", dt(2026, 1, 18, 7), "105", "lead", None, None),
    ]
    ((reason, record),) = rows(settings, "select reason, raw_record from raw.quarantine")
    assert reason == "unmapped_stage:lifecyclestage=1234567890"
    assert json.loads(record) == {
        "contact_id": "103",
        "lifecyclestage": "1234567890",
        "timestamp": "2026-01-11T09:00:00.000Z",
    }
    extra = rows(settings, "select extra from raw.leads where lead_id = '102' and stage = 'lost'")[0][0]
    assert json.loads(extra) == {
        "hubspot_object": "contact",
        "field": "hs_lead_status",
        "value": "UNQUALIFIED",
        "source_type": "CRM_UI",
    }
    # e-mail addresses stay in HubSpot: nothing of the contact's other properties is copied
    assert rows(settings, "select count(*) from raw.leads where cast(extra as varchar) like '%@%'") == [(0,)]


def test_deals_api_document(settings: Settings) -> None:
    res = _result(settings, HS / "deals_api.json")
    # 9001: 4 dealstage entries, 3 map to opportunity (one row, the first) + closedwon -> 2
    # 9002: no history, open: creation = current stage -> 1; 9003: creation + closedlost -> 2
    # 9004: no associated contact (quarantined); 9005: appointmentscheduled + custom 87654321 (quarantined)
    assert _counts(res) == ("loaded", 8, 6, 2, 0)
    assert rows(settings, LEADS) == [
        # amount history: 10000 typed 30 s after the deal was created (first value known), 12000.50 from Jan 16
        ("101", dt(2026, 1, 12, 9), None, "opportunity", Decimal("10000"), "EUR"),
        ("101", dt(2026, 1, 20, 14, 55), None, "won", Decimal("12000.50"), "EUR"),
        # amount "" and no currency; the close date 2026-03-31 of an open deal is a forecast: not used
        ("104", dt(2026, 1, 21, 10), None, "opportunity", None, None),
        ("105", dt(2026, 1, 19, 10), None, "opportunity", Decimal("4500"), "USD"),
        # closedate 2026-02-15 lies after the deal's last change (Jan 25 09:30): that is when it was lost
        ("105", dt(2026, 1, 25, 9, 30), None, "lost", Decimal("4500"), "USD"),
        ("103", dt(2026, 1, 13, 10), None, "opportunity", Decimal("3000"), "GBP"),
    ]
    assert rows(settings, "select reason from raw.quarantine order by row_number") == [
        ("no_associated_contact",),
        ("unmapped_stage:dealstage=87654321",),
    ]
    extra = rows(settings, "select extra from raw.leads where lead_id = '105' and stage = 'lost'")[0][0]
    assert json.loads(extra) == {
        "hubspot_object": "deal",
        "deal_id": "9003",
        "pipeline": "default",
        "field": "dealstage",
        "value": "closedlost",
        "closedate": "2026-02-15T00:00:00.000Z",
        "source_type": None,
    }


def test_json_lines_as_a_connector_writes_them(settings: Settings) -> None:
    deals = _result(settings, HS / "deals_airbyte.jsonl")
    # 9101: hs_v2_date_entered_* and hs_date_entered_* (same closedwon time: once); 9102: invalid UTF-8 line;
    # 9103: contacts [202, 203] (the first), hs_date_entered_qualifiedtobuy in epoch milliseconds, no currency
    assert _counts(deals) == ("loaded", 4, 3, 1, 0)
    contacts = _result(settings, HS / "contacts_airbyte.jsonl")
    # 201: hs_v2_date_entered_* (one a JSON number of epoch ms); 202: only the current lifecyclestage (at
    # createdate); 203: lifecyclestage "" -> nothing
    assert _counts(contacts) == ("loaded", 3, 3, 0, 0)
    assert rows(settings, f"select * from ({LEADS[: LEADS.index(' order')]}) order by lead_id, changed_at") == [
        ("201", dt(2026, 1, 19, 10), "u-201", "lead", None, None),
        ("201", dt(2026, 1, 21, 12, 53, 20), "u-201", "sql", None, None),
        ("201", dt(2026, 1, 22, 10), None, "opportunity", Decimal("2500"), "USD"),  # "usd" upper-cased
        ("201", dt(2026, 1, 28, 12), None, "won", Decimal("2500"), "USD"),
        ("202", dt(2026, 1, 20, 9, 6, 40), "202", "lead", None, None),
        ("202", dt(2026, 1, 21, 12, 53, 20), None, "opportunity", Decimal("780.5"), None),
    ]
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(3, "invalid_encoding")]


def test_a_response_saved_on_one_line_and_paged(settings: Settings, tmp_path: Path) -> None:
    # curl writes the response on one line; two pages appended one per line are read as one file
    doc = json.loads((HS / "contacts_api.json").read_text())
    first, second = dict(doc, results=doc["results"][:2]), dict(doc, results=doc["results"][2:])
    path = tmp_path / "contacts_pages.json"
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    assert _counts(_result(settings, path)) == ("loaded", 13, 12, 1, 0)


def test_a_daily_snapshot_loads_only_what_changed(settings: Settings, tmp_path: Path) -> None:
    load(settings, HS / "contacts_api.json")
    doc = json.loads((HS / "contacts_api.json").read_text())
    doc["results"][3]["properties"]["hs_lifecyclestage_salesqualifiedlead_date"] = "2026-01-27T10:00:00.000Z"
    path = tmp_path / "contacts_next_day.json"
    path.write_text(json.dumps(doc))
    # 104 became an sql: one new row; the 11 rows already loaded are duplicates; 103's custom stage again
    assert _counts(_result(settings, path)) == ("loaded", 14, 1, 1, 12)


def test_the_seed_decides_what_a_value_means(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "seeds").mkdir()
    seed = (config.PROJECT_DIR / "seeds" / "crm_stage_mapping.csv").read_text()
    seed = seed.replace("hubspot,deal,dealstage,closedlost,lost,", "hubspot,deal,dealstage,closedlost,,")
    seed += "hubspot,deal,dealstage,87654321,won,partner pipeline: signed\n"
    (tmp_path / "seeds" / "crm_stage_mapping.csv").write_text(seed)
    monkeypatch.setattr(config, "PROJECT_DIR", tmp_path)
    res = _result(settings, HS / "deals_api.json")
    assert _counts(res) == ("loaded", 7, 6, 1, 0)  # 9003's closedlost ignored now; 87654321 is a win
    assert rows(settings, "select lead_id, changed_at, stage from raw.leads where stage in ('won', 'lost')") == [
        ("101", dt(2026, 1, 20, 14, 55), "won"),
        ("103", dt(2026, 1, 22, 10), "won"),
    ]


def test_a_broken_seed_is_one_clear_error(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "seeds").mkdir()
    seed = (config.PROJECT_DIR / "seeds" / "crm_stage_mapping.csv").read_text() + "hubspot,deal,dealstage,x,closed,\n"
    (tmp_path / "seeds" / "crm_stage_mapping.csv").write_text(seed)
    monkeypatch.setattr(config, "PROJECT_DIR", tmp_path)
    res = _result(settings, HS / "deals_api.json")
    assert res.status == "error"
    assert "hubspot deal dealstage 'x' maps to closed: one stage of lead, mql, sql, opportunity, won, lost" in (
        res.message
    )


def _records(path: Path) -> list[dict]:
    if path.suffix == ".json":
        return json.loads(path.read_text())["results"]
    return [json.loads(line) for line in path.read_bytes().decode("utf-8", "replace").splitlines()]


@pytest.mark.parametrize(
    ("sample", "schema"),
    [
        ("contacts_api.json", "contacts_with_history.json"),
        ("contacts_airbyte.jsonl", "contacts_with_history.json"),
        ("deals_api.json", "deals.json"),
        ("deals_airbyte.jsonl", "deals.json"),
    ],
)
def test_samples_follow_the_published_schema(sample: str, schema: str) -> None:
    validator = jsonschema.Draft7Validator(json.loads((HS / "schema" / schema).read_text()))
    for rec in _records(HS / sample):
        validator.validate(rec)


def test_another_sources_file_forced_through_hubspot_is_one_clear_error(settings: Settings) -> None:
    res = _result(settings, SAMPLES / "salesforce" / "leads_rest.json", source="hubspot")
    assert res.status == "error"
    assert "does not look like HubSpot CRM contacts / deals (API v3) (--source hubspot)" in res.message
    assert "it looks like Salesforce" in res.message and "\n" not in res.message


# -- export: generate --as hubspot ------------------------------------------------------------------------------
_EXTRA_LEADS = [  # corners the demo's 3 days do not reach: money that changes, stages with and without money
    ("X1", "2026-01-01T08:00:00Z", "ux1", "lead", None, None),
    ("X1", "2026-01-01T09:00:00Z", "ux1", "mql", None, None),
    ("X1", "2026-01-01T10:00:00Z", "ux1", "sql", None, None),
    ("X1", "2026-01-02T10:00:00Z", "ux1", "opportunity", 1000, "EUR"),
    ("X1", "2026-01-03T10:00:00Z", "ux1", "won", 1100.5, "EUR"),
    ("X2", "2026-01-01T08:00:00Z", "ux2", "lead", None, None),
    ("X2", "2026-01-02T08:00:00Z", "ux2", "opportunity", None, None),
    ("X2", "2026-01-03T08:00:00Z", "ux2", "lost", 500, "USD"),
    ("X3", "2026-01-01T08:00:00Z", "ux3", "lead", None, None),
    ("X3", "2026-01-02T08:00:00Z", "ux3", "won", None, None),
    ("X4", "2026-01-01T08:00:00Z", "ux4", "lead", None, None),
    ("X4", "2026-01-01T12:00:00Z", "ux4", "mql", None, None),
    ("X4", "2026-01-02T12:00:00Z", "ux4", "lost", None, None),
]
_CURRENT = """select lead_id, changed_at, user_id, stage, deal_value, currency from raw.leads
    qualify row_number() over (partition by lead_id, stage, changed_at order by loaded_at desc, load_id desc,
                                                                            row_number desc) = 1"""


def test_export_round_trip_is_lossless(tmp_path: Path) -> None:
    from northstar.ingest.load import load_paths
    from northstar.sample.as_sources import write_as
    from northstar.sample.generate import generate

    landing, out = tmp_path / "landing", tmp_path / "out"
    generate(landing, days=3, visitors=300, seed=5, file_format="jsonl", progress=False)
    cols = ("lead_id", "changed_at", "user_id", "stage", "deal_value", "currency")
    (landing / "leads_extra.jsonl").write_text(
        "".join(json.dumps(dict(zip(cols, r, strict=True))) + "\n" for r in _EXTRA_LEADS)
    )
    settings = Settings(warehouse_dir=tmp_path / "wh_as", landing_dir=landing, pii_salt="s")
    files = write_as(settings, landing, out, ["hubspot"]).files
    assert {p.name for p in files} >= {"hubspot_contacts_0001.json", "hubspot_deals_0001.json"}
    assert not list(out.glob("leads*"))  # every lead row went into the HubSpot documents

    before = Settings(warehouse_dir=tmp_path / "wh_landing", landing_dir=landing, pii_salt="s")
    after = Settings(warehouse_dir=tmp_path / "wh_hubspot", landing_dir=out, pii_salt="s")
    load_paths(before, [str(landing)], progress=False)
    report = load_paths(after, [str(out)], progress=False)
    hubspot_files = [f for f in report.files if f.path.endswith(".json")]
    assert [(f.status, f.rows_quarantined) for f in hubspot_files] == [("loaded", 0), ("loaded", 0)]
    # every contract column survives: the user id rides on a custom `user_id` property of contacts and deals
    expected = sorted(rows(before, _CURRENT))
    assert len(expected) > len(_EXTRA_LEADS)
    assert sorted(rows(after, _CURRENT)) == expected
    shutil.rmtree(tmp_path, ignore_errors=True)
