"""CLI tables never cut a number (issue 12, problem 4) and never read text from data as rich markup.

The sample marts (serve/sample_marts.py) are scaled up to the demo's magnitudes (spend $26,660 a month, 400,000
sessions) and get campaigns whose names are long, shared or look like markup. `northstar kpis` and `query` are
rendered in a terminal of 80, 100 and 120 columns (a real pseudo-terminal for the CLI) and piped; every number
the table holds must appear whole, and no cell may end in rich's ellipsis.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import duckdb
import pytest
from rich.console import Console

from northstar.config import Settings
from northstar.serve import fmt
from northstar.serve.publish import publish
from northstar.serve.query import print_kpis, run_query

MARKUP_NAME = "Q1 [/campaign] [brand/generic] sale"
MARKUP_MESSAGE = "conversion_rate fell 31 % [/campaign] in [red]Paid Search"
WIDTHS = (80, 100, 120)

SCALE_SQL = f"""
update marts.fct_kpi_daily set spend = spend * 8.6, revenue = revenue * 7.9, sessions = sessions * 37,
    converting_sessions = converting_sessions * 31, macro_conversions = macro_conversions * 31,
    orders = orders * 29;
-- February campaigns: a big one whose name looks like markup, two that share a name
insert into marts.fct_campaign_performance by name
select * replace (
    'google_ads:222' as campaign_key, '{MARKUP_NAME}' as campaign_name, 26512.37 as spend,
    1491.4 as attributed_conversions, 17.78 as attributed_cpa, 3.06 as attributed_roas, 40.12 as break_even_cpa,
    'scale' as recommendation, 'CPA $17.78 [b]below[/b] the target $30.00 and the break-even $40.12: add budget.'
        as recommendation_reason)
from marts.fct_campaign_performance where campaign_key = 'google_ads:111' and month = '2026-02-01';
insert into marts.fct_campaign_performance by name
select * replace (
    'utm:couponfollow/affiliate/affiliate_program' as campaign_key, 'affiliate_program' as campaign_name,
    3318.4 as spend, 'Affiliates' as channel)
from marts.fct_campaign_performance where campaign_key = 'google_ads:111' and month = '2026-02-01';
insert into marts.fct_campaign_performance by name
select * replace (
    'utm:gearreviewer/affiliate/affiliate_program' as campaign_key, 'affiliate_program' as campaign_name,
    912.5 as spend, 'Affiliates' as channel)
from marts.fct_campaign_performance where campaign_key = 'google_ads:111' and month = '2026-02-01';
-- a decline of the whole business whose message looks like markup
insert into marts.fct_kpi_alerts by name
select * replace (date '2026-02-20' as alert_date, -0.31 as change, '{MARKUP_MESSAGE}' as message)
from marts.fct_kpi_alerts where scope = 'all' and kpi = 'conversion_rate';
"""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@pytest.fixture(scope="module")
def settings(sample_marts_settings) -> Settings:
    s = sample_marts_settings("tables")
    with duckdb.connect(str(s.warehouse_path)) as con:
        con.execute(SCALE_SQL)
    publish(s)
    return s


def _numbers(by: str, rows: list[dict]) -> set[str]:
    """Every number of the kpis table, as the table formats it."""
    money = fmt.money
    out: set[str] = set()
    for r in rows:
        if by == "channel":
            out |= {money(r["spend"]), fmt.count(r["sessions"]), fmt.pct(r["conversion_rate"], 2)}
            out |= {fmt.count(r["conversions"]), fmt.count(r["orders"]), money(r["revenue"]), fmt.ratio(r["roas"])}
            out |= {fmt.count(r["attributed_conversions"]), money(r["attributed_revenue"])}
            out |= {money(r["cpa"], decimals=2)} if r["spend"] else set()
        else:
            out |= {money(r["spend"]), fmt.count(round(r["conversions"], 1)), fmt.ratio(r["roas"])}
            out |= {money(r[k], decimals=2) for k in ("target_cpa", "break_even_cpa")}
            out |= {money(r["cpa"], decimals=2)} if r["spend"] else set()
    return out - {"–"}


def _assert_whole(text: str, numbers: set[str]) -> None:
    assert "…" not in text, text
    for number in numbers:
        # whole: not preceded or followed by more of a number
        assert re.search(rf"(?<![\d,.$]){re.escape(number)}(?![\d,.%×])", text), f"{number!r} cut or missing:\n{text}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("by", ["channel", "campaign"])
def test_kpis_in_a_terminal_keep_every_number_whole(settings: Settings, width: int, by: str) -> None:
    console = Console(width=width, force_terminal=True, record=True, color_system=None)
    month = "2026-01" if by == "channel" else "2026-02"
    rows = print_kpis(settings, month=month, by=by, console=console)
    text = console.export_text()
    assert all(len(line) <= width for line in text.splitlines())
    numbers = _numbers(by, rows)
    assert ("$26,660" if by == "channel" else "$26,512") in numbers  # the magnitudes of the issue
    _assert_whole(text, numbers)
    if by == "campaign":
        # names and messages from data are text, never markup, and shared names carry their key
        assert "[/campaign]" in text and "[brand/generic]" in text and "[b]below[/b]" in text
        assert "[red]Paid" in text
        _assert_whole(text, {"2026-02-20", "2026-02-28", "−31 %", "−29 %"})  # the alerts leading the table
        assert text.count("(utm:") >= 2  # in each part
        assert "why" in text  # the reason column is kept, wrapped


def test_query_results_in_a_narrow_terminal_keep_every_number_whole(settings: Settings) -> None:
    console = Console(width=80, force_terminal=True, record=True, color_system=None)
    run_query(settings, "select * from campaigns where month = '2026-02-01' order by spend desc", console=console)
    text = console.export_text()
    _assert_whole(text, {"26,512.37", "3,318.4", "1,491.4", "912.5", "2,800"})
    assert "[/campaign]" in text and "part 1 of" in text  # 40 columns do not fit 80: printed in parts


def _cli(settings: Settings, *args: str, columns: int, terminal: bool) -> str:
    """The CLI's output in a pseudo-terminal of `columns` columns (what a user sees), or piped."""
    env = {**os.environ, "NORTHSTAR_WAREHOUSE_DIR": str(settings.warehouse_dir), "COLUMNS": str(columns)}
    env.update(TERM="xterm-256color")
    cmd = [sys.executable, "-c", "from northstar.cli import main; main()", *args]
    if not terminal:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout
    leader, follower = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=120) == 0
    return _ANSI.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_kpis_command_in_a_terminal_and_piped(settings: Settings, width: int) -> None:
    channel = print_kpis(settings, month="2026-01", console=Console(quiet=True))
    campaign = print_kpis(settings, month="2026-02", by="campaign", console=Console(quiet=True))
    for terminal in (True, False):
        text = _cli(settings, "kpis", "--month", "2026-01", columns=width, terminal=terminal)
        _assert_whole(text, _numbers("channel", channel))
        text = _cli(settings, "kpis", "--month", "2026-02", "--by", "campaign", columns=width, terminal=terminal)
        _assert_whole(text, _numbers("campaign", campaign))
        assert "[/campaign]" in text
        if terminal:
            assert max(len(line.rstrip()) for line in text.splitlines()) <= width
        else:  # piped: one table at its natural width, the reasons unwrapped
            assert "(1 of" not in text and "CPA $17.78 [b]below[/b] the target $30.00" in text
