// An agent's public page: its standing in each leaderboard and the score's components.
import { api, ApiError } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { num, pct, when } from "../format";
import { useLoad, useTitle } from "../hooks";
import { useLocation } from "../router";
import type { LeaderboardEntry } from "../types";
import { METRICS, MODES, PERIODS } from "./LeaderboardPage";

interface Standing {
  mode: string;
  entry: LeaderboardEntry | null;
  ranked?: boolean; // false: a paper agent still building its track record
  agent_name?: string;
  not_ranked?: string;
}

export function PublicAgentPage({ agentId }: { agentId: string }) {
  const loc = useLocation();
  const metric = loc.query.get("metric") ?? "score";
  const period = loc.query.get("period") ?? "all";
  const standings = useLoad(
    async (signal) =>
      Promise.all(
        MODES.map((mode) =>
          api<Standing>(`/api/leaderboard/agents/${encodeURIComponent(agentId)}`, {
            query: { mode, metric, period }, auth: false, signal,
          }).catch((e) => {
            if (e instanceof ApiError && e.status === 404) return { mode, entry: null } as Standing;
            throw e;
          }),
        ),
      ),
    [agentId, metric, period],
  );
  const ranked = (standings.data ?? []).filter((s): s is Standing & { entry: LeaderboardEntry } => s.entry != null);
  const name = ranked[0]?.entry.agent_name ?? (standings.data ?? []).find((s) => s.agent_name)?.agent_name ?? "Agent";
  useTitle(name);
  return (
    <section>
      <p><a href="/">← Leaderboard</a></p>
      <h1>{name}</h1>
      {ranked[0] && <p class="muted">by {ranked[0].entry.owner} · {METRICS[metric]} · {PERIODS[period]}</p>}
      <ErrorNotice error={standings.error} onRetry={standings.reload} />
      {standings.data && ranked.length === 0 && (
        <p class="empty">This agent is not ranked on any leaderboard for this period.</p>
      )}
      <div class="cards-2">
        {(standings.data ?? []).map((s) => (
          <article class="card" key={s.mode} aria-labelledby={`standing-${s.mode}`}>
            <h2 id={`standing-${s.mode}`}>{s.mode === "paper" ? "Paper trading" : "Backtest"}</h2>
            {s.entry ? <StandingView entry={s.entry} /> : <p class="muted">{s.not_ranked ? `Not yet ranked: ${s.not_ranked}` : "Not ranked."}</p>}
          </article>
        ))}
      </div>
    </section>
  );
}

function StandingView({ entry }: { entry: LeaderboardEntry }) {
  const rows: [string, string][] = [
    ["Rank", String(entry.rank)],
    ["Score (PSR)", pct(entry.score.psr)],
    ["z statistic", num(entry.score.z)],
    ["Sharpe per observation", num(entry.score.sharpe_per_observation, 4)],
    ["Observations", String(entry.score.observations ?? "—")],
    ["Eligible", entry.score.eligible ? "yes" : `no (needs ${entry.score.min_trades} trades, ${entry.score.min_observations} observations)`],
    ["Return", pct(entry.metrics.return)],
    ["Sharpe", num(entry.metrics.sharpe)],
    ["Max drawdown", pct(entry.metrics.drawdown)],
    ["Win rate", pct(entry.metrics.win_rate)],
    ["Trades", String(entry.metrics.trades ?? "—")],
    ["As of", when(entry.as_of)],
  ];
  return (
    <dl class="pairs">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
