// Paper trading: start (opening and funding the account once), live value, positions, trades,
// heartbeat, stop — refreshed every 2 s while the session runs, without reloading the page.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../api";
import { ago, epoch, usd, when } from "../format";
import { useInterval, useNow } from "../hooks";
import type { BrokerAccount, PaperSession } from "../types";
import { LiveChart } from "./EquityChart";
import { Output } from "./BacktestReport";
import { ErrorNotice } from "./ErrorNotice";
import { StatusBadge } from "./StatusBadge";

const LIVE = new Set(["deploying", "trading", "stopping", "interrupted", "paused"]);
const FUNDING = 25_000;

export function PaperTrading({ agentId, canStart, onChange }: { agentId: string; canStart: boolean; onChange: () => void }) {
  const [session, setSession] = useState<PaperSession | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<"start" | "stop" | "pause" | "resume" | null>(null);
  const [symbols, setSymbols] = useState("AAPL, MSFT");
  const [timeframe, setTimeframe] = useState("1Min");
  const [values, setValues] = useState<{ time: number; value: number }[]>([]);
  const now = useNow(1000);

  const refresh = async () => {
    try {
      const s = await api<PaperSession>(`/api/agents/${agentId}/paper-trading`);
      setSession(s);
      setError(null);
      if (s.portfolio_value != null && s.heartbeat_at) {
        const point = { time: epoch(s.heartbeat_at), value: s.portfolio_value };
        setValues((v) => (v.length && v[v.length - 1].time >= point.time ? v : [...v.slice(-600), point]));
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) setError(e);
    } finally {
      setLoaded(true);
    }
  };
  useEffect(() => {
    setValues([]);
    void refresh();
  }, [agentId]);
  const live = session !== null && LIVE.has(session.state);
  useInterval(refresh, 2000, live); // 30 calls a minute: well within the per-user request limit

  const start = async (e: Event) => {
    e.preventDefault();
    setBusy("start");
    setError(null);
    try {
      const account = await api<BrokerAccount>("/api/broker/accounts", { method: "POST", json: { agent_id: agentId } });
      if (!account.funded) {
        // One key per agent: a repeated click funds once.
        await api(`/api/broker/accounts/${account.account_id}/funding`, {
          method: "POST", json: { amount: FUNDING }, headers: { "Idempotency-Key": `web-initial-${agentId}` },
        });
      }
      const list = symbols.split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean);
      setValues([]);
      setSession(await api<PaperSession>(`/api/agents/${agentId}/paper-trading`, {
        method: "POST", json: { symbols: list, timeframe },
      }));
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const stop = async () => {
    setBusy("stop");
    setError(null);
    try {
      setSession(await api<PaperSession>(`/api/agents/${agentId}/paper-trading`, { method: "DELETE" }));
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  // Pause and resume came with a later API: a 404 there is said plainly like any other error.
  const control = async (what: "pause" | "resume") => {
    setBusy(what);
    setError(null);
    try {
      setSession(await api<PaperSession>(`/api/agents/${agentId}/paper-trading/${what}`, { method: "POST" }));
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const s = session;
  const change = s?.portfolio_value != null && s.starting_value ? s.portfolio_value - s.starting_value : null;
  return (
    <div class="paper" data-testid="paper" data-state={s?.state ?? "none"}>
      <ErrorNotice error={error} onRetry={refresh} />
      {!loaded && <p aria-busy="true">Loading the session…</p>}
      {loaded && !live && (
        <form class="grid-form" onSubmit={start} aria-labelledby="start-paper">
          <h3 id="start-paper">{s ? "Start again" : "Start paper trading"}</h3>
          <label>
            Symbols
            <input value={symbols} onInput={(e) => setSymbols(e.currentTarget.value)} />
          </label>
          <label>
            Timeframe
            <select value={timeframe} onChange={(e) => setTimeframe(e.currentTarget.value)}>
              {["1Min", "5Min", "15Min", "1Hour", "1Day"].map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
          </label>
          <div class="actions">
            <button type="submit" disabled={busy !== null || !canStart}>{busy === "start" ? "Starting…" : "Start paper trading"}</button>
          </div>
          {!canStart && <p class="muted">Paper trading needs a passed backtest first.</p>}
          <p class="muted">A simulated account is opened and funded with {usd(FUNDING)} the first time.</p>
        </form>
      )}
      {s && (
        <>
          <div class="session-head">
            <span>Session <code>{s.session_id}</code></span> <StatusBadge status={s.state} />
            {s.state === "trading" && (
              <button type="button" class="secondary" onClick={() => control("pause")} disabled={busy !== null}>Pause</button>
            )}
            {s.state === "paused" && (
              <button type="button" class="secondary" onClick={() => control("resume")} disabled={busy !== null}>Resume</button>
            )}
            {live && (
              <button type="button" class="danger" onClick={stop} disabled={busy !== null}>
                {busy === "stop" ? "Stopping (waits for the runtime)…" : "Stop paper trading"}
              </button>
            )}
          </div>
          {s.error && <div class="notice error" role="alert">The runtime reported: {s.error}</div>}
          <ul class="cards" aria-label="Live session">
            <li class="metric"><span class="label">Portfolio value</span><span class="value" data-testid="live-value">{usd(s.portfolio_value)}</span></li>
            <li class="metric"><span class="label">Change</span><span class={`value ${change != null && change < 0 ? "neg" : "pos"}`}>{change == null ? "—" : `${change >= 0 ? "+" : ""}${usd(change)}`}</span></li>
            <li class="metric"><span class="label">Cash</span><span class="value">{usd(s.cash)}</span></li>
            <li class="metric"><span class="label">Decisions</span><span class="value" data-testid="live-decisions">{s.decisions ?? 0}</span></li>
            <li class="metric"><span class="label">Trades</span><span class="value">{s.trades ?? 0}</span></li>
            <li class="metric"><span class="label">Heartbeat</span><span class="value" data-testid="heartbeat" title={when(s.heartbeat_at)}>{ago(s.heartbeat_at, now)}</span></li>
          </ul>
          <p class="muted">
            {s.symbols?.join(", ")} · {s.timeframe} · started {when(s.started_at)}
            {s.stopped_at ? ` · stopped ${when(s.stopped_at)}` : ""} · restarts {s.restarts ?? 0} · lost decisions {s.lost_decisions ?? 0}
          </p>
          {values.length > 1 && <LiveChart points={values} label="Portfolio value since this page opened" />}
          <div class="cols">
            <div>
              <h3>Positions</h3>
              {s.positions?.length ? (
                <table data-testid="positions">
                  <thead><tr><th scope="col">Symbol</th><th scope="col">Size</th><th scope="col">Price</th><th scope="col">Value</th></tr></thead>
                  <tbody>
                    {s.positions.map((p) => (
                      <tr key={p.symbol}><td>{p.symbol}</td><td>{p.size}</td><td>{usd(p.price)}</td><td>{usd(p.value ?? p.size * p.price)}</td></tr>
                    ))}
                  </tbody>
                </table>
              ) : <p class="empty">No open positions.</p>}
            </div>
            <div>
              <h3>Recent trades</h3>
              {s.recent_trades?.length ? (
                <div class="table-wrap" tabIndex={0} role="region" aria-label="Recent trades">
                  <table data-testid="recent-trades">
                    <thead><tr><th scope="col">When</th><th scope="col">Side</th><th scope="col">Symbol</th><th scope="col">Size</th><th scope="col">Price</th></tr></thead>
                    <tbody>
                      {s.recent_trades.map((t) => (
                        <tr key={t.order_id + t.at}><td>{when(t.at)}</td><td>{t.side}</td><td>{t.symbol}</td><td>{t.size}</td><td>{usd(t.price)}</td></tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ) : <p class="empty">No fills yet.</p>}
            </div>
          </div>
          <p><a href={`/decisions?agent=${agentId}&session=${encodeURIComponent(s.session_id)}`}>This session's decisions</a></p>
          <Output path={`/api/agents/${agentId}/paper-trading/output`} what="this session" />
        </>
      )}
    </div>
  );
}
