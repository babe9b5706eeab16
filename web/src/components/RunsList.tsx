// The agent's backtest runs, newest first: pick one to read its report.
import { api } from "../api";
import { pct, num, when } from "../format";
import { useLoad } from "../hooks";
import { StatusBadge } from "./StatusBadge";

interface RunSummary {
  run_id: string;
  status: string;
  created_at?: string | null;
  automatic?: boolean | null;
  standard?: boolean;
  request?: { symbols?: string[]; start?: string; end?: string; timeframe?: string } | null;
  metrics?: Record<string, number | null> | null;
}

interface Props {
  agentId: string;
  selected: string | null;
  onSelect: (runId: string) => void;
  refresh: unknown; // a new value lists again (a run was queued or finished)
}

export function RunsList({ agentId, selected, onSelect, refresh }: Props) {
  // Listing runs came with a later API; where it is missing the report of the latest run stands alone.
  const runs = useLoad(
    (signal) =>
      api<{ runs: RunSummary[] }>(`/api/agents/${agentId}/backtests`, { query: { limit: 20 }, signal })
        .then((r) => r.runs)
        .catch(() => null),
    [agentId, refresh],
  );
  if (!runs.data || runs.data.length < 2) return null;
  return (
    <details class="explain" open>
      <summary>All runs ({runs.data.length})</summary>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="Backtest runs">
        <table data-testid="runs">
          <thead>
            <tr>
              <th scope="col">Run</th><th scope="col">Status</th><th scope="col">Kind</th><th scope="col">Window</th>
              <th scope="col">Return</th><th scope="col">Sharpe</th><th scope="col">Queued</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((r) => (
              <tr key={r.run_id} aria-selected={r.run_id === selected ? "true" : undefined}>
                <td>
                  <button type="button" class="link" onClick={() => onSelect(r.run_id)} aria-label={`Show run ${r.run_id}`}>
                    {r.run_id.slice(-16)}
                  </button>
                </td>
                <td><StatusBadge status={r.status} /></td>
                <td>{r.standard ? "standard (ranked)" : r.automatic ? "automatic" : "yours"}</td>
                <td>{r.request ? `${r.request.start ?? "?"} → ${r.request.end ?? "?"} · ${r.request.timeframe ?? "1Day"}` : "—"}</td>
                <td>{pct(r.metrics?.total_return)}</td>
                <td>{num(r.metrics?.sharpe)}</td>
                <td>{when(r.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
