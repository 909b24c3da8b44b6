"""Salesforce adapter: Lead / Opportunity (REST query responses and CSV exports) -> raw.leads through the
stage-mapping seed, checked value by value against the hand-written samples."""

from __future__ import annotations

import json
from datetime import datetime as dt
from decimal import Decimal
from pathlib import Path

from sourcetest import SAMPLES, load, rows

from northstar import config
from northstar.config import Settings

SF = SAMPLES / "salesforce"
LEADS = "select lead_id, changed_at, user_id, stage, deal_value, currency from raw.leads order by row_number"
Q1, Q2, Q3, Q4, Q5, Q6 = (f"00Q5e00000AbC0{i}EAF" for i in range(1, 7))


def _result(settings: Settings, path: Path, source: str | None = None):
    (res,) = load(settings, path, source=source).files
    return res


def _counts(res) -> tuple:
    return res.status, res.rows_read, res.rows_loaded, res.rows_quarantined, res.duplicates_skipped


def test_lead_rest_query(settings: Settings) -> None:
    res = _result(settings, SF / "leads_rest.json")
    assert res.kind == "leads"
    # Q1: created + LeadHistory (2 Status changes; 'created' / 'leadConverted' entries are not Status) + its
    #     ConvertedOpportunity (created, Closed Won) -> 5;  Q2: created + current Status -> 2
    # Q3: created + custom Status Nurturing (quarantined) -> 2;  Q4: created + history -> 2
    # Q5: created + current Status + opportunity with a custom closed stage (IsWon) -> 4
    # Q6: created + current Status + opportunity with a custom open stage (quarantined) -> 4
    assert _counts(res) == ("loaded", 19, 17, 2, 0)
    assert rows(settings, LEADS) == [
        (Q1, dt(2026, 1, 5, 9), "u-501", "lead", None, None),
        (Q1, dt(2026, 1, 7, 10), "u-501", "mql", None, None),  # Working - Contacted
        (Q1, dt(2026, 1, 12, 15), "u-501", "sql", None, None),  # Closed - Converted
        (Q1, dt(2026, 1, 12, 15, 0, 5), "u-501", "opportunity", Decimal("25000"), "EUR"),
        (Q1, dt(2026, 1, 28), "u-501", "won", Decimal("25000"), "EUR"),  # CloseDate (a date)
        (Q2, dt(2026, 1, 8, 11), Q2, "lead", None, None),  # no User_Id__c: the Lead Id
        (Q2, dt(2026, 1, 9, 8), Q2, "mql", None, None),  # no history: at LastModifiedDate
        (Q3, dt(2026, 1, 13, 14), "u-503", "lead", None, None),
        (Q4, dt(2026, 1, 15, 10), "u-504", "lead", None, None),
        (Q4, dt(2026, 1, 20, 10), "u-504", "lost", None, None),  # Closed - Not Converted
        (Q5, dt(2026, 1, 18, 10), "u-505", "lead", None, None),
        (Q5, dt(2026, 1, 20), "u-505", "sql", None, None),  # converted: at ConvertedDate
        (Q5, dt(2026, 1, 20, 9), "u-505", "opportunity", None, "USD"),  # Amount null
        # 'Closed - Paid' is not in the seed: IsWon decides; CloseDate 2026-03-15 lies after LastModifiedDate
        (Q5, dt(2026, 1, 27, 12), "u-505", "won", None, "USD"),
        (Q6, dt(2026, 1, 21, 8), "u-506", "lead", None, None),
        (Q6, dt(2026, 1, 22), "u-506", "sql", None, None),
        (Q6, dt(2026, 1, 22, 10), "u-506", "opportunity", Decimal("5000"), "USD"),
    ]
    quarantined = rows(settings, "select reason, raw_record from raw.quarantine order by row_number")
    assert [r[0] for r in quarantined] == ["unmapped_stage:Status=Nurturing", "unmapped_stage:StageName=Legal Review"]
    assert json.loads(quarantined[1][1])["Id"] == "0065e00000XyZ06AAF"  # the lead's ConvertedOpportunityId
    extra = rows(settings, f"select extra from raw.leads where lead_id = '{Q4}' and stage = 'lost'")[0][0]
    assert json.loads(extra) == {
        "salesforce_object": "Lead",
        "lead_source": "Purchased List",
        "status": "Closed - Not Converted",
        "converted_opportunity_id": None,
    }
    assert rows(settings, "select count(*) from raw.leads where cast(extra as varchar) like '%@%'") == [(0,)]


