// The public leaderboard: mode, metric, period; the score's components; equity sparklines.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { session } from "../auth";
import { ErrorNotice } from "../components/ErrorNotice";
import { Sparkline } from "../components/Sparkline";
import { num, pct, usd, when } from "../format";
import { useLoad, useTitle } from "../hooks";
import { navigate, useLocation } from "../router";
import { useStore } from "../store";
import type { Agent, AgentSummary, Backtest, Leaderboard, LeaderboardEntry, PendingEntry } from "../types";
import { markReady } from "../timing";

export const MODES = ["backtest", "paper"];
export const METRICS: Record<string, string> = {
  score: "Score (probabilistic Sharpe)", sharpe: "Sharpe ratio", return: "Return", drawdown: "Max drawdown",
  win_rate: "Win rate",
};
export const PERIODS: Record<string, string> = { all: "All time", "90d": "90 days", "30d": "30 days", "7d": "7 days" };

export function LeaderboardPage() {
  useTitle("Leaderboard");
  const loc = useLocation();
  const mode = loc.query.get("mode") ?? "backtest";
  const metric = loc.query.get("metric") ?? "score";
  const period = loc.query.get("period") ?? "all";
  const board = useLoad(
    (signal) => api<Leaderboard>("/api/leaderboard", { query: { mode, metric, period, limit: 50 }, auth: false, signal }),
    [mode, metric, period],
  );
  useEffect(() => {
    if (board.data) markReady("leaderboard");
  }, [board.data]);
  const curves = useOwnCurves(board.data?.entries ?? []);
  const set = (key: string, value: string) => {
    const q = new URLSearchParams(loc.query);
    q.set(key, value);
    navigate(`/?${q}`, true);
  };
  return (
    <section>
      <h1>Leaderboard</h1>
      <form class="controls" onSubmit={(e) => e.preventDefault()} aria-label="Ranking options">
        <label>
          Mode
          <select value={mode} onChange={(e) => set("mode", e.currentTarget.value)}>
            {MODES.map((m) => <option key={m} value={m}>{m === "paper" ? "Paper trading" : "Backtest"}</option>)}
          </select>
        </label>
        <label>
          Metric
          <select value={metric} onChange={(e) => set("metric", e.currentTarget.value)}>
            {Object.entries(METRICS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
        <label>
          Period
          <select value={period} onChange={(e) => set("period", e.currentTarget.value)}>
            {Object.entries(PERIODS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
        </label>
      </form>
      <ErrorNotice error={board.error} onRetry={board.reload} />
      {board.data && (
        <>
          <p class="muted" aria-live="polite">
            {board.data.total} ranked · as of {when(board.data.as_of)} · from the {board.data.source}
          </p>
          <BoardContext board={board.data} />
          {board.data.entries.length === 0 ? (
            <p class="empty">No agent is ranked here yet. Submit one from <a href="/agents">My agents</a>.</p>
          ) : (
            <BoardTable entries={board.data.entries} curves={curves} mode={mode} />
          )}
          {board.data.pending && board.data.pending.length > 0 && <Pending entries={board.data.pending} />}
          <details class="explain">
            <summary>How the score is computed</summary>
            <p>
              The score is the probabilistic Sharpe ratio (PSR): the probability that the agent's true Sharpe ratio is
              above zero, given its per-observation Sharpe, the number of observations and their skew and kurtosis
              (z is the test statistic). An agent is eligible once it has the minimum trades and observations shown.
            </p>
          </details>
        </>
      )}
      {board.loading && !board.data && <p aria-busy="true">Loading the ranking…</p>}
    </section>
  );
}

function BoardContext({ board }: { board: Leaderboard }) {
  const ev = board.evaluation;
  return (
    <>
      {board.data?.synthetic && <div class="notice warn" role="note">{board.data.note ?? "Synthetic market data."}</div>}
      {ev && (
        <p class="muted">
          Every agent is ranked on the same standard backtest: {ev.symbols.length} symbols, {ev.start} → {ev.end},{" "}
          {ev.timeframe}, {usd(ev.cash)} cash, commission {ev.commission}.
        </p>
      )}
      {board.min_track_record && (
        <p class="muted">
          Paper agents rank after {board.min_track_record.days} days and {board.min_track_record.trades} trades.
        </p>
      )}
    </>
  );
}

function Pending({ entries }: { entries: PendingEntry[] }) {
  return (
    <>
      <h2>Not yet ranked</h2>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Not yet ranked">
        <table data-testid="pending">
          <thead><tr><th scope="col">Agent</th><th scope="col">Owner</th><th scope="col">Days</th><th scope="col">Trades</th><th scope="col">Needs</th></tr></thead>
          <tbody>
            {entries.map((p) => (
              <tr key={p.agent_id}>
                <td>{p.agent_name}</td><td>{p.owner}</td><td>{num(p.days, 1)}</td><td>{p.trades ?? 0}</td><td>{p.not_ranked ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function BoardTable({ entries, curves, mode }: { entries: LeaderboardEntry[]; curves: Record<string, number[]>; mode: string }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Ranking">
      <table data-testid="leaderboard" data-ready="yes">
        <thead>
          <tr>
            <th scope="col">Rank</th>
            <th scope="col">Agent</th>
            <th scope="col">Owner</th>
            <th scope="col">Equity</th>
            <th scope="col">Score (PSR)</th>
            <th scope="col">z</th>
            <th scope="col">Sharpe / obs.</th>
            <th scope="col">Obs.</th>
            <th scope="col">Return</th>
            <th scope="col">Sharpe</th>
            <th scope="col">Drawdown</th>
            <th scope="col">Win rate</th>
            <th scope="col">Trades</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => {
            const curve = e.equity ?? curves[e.agent_id];
            return (
              <tr key={e.agent_id} data-agent={e.agent_id}>
                <td>{e.rank}</td>
                <td><a href={`/leaderboard/${e.agent_id}?mode=${mode}`}>{e.agent_name}</a></td>
                <td>{e.owner}</td>
                <td>{curve ? <Sparkline values={curve} label={`Equity of ${e.agent_name}`} /> : <span class="muted" title="The API serves equity curves to their owners only">—</span>}</td>
                <td>
                  {pct(e.score.psr)}
                  {e.score.eligible === false && (
                    <span class="badge warn" title={`needs ${e.score.min_trades} trades and ${e.score.min_observations} observations`}>
                      not eligible
                    </span>
                  )}
                </td>
                <td>{num(e.score.z)}</td>
                <td>{num(e.score.sharpe_per_observation, 3)}</td>
                <td>{e.score.observations ?? "—"}</td>
                <td>{pct(e.metrics.return)}</td>
                <td>{num(e.metrics.sharpe)}</td>
                <td>{pct(e.metrics.drawdown)}</td>
                <td>{pct(e.metrics.win_rate)}</td>
                <td>{e.metrics.trades ?? "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Equity curves of the signed-in user's own ranked agents (the only curves the API serves). */
function useOwnCurves(entries: LeaderboardEntry[]): Record<string, number[]> {
  const user = useStore(session);
  const [curves, setCurves] = useState<Record<string, number[]>>({});
  useEffect(() => {
    if (!user || !entries.length) return;
    const ctl = new AbortController();
    const ranked = new Set(entries.map((e) => e.agent_id));
    (async () => {
      const mine = await api<{ agents: AgentSummary[] }>("/api/agents", { query: { limit: 100 }, signal: ctl.signal });
      for (const a of mine.agents.filter((x) => ranked.has(x.agent_id)).slice(0, 20)) {
        const agent = await api<Agent>(`/api/agents/${a.agent_id}`, { signal: ctl.signal });
        const run = agent.latest_backtest?.run_id;
        if (!run) continue;
        const bt = await api<Backtest>(`/api/backtests/${run}`, { signal: ctl.signal });
        const values = (bt.equity_curve ?? []).map((p) => p.value);
        if (values.length > 1) setCurves((c) => ({ ...c, [a.agent_id]: values }));
      }
    })().catch(() => undefined); // sparklines are extras: the table stands without them
    return () => ctl.abort();
  }, [user, entries]);
  return curves;
}
