// A form for a new backtest: symbols, window, cash, commission, timeframe.
import { useState } from "preact/hooks";
import { api } from "../api";
import { ErrorNotice } from "./ErrorNotice";

const TIMEFRAMES = ["1Day", "1Hour", "15Min", "5Min", "1Min"];

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function BacktestForm({ agentId, onQueued }: { agentId: string; onQueued: (runId: string) => void }) {
  const today = new Date();
  const [symbols, setSymbols] = useState("AAPL, MSFT");
  const [start, setStart] = useState(isoDay(new Date(today.getTime() - 365 * 86400e3)));
  const [end, setEnd] = useState(isoDay(today));
  const [cash, setCash] = useState("25000");
  const [commission, setCommission] = useState("0");
  const [timeframe, setTimeframe] = useState("1Day");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { start, end, cash: Number(cash), commission: Number(commission), timeframe };
    const list = symbols.split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean);
    if (list.length) body.symbols = list;
    try {
      const queued = await api<{ run_id: string }>(`/api/agents/${agentId}/backtests`, { method: "POST", json: body });
      onQueued(queued.run_id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="grid-form" onSubmit={submit} aria-labelledby="new-backtest">
      <h3 id="new-backtest">New backtest</h3>
      <label>
        Symbols
        <input value={symbols} onInput={(e) => setSymbols(e.currentTarget.value)} aria-describedby="symbols-help" />
        <small id="symbols-help">Comma-separated; empty for the platform's universe.</small>
      </label>
      <label>
        Start
        <input type="date" required value={start} onInput={(e) => setStart(e.currentTarget.value)} />
      </label>
      <label>
        End
        <input type="date" required value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
      </label>
      <label>
        Cash (USD)
        <input type="number" min="1" step="any" required value={cash} onInput={(e) => setCash(e.currentTarget.value)} />
      </label>
      <label>
        Commission (fraction)
        <input type="number" min="0" max="0.99" step="any" required value={commission} onInput={(e) => setCommission(e.currentTarget.value)} />
      </label>
      <label>
        Timeframe
        <select value={timeframe} onChange={(e) => setTimeframe(e.currentTarget.value)}>
          {TIMEFRAMES.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </label>
      <div class="actions">
        <button type="submit" disabled={busy}>{busy ? "Queuing…" : "Run backtest"}</button>
      </div>
      <ErrorNotice error={error} />
    </form>
  );
}
