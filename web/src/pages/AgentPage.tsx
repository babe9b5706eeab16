// One of my agents: status and history, the backtest report and a new backtest, paper trading.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { BacktestForm } from "../components/BacktestForm";
import { BacktestReport } from "../components/BacktestReport";
import { ErrorNotice } from "../components/ErrorNotice";
import { PaperTrading } from "../components/PaperTrading";
import { RunsList } from "../components/RunsList";
import { StatusBadge } from "../components/StatusBadge";
import { when } from "../format";
import { useInterval, useLoad, useTitle } from "../hooks";
import { navigate } from "../router";
import type { Agent } from "../types";
import { BUSY } from "./MyAgentsPage";

const PAPER_OK = new Set(["backtested", "stopped", "failed", "trading", "deploying", "stopping", "paused"]);

export function AgentPage({ agentId }: { agentId: string }) {
  const agent = useLoad((signal) => api<Agent>(`/api/agents/${encodeURIComponent(agentId)}`, { signal }), [agentId]);
  const a = agent.data;
  useTitle(a?.name ?? "Agent");
  useInterval(() => agent.reload(), 1000, a !== null && BUSY.has(a.status));
  const [runId, setRunId] = useState<string | null>(null);
  useEffect(() => setRunId(null), [agentId]);
  const shownRun = runId ?? a?.latest_backtest?.run_id ?? null;
  const [deleteError, setDeleteError] = useState<unknown>(null);

  const remove = async () => {
    if (!a || !confirm(`Delete ${a.name}? Its runtime stops; its decision history stays readable.`)) return;
    try {
      await api(`/api/agents/${a.agent_id}`, { method: "DELETE" });
      navigate("/agents");
    } catch (e) {
      setDeleteError(e);
    }
  };

  return (
    <section>
      <p><a href="/agents">← My agents</a></p>
      <h1>{a?.name ?? "Agent"}</h1>
      <ErrorNotice error={agent.error} onRetry={agent.reload} />
      {a && (
        <>
          <div class="agent-head">
            <span>Status: <StatusBadge status={a.status} /></span>
            <span class="muted">id <code>{a.agent_id}</code></span>
            <span class="muted">files {a.files?.join(", ") ?? "agent.py"}</span>
            <span class="muted" title={a.code_hash}>code {a.code_hash.slice(0, 12)}…</span>
            <a href={`/decisions?agent=${a.agent_id}`}>Decisions</a>
            <a href={`/leaderboard/${a.agent_id}`}>Public page</a>
            <button type="button" class="danger small" onClick={remove}>Delete agent</button>
          </div>
          <ErrorNotice error={deleteError} />
          {a.validation.findings.length > 0 && (
            <details class="explain">
              <summary>{a.validation.findings.length} validation warning(s)</summary>
              <ul>
                {a.validation.findings.map((f, i) => <li key={i}>{f.file}:{f.line}:{f.col} {f.code}: {f.message}</li>)}
              </ul>
            </details>
          )}
          <section aria-labelledby="bt-title" class="panel">
            <h2 id="bt-title">Backtest</h2>
            <RunsList agentId={a.agent_id} selected={shownRun} onSelect={setRunId} refresh={`${runId}:${a.status}`} />
            {shownRun ? <BacktestReport runId={shownRun} agentId={a.agent_id} /> : <p class="empty">No backtest yet{BUSY.has(a.status) ? ": it starts once the agent is stored." : "."}</p>}
            <BacktestForm agentId={a.agent_id} onQueued={(id) => { setRunId(id); agent.reload(); }} />
          </section>
          <section aria-labelledby="paper-title" class="panel">
            <h2 id="paper-title">Paper trading</h2>
            <PaperTrading agentId={a.agent_id} canStart={PAPER_OK.has(a.status)} onChange={agent.reload} />
          </section>
          <section aria-labelledby="history-title" class="panel">
            <h2 id="history-title">Status history</h2>
            <ol class="history" data-testid="history">
              {a.history.map((h, i) => (
                <li key={i}>
                  <time dateTime={h.at}>{when(h.at)}</time> {h.from ? <><StatusBadge status={h.from} /> → </> : null}
                  <StatusBadge status={h.to} />
                  {h.reason && <span class="muted"> ({h.reason})</span>}
                </li>
              ))}
            </ol>
          </section>
        </>
      )}
    </section>
  );
}
