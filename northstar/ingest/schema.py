"""The raw layer's tables: what `northstar load` writes and dbt's sources read.

Timestamps are stored as UTC `timestamp` (naive, always UTC). Money stays in its own currency;
dbt converts it. Every raw row keeps its lineage: load_id, source_file, row_number.
"""

from __future__ import annotations

import duckdb

# Lineage columns every raw table ends with.
_LINEAGE = """
    extra json,            -- unknown landing columns, never dropped silently
    load_id varchar not null,
    source_file varchar not null,
    row_number bigint not null,
    loaded_at timestamp not null
"""

RAW_DDL = f"""
create schema if not exists raw;

create table if not exists raw.events (
    event_id varchar not null,
    occurred_at timestamp not null,
    anonymous_id varchar not null,
    user_id varchar,
    session_id varchar,
    event_name varchar not null,
    page_url varchar,
    page_referrer varchar,
    utm_source varchar,
    utm_medium varchar,
    utm_campaign varchar,
    utm_content varchar,
    utm_term varchar,
    click_id varchar,
    device_category varchar,
    country varchar,
    order_id varchar,
    revenue decimal(18, 4),
    currency varchar,
    consent_analytics boolean not null,
    email_hash varchar,
    ip_hash varchar,
    properties json,
    {_LINEAGE}
);

create table if not exists raw.ad_spend (
    date date not null,
    platform varchar not null,
    account_id varchar not null,
    campaign_id varchar not null,
    campaign_name varchar,
    adset_name varchar,
    ad_name varchar,
    utm_source varchar,
    utm_medium varchar,
    utm_campaign varchar,
    impressions bigint,
    clicks bigint,
    spend decimal(18, 4) not null,
    currency varchar not null,
    platform_conversions decimal(18, 4),
    platform_conversion_value decimal(18, 4),
    account_timezone varchar,
    {_LINEAGE}
);

create table if not exists raw.orders (
    order_id varchar not null,
    ordered_at timestamp not null,
    user_id varchar,
    status varchar not null,
    revenue decimal(18, 4) not null,
    cost_of_goods decimal(18, 4),
    currency varchar not null,
    {_LINEAGE}
);

create table if not exists raw.leads (
    lead_id varchar not null,
    changed_at timestamp not null,
    user_id varchar,
    stage varchar not null,
    deal_value decimal(18, 4),
    currency varchar,
    {_LINEAGE}
);

create table if not exists raw.quarantine (
    load_id varchar not null,
    kind varchar,               -- null only for a refused file whose kind could not be told
    source_file varchar not null,
    row_number bigint,          -- 1-based data row (line for JSONL); null when the whole file is refused
    raw_record varchar,         -- the record (PII masked); for a refused file the message saying why
    reason varchar not null,
    loaded_at timestamp not null,
    rows_in_file bigint         -- refused file: the records it could count (null when it could not tell)
);

create table if not exists raw.load_manifest (
    load_id varchar primary key,
    source_file varchar not null,
    kind varchar,               -- null only for a refused file whose kind could not be told
    file_format varchar,        -- null only for a refused file of an unknown format
    checksum varchar,           -- sha256 of the file's bytes; null for a refused file (only loads are keyed by it)
    size_bytes bigint,
    rows_read bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    duplicates_skipped bigint not null,
    loaded_at timestamp not null,
    source varchar,             -- the source adapter that read the file (`northstar sources`), e.g. ga4, landing
    status varchar not null default 'loaded',  -- 'loaded' or 'refused' (nothing of the file loaded)
    reason varchar              -- why a file was refused: file_refused:<what> (raw.quarantine has the message)
);
"""

KINDS = ("events", "ad_spend", "orders", "leads")


# Columns added after the first release: a warehouse created before them gets them on its next load. They go at the
# end of the table (DuckDB appends), which is why inserts always name their columns.
_ADDED_COLUMNS = (
    ("ad_spend", "platform_conversions", "decimal(18, 4)"),
    ("ad_spend", "platform_conversion_value", "decimal(18, 4)"),
    ("ad_spend", "account_timezone", "varchar"),
    ("load_manifest", "source", "varchar"),
    ("load_manifest", "status", "varchar not null default 'loaded'"),
    ("load_manifest", "reason", "varchar"),
    ("quarantine", "rows_in_file", "bigint"),
)
# Columns that were NOT NULL before a refused file (kind or format unknown, no checksum) had a row of its own.
_NULLABLE_NOW = (
    ("quarantine", "kind"),
    ("load_manifest", "kind"),
    ("load_manifest", "file_format"),
    ("load_manifest", "checksum"),
    ("load_manifest", "size_bytes"),
)


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and tables if they are missing, and add columns added since (idempotent)."""
    con.execute(RAW_DDL)
    present = {
        (t, c): nullable
        for t, c, nullable in con.execute(
            "select table_name, column_name, is_nullable = 'YES' from information_schema.columns"
            " where table_schema = 'raw' and table_catalog = current_database()"
        ).fetchall()
    }
    for table, column, type_ in _ADDED_COLUMNS:
        if (table, column) not in present:
            con.execute(f"alter table raw.{table} add column {column} {type_}")
    for table, column in _NULLABLE_NOW:
        if not present[(table, column)]:
            con.execute(f"alter table raw.{table} alter column {column} drop not null")
