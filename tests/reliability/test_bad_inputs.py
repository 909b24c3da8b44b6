"""The bad-input corpus (tests/data/bad/, format in its README.md): every case has its expected fate.

Each case's files load together with one clean file per kind (tests/data/bad/_good/) into a fresh warehouse;
then: the case's outcome (loaded / rows quarantined with the reason / refused with a clear message), every good
file loaded in full, and the accounting of every file in raw.load_manifest (read = loaded + quarantined +
duplicates, and the raw tables and raw.quarantine hold exactly those rows). A refused file leaves a row in
raw.load_manifest and in raw.quarantine. One CLI run over the whole corpus checks exit code and one-line errors.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from northstar.config import Settings
from northstar.ingest.load import FileResult, load_paths
from northstar.ingest.schema import KINDS
from northstar.sources import all_sources

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
GOOD = BAD / "_good"
SALT = "bad-inputs-salt"
# Rows of each good file: all of them must load, whatever the case beside them does.
GOOD_ROWS = {"events_good.jsonl": 3, "ad_spend_good.csv": 2, "orders_good.csv": 2, "leads_good.jsonl": 2}
NOT_DATA = {".toml", ".md", ".yml", ".yaml", ".py"}  # files of a case directory that are not loaded
OUTCOMES = ("loaded", "quarantined", "refused")
# expected.toml's keys (tests/data/bad/README.md): a misspelt one would silently check nothing
KEYS = {"why", "kind", "format", "outcome", "loaded", "quarantined", "duplicates", "reason", "reasons", "message"}
KEYS |= {"source", "load_kind", "settings", "absent", "isolated"}
SOURCES = {s.name for s in all_sources()}
NORTHSTAR = Path(sys.executable).with_name("northstar")
BATCHES = 8  # shared warehouses for the cases without options of their own


def case_dirs() -> list[Path]:
    return sorted(p for p in BAD.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def data_files(case: Path) -> list[Path]:
    return sorted(p for p in case.iterdir() if p.is_file() and p.suffix.lower() not in NOT_DATA)


@functools.cache
def expectations(case: Path) -> dict[str, dict[str, Any]]:
    """file name -> its expectation (top-level keys of expected.toml, overridden by [files."<name>"])."""
    exp = tomllib.loads((case / "expected.toml").read_text(encoding="utf-8"))
    per_file = exp.pop("files", {})
    return {f.name: {**exp, **per_file.get(f.name, {})} for f in data_files(case)}


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    return con.execute(sql, params or []).fetchall()


def check_accounting(con: duckdb.DuckDBPyConnection, refused: set[str]) -> None:
    """Every file: read = loaded + quarantined + duplicates; raw tables hold exactly what the manifest says."""
    manifest = query(
        con,
        "select load_id, source_file, kind, rows_read, rows_loaded, rows_quarantined, duplicates_skipped"
        " from raw.load_manifest",
    )
    for load_id, source_file, kind, n_read, n_load, n_quar, n_dup in manifest:
        assert n_read == n_load + n_quar + n_dup, f"{source_file}: read {n_read} != {n_load} + {n_quar} + {n_dup}"
        if kind is None:  # a file refused before its kind was known
            assert source_file in refused and n_load == 0, f"{source_file}: no kind in raw.load_manifest"
            continue
        assert kind in KINDS, f"{source_file}: manifest kind {kind!r}"
        in_raw = query(con, f"select count(*) from raw.{kind} where load_id = ?", [load_id])[0][0]
        assert in_raw == n_load, f"{source_file}: raw.{kind} holds {in_raw} rows, the manifest says {n_load}"
        quar = query(con, "select count(*) from raw.quarantine where load_id = ? and row_number is not null", [load_id])
        if source_file not in refused:
            assert quar[0][0] == n_quar, f"{source_file}: raw.quarantine holds {quar[0][0]}, manifest {n_quar}"
    # Nothing without a trace: every raw and quarantine row belongs to a file in the manifest.
    ids = "(select load_id from raw.load_manifest)"
    for table in (*KINDS, "quarantine"):
        orphans = query(con, f"select count(*) from raw.{table} where load_id not in {ids}")[0][0]
        assert orphans == 0, f"raw.{table}: {orphans} rows of no file in raw.load_manifest"


def check_reasons(exp: dict[str, Any], reasons: list[str], name: str) -> None:
    if "reason" in exp:
        assert reasons and all(exp["reason"] in r for r in reasons), f"{name}: reasons {reasons}, want {exp['reason']}"
    if "reasons" in exp:
        wanted = exp["reasons"]
        assert all(any(w in r for w in wanted) for r in reasons), f"{name}: reasons {reasons}, want one of {wanted}"
        assert all(any(w in r for r in reasons) for w in wanted), f"{name}: reasons {reasons} miss one of {wanted}"


def check_absent(con: duckdb.DuckDBPyConnection, needles: list[str]) -> None:
    """No needle (PII) anywhere in raw.*: every column of every row, extra and quarantine records included."""
    for table in (*KINDS, "quarantine", "load_manifest"):
        for needle in needles:
            n = query(
                con,
                f"select count(*) from raw.{table} as t where contains(lower(cast(t as varchar)), ?)",
                [needle.lower()],
            )[0][0]
            assert n == 0, f"{needle!r} stored in clear in {n} rows of raw.{table}"


def check_file(con: duckdb.DuckDBPyConnection, res: FileResult, exp: dict[str, Any], name: str) -> None:
    outcome = exp["outcome"]
    path = str(Path(res.path).resolve())
    kind = exp["kind"]
    if outcome == "refused":
        assert res.status == "error", f"{name}: {res.status} ({res.message}), expected refused"
        msg = res.message
        assert exp["message"].lower() in msg.lower(), f"{name}: message {msg!r} lacks {exp['message']!r}"
        assert name in msg, f"{name}: the message does not name the file: {msg!r}"
        assert "\n" not in msg and "Traceback" not in msg, f"{name}: not one line: {msg!r}"
        assert "LINE 1" not in msg, f"{name}: the message echoes the loader's SQL: {msg!r}"
        rows = query(con, "select kind, rows_loaded from raw.load_manifest where source_file = ?", [path])
        assert rows, f"{name}: refused but no row in raw.load_manifest"
        assert all(r[1] == 0 for r in rows), f"{name}: refused but the manifest says rows loaded: {rows}"
        quar = query(con, "select reason from raw.quarantine where source_file = ?", [path])
        assert quar, f"{name}: refused but no row in raw.quarantine"
        for k in KINDS:
            n = query(con, f"select count(*) from raw.{k} where source_file = ?", [path])[0][0]
            assert n == 0, f"{name}: refused but {n} rows in raw.{k}"
        return
    assert res.status == "loaded", f"{name}: {res.status}: {res.message}"
    assert res.kind == kind, f"{name}: loaded as {res.kind}, expected {kind}"
    got = query(
        con,
        "select rows_loaded, rows_quarantined, duplicates_skipped, source || ':' || file_format"
        " from raw.load_manifest where source_file = ?",
        [path],
    )
    assert len(got) == 1, f"{name}: {len(got)} manifest rows"
    n_load, n_quar, n_dup, fmt = got[0]
    assert fmt == exp["format"], f"{name}: read as {fmt}, expected {exp['format']}"
    want = (exp["loaded"], exp.get("quarantined", 0), exp.get("duplicates", 0))
    assert (n_load, n_quar, n_dup) == want, f"{name}: loaded/quarantined/duplicates {(n_load, n_quar, n_dup)}"
    reasons = [r[0] for r in query(con, "select reason from raw.quarantine where source_file = ?", [path])]
    if outcome == "loaded":
        assert n_quar == 0 and reasons == [], f"{name}: quarantined {reasons}"
    else:
        assert n_quar > 0, f"{name}: nothing quarantined"
        check_reasons(exp, reasons, name)


def own_warehouse(case: Path) -> bool:
    """A case with options of its own (source, load_kind, settings) or `isolated = true` loads alone."""
    first = next(iter(expectations(case).values()))
    return any(first.get(k) for k in ("source", "load_kind", "settings", "isolated"))


@functools.cache
def batches() -> dict[str, str]:
    """case name -> batch. The other cases share a few warehouses (one load per batch keeps the runner fast):
    round robin over the sorted names spreads the cases of one export, which share ids and rows, over batches."""
    shared = [c for c in case_dirs() if not own_warehouse(c)]
    out = {c.name: f"batch-{i % BATCHES}" for i, c in enumerate(shared)}
    return out | {c.name: c.name for c in case_dirs() if own_warehouse(c)}


@dataclass
class Loaded:
    settings: Settings
    results: dict[str, FileResult]  # resolved path -> result


@pytest.fixture(scope="module")
def load_batch(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Loaded]:
    """load(batch): the batch's case files and the good files, loaded together once into a fresh warehouse."""
    done: dict[str, Loaded] = {}

    def load(batch: str) -> Loaded:
        if batch in done:
            return done[batch]
        cases = [c for c in case_dirs() if batches()[c.name] == batch]
        first = next(iter(expectations(cases[0]).values()))
        root = tmp_path_factory.mktemp(batch)
        settings = Settings(
            warehouse_dir=root / "wh",
            landing_dir=root / "landing",
            pii_salt=SALT,
            threads=1,
            **first.get("settings", {}),
        )
        files = [str(p) for c in cases for p in data_files(c)]
        goods = [str(p) for p in sorted(GOOD.iterdir()) if p.name in GOOD_ROWS]
        source, load_kind = first.get("source"), first.get("load_kind")
        if source or load_kind:  # a forced source or kind applies to every path: the good files load beside it
            report = load_paths(settings, files, kind=load_kind, source=source, progress=False)
            report.files += load_paths(settings, goods, progress=False).files
        else:
            report = load_paths(settings, files + goods, progress=False)
        done[batch] = Loaded(settings, {str(Path(f.path).resolve()): f for f in report.files})
        return done[batch]

    return load


