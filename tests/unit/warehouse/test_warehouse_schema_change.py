"""Segments written under an older schema stay readable after columns and fields are added."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.adapters.local.warehouse import DuckDbWarehouse
from shared.schemas import warehouse as schema
from shared.schemas.warehouse import Column

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def decision(n: int, **extra: object) -> dict[str, object]:
    return {"decision_id": f"d{n}", "agent_id": "a", "user_id": "u", "session_id": "s", "mode": "backtest",
            "decision_point": n, "bar_time": T0, "recorded_at": T0, "stage": "next", "action": "HOLD",
            "data_accessed": [{"symbol": "AAPL", "reads": [{"seq": 1, "field": "close", "index": 0, **extra}]}],
            "access_count": 1, "portfolio_value": 1.0, "cash": 1.0}


def grown(table: schema.Table) -> schema.Table:
    """`table` with a new REPEATED RECORD column and a new field inside data_accessed.reads."""
    def add_value(column: Column) -> Column:
        if column.name == "reads":
            return dataclasses.replace(column, fields=(*column.fields, Column("weight", "FLOAT64")))
        return dataclasses.replace(column, fields=tuple(add_value(f) for f in column.fields))

    columns = tuple(add_value(c) if c.name == "data_accessed" else c for c in table.columns)
    tags = Column("tags", "RECORD", "REPEATED", (Column("key", "STRING"), Column("value", "FLOAT64")))
    return dataclasses.replace(table, columns=(*columns, tags))


@pytest.mark.parametrize("compact", [False, True])
def test_old_segments_read_with_nulls_and_empty_lists_under_a_grown_schema(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compact: bool) -> None:
    path = tmp_path / "warehouse.duckdb"
    old = DuckDbWarehouse(path)
    old.ensure_tables()
    old.insert_rows("fmel.decisions", [decision(1)])
    new_table = grown(schema.DECISIONS)
    monkeypatch.setattr(schema, "TABLES", tuple(new_table if t.ref == "fmel.decisions" else t
                                                for t in schema.TABLES))
    new = DuckDbWarehouse(path, compact_in_background=False)
    new.ensure_tables()
    new.insert_rows("fmel.decisions", [decision(2, weight=101.5) | {"tags": [{"key": "signal", "value": 0.7}]}])
    if compact:
        assert new.compact() == 2
    rows = new.query("SELECT decision_id, tags, data_accessed FROM fmel.decisions ORDER BY decision_id")
    assert [(r["decision_id"], r["tags"], r["data_accessed"][0]["reads"][0]["weight"]) for r in rows] == [
        ("d1", [], None), ("d2", [{"key": "signal", "value": 0.7}], 101.5)]


def test_missing_lists_are_stored_as_empty_lists_at_every_depth(tmp_path: Path) -> None:
    wh = DuckDbWarehouse(tmp_path / "warehouse.duckdb")
    wh.ensure_tables()
    row = decision(1)
    row["data_accessed"] = [{"symbol": "AAPL", "fields": None, "reads": None}]
    wh.insert_rows("fmel.decisions", [row, decision(2) | {"actions": None}])
    rows = wh.query("SELECT actions, positions, indicators, data_accessed FROM fmel.decisions "
                    "ORDER BY decision_point")
    assert [r["data_accessed"][0]["fields"] for r in rows] == [[], []]
    assert rows[0]["data_accessed"][0]["reads"] == []
    assert all(r["actions"] == r["positions"] == r["indicators"] == [] for r in rows)
