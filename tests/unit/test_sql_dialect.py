"""BigQuery -> DuckDB translation, schema-generated DDL, and the BigQuery request builders."""

from __future__ import annotations

from datetime import UTC, date, datetime

import duckdb
import pytest

from shared.errors import InvalidInputError
from shared.schemas.warehouse import BARS, DECISIONS, TABLES
from shared.sql.ddl import bigquery_schema, duckdb_ddl, duckdb_type
from shared.sql.dialect import check_params, to_duckdb


def test_named_parameters_become_duckdb_placeholders() -> None:
    t = to_duckdb("SELECT symbol FROM market_data.bars WHERE symbol IN UNNEST(@symbols) AND timestamp >= @start")
    assert "$symbols" in t.sql and "$start" in t.sql and "@" not in t.sql
    assert t.params == frozenset({"symbols", "start"})


def test_translations_are_cached() -> None:
    sql = "SELECT COUNTIF(close > @x) AS n FROM market_data.bars"
    assert to_duckdb(sql) is to_duckdb(sql)


def test_bigquery_functions_are_rewritten_for_duckdb() -> None:
    t = to_duckdb("SELECT SAFE_DIVIDE(a, b) AS r, COUNTIF(a > 0) AS n, TIMESTAMP_TRUNC(ts, HOUR) AS h FROM `x.y`")
    assert "SAFE_DIVIDE" not in t.sql.upper() and "COUNT_IF" in t.sql.upper() and "DATE_TRUNC" in t.sql.upper()


def test_parameter_values_are_never_in_the_sql_text() -> None:
    assert "DROP" not in to_duckdb("SELECT 1 WHERE @s = 'x'").sql


def test_several_statements_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="exactly one"):
        to_duckdb("SELECT 1; DROP TABLE market_data.bars")


def test_unparseable_sql_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="cannot parse"):
        to_duckdb("SELECT FROM WHERE (")


def test_missing_and_unused_parameters_are_named() -> None:
    t = to_duckdb("SELECT @a AS a")
    with pytest.raises(InvalidInputError, match="@a"):
        check_params(t, {})
    with pytest.raises(InvalidInputError, match="@b"):
        check_params(t, {"a": 1, "b": 2})


def test_duckdb_types_follow_the_schema() -> None:
    assert duckdb_type(BARS.column("timestamp")) == "TIMESTAMPTZ"
    actions = duckdb_type(DECISIONS.column("actions"))
    assert actions.startswith("STRUCT(") and actions.endswith("[]")
    assert '"fields" VARCHAR[]' in duckdb_type(DECISIONS.column("data_accessed"))


def test_generated_duckdb_ddl_creates_every_table() -> None:
    con = duckdb.connect()
    for table in TABLES:
        for statement in duckdb_ddl(table):
            con.execute(statement)
    created = {f"{s}.{t}" for s, t in con.execute("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()}
    assert created == {t.ref for t in TABLES}
    nullable = dict(con.execute("SELECT column_name, is_nullable FROM information_schema.columns "
                                "WHERE table_name = 'bars'").fetchall())
    assert nullable["symbol"] == "NO" and nullable["vwap"] == "YES"


def test_bigquery_schema_nests_repeated_records() -> None:
    fields = {f["name"]: f for f in bigquery_schema(DECISIONS)}
    assert fields["actions"]["type"] == "RECORD" and fields["actions"]["mode"] == "REPEATED"
    reads = {f["name"]: f for f in fields["data_accessed"]["fields"]}["reads"]
    assert [f["name"] for f in reads["fields"]] == ["seq", "field", "index", "value"]
    assert fields["decision_id"] == {"name": "decision_id", "type": "STRING", "mode": "REQUIRED"}


def test_bigquery_tables_are_day_partitioned_and_clustered_from_the_schema() -> None:
    from shared.adapters.gcp.bigquery import BigQueryWarehouse

    table = BigQueryWarehouse("p").table_definition(DECISIONS)
    assert table.time_partitioning.field == "bar_time" and table.time_partitioning.type_ == "DAY"
    assert table.clustering_fields == ["agent_id", "session_id"]
    assert table.schema[10].field_type == "RECORD" and table.schema[10].mode == "REPEATED"


def test_bigquery_parameters_are_typed_from_python_values() -> None:
    from google.cloud import bigquery

    from shared.adapters.gcp.bigquery import query_parameters

    ts = datetime(2024, 1, 1, tzinfo=UTC)
    params = {p.name: p for p in query_parameters(
        {"s": "x", "b": True, "i": 3, "f": 1.5, "t": ts, "d": date(2024, 1, 1), "l": ["a", "b"]})}
    assert {n: p.type_ for n, p in params.items() if isinstance(p, bigquery.ScalarQueryParameter)} == {
        "s": "STRING", "b": "BOOL", "i": "INT64", "f": "FLOAT64", "t": "TIMESTAMP", "d": "DATE"}
    assert isinstance(params["l"], bigquery.ArrayQueryParameter) and params["l"].array_type == "STRING"
    with pytest.raises(InvalidInputError, match="mixes types"):
        query_parameters({"l": ["a", 1]})