@pytest.mark.parametrize("case", case_dirs(), ids=lambda p: p.name)
def test_bad_input_case(case: Path, load_batch: Callable[[str], Loaded]) -> None:
    exps = expectations(case)
    first = next(iter(exps.values()))
    loaded = load_batch(batches()[case.name])
    results = loaded.results
    with duckdb.connect(str(loaded.settings.warehouse_path), read_only=True) as con:
        for name, exp in exps.items():
            path = str((case / name).resolve())
            assert path in results, f"{name}: not in the load report"
            check_file(con, results[path], exp, name)
        for name, n in GOOD_ROWS.items():
            res = results[str((GOOD / name).resolve())]
            assert (res.status, res.rows_read, res.rows_loaded) == ("loaded", n, n), f"good file {name}: {res}"
        refused = {p for p, r in results.items() if r.status == "error"}
        check_accounting(con, refused)
        if first.get("absent"):
            check_absent(con, first["absent"])


def test_corpus_has_forty_cases_over_every_kind_and_export_format() -> None:
    cases = case_dirs()
    assert len(cases) >= 40, f"{len(cases)} cases"
    kinds, sources, outcomes = set(), set(), set()
    for case in cases:
        exps = expectations(case)
        assert exps, f"{case.name}: no data file"
        for name, exp in exps.items():
            assert exp.keys() <= KEYS, f"{case.name}/{name}: unknown keys {sorted(exp.keys() - KEYS)}"
            assert exp.get("why") and exp.get("kind") in KINDS and exp.get("outcome") in OUTCOMES, f"{case.name}"
            assert exp.get("format", "").split(":")[0] in SOURCES, f"{case.name}/{name}: format {exp.get('format')}"
            assert exp["outcome"] == "refused" or "loaded" in exp, f"{case.name}/{name}: no row counts"
            assert exp["outcome"] != "refused" or "message" in exp, f"{case.name}/{name}: no message"
            assert exp["outcome"] != "quarantined" or {"reason", "reasons"} & exp.keys(), f"{case.name}/{name}"
            kinds.add(exp["kind"])
            sources.add(exp["format"].split(":")[0])
            outcomes.add(exp["outcome"])
    assert kinds == set(KINDS)
    assert {"landing", "ga4", "segment", "shopify", "hubspot"} <= sources
    assert sources & {"google_ads", "meta_ads", "linkedin_ads", "tiktok_ads", "microsoft_ads"}
    assert outcomes == set(OUTCOMES)


def test_cli_refusals_exit_one_with_one_line_errors(tmp_path: Path) -> None:
    """`northstar load` of every refused file of the corpus and the good files: exit 1, no traceback, one
    `error:` line naming each refused file, and no error for the others."""
    refused = []
    for case in case_dirs():
        if own_warehouse(case):
            continue  # needs options of its own
        refused += [str(case / n) for n, e in expectations(case).items() if e["outcome"] == "refused"]
    goods = [str(GOOD / n) for n in GOOD_ROWS]
    env = {
        **os.environ,
        "NORTHSTAR_WAREHOUSE_DIR": str(tmp_path / "wh"),
        "NORTHSTAR_THREADS": "1",
        "COLUMNS": "4000",
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        [str(NORTHSTAR), "load", *refused, *goods], capture_output=True, text=True, env=env, timeout=300
    )
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out[-3000:]
    assert proc.returncode == 1, out[-3000:]
    errors = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("error: ")]
    assert len(errors) == len(refused), "\n".join(errors)
    missing = [p for p in refused if not any(p in ln for ln in errors)]
    assert not missing, f"refused files without an error line: {missing}\n{out[-3000:]}"
