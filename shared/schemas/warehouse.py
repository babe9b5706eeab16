"""Warehouse tables (BigQuery schema), the single source for DDL, terraform and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATE", "JSON", "RECORD"]
Mode = Literal["NULLABLE", "REQUIRED", "REPEATED"]


@dataclass(frozen=True)
class Column:
    """One column; RECORD columns carry their sub-columns in `fields`."""

    name: str
    type: ColumnType
    mode: Mode = "NULLABLE"
    fields: tuple[Column, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One table, day-partitioned on `partition_field` and clustered as BigQuery does."""

    dataset: str
    name: str
    columns: tuple[Column, ...]
    partition_field: str | None = None
    clustering: tuple[str, ...] = ()
    description: str = ""
    partition_expiration_days: int | None = None

    @property
    def ref(self) -> str:
        """`dataset.table`, the name queries use."""
        return f"{self.dataset}.{self.name}"

    def column(self, name: str) -> Column:
        """The column called `name`; KeyError when absent."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.ref} has no column {name!r}")


def _c(name: str, type_: ColumnType, mode: Mode = "NULLABLE", *fields: Column) -> Column:
    return Column(name, type_, mode, tuple(fields))


BARS = Table(
    "market_data",
    "bars",
    (
        _c("symbol", "STRING", "REQUIRED"),
        _c("timeframe", "STRING", "REQUIRED"),  # "1Min", "1Hour", "1Day"
        _c("timestamp", "TIMESTAMP", "REQUIRED"),  # bar open time, UTC
        _c("open", "FLOAT64", "REQUIRED"),
        _c("high", "FLOAT64", "REQUIRED"),
        _c("low", "FLOAT64", "REQUIRED"),
        _c("close", "FLOAT64", "REQUIRED"),
        _c("volume", "FLOAT64", "REQUIRED"),
        _c("trade_count", "INT64"),
        _c("vwap", "FLOAT64"),
        _c("source", "STRING", "REQUIRED"),  # "alpaca-iex", "alpaca-crypto", "synthetic", ...
        _c("data_hash", "STRING", "REQUIRED"),
        _c("ingested_at", "TIMESTAMP"),
    ),
    partition_field="timestamp",
    clustering=("symbol", "timeframe"),
    description="OHLCV bars from the ingester, `farm data`, or the synthetic market.",
)

NEWS = Table(
    "market_data",
    "news",
    (
        _c("id", "STRING", "REQUIRED"),
        _c("headline", "STRING"),
        _c("summary", "STRING"),
        _c("author", "STRING"),
        _c("source", "STRING"),
        _c("url", "STRING"),
        _c("symbols", "STRING", "REPEATED"),
        _c("created_at", "TIMESTAMP", "REQUIRED"),
        _c("updated_at", "TIMESTAMP"),
        _c("data_hash", "STRING", "REQUIRED"),
        _c("ingested_at", "TIMESTAMP"),
    ),
    partition_field="created_at",
    clustering=("source",),
)

DECISIONS = Table(
    "fmel",
    "decisions",
    (
        _c("decision_id", "STRING", "REQUIRED"),
        _c("agent_id", "STRING", "REQUIRED"),
        _c("user_id", "STRING", "REQUIRED"),
        _c("session_id", "STRING", "REQUIRED"),
        _c("mode", "STRING", "REQUIRED"),  # backtest | paper
        _c("decision_point", "INT64", "REQUIRED"),  # 1, 2, ... per session; continues on restart
        _c("bar_time", "TIMESTAMP", "REQUIRED"),
        _c("recorded_at", "TIMESTAMP", "REQUIRED"),
        _c("stage", "STRING", "REQUIRED"),  # prenext | nextstart | next
        _c("action", "STRING", "REQUIRED"),  # TRADED | HOLD | INACTIVE
        _c(
            "actions",
            "RECORD",
            "REPEATED",
            _c("seq", "INT64"),
            _c("side", "STRING"),
            _c("symbol", "STRING"),
            _c("size", "FLOAT64"),
            _c("price", "FLOAT64"),
            _c("order_type", "STRING"),
            _c("order_id", "STRING"),
            _c("status", "STRING"),
        ),
        _c(
            "data_accessed",
            "RECORD",
            "REPEATED",
            _c("symbol", "STRING"),
            _c("data_hash", "STRING"),
            _c("fields", "STRING", "REPEATED"),
            # value: the bar's own for a price or volume, what the agent's indicator returned for one.
            _c("reads", "RECORD", "REPEATED", _c("seq", "INT64"), _c("field", "STRING"), _c("index", "INT64"),
               _c("value", "FLOAT64")),
        ),
        _c("access_count", "INT64", "REQUIRED"),
        _c("portfolio_value", "FLOAT64", "REQUIRED"),
        _c("cash", "FLOAT64", "REQUIRED"),
        _c(
            "positions",
            "RECORD",
            "REPEATED",
            _c("symbol", "STRING"),
            _c("size", "FLOAT64"),
            _c("price", "FLOAT64"),
            _c("value", "FLOAT64"),
        ),
        # The indicator values the decision read, as the agent computed them: "SMA(period=10) of
        # AAPL close = 101.23" (its lineage to bars stays in data_accessed).
        _c(
            "indicators",
            "RECORD",
            "REPEATED",
            _c("name", "STRING"),
            _c("params", "STRING"),
            _c("line", "STRING"),
            _c("input", "STRING"),
            _c("index", "INT64"),
            _c("value", "FLOAT64"),
        ),
        _c("note", "STRING"),  # JSON: the agent's own values for the decision (`self.fmel.note`)
    ),
    partition_field="bar_time",
    clustering=("agent_id", "session_id"),
    description="FMEL: one row per decision point of an agent (SPEC §10).",
)

BACKTEST_RUNS = Table(
    "analytics",
    "backtest_runs",
    (
        _c("run_id", "STRING", "REQUIRED"),
        _c("agent_id", "STRING", "REQUIRED"),
        _c("user_id", "STRING", "REQUIRED"),
        _c("agent_name", "STRING"),
        _c("code_hash", "STRING"),
        _c("status", "STRING", "REQUIRED"),  # succeeded | failed
        _c("symbols", "STRING", "REPEATED"),
        _c("timeframe", "STRING"),
        _c("start_date", "DATE"),
        _c("end_date", "DATE"),
        _c("cash", "FLOAT64"),
        _c("commission", "FLOAT64"),
        _c("started_at", "TIMESTAMP"),
        _c("finished_at", "TIMESTAMP", "REQUIRED"),
        _c("final_value", "FLOAT64"),
        _c("total_return", "FLOAT64"),
        _c("annual_return", "FLOAT64"),
        _c("sharpe", "FLOAT64"),
        _c("sortino", "FLOAT64"),
        _c("calmar", "FLOAT64"),
        _c("max_drawdown", "FLOAT64"),
        _c("max_drawdown_duration", "INT64"),  # bars
        _c("volatility", "FLOAT64"),
        _c("trades", "INT64"),
        _c("win_rate", "FLOAT64"),
        _c("profit_factor", "FLOAT64"),
        _c("avg_win", "FLOAT64"),
        _c("avg_loss", "FLOAT64"),
        _c("exposure", "FLOAT64"),
        _c("benchmark_return", "FLOAT64"),
        _c("bars", "INT64"),
        _c("error", "STRING"),
    ),
    partition_field="finished_at",
    clustering=("agent_id",),
)

PAPER_SNAPSHOTS = Table(
    "analytics",
    "paper_snapshots",
    (
        _c("session_id", "STRING", "REQUIRED"),
        _c("agent_id", "STRING", "REQUIRED"),
        _c("user_id", "STRING", "REQUIRED"),
        _c("timestamp", "TIMESTAMP", "REQUIRED"),
        _c("portfolio_value", "FLOAT64", "REQUIRED"),
        _c("cash", "FLOAT64", "REQUIRED"),
        _c("starting_value", "FLOAT64"),
        _c("trades", "INT64"),
        _c(
            "positions",
            "RECORD",
            "REPEATED",
            _c("symbol", "STRING"),
            _c("size", "FLOAT64"),
            _c("price", "FLOAT64"),
            _c("value", "FLOAT64"),
        ),
    ),
    partition_field="timestamp",
    clustering=("agent_id", "session_id"),
)

AGENT_DELETIONS = Table(
    "analytics",
    "agent_deletions",
    (
        _c("agent_id", "STRING", "REQUIRED"),
        _c("user_id", "STRING", "REQUIRED"),
        _c("deleted_at", "TIMESTAMP", "REQUIRED"),
    ),
    clustering=("agent_id",),
    description="Soft-deleted agents: every leaderboard leaves them out from the moment they are deleted.",
)

TABLES: tuple[Table, ...] = (BARS, NEWS, DECISIONS, BACKTEST_RUNS, PAPER_SNAPSHOTS, AGENT_DELETIONS)
DATASETS: tuple[str, ...] = tuple(dict.fromkeys(t.dataset for t in TABLES))


def table(ref: str) -> Table:
    """The table named `dataset.table`; KeyError when the schema has none."""
    for t in TABLES:
        if t.ref == ref:
            return t
    raise KeyError(f"no warehouse table {ref!r}; known: {[t.ref for t in TABLES]}")
