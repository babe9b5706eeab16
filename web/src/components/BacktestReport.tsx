// A backtest's report: progress while it runs, then metric cards, the chart and the trades.
import { useMemo, useState } from "preact/hooks";
import { api } from "../api";
import { day, epoch, num, pct, usd } from "../format";
import { useInterval, useLoad, useNow } from "../hooks";
import type { Backtest, Trade } from "../types";
import { EquityChart } from "./EquityChart";
import type { EquitySpec } from "./charts";
import { ErrorNotice } from "./ErrorNotice";
import { StatusBadge } from "./StatusBadge";

const CARDS: [string, string, (v: number | null | undefined) => string][] = [
  ["total_return", "Total return", pct],
  ["annual_return", "Annual return", pct],
  ["benchmark_return", "Benchmark return", pct],
  ["sharpe", "Sharpe", (v) => num(v)],
  ["sortino", "Sortino", (v) => num(v)],
  ["max_drawdown", "Max drawdown", pct],
  ["volatility", "Volatility", pct],
  ["win_rate", "Win rate", pct],
  ["profit_factor", "Profit factor", (v) => num(v)],
  ["trades", "Trades", (v) => (v ?? "—").toString()],
  ["exposure", "Exposure", pct],
  ["final_value", "Final value", usd],
];

export function BacktestReport({ runId, agentId }: { runId: string; agentId: string }) {
  const run = useLoad((signal) => api<Backtest>(`/api/backtests/${encodeURIComponent(runId)}`, { signal }), [runId]);
  const active = run.data?.status === "queued" || run.data?.status === "running";
  useInterval(() => run.reload(), 1000, active);
  const bt = run.data;
  return (
    <div class="report" data-testid="backtest-report" data-run={runId} data-status={bt?.status ?? "loading"}>
      <ErrorNotice error={run.error} onRetry={run.reload} />
      {bt && (
        <p>
          Run <code>{bt.run_id}</code> <StatusBadge status={bt.status} />
          {bt.automatic ? " (automatic, on submission)" : ""}
          {bt.request && <span class="muted"> · {describeRequest(bt.request)}</span>}
        </p>
      )}
      {bt && active && <Progress bt={bt} />}
      {bt?.status === "failed" && <div class="notice error" role="alert">The backtest failed: {bt.error ?? "no reason given"}</div>}
      {bt?.status === "succeeded" && <Results bt={bt} agentId={agentId} />}
    </div>
  );
}

function describeRequest(r: Record<string, unknown>): string {
  const symbols = Array.isArray(r.symbols) ? (r.symbols as string[]) : [];
  const shown = symbols.length > 6 ? `${symbols.slice(0, 6).join(", ")} +${symbols.length - 6}` : symbols.join(", ");
  return `${shown} · ${r.start ?? "?"} → ${r.end ?? "?"} · ${r.timeframe ?? "1Day"} · cash ${usd(Number(r.cash))} · commission ${r.commission ?? 0}`;
}

function Progress({ bt }: { bt: Backtest }) {
  const now = useNow(500);
  const since = bt.started_at ?? bt.created_at;
  const elapsed = since ? Math.max(0, Math.round((now - new Date(since).getTime()) / 1000)) : 0;
  return (
    <div class="progress" role="status" aria-live="polite">
      <progress aria-label="Backtest progress" />
      <span>{bt.status === "queued" ? "Queued, waiting for a worker…" : `Running for ${elapsed} s…`}</span>
    </div>
  );
}

interface Curves {
  benchmark?: { t: string; v: number }[];
  data?: { synthetic?: boolean; note?: string } | null;
}

