"""Replay a paper session's agent through the trusted host, the way its runtime ran it.

    agent process (sandbox) <--pipes--> this host: cerebro over the archived bars, AgentProxy,
                                        ReplayBroker (the session's SimulatedBroker), FMEL (paper)

The paper runtime (runtime/app.py) runs the agent over live feeds with `LiveExchange`: each
frame carries the bars the feeds just delivered, the broker's order events and the account, and
the agent's `ProxyBroker` fills its orders from them. The replay keeps all of that and changes
only where the bars come from (the ingester's archive, one timestamp at a time) and where the
account lives (memory, carried from one run of the session to the next). Same harness pieces,
same channel, same checks: docs/trust-boundary.md.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import backtrader as bt
import pandas as pd

from shared.fmel import FmelAnalyzer
from shared.harness import frames as framing
from shared.harness import wire
from shared.harness.backtest_host import AgentLauncher, AgentProcess
from shared.harness.links import LiveExchange
from shared.harness.output import CappedOutput
from shared.harness.puppet import AgentFailed, AgentProxy
from shared.market.loader import make_feed
from shared.venues.simulated.replay import AccountMemory, ReplayBroker

_EMPTY = pd.DataFrame({c: pd.Series(dtype="float64") for c in ("open", "high", "low", "close", "volume",
                                                                 "trade_count", "vwap", "openinterest")},
                      index=pd.DatetimeIndex([], name="datetime"))


@dataclass(frozen=True, kw_only=True)
class BrokerModel:
    """The paper broker's terms: the session's commission, slippage and volume participation."""

    slippage: float = 0.0005
    commission: float = 0.0
    participation: float = 1.0


@dataclass(frozen=True, kw_only=True)
class ReplayIdentity:
    """Who the replayed decisions belong to (never written to the session's own FMEL)."""

    agent_id: str
    user_id: str
    session_id: str


@dataclass
class ReplayRun:
    """Every replayed decision (FMEL rows) and the agent's output; `error` when it failed."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    output: str = ""
    seconds: float = 0.0
    violations: int = 0


def replay_session(
    launcher: AgentLauncher, bundle_dir: Path, runs: Sequence[tuple[int, Mapping[str, pd.DataFrame]]], *,
    symbols: Sequence[str], timeframe: str, account: AccountMemory, broker: BrokerModel,
    identity: ReplayIdentity, scratch: Path, reply_timeout_s: float = 60.0,
    while_starting: Callable[[], None] | None = None,
) -> ReplayRun:
    """Replay each run of a session (first decision point, bars per symbol) in turn.

    Each run starts the agent afresh, as a restarted runtime did; `account` carries the cash,
    positions and open orders from one run to the next. `while_starting` is called once, while
    the first agent's sandbox starts (trusted work that can overlap it).
    """
    result = ReplayRun()
    started = time.perf_counter()
    for number, (first_point, frames) in enumerate(runs):
        output = CappedOutput(scratch / f"agent-output-{number}.log")
        rows, error, violations = _replay_run(launcher, bundle_dir, frames, output, first_point=first_point,
                                              symbols=symbols, timeframe=timeframe, account=account,
                                              broker=broker, identity=identity, reply_timeout_s=reply_timeout_s,
                                              while_starting=while_starting if number == 0 else None)
        result.rows.extend(rows)
        result.violations += violations
        result.output += output.finish()
        if error is not None:
            result.error = error
            break
    result.seconds = time.perf_counter() - started
    return result


def _replay_run(
    launcher: AgentLauncher, bundle_dir: Path, frames: Mapping[str, pd.DataFrame], output: CappedOutput, *,
    first_point: int, symbols: Sequence[str], timeframe: str, account: AccountMemory, broker: BrokerModel,
    identity: ReplayIdentity, reply_timeout_s: float, while_starting: Callable[[], None] | None,
) -> tuple[list[dict[str, Any]], str | None, int]:
    if not any(len(frames.get(symbol, ())) for symbol in symbols):
        return [], None, 0
    # Every symbol of the session, in its order, bars or not: the agent indexes its feeds so.
    feeds = [make_feed(symbol, frames.get(symbol, _EMPTY), timeframe) for symbol in symbols]
    # Lock step: the host and the agent hand every bar to each other, so they share one CPU (a
    # switch there is far cheaper than waking the other CPU, see shared.harness.backtest_host).
    cpu = max(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    try:
        process, to_agent, from_agent = launcher.start(bundle_dir=bundle_dir, output_fd=output.write_fd, cpu=cpu)
    finally:
        output.close_writer()
    os.sched_setaffinity(0, {cpu})
    link = LiveExchange(wire.Endpoint(from_agent, to_agent, max_message=wire.MAX_AGENT_MESSAGE),
                        reply_timeout_s=reply_timeout_s)
    # As the runtime does (runtime/app.py `_start_agent`): the paper hello, the venue's account.
    hello = framing.hello([f._name for f in feeds], timeframe=timeframe, cash=0.0,
                          commission=broker.commission, mode="paper")
    cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
    for feed in feeds:
        cerebro.adddata(feed)
    cerebro.setbroker(ReplayBroker(account, feeds, slippage=broker.slippage, commission=broker.commission,
                                   participation=broker.participation))
    cerebro.addstrategy(AgentProxy, link=link)
    cerebro.addanalyzer(FmelAnalyzer, _name="fmel", agent_id=identity.agent_id, user_id=identity.user_id,
                        session_id=identity.session_id, mode="paper", start_point=first_point, sink=None,
                        keep_rows=True, reported=True)
    rows: list[dict[str, Any]] = []
    error = None
    violations = 0
    try:
        link.endpoint.send(hello)
        if while_starting is not None:
            while_starting()
        link.wait_ready()
        strategy = cerebro.run()[0]
        rows = strategy.analyzers.fmel.rows
        violations = strategy.violations
    except AgentFailed as exc:
        error = exc.message[-8000:]
    except OSError as exc:
        error = f"the agent's channel failed: {exc}"
    finally:
        os.sched_setaffinity(0, before)
        link.end()
        _stop(process)
        for fd in (to_agent, from_agent):
            _close(fd)
    return rows, error, violations


def _stop(process: AgentProcess, grace_s: float = 5.0) -> None:
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
