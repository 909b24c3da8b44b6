"""Google Ads spend: the report downloaded from the Google Ads UI (CSV) and the API / Airbyte stream (JSON Lines).

UI report (Reports > download > CSV): a title line ("Ad report") and a date-range line above the column header, and
"Total: ..." lines at the bottom. Those are not records: they are skipped, never quarantined. Columns are the UI's
(Day, Customer ID, Campaign, Campaign ID, Ad group, Currency code, Impr., Clicks, Cost, Conversions, Conv. value ...).
API / Airbyte: one GAQL row per line with dotted field names (segments.date, customer.id, customer.currency_code,
customer.time_zone, campaign.id, metrics.cost_micros ...), as Airbyte's google-ads streams write them.

One record = one row of the report (campaign, ad group or ad level) for one day.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from northstar.sources import _ads as A
from northstar.sources.base import Peek, Source, SourceFile
from northstar.sources.sql import lit

PLATFORM = "google_ads"
TITLE = "Google Ads report (UI download CSV, or API / Airbyte JSON Lines)"
# Column names of the UI report (normalised by _ads.norm).
UI = {
    "date": ("Day", "Date"),
    "account": ("Customer ID",),
    "campaign_id": ("Campaign ID",),
    "campaign": ("Campaign",),
    "adset": ("Ad group",),
    "adset_id": ("Ad group ID",),
    "ad": ("Ad name",),
    "ad_id": ("Ad ID",),
    "impressions": ("Impr.", "Impressions"),
    "clicks": ("Clicks",),
    "cost": ("Cost",),
    "currency": ("Currency code", "Currency"),
    "conversions": ("Conversions",),
    "value": ("Conv. value", "Conversion value"),
    "timezone": ("Time zone", "Account time zone"),
    "url": ("Final URL suffix", "Campaign final URL suffix", "Tracking template"),
}
# Field names of the Google Ads API (GAQL) as Airbyte's streams write them.
API = {
    "date": ("segments.date",),
    "account": ("customer.id",),
    "campaign_id": ("campaign.id",),
    "campaign": ("campaign.name",),
    "adset": ("ad_group.name",),
    "adset_id": ("ad_group.id",),
    "ad": ("ad_group_ad.ad.name",),
    "ad_id": ("ad_group_ad.ad.id",),
    "impressions": ("metrics.impressions",),
    "clicks": ("metrics.clicks",),
    "cost_micros": ("metrics.cost_micros",),
    "currency": ("customer.currency_code",),
    "conversions": ("metrics.conversions",),
    "value": ("metrics.conversions_value",),
    "timezone": ("customer.time_zone",),
    "url": ("campaign.final_url_suffix", "ad_group_ad.ad.final_url_suffix", "campaign.tracking_url_template"),
}

# What to do when a whole-file column is missing (UI report: False, API rows: True).
_HINTS = {
    "currency": {
        False: "add the 'Currency code' column to the report (Columns > Attributes) and download it again",
        True: "select customer.currency_code in the query",
    },
    "account": {
        False: "add the 'Customer ID' column to the report (several accounts load side by side by it)",
        True: "select customer.id in the query",
    },
}


def _is_ui_header(keys: set[str]) -> bool:
    # "Impr." and "Customer ID" are Google's own; other platforms' UI exports say "Impressions" and "Account ID".
    return "cost" in keys and "campaign" in keys and bool({"impr", "customerid"} & keys)


def looks_like(p: Peek) -> bool:
    if p.fmt == "csv":
        return A.find_header(p, _is_ui_header) is not None
    if p.fmt == "jsonl":
        return {"segments.date", "metrics.cost_micros"} <= p.keys
    return False


def _customer_id(expr: str | None) -> str | None:
    """The UI's form of a customer id: 1234567890 -> 123-456-7890 (UI and API files then name one account alike)."""
    if expr is None:
        return None
    return (
        f"case when regexp_full_match(trim({expr}), '[0-9]{{10}}') then substr(trim({expr}), 1, 3) || '-' || "
        f"substr(trim({expr}), 4, 3) || '-' || substr(trim({expr}), 7, 4) else {expr} end"
    )


def _micros(expr: str | None) -> str | None:
    """cost_micros / 1e6 exactly, as a decimal (never through a float)."""
    if expr is None:
        return None
    return f"coalesce(cast(cast(try_cast({expr} as decimal(38, 0)) * 0.000001 as decimal(38, 6)) as varchar), {expr})"


