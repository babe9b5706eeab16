// The FMEL timeline: filters, cursor paging (each page one indexed query, however long the
// history), one decision in full, export.
import { useEffect, useState } from "preact/hooks";
import { api, request } from "../api";
import { DecisionDetail } from "../components/DecisionDetail";
import { ErrorNotice } from "../components/ErrorNotice";
import { usd, when } from "../format";
import { useLoad, useTitle } from "../hooks";
import { navigate, useLocation } from "../router";
import { markReady } from "../timing";
import type { AgentSummary, Decision, DecisionPage } from "../types";

const FILTERS = ["agent", "session", "mode", "action", "since", "until"] as const;
const PAGE = 100;

function filtersOf(q: URLSearchParams): Record<string, string> {
  return Object.fromEntries(FILTERS.map((k) => [k, q.get(k) ?? ""]));
}

/** "2025-01-17T00:00" (a datetime-local value, read as UTC) <-> ISO 8601. */
const toIso = (v: string) => (v ? (v.length === 16 ? `${v}:00Z` : `${v}Z`) : "");
const fromIso = (v: string) => (v ? v.slice(0, 16) : "");

export function DecisionsPage() {
  useTitle("Decisions");
  const loc = useLocation();
  const filters = filtersOf(loc.query);
  const key = JSON.stringify(filters);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  useEffect(() => setCursors([null]), [key]);
  const cursor = cursors[cursors.length - 1];
  const agents = useLoad((signal) => api<{ agents: AgentSummary[] }>("/api/agents", { query: { limit: 100 }, signal }), []);
  const page = useLoad(
    (signal) => api<DecisionPage>("/api/fmel/decisions", { query: { ...filters, limit: PAGE, cursor }, signal }),
    [key, cursor],
  );
  useEffect(() => {
    if (page.data) markReady("decisions");
  }, [page.data]);
  const selectedId = loc.query.get("decision");
  const trade = loc.query.get("trade");
  const selected = useSelected(selectedId, page.data?.decisions ?? [], filters.agent);
  const tradeError = useTradeLookup(trade, filters);

  const setQuery = (changes: Record<string, string | null>, replace = false) => {
    const q = new URLSearchParams(loc.query);
    for (const [k, v] of Object.entries(changes)) v ? q.set(k, v) : q.delete(k);
    navigate(`/decisions?${q}`, replace);
  };

  return (
    <section>
      <h1>Decisions</h1>
      <p class="muted">Every decision an agent made (FMEL): what it read, what it did, and the portfolio around it.</p>
      <FilterForm filters={filters} agents={agents.data?.agents ?? []} onApply={(f) => setQuery({ ...f, decision: null, trade: null })} />
      <ErrorNotice error={agents.error ?? page.error} onRetry={page.reload} />
      {tradeError && <div class="notice warn" role="status">{tradeError}</div>}
      <div class="timeline-layout">
        <div>
          {page.data && (
            <>
              <div class="pager" aria-label="Pages">
                <button type="button" class="secondary" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
                  ← Earlier
                </button>
                <span aria-live="polite">Page {cursors.length} · {page.data.decisions.length} decisions</span>
                <button type="button" class="secondary" disabled={!page.data.next_cursor} onClick={() => setCursors([...cursors, page.data!.next_cursor])}>
                  Later →
                </button>
              </div>
              {page.data.decisions.length === 0 ? <p class="empty">No decision matches these filters.</p> : (
                <Timeline decisions={page.data.decisions} selected={selectedId} onOpen={(d) => setQuery({ decision: d.decision_id, trade: null }, true)} />
              )}
            </>
          )}
          {page.loading && !page.data && <p aria-busy="true">Loading decisions…</p>}
          {filters.agent && <Export filters={filters} />}
        </div>
        {selected && <DecisionDetail decision={selected} onClose={() => setQuery({ decision: null }, true)} />}
      </div>
    </section>
  );
}

