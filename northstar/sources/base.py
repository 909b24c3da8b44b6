"""What a source adapter is, and the first look at a file that tells which adapter reads it.

A source adapter maps one real export format (GA4's BigQuery export, a Google Ads report, a Shopify order
export ...) onto the landing contract of DATA_CONTRACT.md, inside DuckDB. It only *reads*: it fills the temp
table `_ns_src` (see northstar/sources/sql.py) with one row per source record, the contract columns as text.
Validation, de-duplication, quarantine and accounting stay in the loader, the same for every source.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

    from northstar.config import Settings

# File name endings -> how the file is read. Checked after stripping an optional ".gz".
# ".json" may hold JSON Lines (as `bq extract` writes) or one JSON document (an API response): peek() tells.
FORMATS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}
_PEEK_BYTES = 256 * 1024
_PEEK_LINES = 50
_PEEK_RECORDS = 20
_MAX_DOCUMENT_BYTES = 512 * 1024 * 1024  # a JSON document (not JSON Lines) is parsed whole to look at it


class LoadFileError(Exception):
    """A whole file cannot be loaded; the message names the file and, where possible, the fix.

    `code` says what kind of refusal it is (raw.quarantine's reason `file_refused:<code>`, see contract.py).
    """

    def __init__(self, message: str, code: str = "not_loadable") -> None:
        super().__init__(message)
        self.code = code


def detect_format(name: str) -> tuple[str | None, bool]:
    """('jsonl' | 'csv' | 'parquet' | None, gzip?) from a file name."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    for ext, fmt in FORMATS.items():
        if lower.endswith(ext):
            return fmt, gz
    return None, gz


@dataclass
class Peek:
    """The first look at a file: enough for each adapter to say "that is mine" without reading it all."""

    path: Path
    fmt: str  # 'jsonl' (JSON Lines), 'json' (one JSON document), 'csv' or 'parquet'
    gz: bool
    lines: list[str] = field(default_factory=list)  # first lines of text (CSV, JSON); empty for Parquet
    columns: tuple[str, ...] = ()  # JSON: keys of the first records; CSV: fields of the first line; Parquet: columns
    records: list[dict[str, Any]] = field(default_factory=list)  # first JSON records (of the document's main array)
    document_keys: tuple[str, ...] = ()  # a JSON document's top-level keys, e.g. ('orders',)

    @property
    def keys(self) -> frozenset[str]:
        """Lower-cased column / key names."""
        return frozenset(c.strip().lower() for c in self.columns)

    def csv_rows(self, limit: int = _PEEK_LINES) -> list[list[str]]:
        """The first lines parsed as CSV (title lines of UI reports included)."""
        return list(csv.reader(io.StringIO("\n".join(self.lines[:limit]))))

    def describe(self) -> str:
        """A short phrase for error messages: what the file holds."""
        names = sorted(self.columns)[:12]
        what = {"csv": "columns", "parquet": "columns"}.get(self.fmt, "keys")
        return f"{what} found: {', '.join(names) if names else 'none'}"


@dataclass(frozen=True)
class SourceFile:
    """One file an adapter stages: where it is, how it reads, which contract kind it feeds."""

    peek: Peek
    kind: str
    settings: Settings
    tmp_dir: Path  # scratch space of this load (removed afterwards)

    @property
    def path(self) -> Path:
        return self.peek.path


@dataclass(frozen=True)
class Source:
    """One real export format and how it maps onto the landing contract."""

    name: str  # what `--source` takes, e.g. "ga4"
    kind: str | None  # contract kind it feeds; None for the landing format itself (kind from the name / --kind)
    title: str  # e.g. "GA4 BigQuery export"
    shapes: tuple[str, ...]  # the file shapes it accepts, one phrase each (`northstar sources` lists them)
    looks_like: Callable[[Peek], bool]  # True when the file has this source's shape (cheap: uses the peek only)
    stage: Callable[[duckdb.DuckDBPyConnection, SourceFile], None]  # fills temp table _ns_src
    # Writes contract rows in this source's shape (`northstar generate --as`); see northstar/sources/export.py.
    export: Callable[..., list[Path]] | None = None
    order: int = 50  # detection order: more specific shapes first; the landing format is tried last
    platform: str | None = None  # ad_spend sources: the contract `platform` value they load and export


def _open_text(path: Path, gz: bool) -> io.TextIOBase:
    raw = gzip.open(path, "rb") if gz else path.open("rb")  # noqa: SIM115 - the wrapper owns and closes it
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def _head_lines(path: Path, gz: bool) -> list[str]:
    with _open_text(path, gz) as fh:
        text = fh.read(_PEEK_BYTES)
    lines = text.lstrip("\ufeff").splitlines()
    if len(text) == _PEEK_BYTES and len(lines) > 1:
        # The last line may be cut. A lone first line stays (cut): a one-line JSON document larger than the peek
        # (an API page saved as is) is then parsed whole below instead of looking empty.
        lines = lines[:-1]
    return [ln for ln in lines if ln.strip()][:_PEEK_LINES]


def _union_keys(records: list[dict[str, Any]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for r in records:
        for k in r:
            seen.setdefault(k, None)
    return tuple(seen)


def _main_array(doc: Any) -> tuple[list[Any], tuple[str, ...]]:
    """A JSON document's records: the document if it is an array, else its first array-of-objects value."""
    if isinstance(doc, list):
        return doc, ()
    if isinstance(doc, dict):
        for value in doc.values():
            if isinstance(value, list) and (not value or isinstance(value[0], dict)):
                return value, tuple(doc)
        return [doc], tuple(doc)
    return [], ()


def peek(path: Path, fmt: str, gz: bool) -> Peek:
    """Look at the start of a file (the whole file for a JSON document). Never raises for bad content."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            if gz:
                with gzip.open(path, "rb") as fh:
                    names = tuple(pq.read_schema(io.BytesIO(fh.read())).names)
            else:
                names = tuple(pq.read_schema(path).names)
        except Exception:  # noqa: BLE001 - not Parquet after all: no columns, no adapter claims it
            names = ()
        return Peek(path, fmt, gz, columns=names)
    try:
        lines = _head_lines(path, gz)
    except (OSError, EOFError, zlib.error):
        return Peek(path, fmt, gz)  # unreadable: the loader's own read reports it
    if fmt == "csv":
        first = next(csv.reader([lines[0]]), []) if lines else []
        return Peek(path, fmt, gz, lines=lines, columns=tuple(first))
    # JSON: lines of objects, or one document (pretty-printed, or an array on one line)
    records: list[dict[str, Any]] = []
    for i, ln in enumerate(lines[:_PEEK_RECORDS]):
        try:
            obj = json.loads(ln)
        except ValueError:
            if i > 0 and records:
                continue  # one malformed line in JSON Lines (it is quarantined at load), not a document
            records = []
            break
        if not isinstance(obj, dict):
            records = []
            break
        records.append(obj)
    if records:
        return Peek(path, "jsonl", gz, lines=lines, columns=_union_keys(records), records=records)
    if lines and lines[0].lstrip()[:1] in ("{", "[") and path.stat().st_size <= _MAX_DOCUMENT_BYTES:
        try:
            with _open_text(path, gz) as fh:
                doc = json.loads(fh.read().lstrip("\ufeff"))
        except (ValueError, OSError, EOFError, zlib.error):
            doc = None
        if doc is not None:
            items, top = _main_array(doc)
            objs = [r for r in items[:_PEEK_RECORDS] if isinstance(r, dict)]
            return Peek(path, "json", gz, lines=lines, columns=_union_keys(objs), records=objs, document_keys=top)
    return Peek(path, "jsonl", gz, lines=lines)
