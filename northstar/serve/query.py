"""Analyst commands on the serving file: `northstar query "SQL"` and `northstar kpis`.

Both open the serving file read-only (northstar.db.connect_serving), never the build warehouse, so they work
while a build runs and cannot change the published data.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from northstar.alerts_digest import alerts_table
from northstar.config import Settings
from northstar.db import connect_serving
from northstar.errors import UserError, check_out
from northstar.serve import fmt
from northstar.tables import Fitted, print_table
from northstar.terminal import make_console

MAX_PRINTED_ROWS = 100


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    try:
        return connect_serving(settings)  # a missing file is a WarehouseMissingError, itself a UserError
    except duckdb.Error as exc:
        raise UserError(f"Cannot open the serving file {settings.serving_path}: {exc}") from None


def _query_error(exc: duckdb.Error) -> UserError:
    message = str(exc).strip().splitlines()[0]
    if "read-only" in message or "read only" in message:
        message += " (the serving file is read-only: write to the warehouse through the pipeline instead)"
    return UserError(f"query failed: {message}")


def result_table(columns: list[str], rows: list[tuple], title: str | None = None, total: int | None = None) -> Table:
    """A rich table of a query result; numbers right-aligned, at most MAX_PRINTED_ROWS rows."""
    table = Table(title=title, title_justify="left")
    numeric = [all(isinstance(r[i], int | float) or r[i] is None for r in rows) and rows for i in range(len(columns))]
    for name, is_num in zip(columns, numeric, strict=True):
        table.add_column(Text(name), justify="right" if is_num else "left", no_wrap=bool(is_num))
    for row in rows[:MAX_PRINTED_ROWS]:
        table.add_row(*(Text(fmt.cell(v)) for v in row))  # Text: a value is never read as markup
    total = len(rows) if total is None else total
    if total > MAX_PRINTED_ROWS:
        table.caption = f"first {MAX_PRINTED_ROWS:,} of {total:,} rows: use --out file.csv or .parquet for all"
    else:
        table.caption = f"{total:,} row{'s' if total != 1 else ''}"
    return table


def run_query(settings: Settings, sql: str, out: Path | None = None, console: Console | None = None) -> int:
    """Run SQL read-only on the serving file; print a table, or write .csv / .parquet to `out`. Returns rows."""
    console = console or make_console()
    sql = sql.strip().rstrip(";").strip()
    if not sql:
        raise UserError('no SQL given: northstar query "select * from kpi_daily limit 10"')
    if out is not None:
        check_out(out, (".csv", ".parquet"))
    con = _connect(settings)
    try:
        try:
            rel = con.sql(sql)
        except duckdb.Error as exc:
            raise _query_error(exc) from None
        if rel is None:  # a statement without a result (e.g. SET)
            console.print("OK")
            return 0
        try:
            if out is not None:
                rows = _write_out(rel, out)
                console.print(Text.assemble(f"Wrote {rows:,} row{'s' if rows != 1 else ''} to ", (str(out), "bold")))
                return rows
            # Fetch one row more than we print, and count only when there are more.
            head = rel.limit(MAX_PRINTED_ROWS + 1).fetchall()
            total = len(head) if len(head) <= MAX_PRINTED_ROWS else rel.aggregate("count(*)").fetchall()[0][0]
            print_table(console, Fitted(result_table(rel.columns, head, total=total)))
            return total
        except duckdb.Error as exc:
            raise _query_error(exc) from None
    finally:
        con.close()


def _write_out(rel: duckdb.DuckDBPyRelation, out: Path) -> int:
    """Write the result to .csv or .parquet; returns the rows in the file as read back.

    The serving connection cannot write files (db.SERVING_LOCKDOWN), so the result streams as Arrow batches into
    a private in-memory DuckDB, which writes the one file the user named.
    """
    with duckdb.connect() as writer:
        result = writer.from_arrow(rel.to_arrow_reader())
        if out.suffix.lower() == ".csv":
            result.write_csv(str(out), header=True)
            # header = true: sniffed, the header of a 1-row all-text result passes for a row
            return writer.execute(f"select count(*) from read_csv({_quote(out)}, header = true)").fetchone()[0]
        result.write_parquet(str(out))
        return writer.execute(f"select count(*) from read_parquet({_quote(out)})").fetchone()[0]


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _month(con: duckdb.DuckDBPyConnection, month: str | None) -> date:
    if month is None:
        latest = con.execute("select max(date) from kpi_daily").fetchone()[0]
        if latest is None:
            raise UserError("kpi_daily is empty: nothing to report (did the build load any data?)")
        return latest.replace(day=1)
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise UserError(f"--month {month!r} is not a month like 2026-03")
    try:
        return date.fromisoformat(month + "-01")
    except ValueError:
        raise UserError(f"--month {month!r} is not a month like 2026-03") from None


def _meta(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(reporting currency, attribution model) of the published data."""
    row = con.execute(
        "select any_value(reporting_currency), any_value(attribution_model) from northstar_meta"
    ).fetchone()
    return (row[0] or "USD", row[1] or "last_non_direct")