def test_lead_data_loader_csv(settings: Settings) -> None:
    res = _result(settings, SF / "leads_dataloader.csv")
    # upper-case headers, CONVERTEDOPPORTUNITY.* relationship columns, an EMAIL column that is not read
    # Q7: created + current Open - Not Contacted (lead again: one row); Q8: created, converted, Closed Lost opp
    assert _counts(res) == ("loaded", 7, 7, 0, 0)
    q7, q8, q9 = "00Q5e00000AbC07EAF", "00Q5e00000AbC08EAF", "00Q5e00000AbC09EAF"
    assert rows(settings, LEADS) == [
        (q7, dt(2026, 1, 10, 10), q7, "lead", None, None),
        (q8, dt(2026, 1, 11, 9), q8, "lead", None, None),
        (q8, dt(2026, 1, 14), q8, "sql", None, None),
        (q8, dt(2026, 1, 14, 9, 30), q8, "opportunity", Decimal("1200"), "GBP"),
        (q8, dt(2026, 1, 25), q8, "lost", Decimal("1200"), "GBP"),
        (q9, dt(2026, 1, 12, 16), q9, "lead", None, None),
        (q9, dt(2026, 1, 13, 11), q9, "mql", None, None),
    ]


def test_opportunity_rest_query(settings: Settings) -> None:
    res = _result(settings, SF / "opportunities_rest.json")
    # 11: OpportunityHistory Prospecting, Negotiation/Review (both opportunity: one row), Closed Won -> 2
    # 12: no history, open -> 1; 13: custom 'Closed - Duplicate', IsClosed and not IsWon -> lost; Amount "4100"
    # 14: custom open stage Discovery -> opportunity (its creation) + quarantined
    assert _counts(res) == ("loaded", 7, 6, 1, 0)
    o11, o12, o13, o14 = (f"0065e00000XyZ1{i}AAF" for i in range(1, 5))
    assert rows(settings, LEADS) == [
        (o11, dt(2026, 1, 16, 10), None, "opportunity", Decimal("8000"), "USD"),  # the history entry's Amount
        (o11, dt(2026, 1, 26, 17), None, "won", Decimal("9800"), "USD"),
        (o12, dt(2026, 1, 24, 9), None, "opportunity", None, "USD"),
        (o13, dt(2026, 1, 17, 11), None, "opportunity", Decimal("4100"), "EUR"),
        (o13, dt(2026, 1, 23), None, "lost", Decimal("4100"), "EUR"),
        (o14, dt(2026, 1, 25, 13), None, "opportunity", Decimal("2000"), "EUR"),
    ]
    assert rows(settings, "select reason from raw.quarantine") == [("unmapped_stage:StageName=Discovery",)]


def test_opportunity_bulk_csv(settings: Settings) -> None:
    res = _result(settings, SF / "opportunities_bulk.csv")
    # a row with too few columns is malformed; a quoted name with a comma is fine; no LastModifiedDate column
    assert _counts(res) == ("loaded", 6, 5, 1, 0)
    o21, o22, o24 = "0065e00000XyZ21AAF", "0065e00000XyZ22AAF", "0065e00000XyZ24AAF"
    assert rows(settings, LEADS) == [
        (o21, dt(2026, 1, 19, 8), "u-777", "opportunity", Decimal("15000"), "EUR"),
        (o21, dt(2026, 1, 29), "u-777", "won", Decimal("15000"), "EUR"),
        (o22, dt(2026, 1, 25, 12), None, "opportunity", None, "EUR"),
        (o24, dt(2026, 1, 27, 12), None, "opportunity", Decimal("640.50"), "USD"),
        (o24, dt(2026, 1, 30), None, "lost", Decimal("640.50"), "USD"),
    ]
    assert rows(settings, "select row_number, reason from raw.quarantine") == [(4, "malformed_record")]


def test_the_seed_decides_what_a_status_means(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "seeds").mkdir()
    seed = (config.PROJECT_DIR / "seeds" / "crm_stage_mapping.csv").read_text()
    seed += "salesforce,lead,Status,Nurturing,mql,\nsalesforce,opportunity,StageName,Legal Review,,\n"
    (tmp_path / "seeds" / "crm_stage_mapping.csv").write_text(seed)
    monkeypatch.setattr(config, "PROJECT_DIR", tmp_path)
    res = _result(settings, SF / "leads_rest.json")
    assert _counts(res) == ("loaded", 18, 18, 0, 0)  # Nurturing -> mql; Legal Review ignored
    assert rows(settings, f"select stage, changed_at from raw.leads where lead_id = '{Q3}' order by 2") == [
        ("lead", dt(2026, 1, 13, 14)),
        ("mql", dt(2026, 1, 19, 9)),
    ]


def test_another_sources_file_forced_through_salesforce_is_one_clear_error(settings: Settings) -> None:
    res = _result(settings, SAMPLES / "hubspot" / "deals_api.json", source="salesforce")
    assert res.status == "error"
    assert "does not look like Salesforce Leads / Opportunities (REST query or CSV export)" in res.message
    assert "it looks like HubSpot" in res.message and "\n" not in res.message