function FilterForm({ filters, agents, onApply }: { filters: Record<string, string>; agents: AgentSummary[]; onApply: (f: Record<string, string>) => void }) {
  const [f, setF] = useState(filters);
  useEffect(() => setF(filters), [JSON.stringify(filters)]);
  const field = (k: string) => (e: Event) => setF({ ...f, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <form class="controls filters" onSubmit={(e) => { e.preventDefault(); onApply(f); }} aria-label="Decision filters">
      <label>
        Agent
        <select value={f.agent} onChange={field("agent")}>
          <option value="">All my agents</option>
          {agents.map((a) => <option key={a.agent_id} value={a.agent_id}>{a.name} ({a.agent_id.slice(0, 8)})</option>)}
          {f.agent && !agents.some((a) => a.agent_id === f.agent) && <option value={f.agent}>{f.agent}</option>}
        </select>
      </label>
      <label>
        Session
        <input value={f.session} onInput={field("session")} placeholder="backtest run or paper session id" />
      </label>
      <label>
        Mode
        <select value={f.mode} onChange={field("mode")}>
          <option value="">Any</option><option value="backtest">Backtest</option><option value="paper">Paper</option>
        </select>
      </label>
      <label>
        Action
        <select value={f.action} onChange={field("action")}>
          <option value="">Any</option><option value="TRADED">Traded</option><option value="HOLD">Hold</option><option value="INACTIVE">Inactive</option>
        </select>
      </label>
      <label>
        From (UTC)
        <input type="datetime-local" value={fromIso(f.since)} onInput={(e) => setF({ ...f, since: toIso(e.currentTarget.value) })} />
      </label>
      <label>
        Until (UTC)
        <input type="datetime-local" value={fromIso(f.until)} onInput={(e) => setF({ ...f, until: toIso(e.currentTarget.value) })} />
      </label>
      <div class="actions"><button type="submit">Apply filters</button></div>
    </form>
  );
}

function Timeline({ decisions, selected, onOpen }: { decisions: Decision[]; selected: string | null; onOpen: (d: Decision) => void }) {
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Decision timeline">
      <table data-testid="timeline" class="timeline">
        <thead>
          <tr>
            <th scope="col">#</th><th scope="col">Bar time</th><th scope="col">Action</th><th scope="col">Orders</th>
            <th scope="col">Reads</th><th scope="col">Value</th><th scope="col">Session</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d) => (
            <tr key={d.decision_id} data-decision={d.decision_id} aria-selected={selected === d.decision_id ? "true" : undefined}>
              <td>
                <button type="button" class="link" onClick={() => onOpen(d)} aria-label={`Open decision ${d.decision_point}`}>
                  {d.decision_point}
                </button>
              </td>
              <td><time dateTime={d.bar_time}>{when(d.bar_time)}</time></td>
              <td><span class={`badge action-${d.action.toLowerCase()}`}>{d.action}</span></td>
              <td>{d.actions.map((o) => `${o.side} ${o.size} ${o.symbol}`).join(", ") || "—"}</td>
              <td>{d.access_count ?? d.data_accessed.length}</td>
              <td>{usd(d.portfolio_value)}</td>
              <td><code title={d.session_id}>{d.session_id.slice(-12)}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The decision named in the URL: from the page on screen, else fetched by its session and point. */
function useSelected(id: string | null, onPage: Decision[], agent: string): Decision | null {
  const [found, setFound] = useState<Decision | null>(null);
  useEffect(() => {
    setFound(null);
    if (!id || onPage.some((d) => d.decision_id === id)) return;
    const cut = id.lastIndexOf(":");
    const point = Number(id.slice(cut + 1));
    if (cut < 0 || !Number.isFinite(point)) return;
    const ctl = new AbortController();
    api<DecisionPage>("/api/fmel/decisions", {
      query: { agent: agent || undefined, session: id.slice(0, cut), from_decision: point, to_decision: point, limit: 1 },
      signal: ctl.signal,
    }).then((p) => setFound(p.decisions[0] ?? null), () => undefined);
    return () => ctl.abort();
  }, [id, agent]);
  return onPage.find((d) => d.decision_id === id) ?? found;
}

/** `trade=SYMBOL@TIME`: open the TRADED decision that placed the order filled at TIME. */
function useTradeLookup(trade: string | null, filters: Record<string, string>): string | null {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    if (!trade) return;
    const at = trade.lastIndexOf("@");
    const symbol = trade.slice(0, at);
    const fill = new Date(trade.slice(at + 1));
    if (at < 0 || Number.isNaN(fill.getTime())) return;
    const ctl = new AbortController();
    const since = new Date(fill.getTime() - 14 * 86400e3).toISOString();
    const until = new Date(fill.getTime() + 1000).toISOString();
    api<DecisionPage>("/api/fmel/decisions", {
      query: { agent: filters.agent, session: filters.session, action: "TRADED", since, until, limit: 500 },
      signal: ctl.signal,
    }).then((p) => {
      // The order is placed at one bar and filled at the next: the last such decision before the fill.
      const match = p.decisions.filter((d) => d.actions.some((o) => o.symbol === symbol && o.side === "buy")).pop();
      if (!match) {
        setError(`No recorded decision placed the ${symbol} order filled at ${when(fill.toISOString())}.`);
        return;
      }
      const q = new URLSearchParams(window.location.search);
      q.delete("trade");
      q.set("decision", match.decision_id);
      navigate(`/decisions?${q}`, true);
    }, (e) => e?.name !== "AbortError" && setError("Could not look up that trade's decision."));
    return () => ctl.abort();
  }, [trade]);
  return error;
}

function Export({ filters }: { filters: Record<string, string> }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (format: "csv" | "jsonl") => {
    setBusy(true);
    setError(null);
    try {
      const { agent, ...rest } = filters;
      const response = await request(`/api/fmel/agents/${agent}/export`, { query: { ...rest, format } });
      const url = URL.createObjectURL(await response.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = `decisions-${agent}.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="export">
      <span>Export every matching decision of this agent:</span>{" "}
      <button type="button" class="secondary" disabled={busy} onClick={() => run("csv")}>CSV</button>{" "}
      <button type="button" class="secondary" disabled={busy} onClick={() => run("jsonl")}>JSON lines</button>
      <ErrorNotice error={error} />
    </div>
  );
}
