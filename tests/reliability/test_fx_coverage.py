"""Money never silently becomes zero: a build whose FX seed cannot convert the data's money stops, naming what is
missing (models/intermediate/finance/int_fx_coverage.sql), and no money mart is built.

One warehouse of generated data (3 days, 300 visitors; money in USD, EUR and GBP, all in seeds/fx_rates.csv),
built by the CLI as a user runs it:
1. NORTHSTAR_REPORTING_CURRENCY=XYZ (no rates): the whole build fails naming XYZ, the marts are not built;
2. plus an ad spend row in CHF (a real code the seed lacks): the build of the FX models fails naming CHF, where and
   from which day, and nothing else.
Builds that pass with the coverage check in place: tests/integration/test_dbt_settings.py (reporting in EUR) and
test_dbt_build.py. About 2 minutes on 2 cores (dbt parses the project in each of the two builds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings
from northstar.ingest.load import load_paths
from northstar.sample.generate import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fx_coverage")
    generate(root / "landing", days=3, visitors=300, progress=False)
    settings = Settings(warehouse_dir=root / "wh", landing_dir=root / "landing", threads=1, memory_limit="1GB")
    assert load_paths(settings, [str(root / "landing")], progress=False).errors == []
    return settings.warehouse_dir


def _build(warehouse: Path, *args: str, currency: str = "USD") -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "NORTHSTAR_WAREHOUSE_DIR": str(warehouse),
        "NORTHSTAR_REPORTING_CURRENCY": currency,
        "NORTHSTAR_THREADS": "1",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli import main; main()", "build", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _coverage_error(proc: subprocess.CompletedProcess) -> str:
    """The summary's entry for the failed coverage model: one printed line, however long, without dbt's
    "Runtime Error in model ..." preamble (the entry already names the model)."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    starts = [i for i, ln in enumerate(lines) if ln.startswith("  model int_fx_coverage:")]
    assert len(starts) == 1, proc.stdout
    following = lines[starts[0] + 1] if starts[0] + 1 < len(lines) else ""
    assert following.startswith(("  ", "dbt log:")), proc.stdout  # the message did not wrap onto a next line
    assert "Runtime Error in model" not in lines[starts[0]], lines[starts[0]]
    return lines[starts[0]]


def _tables(warehouse: Path) -> set[str]:
    with duckdb.connect(str(warehouse / "northstar.duckdb"), read_only=True) as con:
        return {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}


def test_a_reporting_currency_without_rates_stops_the_build(warehouse: Path) -> None:
    line = _coverage_error(_build(warehouse, currency="XYZ"))
    assert "reporting currency XYZ (NORTHSTAR_REPORTING_CURRENCY)" in line, line
    assert "USD (ad spend from 2026-01-01" in line, line  # what cannot be converted, where, from which day
    assert "report in one of EUR, GBP, USD" in line, line
    tables = _tables(warehouse)
    assert "staging.stg_web__events" in tables  # the build ran ...
    money = {"intermediate.int_fx_rates_ranged", "intermediate.int_spend_daily", "marts.fct_campaign_performance"}
    assert money.isdisjoint(tables), money & tables  # ... but built nothing with money in it


def test_a_source_currency_the_seed_lacks_stops_the_build(warehouse: Path, tmp_path: Path) -> None:
    chf = tmp_path / "ad_spend_2026-01-02_chf.csv"
    chf.write_text(
        "date,platform,account_id,campaign_id,campaign_name,adset_name,ad_name,utm_source,utm_medium,utm_campaign,"
        "impressions,clicks,spend,currency,platform_conversions,platform_conversion_value\n"
        "2026-01-02,google_ads,999-000-0001,99001,Swiss Search,ch,rsa_ch,google,cpc,swiss,100,5,12.50,CHF,0,0\n"
    )
    settings = Settings(warehouse_dir=warehouse, landing_dir=tmp_path)
    assert load_paths(settings, [str(chf)], progress=False).errors == []
    line = _coverage_error(_build(warehouse, "--select", "+int_fx_rates_ranged"))
    assert "seeds/fx_rates.csv has no rates for CHF (ad spend from 2026-01-02)" in line, line
    assert "reporting currency" not in line and "USD" not in line, line  # only what is missing