function Results({ bt, agentId }: { bt: Backtest; agentId: string }) {
  const m = bt.metrics ?? {};
  // The curves route adds the benchmark's own curve and the data label; older APIs lack it.
  const curves = useLoad(
    (signal) => api<Curves>(`/api/backtests/${encodeURIComponent(bt.run_id)}/curves`, { signal }).catch(() => null),
    [bt.run_id],
  );
  const benchmark = curves.data?.benchmark ?? [];
  const spec = useMemo<EquitySpec>(() => ({
    benchmark: (curves.data?.benchmark ?? []).map((p) => ({ time: epoch(p.t), value: p.v })),
    equity: (bt.equity_curve ?? []).map((p) => ({ time: epoch(p.timestamp), value: p.value })),
    drawdown: (bt.drawdown ?? []).map((p) => ({ time: epoch(p.timestamp), value: p.drawdown })),
    markers: (bt.trades ?? []).flatMap((t) => [
      { time: epoch(t.entry_time), above: false, text: `buy ${t.symbol}` },
      ...(t.exit_time ? [{ time: epoch(t.exit_time), above: true, text: `sell ${t.symbol}` }] : []),
    ]).slice(0, 400),
  }), [bt, curves.data]);
  if (curves.loading && !curves.data && !curves.error) return <p aria-busy="true">Loading the chart…</p>;
  return (
    <>
      {curves.data?.data?.synthetic && <div class="notice warn" role="note">{curves.data.data.note ?? "Synthetic market data."}</div>}
      <ul class="cards" aria-label="Backtest metrics">
        {CARDS.filter(([k]) => k in m).map(([k, label, fmt]) => (
          <li class="metric" key={k} data-metric={k}>
            <span class="label">{label}</span>
            <span class="value">{fmt(m[k])}</span>
          </li>
        ))}
      </ul>
      <h3>Equity and drawdown</h3>
      <p class="muted legend">
        <span class="swatch equity" aria-hidden="true" /> Equity, with buy ▲ and sell ▼ markers ·{" "}
        <span class="swatch drawdown" aria-hidden="true" /> Drawdown (lower pane) ·{" "}
        {benchmark.length
          ? <><span class="swatch benchmark" aria-hidden="true" /> Benchmark: equal-weight buy and hold of the run's symbols ({pct(m.benchmark_return)})</>
          : <>Benchmark return {pct(m.benchmark_return)} (no benchmark curve from this API)</>}
      </p>
      <EquityChart spec={spec} label={`Equity curve from ${usd(bt.equity_curve?.[0]?.value)} to ${usd(m.final_value)}, max drawdown ${pct(m.max_drawdown)}`} />
      <Trades trades={bt.trades ?? []} runId={bt.run_id} agentId={agentId} />
      <Output path={`/api/backtests/${encodeURIComponent(bt.run_id)}/output`} what="this run" />
    </>
  );
}

const TRADE_PAGE = 50;

function Trades({ trades, runId, agentId }: { trades: Trade[]; runId: string; agentId: string }) {
  const [shown, setShown] = useState(TRADE_PAGE);
  if (!trades.length) return <p class="empty">No trades in this run.</p>;
  return (
    <>
      <h3>Trades ({trades.length})</h3>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Trades">
        <table data-testid="trades">
          <thead>
            <tr>
              <th scope="col">Symbol</th>
              <th scope="col">Size</th>
              <th scope="col">Entry</th>
              <th scope="col">Exit</th>
              <th scope="col">P&amp;L</th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody>
            {trades.slice(0, shown).map((t, i) => (
              <tr key={i}>
                <td>{t.symbol}</td>
                <td>{t.size}</td>
                <td>{day(t.entry_time)}</td>
                <td>{day(t.exit_time)}</td>
                <td class={(t.pnl ?? 0) >= 0 ? "pos" : "neg"}>{usd(t.pnl)}</td>
                <td>
                  <a href={`/decisions?agent=${agentId}&session=${encodeURIComponent(runId)}&trade=${encodeURIComponent(`${t.symbol}@${t.entry_time}`)}`}
                    aria-label={`Why was ${t.symbol} bought on ${day(t.entry_time)}?`}>
                    Why?
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown < trades.length && (
        <button type="button" class="secondary" onClick={() => setShown(shown + TRADE_PAGE)}>
          Show more trades ({trades.length - shown} left)
        </button>
      )}
    </>
  );
}


/** The agent's own output (print, logging), loaded when opened. */
export function Output({ path, what }: { path: string; what: string }) {
  const [open, setOpen] = useState(false);
  const out = useLoad(
    (signal) => (open ? api<{ text: string; source: string; truncated: boolean }>(path, { signal }) : Promise.resolve(null)),
    [path, open],
  );
  return (
    <details class="explain" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>The agent's output during {what}</summary>
      <ErrorNotice error={out.error} />
      {out.data && (
        <>
          <p class="muted">{out.data.source}{out.data.truncated ? " (the last part only)" : ""}</p>
          <pre class="output" tabIndex={0}>{out.data.text || "(nothing printed)"}</pre>
        </>
      )}
    </details>
  );
}
