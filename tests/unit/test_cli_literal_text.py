"""Text from data, config and errors reaches the terminal literally: square brackets are not rich markup.

Bracketed campaign names are common in real ad accounts ("Q1 [/campaign] [brand/generic] sale"). With markup on,
rich read `[/campaign]` as a closing tag and `northstar kpis` / `northstar query` died with a MarkupError traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from northstar.config import Settings
from northstar.serve.publish import publish

BRACKETED = "Q1 [/campaign] [brand/generic] sale"


@pytest.fixture(scope="module")
def settings(sample_marts_settings) -> Settings:
    s = sample_marts_settings("literal")
    with duckdb.connect(str(s.warehouse_path)) as con:
        con.execute("update marts.fct_campaign_performance set campaign_name = ?", [BRACKETED])
    publish(s)
    return s


def _cli(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NORTHSTAR_WAREHOUSE_DIR": str(settings.warehouse_dir), "COLUMNS": "250", **env}
    return subprocess.run(
        [sys.executable, "-c", "from northstar.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_kpis_by_campaign_prints_a_bracketed_campaign_name_as_it_is(settings: Settings) -> None:
    result = _cli(settings, "kpis", "--month", "2026-01", "--by", "campaign")
    assert result.returncode == 0, result.stderr
    assert BRACKETED in result.stdout
    assert "Traceback" not in result.stderr


def test_query_prints_values_and_errors_with_brackets_literally(settings: Settings) -> None:
    shown = _cli(settings, "query", "select '[red]x[/red] [/campaign]' as label")
    assert shown.returncode == 0, shown.stderr
    assert "[red]x[/red] [/campaign]" in shown.stdout

    failed = _cli(settings, "query", 'select * from "[/nope]"')
    assert failed.returncode == 2
    assert failed.stderr.startswith("error: query failed") and "[/nope]" in failed.stderr
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_a_setting_with_brackets_is_one_literal_line(settings: Settings) -> None:
    result = _cli(settings, "kpis", NORTHSTAR_SESSION_TIMEOUT_MINUTES="[/x]")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: NORTHSTAR_SESSION_TIMEOUT_MINUTES='[/x]' is not a whole number (default 30)"
