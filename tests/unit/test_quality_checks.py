"""run_checks on a tiny hand-made warehouse: the custom SQL expectations of the raw suites, by hand.

Ten days 2026-01-01..10 with 24 events a day, one an hour (00:00..23:00 UTC). The trailing median is 24, so
a day with 12 events is exactly at the 50 % limit (passes) and 11 fails; freshness fails when the last
event is more than 6 hours before midnight.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.ingest.schema import ensure_raw_schema
from northstar.quality.check import available_suites, load_checkpoint, load_suite_file, run_checks

pytest.importorskip("great_expectations")


def _warehouse(tmp_path: Path, last_day_hours: int = 24, quarantined: int = 0) -> Settings:
    settings = Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing")
    settings.warehouse_dir.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse_path))
    ensure_raw_schema(con)
    con.execute(
        """insert into raw.events (event_id, occurred_at, anonymous_id, event_name, consent_analytics,
                                   load_id, source_file, row_number, loaded_at)
        select 'e' || d || '-' || h, timestamp '2026-01-01' + d * interval 1 day + h * interval 1 hour, 'a',
               'page_view', true, 'l' || d, 'events_2026-01-' || lpad(cast(d + 1 as varchar), 2, '0') || '.jsonl',
               h + 1, now()
        from range(0, 10) as days(d), range(0, 24) as hours(h)
        where d < 9 or h < ?""",
        [last_day_hours],
    )
    con.execute(
        """insert into raw.load_manifest (load_id, source_file, kind, file_format, checksum, size_bytes, rows_read,
            rows_loaded, rows_quarantined, duplicates_skipped, loaded_at, source)
        select 'l' || d, 'events_2026-01-' || lpad(cast(d + 1 as varchar), 2, '0') || '.jsonl', 'events', 'jsonl',
               'sum' || d, 100, n + q, n, q, 0, now(), 'landing'
        from (select d, case when d = 9 then ? else 24 end as n, case when d = 9 then ? else 0 end as q
              from range(0, 10) as t(d))""",
        [last_day_hours, quarantined],
    )
    con.close()
    return settings


def _failed(report) -> set[str]:
    return {f.target.split(":")[0] for f in report.failures}


def test_suite_files_are_gx_suites_and_the_checkpoint_names_them() -> None:
    names = available_suites()
    assert "raw_events" in names and "marts_fct_attributed_conversions" in names
    for name in load_checkpoint("daily"):
        data = load_suite_file(name)
        assert data["expectations"], name
        assert all(e["severity"] in ("critical", "warning") for e in data["expectations"]), name


def test_a_normal_day_passes(tmp_path: Path) -> None:
    settings = _warehouse(tmp_path)
    report = run_checks(settings, suites=["raw_events", "raw_load_manifest"], partition_date=date(2026, 1, 10))
    assert report.success, report.failure_text()
    assert report.run_date == date(2026, 1, 10)
    assert list((settings.quality_dir / "results" / "raw_events" / "2026-01-10").glob("*/*.json"))
    assert (report.data_docs_dir / "index.html").exists()
    assert report.summary_path.parent == settings.quality_dir / "runs"


def test_half_the_events_missing_fails_volume(tmp_path: Path) -> None:
    settings = _warehouse(tmp_path, last_day_hours=11)  # 11 < 0.5 * 24; last event 10:00 also fails freshness
    report = run_checks(settings, suites=["raw_events"])  # default day: the latest event day
    assert report.run_date == date(2026, 1, 10)
    assert not report.success
    assert _failed(report) == {"volume", "freshness"}
    volume = next(f for f in report.failures if f.target.startswith("volume"))
    assert "n_events=11" in volume.observed and "median_events=24" in volume.observed
    assert '"success": false' in report.summary_path.read_text()


def test_twelve_of_twenty_four_is_exactly_the_volume_limit(tmp_path: Path) -> None:
    settings = _warehouse(tmp_path, last_day_hours=12)
    report = run_checks(settings, suites=["raw_events"], partition_date=date(2026, 1, 10))
    assert _failed(report) == {"freshness"}  # volume 12 >= 12 passes; last event 11:00 is 13 h before midnight


def test_quarantine_share_above_five_percent_fails(tmp_path: Path) -> None:
    # day 10: 24 loaded + 2 quarantined -> 2 / 26 = 7.7 % > 5 %; 1 / 25 = 4 % passes
    bad = run_checks(_warehouse(tmp_path / "bad", quarantined=2), suites=["raw_load_manifest"])
    assert _failed(bad) == {"quarantine share"}
    good = run_checks(_warehouse(tmp_path / "good", quarantined=1), suites=["raw_load_manifest"])
    assert good.success, good.failure_text()


def test_quarantine_share_finds_the_day_in_ga4_style_file_names(tmp_path: Path) -> None:
    # GA4's export names its files events_YYYYMMDD: day 10's file must still be found (2 / 26 > 5 % fails).
    settings = _warehouse(tmp_path, quarantined=2)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("update raw.load_manifest set source_file = replace(source_file, '2026-01-', '202601')")
        assert con.execute("select count(*) from raw.load_manifest where source_file like '%20260110%'").fetchone()
    bad = run_checks(settings, suites=["raw_load_manifest"])
    assert _failed(bad) == {"quarantine share"}


def test_a_missing_table_is_a_blocking_failure_with_the_fix(tmp_path: Path) -> None:
    report = run_checks(_warehouse(tmp_path), suites=["marts_fct_kpi_daily"])
    assert not report.success
    assert "northstar build" in report.failures[0].observed


def test_sql_that_cannot_run_fails_alone_and_the_rest_still_run(tmp_path: Path) -> None:
    # seeds.conversion_goals does not exist here: that expectation fails with the error, the others pass.
    settings = _warehouse(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create schema marts")
    con.execute("""create table marts.fct_sessions as select 's1' as session_id""")
    con.execute(
        """create table marts.fct_conversions as
        select 'c1' as conversion_id, 'purchase' as goal_id, 'macro' as goal_type, false as is_lead,
               timestamp '2026-01-10 10:00' as occurred_at, date '2026-01-10' as conversion_date,
               's1' as session_id, 'Direct' as channel, 10.0 as revenue"""
    )
    con.close()
    report = run_checks(settings, suites=["marts_fct_conversions"])
    failed = {f.target for f in report.failures}
    assert failed == {"referential integrity: every goal_id is in the goal catalogue seeds.conversion_goals"}
    assert "conversion_goals" in report.failures[0].observed
    passed = [o for o in report.suites[0].outcomes if o.success]
    assert any(o.target == "referential integrity: every session_id is in marts.fct_sessions" for o in passed)
    assert any(o.target.startswith("key: every conversion_id of the day is unique") for o in passed)
    assert any(o.expectation == "expect_column_values_to_not_be_null" for o in passed)


def test_default_day_is_the_newest_session_day_not_a_midnight_spillover() -> None:
    from northstar.quality.check import _default_run_date

    con = duckdb.connect()
    ensure_raw_schema(con)
    con.execute(
        """insert into raw.events (event_id, occurred_at, anonymous_id, event_name, consent_analytics,
                                   load_id, source_file, row_number, loaded_at)
        values ('e1', '2026-03-31 23:58:00', 'a', 'page_view', true, 'l', 'f', 1, now()),
               ('e2', '2026-04-01 00:04:00', 'a', 'page_view', true, 'l', 'f', 2, now())"""
    )
    # Before the marts exist: the newest event's day.
    assert _default_run_date(con, "UTC") == date(2026, 4, 1)
    # With the marts: the session that started on Mar 31 owns the 00:04 event, so Mar 31 is checked.
    con.execute("create schema marts; create table marts.fct_sessions as select date '2026-03-31' as session_date")
    assert _default_run_date(con, "UTC") == date(2026, 3, 31)


# --- Issue 12: each check's batch is the day checked, results kept per day in Data Docs, progress ---------------


def _validation_rows(settings: Settings) -> set[tuple[str, str]]:
    """(run name, suite) of every validation result the Data Docs index lists."""
    import re

    html = (settings.quality_dir / "data_docs" / "index.html").read_text()
    links = re.findall(r"'_table_row_link_path': 'validations/([^/']+)/([^/']+)/", html)
    return {(run_name, suite) for suite, run_name in links}


def test_each_check_batch_is_one_day_of_rows(tmp_path: Path) -> None:
    # 10 days of 24 events: a batch of the whole table would have 240 rows, the day checked has 24.
    settings = _warehouse(tmp_path)
    report = run_checks(settings, suites=["raw_events", "raw_load_manifest"], partition_date=date(2026, 1, 9))
    assert report.success, report.failure_text()
    not_null = {(o.suite, o.target): o.observed for o in report.suites[0].outcomes + report.suites[1].outcomes}
    assert not_null[("raw_events", "event_id")] == "0 unexpected of 24"
    assert not_null[("raw_load_manifest", "load_id")] == "0 unexpected of 1"  # the day's one file


def test_no_batch_warning_and_no_metric_progress_spam(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    settings = _warehouse(tmp_path)
    run_checks(settings, suites=["raw_load_manifest", "raw_events", "raw_ad_spend", "raw_orders", "raw_leads"])
    out, err = capfd.readouterr()
    assert "should contain the {batch}" not in out + err
    assert "Calculating Metrics" not in out + err


def test_every_custom_query_reads_the_day_batch() -> None:
    for name in available_suites():
        data = load_suite_file(name)
        assert "${run_date}" in data["meta"]["northstar"]["batch_where"], name
        for e in data["expectations"]:
            if "unexpected_rows_query" in e["kwargs"]:
                assert "{batch}" in e["kwargs"]["unexpected_rows_query"], (name, e.get("description"))


def test_a_query_that_does_not_read_the_batch_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from northstar.quality import check

    suite = load_suite_file("raw_events")
    suite["expectations"] = [
        {"type": "unexpected_rows_expectation", "kwargs": {"unexpected_rows_query": "select * from raw.events"}}
    ]
    (tmp_path / "raw_events.json").write_text(__import__("json").dumps(suite))
    monkeypatch.setattr(check, "EXPECTATIONS_DIR", tmp_path)
    with pytest.raises(check.QualityConfigError, match=r"raw_events.json.*\{batch\}"):
        load_suite_file("raw_events")


def test_every_run_adds_its_results_under_the_day_and_keeps_history(tmp_path: Path) -> None:
    # What the Dagster checks do: one suite per call. No run may erase another suite's or another day's results.
    settings = _warehouse(tmp_path)
    run_checks(settings, suites=["raw_events"], partition_date=date(2026, 1, 10))
    run_checks(settings, suites=["raw_load_manifest"], partition_date=date(2026, 1, 10))
    run_checks(settings, suites=["raw_events"], partition_date=date(2026, 1, 9))
    assert _validation_rows(settings) == {
        ("2026-01-10", "raw_events"),
        ("2026-01-10", "raw_load_manifest"),
        ("2026-01-09", "raw_events"),
    }
    pages = settings.quality_dir / "data_docs" / "validations"
    assert (pages / "raw_events" / "2026-01-09").is_dir() and not list(pages.glob("*/__none__"))


def test_progress_names_each_suite_and_counts_them(tmp_path: Path) -> None:
    import io

    from rich.console import Console

    from northstar.quality.check import check_progress

    calls: list[tuple[int, int, str]] = []
    settings = _warehouse(tmp_path)
    run_checks(settings, suites=["raw_events", "raw_load_manifest"], progress=lambda *a: calls.append(a))
    assert calls[-1][:2] == (2, 2)
    assert [c[2] for c in calls if c[0] < 2][-2:] == ["checking raw_events", "checking raw_load_manifest"]

    terminal = Console(file=io.StringIO(), force_terminal=True, width=100)
    with check_progress(terminal) as progress:
        run_checks(settings, suites=["raw_events", "raw_load_manifest"], progress=progress)
    assert "2/2" in terminal.file.getvalue() and "raw_load_manifest" in terminal.file.getvalue()
    piped = Console(file=io.StringIO(), force_terminal=False, width=100)
    with check_progress(piped) as progress:
        run_checks(settings, suites=["raw_events"], progress=progress)
    assert piped.file.getvalue() == ""  # piped output gets the summary table only
