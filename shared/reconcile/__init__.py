"""Reconciliation: replay a paper session (or compare two backtests) decision by decision.

`decisions` turns FMEL rows into comparable decisions, `diff` aligns two streams and classifies
each divergence (data, state, agent, execution), `figures` summarises them (equity overlay,
tracking error, slippage per symbol) and draws the chart, `bars` chooses the bars a replay
delivers and says which ones the session missed or got late.
"""
