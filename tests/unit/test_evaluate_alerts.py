"""evaluate-alerts: scoring on hand-made alert rows (numbers worked out by hand), the scenarios, the docs section."""

from __future__ import annotations

import gzip
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from northstar.evaluate.report import BEGIN, END, markdown_section, recall_rows, replace_between_markers
from northstar.evaluate.run import DataSet, Evaluation
from northstar.evaluate.score import (
    Alert,
    FalseAlarms,
    Planted,
    alarm_rates,
    false_alarms,
    score_incident,
    verdict,
)
from northstar.sample.scenarios import Incident, Scenario, draw_scenario

D = date(2026, 3, 1)  # a Sunday


def day(n: int) -> date:
    return D + timedelta(days=n)


def planted(kind: str, start: int, days: int, scope: str = "all", effect: float = 0.5, step: str | None = None):
    return Planted(kind, scope, day(start), day(start + days - 1), effect, effect, step_name=step)


# ------------------------------------------------------------------------------------------------- score_incident


def test_business_incident_found_on_its_third_day() -> None:
    inc = planted("business", 0, 2)
    alerts = [
        Alert(day(-1), "sessions"),  # before the start: not this incident's
        Alert(day(0), "sessions", "channel", "Email"),  # wrong scope
        Alert(day(1), "sessions", is_adverse=False),  # a rise
        Alert(day(1), "conversion_rate"),  # not in the business family (sessions, orders, leads)
        Alert(day(2), "orders"),  # day 2 - day 0 + 1 = 3
    ]
    r = score_incident(inc, alerts)
    assert r.days_to_detection == 3
    assert r.found and r.passed
    assert r.right_reading is None
    assert r.first_alert == "03-03 business orders"


def test_found_on_the_fourth_day_is_late_and_after_the_explained_window_not_at_all() -> None:
    inc = planted("business", 0, 1)  # explained until day 0 + 6
    late = score_incident(inc, [Alert(day(3), "leads")])
    assert (late.days_to_detection, late.found, late.passed) == (4, False, False)
    gone = score_incident(inc, [Alert(day(7), "leads")])
    assert gone.days_to_detection is None and not gone.found


def test_channel_incident_needs_its_own_channel() -> None:
    inc = planted("channel", 0, 3, scope="Email")
    elsewhere = [Alert(day(0), "sessions", "all"), Alert(day(1), "sessions", "channel", "Direct")]
    assert score_incident(inc, elsewhere).days_to_detection is None
    r = score_incident(inc, [Alert(day(1), "sessions", "channel", "Email")])
    assert r.days_to_detection == 2 and r.passed


def test_funnel_step_right_step_within_three_days() -> None:
    inc = planted("funnel_step", 0, 7, scope="purchase", step="checkout → purchase")
    alerts = [
        Alert(day(0), "conversion_rate", suspected_step="session_start → solution_view"),
        Alert(day(2), "conversion_rate", suspected_step="checkout → purchase"),
    ]
    r = score_incident(inc, alerts)
    assert r.days_to_detection == 1
    assert r.named_step == "session_start → solution_view"  # what the first alert says
    assert r.right_reading is True and r.passed


def test_funnel_step_found_through_orders_but_no_step_named_in_time() -> None:
    inc = planted("funnel_step", 0, 7, scope="checkout", step="add_to_cart → checkout")
    alerts = [
        Alert(day(1), "orders"),
        Alert(day(3), "conversion_rate", suspected_step="add_to_cart → checkout"),  # day 4: too late
    ]
    r = score_incident(inc, alerts)
    assert r.days_to_detection == 2 and r.found
    assert r.right_reading is False and not r.passed
    assert r.named_step == "add_to_cart → checkout"


def test_tracking_incident_found_read_right_and_misread() -> None:
    inc = planted("tracking", 5, 1)
    tracking = Alert(day(5), "events_per_order", kind="tracking")
    right = score_incident(inc, [tracking, Alert(day(5), "sessions", is_adverse=False)])
    assert right.days_to_detection == 1 and right.right_reading is True and right.passed
    misread = score_incident(inc, [tracking, Alert(day(6), "orders", "channel", "Direct")])
    assert misread.found and misread.right_reading is False and not misread.passed
    assert misread.misreads == ("03-07 business orders in Direct",)


def test_tracking_misread_not_counted_when_another_incident_explains_the_alert() -> None:
    earlier = planted("business", 0, 3)  # explains day 0 .. day 8
    inc = planted("tracking", 5, 1)
    alerts = [Alert(day(5), "match_rate", kind="tracking"), Alert(day(7), "orders"), Alert(day(9), "sessions")]
    r = score_incident(inc, alerts, others=[earlier, inc])
    assert r.misreads == ("03-10 business sessions",)  # day 9 is past the business incident's window


def test_a_tracking_incident_is_not_found_by_business_alerts() -> None:
    r = score_incident(planted("tracking", 0, 1), [Alert(day(0), "sessions")])
    assert r.days_to_detection is None and r.right_reading is False


