"""Backtest building blocks shared by the backtest job: performance metrics."""

from shared.backtest.metrics import BacktestMetrics, ClosedTrade, compute_metrics

__all__ = ["BacktestMetrics", "ClosedTrade", "compute_metrics"]