# Monthly KPIs per channel: sums of fct_kpi_daily's additive columns, ratios recomputed from those sums with
# the definitions of MARTS.md (a ratio of sums, never an average of daily ratios), plus the multi-touch
# conversions and revenue of the configured attribution model.
CHANNEL_KPIS_SQL = """
with daily as (
    select * from kpi_daily where date >= $month and date < $month + interval 1 month
),
attributed as (
    select channel, sum(conversions) as attributed_conversions, sum(attributed_revenue) as attributed_revenue
    from attribution
    where model = $model and month = $month
    group by channel
),
by_channel as (
    select
        channel,
        sum(spend) as spend,
        sum(sessions) as sessions,
        sum(converting_sessions) as converting_sessions,
        sum(macro_conversions) as conversions,
        sum(orders) as orders,
        sum(revenue) as revenue
    from daily
    group by rollup (channel)
)
select
    coalesce(b.channel, 'Total') as channel,
    b.spend,
    b.sessions,
    b.converting_sessions / nullif(b.sessions, 0) as conversion_rate,
    b.conversions,
    b.spend / nullif(b.conversions, 0) as cpa,
    b.orders,
    b.revenue,
    b.revenue / nullif(b.spend, 0) as roas,
    case when b.channel is null then (select sum(attributed_conversions) from attributed)
        else a.attributed_conversions end as attributed_conversions,
    case when b.channel is null then (select sum(attributed_revenue) from attributed)
        else a.attributed_revenue end as attributed_revenue
from by_channel as b
left join attributed as a on a.channel = b.channel
order by b.channel is null, b.spend desc, b.revenue desc, b.channel
"""

# The campaign table shows the numbers its recommendation is made from: attributed with the configured model.
CAMPAIGN_KPIS_SQL = """
select
    campaign_key,
    campaign_name,
    channel,
    spend,
    attributed_conversions as conversions,
    attributed_cpa as cpa,
    target_cpa,
    break_even_cpa,
    attributed_roas as roas,
    recommendation,
    recommendation_reason
from campaigns
where month = $month
order by spend desc, campaign_key
"""


def channel_kpis(con: duckdb.DuckDBPyConnection, month: date, model: str) -> list[dict]:
    rel = con.execute(CHANNEL_KPIS_SQL, {"month": month, "model": model})
    columns = [d[0] for d in rel.description]
    return [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]


def campaign_kpis(con: duckdb.DuckDBPyConnection, month: date) -> list[dict]:
    rel = con.execute(CAMPAIGN_KPIS_SQL, {"month": month})
    columns = [d[0] for d in rel.description]
    return [dict(zip(columns, row, strict=True)) for row in rel.fetchall()]


