"""The agent harness: the agent's code in a sandboxed process, everything it is scored on outside.

Untrusted side (`agent_main` and the `agent_*` modules): backtrader with the agent's strategy,
feeds that receive one timestamp's bars at a time over the channel, a broker that reports orders,
and FMEL's read capture. Trusted side (`backtest_host`, `conductor`, `puppet`, `links`): owns the
bars, executes the orders with the platform's broker, keeps the portfolio, the equity curve and
trades, writes FMEL and computes every metric. docs/trust-boundary.md explains the design.
Kept free of heavy imports: the conductor process imports only `wire`.
"""
