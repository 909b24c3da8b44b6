"""What Superset (and other SQLAlchemy-based BI tools) do on connect, through duckdb-engine, on the serving file.

With the URI docs/bi.md gives, on the locked versions: list schemas, tables and views; reflect every column with
its comment, the keys and indexes of every relation (Superset's table metadata), the table comments; run a
query on a reflected table; and have a write refused. SQLAlchemy 2.0.45 and later break duckdb-engine 0.17's
column and key reflection (`pg_collation`, `REGCLASS`), which is why pyproject.toml pins SQLAlchemy below it.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import duckdb
import pytest

sa = pytest.importorskip("sqlalchemy")

from northstar.serve.publish import VIEW_DESCRIPTIONS, PublishResult, publish  # noqa: E402

# duckdb-engine warns that it does not reflect indexes (it returns none, as DuckDB's marts have none)
pytestmark = pytest.mark.filterwarnings("ignore:duckdb-engine doesn't yet support reflection on indices")

VIEWS = sorted(VIEW_DESCRIPTIONS)
# What dbt's persist_docs writes into the build warehouse from the models' YAML (a sample of it).
DBT_COMMENTS = """
comment on table marts.fct_campaign_performance is 'One row per campaign and month.';
comment on column marts.fct_campaign_performance.spend is 'Ad spend in the month, reporting currency.';
comment on column marts.dim_campaigns.campaign_name is 'The campaign''s name on its ad platform.';
comment on column marts.fct_attributed_conversions.channel is 'Channel of the touch.';
"""


@pytest.fixture(scope="module")
def published(sample_marts_settings) -> PublishResult:
    settings = sample_marts_settings("bi")
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(DBT_COMMENTS)
    return publish(settings)


@pytest.fixture(scope="module")
def engine(published: PublishResult):
    # the Superset URI of docs/bi.md: duckdb:/// + absolute path, read-only
    engine = sa.create_engine(f"duckdb:///{published.serving_path}?access_mode=read_only")
    yield engine
    engine.dispose()


def test_versions_are_the_ones_docs_bi_md_names() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "bi.md").read_text()
    for package in ("sqlalchemy", "duckdb-engine", "duckdb"):
        version = importlib.metadata.version(package)
        assert f"{package} {version}" in docs.lower(), f"docs/bi.md does not name the tested {package} {version}"


def test_a_bi_tool_lists_schemas_tables_and_views(engine, published: PublishResult) -> None:
    inspector = sa.inspect(engine)
    schemas = inspector.get_schema_names()
    assert any(s.endswith(".main") for s in schemas) and any(s.endswith(".marts") for s in schemas), schemas
    assert sorted(inspector.get_view_names()) == VIEWS
    assert "northstar_meta" in inspector.get_table_names()
    assert sorted(inspector.get_table_names(schema="marts")) == sorted(published.row_counts)


def test_a_bi_tool_reflects_every_relation_with_its_comments(engine) -> None:
    inspector = sa.inspect(engine)
    relations = [(None, v) for v in VIEWS] + [("marts", t) for t in inspector.get_table_names(schema="marts")]
    for schema, name in relations:
        # what Superset asks for a dataset: columns, primary and foreign keys, indexes, the table comment
        columns = inspector.get_columns(name, schema=schema)
        assert columns and all(c["name"] and c["type"] is not None for c in columns), name
        assert inspector.get_pk_constraint(name, schema=schema)["constrained_columns"] == []
        assert inspector.get_foreign_keys(name, schema=schema) == []
        assert inspector.get_indexes(name, schema=schema) == []
        assert inspector.get_table_comment(name, schema=schema)["text"], f"{name} has no comment"

    assert inspector.get_table_comment("campaigns")["text"] == VIEW_DESCRIPTIONS["campaigns"]
    assert inspector.get_table_comment("fct_campaign_performance", schema="marts")["text"] == (
        "One row per campaign and month."
    )
    mart_columns = {c["name"]: c["comment"] for c in inspector.get_columns("fct_campaign_performance", "marts")}
    assert mart_columns["spend"] == "Ad spend in the month, reporting currency."
    # the views carry the comments of the mart columns they show
    view_columns = {c["name"]: c["comment"] for c in inspector.get_columns("campaigns")}
    assert view_columns["spend"] == "Ad spend in the month, reporting currency."
    assert view_columns["campaign_name"] == "The campaign's name on its ad platform."
    attribution = {c["name"]: c["comment"] for c in inspector.get_columns("attribution")}
    assert attribution["channel"] == "Channel of the touch." and "kpi_date" in attribution["month"]


def test_a_bi_tool_queries_a_reflected_view_and_cannot_write(engine) -> None:
    campaigns = sa.Table("campaigns", sa.MetaData(), autoload_with=engine)
    query = (
        sa.select(campaigns.c.campaign_name, sa.func.sum(campaigns.c.spend).label("spend"))
        .where(campaigns.c.channel == "Paid Search")
        .group_by(campaigns.c.campaign_name)
    )
    with engine.connect() as con:
        assert con.execute(query).all() == [("Brand search", 3100.0 + 2800.0)]
        with pytest.raises(sa.exc.DBAPIError, match="read-only"):
            con.execute(sa.text("create table main.scratch as select 1 as x"))
