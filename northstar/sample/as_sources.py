"""`northstar generate --as ga4,google_ads,...`: the demo data set written in real export formats.

The generator writes the landing format; those files are loaded into a scratch warehouse (so only rows the loader
accepts go on: the demo's deliberate incidents stay behind in its quarantine), and each chosen source writes the
current rows of its kind in its own shape from the views below. Rows no chosen source covers (for example TV and
radio spend, or every kind not named) are written back in the landing format, so the output directory always holds
the whole data set.

Each source's `export(con, out_dir) -> list[Path]` reads the temp views
    contract_events, contract_ad_spend, contract_orders, contract_leads
(the contract's columns, one current row per business key; PII columns are absent: raw keeps only their hashes)
and writes files into out_dir. An ad platform source exports the rows of its `platform` only.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from northstar.config import Settings
from northstar.ingest import contract as C
from northstar.ingest.schema import KINDS
from northstar.sources import Source, all_sources, get
from northstar.sources.sql import lit, q

# Convenience names for --as.
GROUPS = {
    "real": ("ga4", "google_ads", "meta_ads", "microsoft_ads", "linkedin_ads", "tiktok_ads", "shopify", "hubspot"),
    "ads": ("google_ads", "meta_ads", "microsoft_ads", "linkedin_ads", "tiktok_ads"),
}


def contract_columns(kind: str) -> list[str]:
    """The contract columns the views carry (PII is not in raw, only its hash)."""
    return [c.name for c in C.CONTRACT[kind] if c.type != C.PII]


def create_contract_views(con: duckdb.DuckDBPyConnection) -> None:
    """Temp views contract_<kind> over raw.<kind>: the current version of each row, contract columns only."""
    for kind in KINDS:
        cols = ", ".join(q(c) for c in contract_columns(kind))
        if kind in C.BUSINESS_KEY:
            key = ", ".join(q(k) for k in C.BUSINESS_KEY[kind])
            latest_first = "loaded_at desc, load_id desc, row_number desc"
            current = f"qualify row_number() over (partition by {key} order by {latest_first}) = 1"
        else:
            current = ""
        con.execute(f"create or replace temp view contract_{kind} as select {cols} from raw.{kind} {current}")


def resolve(names: list[str]) -> list[Source]:
    """Source names (and groups such as `real`) -> sources that can export; a clear error for the rest."""
    from northstar.errors import UserError

    out: list[Source] = []
    for name in names:
        for n in GROUPS.get(name, (name,)):
            try:
                src = get(n)
            except KeyError as exc:
                raise UserError(f"--as: {exc.args[0]} (or a group: {', '.join(GROUPS)})") from None
            if src.export is None:
                exporters = ", ".join(s.name for s in all_sources() if s.export is not None)
                raise UserError(f"--as: {n} cannot write files (these can: {exporters})")
            if src not in out:
                out.append(src)
    per_kind: dict[str, list[str]] = {}
    for s in out:
        if s.kind != "ad_spend":
            per_kind.setdefault(str(s.kind), []).append(s.name)
    clash = {k: v for k, v in per_kind.items() if len(v) > 1}
    if clash:
        kind, names_ = next(iter(clash.items()))
        raise UserError(f"--as: {', '.join(names_)} all write {kind}; pick one")
    return out


def _write_landing_rest(con: duckdb.DuckDBPyConnection, out_dir: Path, chosen: list[Source]) -> list[Path]:
    """The rows no chosen source wrote, in the landing format (CSV, one file per kind)."""
    covered_kinds = {s.kind for s in chosen if s.kind != "ad_spend"}
    platforms = [s.platform for s in chosen if s.kind == "ad_spend" and s.platform]
    files: list[Path] = []
    for kind in KINDS:
        if kind in covered_kinds:
            continue
        where = ""
        if kind == "ad_spend" and platforms:
            where = f"where platform not in ({', '.join(lit(p) for p in platforms)})"
        n = con.execute(f"select count(*) from contract_{kind} {where}").fetchone()[0]
        if n == 0:
            continue
        path = out_dir / f"{kind}_landing.csv"
        con.execute(f"copy (select * from contract_{kind} {where}) to {lit(str(path))} (header, delimiter ',')")
        files.append(path)
    return files


@dataclass
class AsSourcesResult:
    files: list[Path]
    sources: list[str]


def write_as(settings: Settings, landing_dir: Path, out_dir: Path, names: list[str]) -> AsSourcesResult:
    """Load landing files into a scratch warehouse and write them out as the named sources (see module doc)."""
    from northstar.ingest.load import load_paths

    chosen = resolve(names)
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="northstar-as-", dir=out_dir))
    try:
        scratch_settings = Settings(warehouse_dir=scratch, landing_dir=landing_dir, pii_salt=settings.pii_salt)
        report = load_paths(scratch_settings, [str(landing_dir)], progress=False)
        if report.errors:
            raise RuntimeError("; ".join(report.errors))
        con = duckdb.connect(str(scratch_settings.warehouse_path))
        try:
            con.execute("set TimeZone = 'UTC'")
            create_contract_views(con)
            files: list[Path] = []
            for src in chosen:
                assert src.export is not None
                files.extend(src.export(con, out_dir))
            files.extend(_write_landing_rest(con, out_dir, chosen))
        finally:
            con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return AsSourcesResult(files=sorted(files), sources=[s.name for s in chosen])
