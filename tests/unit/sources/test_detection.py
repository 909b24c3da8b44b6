"""Which source reads a file: every sample is claimed by its own adapter and by no other, and the loader says so
in one line when a file is forced through the wrong one or looks like nothing it knows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sourcetest import SAMPLES, load, rows

from northstar.config import Settings
from northstar.sources import all_sources, detect, detect_format, peek

# Sample folders are named after the source that reads them; schema/ folders hold vendored JSON schemas.
_SKIP_DIRS = {"schema"}


def _samples() -> list[tuple[str, Path]]:
    out = []
    for folder in sorted(p for p in SAMPLES.iterdir() if p.is_dir()):
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or _SKIP_DIRS & set(path.relative_to(folder).parts[:-1]):
                continue
            if detect_format(path.name)[0] is None:
                continue  # READMEs, mapping YAML ...
            out.append((folder.name, path))
    return out


@pytest.mark.parametrize(("owner", "path"), _samples(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_each_sample_is_claimed_by_its_own_source_only(owner: str, path: Path) -> None:
    fmt, gz = detect_format(path.name)
    assert fmt is not None
    p = peek(path, fmt, gz)
    claimed = [s.name for s in all_sources() if s.name != "landing" and s.looks_like(p)]
    owners = {s.name for s in all_sources() if s.name == owner or s.name.startswith(owner + "_")}
    assert len(claimed) == 1 and claimed[0] in owners, f"{path.name}: claimed by {claimed}, expected one of {owners}"
    assert detect(p).name == claimed[0]


def test_every_source_lists_its_shapes_and_has_a_unique_name() -> None:
    sources = all_sources()
    assert sources[-1].name == "landing"  # tried last: vendor shapes are more specific
    assert len({s.name for s in sources}) == len(sources)
    for s in sources:
        assert s.shapes and all(isinstance(x, str) and x for x in s.shapes), s.name
        assert s.kind in (None, "events", "ad_spend", "orders", "leads"), s.name


def _events_file(path: Path, n_bad: int, n_good: int) -> Path:
    good = {"event_id": "e{}", "occurred_at": "2026-01-05T10:00:00Z", "anonymous_id": "a1", "event_name": "page_view"}
    lines = [json.dumps({k: v.format(i) for k, v in good.items()}) for i in range(n_good)]
    lines += [json.dumps({"event_id": f"b{i}", "anonymous_id": "a1", "event_name": "x"}) for i in range(n_bad)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_file_that_would_be_all_quarantine_fails_and_loads_nothing(settings: Settings, tmp_path: Path) -> None:
    # 10 records, none with occurred_at: every row would be quarantined (missing_required:occurred_at).
    path = _events_file(tmp_path / "events_2026-01-05.jsonl", n_bad=10, n_good=0)
    report = load(settings, path)
    (res,) = report.files
    assert res.status == "error"
    assert "all rows would be quarantined (most often: missing_required:occurred_at)" in res.message
    assert "it looks like none of the known formats" in res.message
    assert "NORTHSTAR_MAX_QUARANTINE_SHARE=0.9" in res.message
    assert rows(settings, "select count(*) from raw.events")[0][0] == 0
    # its one trace: the refusal, not its rows
    assert rows(settings, "select row_number, reason, rows_in_file from raw.quarantine") == [
        (None, "file_refused:mostly_quarantined", 10)
    ]
    assert rows(settings, "select status, rows_read, rows_quarantined from raw.load_manifest") == [("refused", 0, 0)]


def test_the_quarantine_share_is_configurable(settings: Settings, tmp_path: Path) -> None:
    # 9 of 10 rows bad: 0.9 >= the default share fails; with 0.95 the file loads (1 row, 9 quarantined).
    path = _events_file(tmp_path / "events_2026-01-05.jsonl", n_bad=9, n_good=1)
    (res,) = load(settings, path).files
    assert res.status == "error" and "9 of 10 rows would be quarantined" in res.message
    lenient = Settings(
        warehouse_dir=settings.warehouse_dir, landing_dir=settings.landing_dir, max_quarantine_share=0.95
    )
    (res,) = load(lenient, path).files
    assert (res.status, res.rows_read, res.rows_loaded, res.rows_quarantined) == ("loaded", 10, 1, 9)
    assert rows(settings, "select source, file_format, status from raw.load_manifest order by loaded_at") == [
        ("landing", "jsonl", "refused"),
        ("landing", "jsonl", "loaded"),
    ]


def test_landing_columns_without_a_kind_prefix_are_recognised(settings: Settings, tmp_path: Path) -> None:
    path = _events_file(tmp_path / "export_from_our_cdp.jsonl", n_bad=0, n_good=3)
    (res,) = load(settings, path).files
    assert (res.status, res.kind, res.rows_loaded) == ("loaded", "events", 3)


def test_unknown_file_is_one_clear_error(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "mystery.csv"
    path.write_text("foo,bar\n1,2\n")
    (res,) = load(settings, path).files
    assert res.status == "error"
    assert res.message == (
        f"{path}: cannot tell what this is: it looks like none of the known formats (columns found: bar, foo);"
        " `northstar sources` lists them, and its name starts with none of events, ad_spend, orders, leads;"
        " pass --source or --kind"
    )


def test_forcing_the_wrong_source_names_what_the_file_looks_like(settings: Settings, tmp_path: Path) -> None:
    path = _events_file(tmp_path / "events_2026-01-05.jsonl", n_bad=0, n_good=2)
    others = [s for s in all_sources() if s.name != "landing"]
    if not others:
        pytest.skip("no vendor source registered yet")
    wrong = others[0]
    (res,) = load(settings, path, source=wrong.name).files
    assert res.status == "error"
    assert res.message == (
        f"{path}: does not look like {wrong.title} (--source {wrong.name}); it looks like"
        " northstar landing format (DATA_CONTRACT.md) (--source landing)"
    )
    assert "\n" not in res.message


def test_an_unknown_source_name_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = _events_file(tmp_path / "events_2026-01-05.jsonl", n_bad=0, n_good=1)
    (res,) = load(settings, path, source="nosuch").files
    assert res.status == "error" and res.message.startswith("--source: no source called 'nosuch'; known: ")