def print_kpis(
    settings: Settings, month: str | None = None, by: str = "channel", console: Console | None = None
) -> list[dict]:
    """The weekly questions: a month's KPIs by channel or campaign. Returns the rows printed."""
    console = console or make_console()
    if by not in ("channel", "campaign"):
        raise UserError(f"--by {by!r}: use channel or campaign")
    con = _connect(settings)
    try:
        try:
            first_day = _month(con, month)
            currency, model = _meta(con)
            rows = channel_kpis(con, first_day, model) if by == "channel" else campaign_kpis(con, first_day)
            # declines of the whole business lead (issue 11): what a person must read first
            last_day = (first_day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
            alerts = alerts_table(con, first_day, last_day)
        except duckdb.Error as exc:
            raise UserError(f"the serving file lacks what `kpis` needs ({exc}); re-run `northstar publish`") from None
    finally:
        con.close()

    label = first_day.strftime("%B %Y")
    if not rows or (by == "channel" and len(rows) == 1 and not rows[0]["sessions"]):
        console.print(f"No data for {label}.")
        return []
    if alerts is not None:
        print_table(console, Fitted(alerts))
    m = lambda v: fmt.money(v, currency)  # noqa: E731
    m2 = lambda v: fmt.money(v, currency, 2)  # noqa: E731
    # Numbers never wrap or shrink (tables.Fitted); names and reasons wrap; text from data is Text, never markup.
    if by == "channel":
        table = Table(
            title=f"KPIs by channel, {label} ({currency})", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1)
        )
        heads = ["channel", "spend", "sessions", "conv %", "conv", "CPA", "orders", "revenue", "ROAS"]
        heads += ["attr. conv", "attr. revenue"]
        for i, h in enumerate(heads):
            table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i > 0)
        for i, r in enumerate(rows):
            style = "bold" if r["channel"] == "Total" else None
            table.add_row(
                Text(r["channel"] or ""),
                m(r["spend"]),
                fmt.count(r["sessions"]),
                fmt.pct(r["conversion_rate"], 2),
                fmt.count(r["conversions"]),
                m2(r["cpa"]) if r["spend"] else "–",
                fmt.count(r["orders"]),
                m(r["revenue"]),
                fmt.ratio(r["roas"]),
                fmt.count(r["attributed_conversions"]),
                m(r["attributed_revenue"]),
                style=style,
                end_section=i == len(rows) - 2,  # a line above the total
            )
        table.caption = (
            "conv (macro conversions), orders and revenue count in the session where they happen (last touch); "
            f"attr. = credited by the {model} attribution model"
        )
    else:
        table = Table(title=f"KPIs by campaign, {label} ({currency})", title_justify="left", box=box.SIMPLE_HEAD)
        heads = ["campaign", "channel", "spend", "attr. conv", "attr. CPA", "target", "break-even", "ROAS", "do", "why"]
        for i, h in enumerate(heads):
            table.add_column(h, justify="right" if 2 <= i <= 7 else "left", no_wrap=2 <= i <= 7)
        colours = {"scale": "green", "keep": "cyan", "fix": "yellow", "cut": "red"}
        labels = fmt.campaign_labels([(r["campaign_name"], r["campaign_key"]) for r in rows])
        for r, name in zip(rows, labels, strict=True):
            r["campaign"] = name
            rec = r["recommendation"] or ""
            table.add_row(
                Text(name),
                Text(r["channel"] or ""),
                m(r["spend"]),
                fmt.count(None if r["conversions"] is None else round(r["conversions"], 1)),
                m2(r["cpa"]) if r["spend"] else "–",
                m2(r["target_cpa"]),
                m2(r["break_even_cpa"]),
                fmt.ratio(r["roas"]),
                Text(rec, style=colours.get(rec, "")),
                Text(r["recommendation_reason"] or ""),
            )
    print_table(console, Fitted(table))
    return rows
