"""The agent runtime: one paper-trading session of one agent, live on the bus (SPEC §9).

`AgentRuntime.run()` loads the agent's bundle, subscribes once per market topic, runs
backtrader live with `BusDataFeed`s, a broker and the FMEL analyzer in mode `paper`, keeps the
session document current, and on `request_stop()` (SIGTERM) stops the feeds, flushes FMEL,
publishes the final snapshot, deletes its subscriptions and returns 0. Decision numbering
continues across restarts; decisions a killed process made but never wrote are reported on the
session document (`lost_decisions`, `fmel_gaps`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import backtrader as bt

from runtime.feeds import BusDataFeed, BusRouter, make_feed
from runtime.health import HealthServer
from runtime.session import DecisionCounter, SessionReporter
from runtime.snapshots import SnapshotWriter
from shared.adapters.local.sandbox import SandboxLimits
from shared.app import Application
from shared.backtest.bundle import extract_bundle
from shared.domain.clock import now_iso
from shared.errors import FarmError, NotFoundError
from shared.fmel import FmelAnalyzer, FmelRecorder, row_from_json
from shared.harness import frames as framing
from shared.harness import wire
from shared.harness.backtest_host import AgentLauncher, AgentProcess
from shared.harness.links import LiveExchange
from shared.harness.output import CappedOutput
from shared.harness.puppet import AgentFailed, AgentProxy
from shared.harness.sandboxed import SandboxedAgentLauncher
from shared.schemas.collections import AGENTS, SESSIONS
from shared.schemas.topics import PERFORMANCE_UPDATES
from shared.services import paper_runtime
from shared.venues import make_broker

log = logging.getLogger(__name__)
RUNTIME_CPU_S = 7 * 24 * 3600  # a week of CPU per process: restarts (counted) renew it
LAST_POINT_SQL = (
    "SELECT decision_point FROM fmel.decisions WHERE session_id = @session_id "
    "ORDER BY decision_point DESC LIMIT 1"
)


@dataclass(frozen=True, kw_only=True)
class RuntimeOptions:
    """Tunables of one runtime process."""

    health_port: int = 0
    heartbeat_s: float = 2.0
    flush_s: float = 2.0  # FMEL batch interval (SPEC §10 default)
    batch_size: int = 500
    slippage: float = 0.0005
    commission: float = 0.0
    snapshot_flush_s: float = 10.0  # portfolio snapshots to analytics.paper_snapshots
    reply_timeout_s: float = 60.0  # how long one decision of the agent may take


class DecisionWatch(bt.Analyzer):
    """After each decision: count it (crash-safe) and measure bus-to-`next()` latency."""

    params = (("counter", None), ("samples", None))

    def start(self) -> None:
        """Find the FMEL analyzer whose numbering is counted."""
        self._fmel = self.strategy.analyzers.getbyname("fmel")

    def prenext(self) -> None:
        """Warm-up decisions count too."""
        self.next()

    def next(self) -> None:
        """Mark the decision point and the latency of the bars that triggered it."""
        self.p.counter.mark(self._fmel.get_analysis()["last_point"])
        now = time.monotonic()
        for data in self.strategy.datas:
            received = getattr(data, "received", None)
            if received and len(data):
                arrived = received.pop(data.lines.datetime[0], None)
                if arrived is not None:
                    self.p.samples.append(now - arrived)


class AgentRuntime:
    """Run one session until stopped."""

    def __init__(self, platform: Application, session_id: str, options: RuntimeOptions | None = None,
                 launcher: AgentLauncher | None = None) -> None:
        self.platform = platform
        self.launcher = launcher or SandboxedAgentLauncher.for_data_dir(
            Path(platform.settings.data_dir), SandboxLimits(cpu_seconds=RUNTIME_CPU_S))
        self.session_id = session_id
        self.options = options or RuntimeOptions()
        self.latencies: deque[float] = deque(maxlen=2000)
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._cerebro: bt.Cerebro | None = None
        self._feeds: list[BusDataFeed] = []
        self.summary: dict[str, Any] = {}

    def request_stop(self) -> None:
        """Stop gracefully (safe from a signal handler): feeds end, cerebro returns."""
        self._stop.set()
        self.ready.clear()
        for feed in self._feeds:
            feed.shutdown()
        if self._cerebro is not None:
            self._cerebro.runstop()

    def run(self) -> int:
        """Run the session; 0 after a requested stop, 1 when the agent's code failed."""
        p, sid, opts = self.platform, self.session_id, self.options
        session = p.documents.get(SESSIONS, sid)
        if session is None:
            raise NotFoundError(f"session {sid} not found")
        agent_doc = p.documents.get(AGENTS, session["agent_id"]) or {}
        data_dir = Path(p.settings.data_dir)
        with tempfile.TemporaryDirectory(prefix=f"runtime-{sid}-") as work:
            bundle_dir = extract_bundle(p.blobs.get(agent_doc["bundle_key"]), Path(work) / "agent" / "bundle")
            agent = self._start_agent(bundle_dir, session)
            if agent is None:
                return 1
            agent_process, link = agent
            recorder = FmelRecorder(p.warehouse, data_dir / "fmel-spill" / sid, opts.batch_size, opts.flush_s)
            counter = DecisionCounter(data_dir / "runtime" / f"{sid}.point")
            start_point = self._resume(session, counter, recorder)
            self._feeds = [make_feed(s, session["timeframe"]) for s in session["symbols"]]
            subscriptions = [(f"runtime-{sid}-{topic}", topic) for topic in session["topics"]]
            router = BusRouter(p.messages, subscriptions, self._feeds)
            router.create()
            p.messages.create_topic(PERFORMANCE_UPDATES)
            broker = make_broker(p.settings, p.documents, sid, session, self._feeds, slippage=opts.slippage,
                                 commission=opts.commission)
            cerebro = self._cerebro = bt.Cerebro(stdstats=False, quicknotify=True)
            for feed in self._feeds:
                cerebro.adddata(feed)
            cerebro.setbroker(broker)
            # The agent runs in its sandbox; here its stand-in places what it decides (§6b).
            cerebro.addstrategy(AgentProxy, link=link)
            cerebro.addanalyzer(FmelAnalyzer, _name="fmel", agent_id=session["agent_id"],
                                user_id=session["owner_uid"], session_id=sid, mode="paper",
                                start_point=start_point, sink=recorder.add, reported=True)
            cerebro.addanalyzer(DecisionWatch, _name="watch", counter=counter, samples=self.latencies)
            snapshots = SnapshotWriter(p.warehouse, flush_s=opts.snapshot_flush_s)
            reporter = SessionReporter(p.documents, p.messages, sid, session, broker, counter,
                                       interval_s=opts.heartbeat_s, snapshots=snapshots.add,
                                       extra=lambda: self._extra(router, recorder, snapshots))
            health = HealthServer(self.ready.is_set, port=opts.health_port).start()
            code = 0
            try:
                if self._stop.is_set():
                    return 0
                router.start()
                # The broker model goes on record: a reconciliation replays fills with the same one.
                model = {"slippage": opts.slippage, "commission": opts.commission,
                         "participation": float(broker.p.participation) if hasattr(broker.p, "participation") else 1.0}
                # The broker trades the session's own account: the session refuses any other.
                paper_runtime.mark_trading(p.documents, sid, account_id=broker.account_id, started_at=now_iso(),
                                           pid=os.getpid(), health_port=health.port, broker=model)
                reporter.start()
                self.ready.set()
                cerebro.run()
            except AgentFailed as exc:
                log.warning("agent failed: %s", exc.message.splitlines()[-1:] or exc.message)
                self._fail(exc.message)
                code = 1
            except Exception:
                log.exception("runtime failed")
                self._fail("the runtime failed (see its log)")
                code = 1
            finally:
                self.ready.clear()
                link.end()
                _stop_agent(agent_process)
                router.stop(delete=code == 0)
                recorder.close()
                reporter.stop()
                broker.shutdown()
                try:  # a clean exit unasked leaves the session interrupted (the aggregate decides)
                    reporter.report(final=code == 0, exited=code == 0)
                except Exception:
                    log.exception("final session report failed")
                finally:
                    snapshots.flush()
                    health.stop()
                    counter.close()
                self.summary = {"decisions": counter.made, "last_decision_point": counter.last,
                                **recorder.stats(), "start_point": start_point}
                log.info("runtime %s stopped: %s", sid, self.summary)
            return code

    def _start_agent(self, bundle_dir: Path, session: dict[str, Any]) -> tuple[AgentProcess, LiveExchange] | None:
        """Start the agent's sandboxed process and wait until it has loaded; None when it could not."""
        output = CappedOutput(Path(self.platform.settings.data_dir) / "runtime" / f"{self.session_id}.output.log")
        try:
            process, to_agent, from_agent = self.launcher.start(bundle_dir=bundle_dir, output_fd=output.write_fd)
        except FarmError as exc:
            self._fail(exc.message)
            return None
        finally:
            output.close_writer()
        link = LiveExchange(wire.Endpoint(from_agent, to_agent, max_message=wire.MAX_AGENT_MESSAGE),
                            reply_timeout_s=self.options.reply_timeout_s)
        hello = framing.hello(list(session["symbols"]), timeframe=session["timeframe"], cash=0.0,
                              commission=self.options.commission, mode="paper")
        try:
            link.endpoint.send(hello)
            link.wait_ready()
        except (AgentFailed, OSError) as exc:
            self._fail(exc.message if isinstance(exc, AgentFailed) else f"the agent could not start: {exc}")
            _stop_agent(process)
            return None
        return process, link

    def _resume(self, session: dict[str, Any], counter: DecisionCounter, recorder: FmelRecorder) -> int:
        """Continue numbering after the last decision made; report what a kill lost."""
        rows = self.platform.warehouse.query(LAST_POINT_SQL, {"session_id": self.session_id})
        written = max((int(r["decision_point"]) for r in rows if r.get("session_id", self.session_id)
                       == self.session_id), default=0)
        for path in recorder.spill_files():  # spilled rows reach the warehouse on replay
            for line in path.read_text(encoding="utf-8").splitlines():
                if line:
                    written = max(written, int(row_from_json(line)["decision_point"]))
        made = max(counter.last, int(session.get("last_decision_point") or 0))
        lost = max(0, made - written)
        if lost:
            log.warning("session %s: %d decisions (%d..%d) were made but never written", self.session_id,
                        lost, written + 1, made)
            gaps = [*session.get("fmel_gaps", []), {"first": written + 1, "last": made, "count": lost,
                                                    "reported_at": now_iso()}]
            paper_runtime.record_runtime_report(self.platform.documents, self.session_id, {
                "lost_decisions": int(session.get("lost_decisions") or 0) + lost, "fmel_gaps": gaps})
        counter.last = max(made, written)
        return counter.last + 1

    def _extra(self, router: BusRouter, recorder: FmelRecorder, snapshots: SnapshotWriter) -> dict[str, Any]:
        samples = sorted(self.latencies)
        p95 = samples[int(0.95 * (len(samples) - 1))] * 1000 if samples else None
        return {"latency_p95_ms": p95, "bars_routed": router.routed, "fmel": recorder.stats(),
                "snapshots": snapshots.stats()}

    def _fail(self, error: str) -> None:
        paper_runtime.report_runtime_error(self.platform.documents, self.session_id, error)


def _stop_agent(process: AgentProcess, grace_s: float = 5.0) -> None:
    """Wait for the agent's process to leave after `end`, else kill it (its sandbox dies with it)."""
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