# --------------------------------------------------------------------------------------------------- false alarms

FIRST, LAST = date(2026, 2, 1), date(2026, 3, 2)  # 30 tested days
CHANNELS = ("Direct", "Email", "Paid Search")
ALERTS = [
    Alert(date(2026, 2, 10), "orders"),
    Alert(date(2026, 2, 11), "sessions", is_adverse=False),  # a rise: no alarm
    Alert(date(2026, 2, 12), "sessions", "channel", "Email"),
    Alert(date(2026, 2, 13), "orders", "channel", "Email"),
    Alert(date(2026, 2, 14), "leads", "channel", "Direct"),
    Alert(date(2026, 2, 15), "events_per_order", kind="tracking"),
    Alert(date(2026, 3, 3), "sessions"),  # after the last day: counted apart
]


def test_false_alarms_of_a_control_set_per_90_days() -> None:
    fa = false_alarms(ALERTS, CHANNELS, FIRST, LAST)
    assert fa.tested_days == 30
    assert [a.kpi for a in fa.whole] == ["orders", "events_per_order"]
    assert fa.whole_per_90 == pytest.approx(6.0)  # 2 alarms in 30 days = 6 per 90
    assert fa.channel_per_90() == pytest.approx({"Direct": 3.0, "Email": 6.0, "Paid Search": 0.0})
    assert [a.alert_date for a in fa.after_last_day] == [date(2026, 3, 3)]


def test_false_alarms_outside_incidents() -> None:
    # a channel incident in Email on 02-12 and 02-13 explains 02-12 .. 02-19 at scope all and in Email only
    email = Planted("channel", "Email", date(2026, 2, 12), date(2026, 2, 13), 1.0, 0.09)
    fa = false_alarms(ALERTS, CHANNELS, FIRST, LAST, [email])
    assert fa.tested_days == 30 - 8
    assert [a.kpi for a in fa.whole] == ["orders"]  # 02-10 is before the incident; 02-15 it explains
    assert {ch: len(v) for ch, v in fa.by_channel.items()} == {"Direct": 1, "Email": 0, "Paid Search": 0}
    assert fa.whole_per_90 == pytest.approx(90 / 22)


def test_alarm_rates_average_over_sets_and_name_the_worst_channel() -> None:
    a = FalseAlarms(1, 90, whole=(Alert(D, "orders"),), by_channel={"Email": (Alert(D, "orders"),) * 3, "Direct": ()})
    b = FalseAlarms(2, 45, whole=(), by_channel={"Email": (), "Direct": (Alert(D, "sessions"),)})
    rates = alarm_rates([a, b])
    assert rates.whole == pytest.approx((1.0 + 0.0) / 2)
    assert rates.by_channel == pytest.approx({"Email": (3.0 + 0.0) / 2, "Direct": (0.0 + 2.0) / 2})
    assert (rates.worst_channel, rates.channel_worst) == ("Email", pytest.approx(1.5))
    assert rates.channel_mean == pytest.approx((1.5 + 1.0) / 2)


def test_verdict_counts_only_incidents_of_30_percent_or_more_at_the_whole_business_scope() -> None:
    big = planted("business", 0, 3, effect=0.3)
    small = Planted("channel", "Email", day(0), day(2), 1.0, 0.09)
    results = [score_incident(big, [Alert(day(0), "orders")]), score_incident(small, [])]
    ok = alarm_rates([FalseAlarms(1, 90, whole=(Alert(D, "orders"),), by_channel={"Email": (Alert(D, "orders"),) * 3})])
    v = verdict(results, ok)
    assert v.met, v.criteria
    assert "1 of 1" in v.criteria[0][0]
    too_many = alarm_rates([FalseAlarms(1, 90, whole=(Alert(D, "orders"),) * 2, by_channel={})])
    assert [met for _, met in verdict(results, too_many).criteria] == [True, False, True]
    missed = [score_incident(big, [Alert(day(3), "orders")])]
    assert [met for _, met in verdict(missed, ok).criteria] == [False, True, True]


# ------------------------------------------------------------------------------------------------------ scenarios


def test_incident_validation() -> None:
    with pytest.raises(ValueError, match="kind"):
        Incident("weather", 1, 1, 0.5)
    with pytest.raises(ValueError, match="channel"):
        Incident("channel", 1, 1, 0.5, "Carrier Pigeon")
    with pytest.raises(ValueError, match="funnel_step"):
        Incident("funnel_step", 1, 1, 0.5, "pay")
    with pytest.raises(ValueError, match="size"):
        Incident("business", 1, 1, 1.5)
    assert Incident("funnel_step", 3, 2, 0.5, "purchase").describe() == "step checkout → purchase −50 %, 2 days"