def stage(con: duckdb.DuckDBPyConnection, f: SourceFile) -> None:
    if f.peek.fmt == "csv":
        header = A.physical_header_line(f, _is_ui_header)
        t = A.stage_csv(con, f, header, not_records="starts_with(ltrim(_first), 'Total:')")
        names = UI
        spend = A.num(t.col(*names["cost"]))
    else:
        t = A.stage_jsonl(con, f)
        names = API
        spend = _micros(A.num(t.col(*names["cost_micros"])))
    c = {role: t.col(*cands) for role, cands in names.items()}
    A.require(f, t, "currency", c["currency"], _HINTS["currency"][t.is_json])
    A.require(f, t, "account", c["account"], _HINTS["account"][t.is_json])
    mapping = {
        "date": A.day(c["date"]),
        "platform": lit(PLATFORM),
        "account_id": _customer_id(c["account"]),
        "campaign_id": c["campaign_id"],
        "campaign_name": c["campaign"],
        # the id when the name is missing: two ads of one ad group must not share a business key
        "adset_name": _first(c["adset"], c["adset_id"]),
        "ad_name": _first(c["ad"], c["ad_id"]),
        "impressions": A.num(c["impressions"]),
        "clicks": A.num(c["clicks"]),
        "spend": spend,
        "currency": c["currency"],
        "platform_conversions": A.num(c["conversions"]),
        "platform_conversion_value": A.num(c["value"]),
        "account_timezone": A.iana(c["timezone"]),
        **A.utm_columns(t, c["url"]),
    }
    A.finish(con, t, mapping, used=[v for k, v in c.items() if k not in ("timezone",)] + _utm_cols(t))


def _first(*exprs: str | None) -> str | None:
    present = [e for e in exprs if e]
    if not present:
        return None
    return present[0] if len(present) == 1 else f"coalesce(nullif(trim({present[0]}), ''), {present[1]})"


def _utm_cols(t: A.Table) -> list[str | None]:
    return [t.col(k) for k in ("utm_source", "utm_medium", "utm_campaign")]


# --------------------------------------------------------------------------------------------------
# Export: the UI report, title and total lines included


_EXPORT_COLUMNS = (
    ("Day", "strftime(date, '%Y-%m-%d')"),
    ("Customer ID", "account_id"),
    ("Campaign", "campaign_name"),
    ("Campaign ID", "campaign_id"),
    ("Ad group", "adset_name"),
    ("Ad name", "ad_name"),
    ("Final URL suffix", A.utm_query()),
    ("Currency code", "currency"),
    ("Time zone", "account_timezone"),
    ("Impr.", "coalesce(cast(impressions as varchar), '--')"),
    ("Clicks", "coalesce(cast(clicks as varchar), '--')"),
    ("Cost", "cast(spend as varchar)"),
    ("Conversions", "coalesce(cast(platform_conversions as varchar), '--')"),
    ("Conv. value", "coalesce(cast(platform_conversion_value as varchar), '--')"),
)


def export(con: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    where = f"where platform = {lit(PLATFORM)}"
    n, first, last = con.execute(f"select count(*), min(date), max(date) from contract_ad_spend {where}").fetchone()
    if n == 0:
        return []
    path = out_dir / "google_ads_ad_report.csv"
    body = out_dir / ".google_ads_body.csv"
    select = ", ".join(f"{expr} as {A.q(name)}" for name, expr in _EXPORT_COLUMNS)
    order = "order by date, account_id, campaign_id, adset_name, ad_name"
    con.execute(f"copy (select {select} from contract_ad_spend {where} {order}) to {lit(str(body))} (header)")
    totals = con.execute(
        f"""select count(distinct currency), any_value(currency), sum(impressions), sum(clicks), sum(spend),
                   sum(platform_conversions), sum(platform_conversion_value)
            from contract_ad_spend {where}"""
    ).fetchone()
    cur = totals[1] if totals[0] == 1 else "--"
    sums = ["--" if v is None else str(v) for v in totals[2:]]
    dashes = ["--"] * (len(_EXPORT_COLUMNS) - 6)
    dashes[_col_index("Currency code") - 1] = cur
    date_range = f'"{first:%B} {first.day}, {first.year} - {last:%B} {last.day}, {last.year}"'
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(f"Ad report\n{date_range}\n")
        with body.open(encoding="utf-8") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), ""):
                out.write(chunk)
        for label in ("Total: Account", "Total: Ads"):
            out.write(",".join([label, *dashes, *sums]) + "\n")
    body.unlink()
    return [path]


def _col_index(name: str) -> int:
    return [n for n, _ in _EXPORT_COLUMNS].index(name)


SOURCE = Source(
    name=PLATFORM,
    kind="ad_spend",
    title=TITLE,
    shapes=(
        "UI report download (CSV): title and date-range lines, then Day, Customer ID, Campaign, Campaign ID,"
        " Ad group, Currency code, Impr., Clicks, Cost, Conversions, Conv. value; 'Total: ...' lines skipped",
        "API rows as Airbyte's google-ads streams write them (JSON Lines): segments.date, customer.id,"
        " customer.currency_code, customer.time_zone, campaign.id, metrics.cost_micros ...",
    ),
    looks_like=looks_like,
    stage=stage,
    export=export,
    order=20,
    platform=PLATFORM,
)
