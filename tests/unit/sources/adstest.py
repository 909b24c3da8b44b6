"""Helpers of the ad platform source tests: the generate --as round trip and JSON schema checks.

Import as `from adstest import round_trip, schema_errors` (pytest puts this directory on sys.path).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sourcetest import SAMPLES, load

from northstar.config import Settings
from northstar.ingest import contract as C
from northstar.sample.as_sources import write_as
from northstar.sample.generate import generate

KEY = C.BUSINESS_KEY["ad_spend"]
COLUMNS = [c.name for c in C.AD_SPEND]


def _current(settings: Settings, platform: str, columns: list[str]) -> list[tuple]:
    """The current row of each business key of one platform (restatements resolved), sorted."""
    cols = ", ".join(f'"{c}"' for c in columns)
    key = ", ".join(f'"{k}"' for k in KEY)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(
            f"""select {cols} from raw.ad_spend where platform = ?
                qualify row_number() over (partition by {key} order by loaded_at desc, load_id desc,
                                           row_number desc) = 1
                order by all""",
            [platform],
        ).fetchall()


def round_trip(tmp_path: Path, source: str, platform: str, not_carried: tuple[str, ...] = ()) -> tuple[list, list]:
    """(rows loaded from the landing files, rows loaded from the files `generate --as <source>` wrote), both the
    current rows of `platform` with the contract columns the vendor shape carries. Also checks the export files load
    cleanly (no quarantine, no error)."""
    landing = tmp_path / "landing"
    generate(landing, days=3, visitors=300, seed=5, file_format="jsonl", progress=False)
    spend_only = tmp_path / "spend_landing"  # the other kinds play no part: keep the scratch load small
    spend_only.mkdir()
    for f in landing.glob("ad_spend_*"):
        shutil.copy(f, spend_only / f.name)
    out = tmp_path / "out"
    a = Settings(warehouse_dir=tmp_path / "a", landing_dir=landing, pii_salt="s")
    result = write_as(a, spend_only, out, [source])
    exported = [p for p in result.files if not p.name.endswith("_landing.csv")]
    assert exported, "the exporter wrote no file"
    load(a, *sorted(spend_only.iterdir()))
    b = Settings(warehouse_dir=tmp_path / "b", landing_dir=out, pii_salt="s")
    report = load(b, *exported)
    for f in report.files:
        assert f.status == "loaded" and f.rows_quarantined == 0, f.message
    columns = [c for c in COLUMNS if c not in not_carried]
    return _current(a, platform, columns), _current(b, platform, columns)


def schema_errors(schema_path: Path, records: list[dict]) -> list[tuple[int, str]]:
    """(record index, JSON path) of every place a record breaks the vendored schema ($refs resolved in its folder)."""
    folder = schema_path.parent
    resources = [
        (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT7))
        for p in folder.glob("*.json")
    ]
    registry = Registry().with_resources(resources)
    schema = json.loads(schema_path.read_text())
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, registry=registry)
    return sorted((i, e.json_path) for i, r in enumerate(records) for e in validator.iter_errors(r))


def sample(platform: str, name: str) -> Path:
    return SAMPLES / platform / name
