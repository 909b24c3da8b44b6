"""The pure parts of the bench report: sizes, number formats, the machine description and docs/performance.md.

docs/performance.md holds one section per data size (`## 100k visitors`); a run replaces the section of its size
and leaves the others, so the 10k, 100k and 1M results accumulate (sections stay ordered by size).
"""

from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from pathlib import Path

from northstar.config import Settings

PRESETS = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}

PREAMBLE = """# Performance

`northstar bench` times the whole pipeline on generated data and compares it with what a team would write
instead: one hand-written DuckDB SQL script (the baseline), pandas and polars, each computing the same core results
as the marts from the same raw tables and seeds. Every step runs in a fresh process; peak RSS is that process's
(with its children, e.g. dbt) `ru_maxrss`.

- **northstar** steps: `northstar load` of the first N days, `northstar build --full-refresh`, then one more day
  loaded and built incrementally (`northstar build`), as the daily schedule does.
- **Baseline, pandas, polars** run once all N + 1 days are loaded, over `raw.*` and `seeds/*.csv`
  (`northstar/bench/baseline.sql`, `pandas_impl.py`, `polars_impl.py`).
- **Result sets** compared with the marts after the incremental day, row by row (counts exactly, money and
  attribution credit within a relative 1e-9): `sessions` (sessions, visitors, page views per day and channel),
  `conversions` (conversions, orders, revenue per goal and day), `kpi_daily` (sessions, engaged and converting
  sessions, macro and micro conversions, leads, orders and revenue of the tracked sessions, spend, impressions,
  clicks per day and channel),
  `funnel` (closed and open funnel sessions per day, funnel, stage and channel), `attribution` (last-touch and
  linear conversions and revenue of the tracked conversions per month and channel). The implementations do not
  implement the orders feed as revenue truth (feed orders on their own day, orders tracking missed credited through
  the customer or to `(untracked)`): those sets compare with the tracked side of the marts. `=` means equal to the
  marts; `≠ n` gives the rows that differ.
- **events/s**: the events a step handles (load: the events loaded; full build, baseline, pandas, polars: every
  event in the warehouse; the +1 day steps: that day's events) per wall second.
- **× SQL**: wall time and peak RSS as a multiple of the baseline's in the same run.

Run it with `northstar bench --size 10k|100k|1m` (or `--visitors N`, `--days D`); each run replaces the section of
its size below. The machine is shared: ratios move a little between runs, which is why the baseline is measured in
the same run.
"""


def parse_size(text: str) -> int:
    """'100k' -> 100000, '1m' -> 1000000, '2500' -> 2500."""
    t = text.strip().lower().replace(",", "").replace("_", "")
    if t in PRESETS:
        return PRESETS[t]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", t)
    if not m:
        raise ValueError(f"not a size: {text!r} (use 10k, 100k, 1m or a number)")
    return int(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2)])


def size_label(visitors: int) -> str:
    """100000 -> '100k', 1000000 -> '1M', 2500 -> '2,500'."""
    if visitors >= 1_000_000 and visitors % 1_000_000 == 0:
        return f"{visitors // 1_000_000}M"
    if visitors >= 1_000 and visitors % 1_000 == 0:
        return f"{visitors // 1_000}k"
    return f"{visitors:,}"


def fmt_ratio(value: float | None, base: float | None) -> str:
    """value / base as '0.52×', '3.40×', '12.3×', '149×'; '–' when either is missing or the base is 0."""
    if value is None or not base:
        return "–"
    r = value / base
    if r < 10:
        return f"{r:.2f}×"
    if r < 100:
        return f"{r:.1f}×"
    return f"{r:.0f}×"


def fmt_rate(events: int | None, seconds: float | None) -> str:
    """Events per second, e.g. '1,234,567'; '–' when unknown."""
    if not events or not seconds:
        return "–"
    return f"{events / seconds:,.0f}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine_info(settings: Settings) -> list[tuple[str, str]]:
    """What the numbers were measured on."""
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in _read("/proc/cpuinfo").splitlines() if ln.startswith("model name")),
        platform.processor() or "unknown",
    )
    mem_kb = next((int(ln.split()[1]) for ln in _read("/proc/meminfo").splitlines() if ln.startswith("MemTotal")), 0)
    os_name = next(
        (
            ln.split("=", 1)[1].strip().strip('"')
            for ln in _read("/etc/os-release").splitlines()
            if ln.startswith("PRETTY_NAME")
        ),
        platform.system(),
    )
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores ({usable} usable)"),
        ("RAM", f"{mem_kb / 1024 / 1024:.1f} GiB" if mem_kb else "unknown"),
        ("OS", f"{os_name}, kernel {platform.release()}"),
        ("Python", platform.python_version()),
        (
            "libraries",
            f"DuckDB {version('duckdb')}, polars {version('polars')}, pandas {version('pandas')}, "
            f"dbt-core {version('dbt-core')}, dbt-duckdb {version('dbt-duckdb')}",
        ),
        ("settings", f"NORTHSTAR_THREADS={settings.threads}, NORTHSTAR_MEMORY_LIMIT={settings.memory_limit}"),
    ]


def markdown_table(header: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """A GitHub markdown table; columns in `right` are right-aligned."""
    right = right or set()

    def esc(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |"]
    lines.append("| " + " | ".join("---:" if i in right else "---" for i in range(len(header))) + " |")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def section_heading(visitors: int) -> str:
    return f"## {size_label(visitors)} visitors"


def _heading_size(line: str) -> int | None:
    m = re.fullmatch(r"##\s+(\S+)\s+visitors\s*", line)
    if not m:
        return None
    try:
        return parse_size(m.group(1))
    except ValueError:
        return None


def replace_section(document: str, visitors: int, section: str) -> str:
    """document with the section of this size replaced by `section` (which starts with its `## ` heading), or the
    section inserted before the first larger size (else at the end). Everything else is kept as is."""
    if not document.strip():
        document = PREAMBLE
    lines = document.rstrip("\n").split("\n")
    starts = [i for i, ln in enumerate(lines) if ln.startswith("## ")]
    preamble = lines[: starts[0]] if starts else lines
    ends = [*starts[1:], len(lines)] if starts else []
    sections = [lines[s:e] for s, e in zip(starts, ends, strict=True)]
    new = section.strip("\n").split("\n")
    for i, sec in enumerate(sections):
        if _heading_size(sec[0]) == visitors:
            sections[i] = new
            break
    else:
        at = next((i for i, sec in enumerate(sections) if (_heading_size(sec[0]) or 0) > visitors), len(sections))
        sections.insert(at, new)
    parts = ["\n".join(preamble).rstrip("\n")] + ["\n".join(sec).strip("\n") for sec in sections]
    return "\n\n".join(p for p in parts if p) + "\n"


def write_section(path: Path, visitors: int, section: str) -> None:
    """Replace (or add) the section of this size in the markdown file, creating it with the preamble if missing."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(old, visitors, section), encoding="utf-8")
