"""Rebuilds the binary files (Parquet, gzip) of the bad-input corpus: `python tests/data/bad/make_binaries.py`.

The text files of the corpus are written by hand; these are made here so their bytes are reproducible.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb

BAD = Path(__file__).resolve().parent


def gz(path: Path, text: str) -> None:
    # mtime=0: the same bytes on every run
    path.write_bytes(gzip.compress(text.encode(), mtime=0))


def parquet(path: Path, sql: str) -> None:
    with duckdb.connect() as con:
        con.execute(f"copy ({sql}) to '{path}' (format parquet)")


def event(i: str, **kw: object) -> str:
    rec = {"event_id": i, "occurred_at": "2026-01-05T10:00:00Z", "anonymous_id": f"anon-{i}", "event_name": "page_view"}
    return json.dumps({**rec, **kw})


def main() -> None:
    big = "https://shop.example/?q=" + "x" * (4 * 1024 * 1024)
    gz(
        BAD / "events_huge_strings" / "events_2026-01-05.jsonl.gz",
        "\n".join([event("hs-1", page_url=big), event("hs-2", properties={"blob": "y" * 1024 * 1024}), event("hs-3")])
        + "\n",
    )
    whole = gzip.compress(("\n".join(event(f"tg-{n}") for n in range(2000)) + "\n").encode(), mtime=0)
    (BAD / "events_truncated_gzip" / "events_2026-01-05.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    parquet(
        BAD / "events_parquet_wrong_types" / "events_2026-01-05.parquet",
        """select 'pw-' || i as event_id, 1767607200000000 + i as occurred_at, 'anon' as anonymous_id,
                  'page_view' as event_name
           from range(3) t(i)""",
    )
    parquet(
        BAD / "events_parquet_native_types" / "events_2026-01-05.parquet",
        """select 900000 + i as event_id, timestamp '2026-01-05 10:00:00' + to_minutes(i) as occurred_at,
                  'anon-pn' as anonymous_id, 'purchase' as event_name, 12.5::double * (i + 1) as revenue,
                  'USD' as currency, true as consent_analytics, {'plan': 'pro', 'seats': i} as properties
           from range(3) t(i)""",
    )
    parquet(
        BAD / "ad_spend_parquet_float_counts" / "ad_spend_2026-01-05.parquet",
        """select date '2026-01-05' as date, 'google_ads' as platform, 'pf-acc' as account_id,
                  'pf-c' || i as campaign_id, [1000.0, null, 250.0][i + 1]::double as impressions,
                  [10.0, null, 3.0][i + 1]::double as clicks, 12.25::double as spend, 'USD' as currency
           from range(3) t(i)""",
    )
    parquet(
        BAD / "ad_spend_parquet_string_money" / "ad_spend_2026-01-05.parquet",
        """select date '2026-01-05' as date, 'meta_ads' as platform, 'psm-acc' as account_id,
                  'psm-c' || i as campaign_id, ['12.50', 'n/a', '3'][i + 1] as spend, 'EUR' as currency
           from range(3) t(i)""",
    )
    # GA4 rows as `bq extract --destination_format PARQUET` writes them: nested types, INT64 typed
    ga4_json = BAD / "ga4_int64_as_numbers" / "events_20240104.json"
    parquet(BAD / "ga4_parquet_export" / "events_20240104.parquet", f"select * from read_json('{ga4_json}')")


if __name__ == "__main__":
    main()
