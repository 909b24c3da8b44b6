"""Refuse a Spark metastore that belongs to another warehouse directory.

Spark's metastore (Derby, <warehouse>/spark/metastore_db) stores every database's location as an absolute path.
A warehouse directory that was copied or moved keeps a metastore pointing at the old one, and Spark then drops
and writes tables there, in someone else's warehouse. Derby keeps those locations as plain bytes in its
seg0/*.dat files, and the `default` database, made when the metastore is, sits at spark.sql.warehouse.dir: a
metastore made for this warehouse holds `file:<warehouse>/spark/tables`; one copied from elsewhere does not.
"""

from __future__ import annotations

from northstar.config import Settings, check_java
from northstar.errors import UserError


def check_metastore(settings: Settings) -> None:
    """UserError (one line) when the metastore was made for another warehouse directory; nothing when none exists."""
    metastore = settings.spark_dir / "metastore_db"
    files = sorted((metastore / "seg0").glob("*.dat"))
    if not files:
        return  # no metastore yet: Spark makes one here
    ours = f"file:{settings.spark_tables_dir}".encode()
    if any(ours in path.read_bytes() for path in files):
        return
    raise UserError(
        f"the Spark metastore {metastore} was made for another warehouse directory (copied or moved?): Spark would"
        f" write into that warehouse's tables. Delete {metastore} and {settings.spark_tables_dir} (Spark's side is"
        " rebuilt from raw.* by the next `northstar build --target spark`)"
    )


def check_spark_can_start(settings: Settings) -> None:
    """Everything a Spark build needs before it starts, each as one line: Java 17+, a metastore of this warehouse.
    build, run and Dagster's dbt asset call it."""
    check_java()
    check_metastore(settings)
