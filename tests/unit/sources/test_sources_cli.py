"""`northstar sources`, `northstar load --source` and `northstar generate --as` as a user types them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from northstar.sources import all_sources

NORTHSTAR = [str(Path(sys.executable).parent / "northstar")]  # the installed console script


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NORTHSTAR_WAREHOUSE_DIR": str(cwd / "wh"), "COLUMNS": "500"}
    return subprocess.run([*NORTHSTAR, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def test_sources_lists_every_adapter_with_its_shapes(tmp_path: Path) -> None:
    out = _run("sources", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for s in all_sources():
        assert s.name in out.stdout
        assert all(f"  - {shape}" in out.stdout for shape in s.shapes), s.name


def test_generate_as_an_unknown_source_stops_before_generating(tmp_path: Path) -> None:
    out = _run("generate", "--out", str(tmp_path / "out"), "--as", "ga5", cwd=tmp_path)
    assert out.returncode == 2
    assert "--as: no source called 'ga5'" in out.stderr
    assert not (tmp_path / "out").exists()


def test_load_with_a_wrong_source_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "events_2026-01-05.jsonl"
    record = '{"event_id": "e1", "occurred_at": "2026-01-05T10:00:00Z", "anonymous_id": "a", "event_name": "x"}'
    path.write_text(record + "\n")
    out = _run("load", str(path), "--source", "ga4", cwd=tmp_path)
    assert out.returncode == 1
    assert "does not look like" in " ".join(out.stdout.split())