def test_effects_of_a_day_multiply() -> None:
    sc = Scenario(
        (
            Incident("business", 10, 3, 0.5),
            Incident("channel", 11, 1, 0.8, "Email"),
            Incident("funnel_step", 11, 1, 0.5, "purchase"),
            Incident("tracking", 12, 1, 0.9),
        )
    )
    assert sc.effects(9) is None and sc.effects(13) is None
    fx = sc.effects(11)
    assert fx.sessions_kept == 0.5
    assert fx.source_kept == {"email": pytest.approx(0.2)}
    assert fx.step_keep == {"purchase": 0.5}
    assert fx.events_kept == 1.0
    assert sc.effects(12).events_kept == pytest.approx(0.1)


def test_drawn_scenarios_fit_the_window_and_do_not_overlap() -> None:
    for seed in range(1, 30):
        incidents = draw_scenario(seed, 90).incidents
        assert sorted(i.kind for i in incidents) == ["business", "channel", "funnel_step", "tracking"]
        for a, b in zip(incidents, incidents[1:], strict=False):
            assert a.end + 3 <= b.start
        assert incidents[0].start >= 35 and incidents[-1].start + 2 <= 89
    assert draw_scenario(4, 90) == draw_scenario(4, 90)
    assert len(draw_scenario(1, 50).incidents) == 1
    assert draw_scenario(1, 40).incidents == ()


def _day_events(landing: Path, d: str) -> list[dict]:
    out = []
    with gzip.open(landing / f"events_{d}.jsonl.gz") as fh:
        for raw in fh:
            try:
                e = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(e, dict) and not str(e.get("event_id", "")).startswith("dirty-"):
                out.append(e)
    return out


def test_generate_with_a_scenario(tmp_path: Path) -> None:
    from northstar.sample.generate import generate

    sc = Scenario((Incident("channel", 3, 1, 1.0, "Email"), Incident("tracking", 4, 1, 0.97)))
    result = generate(tmp_path, days=6, visitors=3000, seed=5, scenario=sc, progress=False)
    manifest = json.loads(result.manifest_path.read_text())
    assert [i["start"] for i in manifest["scenario"]] == ["2026-01-04", "2026-01-05"]
    assert "checkout_breakage" not in manifest
    every = [e for d in range(1, 7) for e in _day_events(tmp_path, f"2026-01-0{d}")]
    assert not any("tt_growth_push" in (e.get("page_url") or "") for e in every)  # no overspend push
    newsletter = lambda d: sum("utm_source=newsletter" in (e.get("page_url") or "") for e in _day_events(tmp_path, d))  # noqa: E731
    assert newsletter("2026-01-03") > 0 and newsletter("2026-01-04") == 0
    orders = lambda d: len((tmp_path / f"orders_{d}.csv").read_text().splitlines())  # noqa: E731
    assert len(_day_events(tmp_path, "2026-01-05")) < 0.1 * len(_day_events(tmp_path, "2026-01-06"))
    assert orders("2026-01-05") > 0.5 * orders("2026-01-06")  # the feed is intact


# --------------------------------------------------------------------------------------------------------- report


def test_docs_section_replaced_between_markers() -> None:
    doc = "# Alerts\n\nThe rule.\n"
    once = replace_between_markers(doc, "table 1")
    assert once.startswith(doc) and once.count(BEGIN) == 1 and "table 1" in once
    twice = replace_between_markers(once + "\n## After\n", "table 2")
    assert "table 1" not in twice and "table 2" in twice and twice.endswith("## After\n")
    assert twice.count(BEGIN) == twice.count(END) == 1


def test_markdown_section_of_a_hand_made_evaluation() -> None:
    ds = DataSet(1, "incidents", Scenario())
    inc = planted("funnel_step", 0, 7, scope="purchase", step="checkout → purchase")
    ds.results = [score_incident(inc, [Alert(day(1), "conversion_rate", suspected_step="checkout → purchase")], 1)]
    ds.alarms = FalseAlarms(1, 90, whole=(), by_channel={"Email": ()})
    control = DataSet(1, "control", Scenario())
    control.alarms = FalseAlarms(1, 90, whole=(Alert(day(3), "orders"),), by_channel={"Email": ()})
    ev = Evaluation(seeds=1, days=90, visitors=1000, data_sets=[control, ds])
    text = markdown_section(ev)
    assert "| one funnel step | 1 | 1 of 1 | 2.0 (max 2) | 1 of 1 | 0 | 0 |" in text
    assert "whole business, seed 1: 03-04 business orders" in text
    assert "- met: false alarms at the whole-business scope: 1.00 per 90 days (at most 1)" in text
    header, rows, _ = recall_rows(ev.results)
    assert rows[-1][0] == "30 % or more at the whole-business scope" and rows[-1][2] == "1 of 1"


def test_cli_command_is_wired() -> None:
    from typer.testing import CliRunner

    from northstar.cli import app

    result = CliRunner().invoke(app, ["evaluate-alerts", "--help"])
    assert result.exit_code == 0
    assert "--seeds" in result.output and "--visitors" in result.output and "--no-docs" in result.output
