"""A sensor that starts the day's run when new landing files `<kind>_YYYY-MM-DD.*` appear in NORTHSTAR_LANDING_DIR."""

import json
import re
from pathlib import Path

import dagster as dg

from northstar.config import load_settings
from northstar.ingest.schema import KINDS
from orchestration.partitions import daily_partitions
from orchestration.schedules import daily_job

_FILE = re.compile(r"^(?P<kind>" + "|".join(KINDS) + r")_(?P<day>\d{4}-\d{2}-\d{2})\.")


def landing_snapshot(landing_dir: Path) -> dict[str, str]:
    """file name -> "size:mtime" of every dated landing file (a changed file counts as new)."""
    out: dict[str, str] = {}
    if not landing_dir.is_dir():
        return out
    for path in landing_dir.iterdir():
        if path.is_file() and _FILE.match(path.name):
            stat = path.stat()
            out[path.name] = f"{stat.st_size}:{int(stat.st_mtime)}"
    return out


@dg.sensor(
    job=daily_job,
    name="northstar_landing_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Runs the day's partition when its landing files are new or changed.",
)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    settings = load_settings()
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = landing_snapshot(settings.landing_dir)
    new = {name: sig for name, sig in current.items() if seen.get(name) != sig}
    valid_keys = set(daily_partitions.get_partition_keys())
    days = sorted({_FILE.match(name)["day"] for name in new} & valid_keys)
    requests = [
        dg.RunRequest(
            partition_key=day,
            run_key=f"{day}:{abs(hash(tuple(sorted((n, s) for n, s in new.items() if day in n))))}",
        )
        for day in days
    ]
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current, sort_keys=True))
