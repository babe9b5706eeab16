// One decision in full: what it read (fields, bars back), what it did, the portfolio before and after.
import { api } from "../api";
import { num, usd, when } from "../format";
import { useLoad } from "../hooks";
import type { Decision, DecisionPage, Holding, Read } from "../types";
import { ErrorNotice } from "./ErrorNotice";

function pretty(note: string): string {
  try {
    return JSON.stringify(JSON.parse(note), null, 2);
  } catch {
    return note;
  }
}

export function DecisionDetail({ decision, onClose }: { decision: Decision; onClose: () => void }) {
  const hasValues = decision.data_accessed.some((d) => d.reads.some((r) => r.value != null));
  const after = useLoad(
    async (signal) =>
      (await api<DecisionPage>("/api/fmel/decisions", {
        query: { agent: decision.agent_id, session: decision.session_id, from_decision: decision.decision_point + 1, limit: 1 },
        signal,
      })).decisions[0] ?? null,
    [decision.decision_id],
  );
  const next = after.data;
  return (
    <article class="decision" data-testid="decision-detail" aria-labelledby="decision-title" data-decision={decision.decision_id}>
      <header>
        <h2 id="decision-title">Decision {decision.decision_point}</h2>
        <button type="button" class="secondary small" onClick={onClose}>Close</button>
      </header>
      <p>
        <span class={`badge action-${decision.action.toLowerCase()}`}>{decision.action}</span> at the bar of{" "}
        <time dateTime={decision.bar_time}>{when(decision.bar_time)}</time> · {decision.mode} session{" "}
        <code>{decision.session_id}</code> · stage {decision.stage}
      </p>
      <h3>What it read</h3>
      {decision.data_accessed.length === 0 ? <p class="empty">It read no market data.</p> : (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Data read">
          <table data-testid="reads">
            <thead>
              <tr>
                <th scope="col">#</th><th scope="col">Symbol</th><th scope="col">Field</th><th scope="col">Bars back</th>
                {hasValues && <th scope="col">Value</th>}<th scope="col">Data hash</th>
              </tr>
            </thead>
            <tbody>
              {decision.data_accessed.flatMap((d) =>
                (d.reads.length ? d.reads : d.fields.map((f, i) => ({ seq: i, field: f, index: 0 }))).map((r) => (
                  <tr key={`${d.symbol}-${r.seq}`}>
                    <td>{r.seq}</td>
                    <td>{d.symbol}</td>
                    <td><code>{r.field}</code></td>
                    <td>{r.index <= 0 ? -r.index : `+${r.index}`}</td>
                    {hasValues && <td>{num((r as Read).value, 4)}</td>}
                    <td><code title={d.data_hash}>{d.data_hash.slice(0, 10)}</code></td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      )}
      <p class="muted">
        {decision.access_count ?? 0} reads. The data hash identifies the exact bar read (the <code>market_data.bars</code> row)
        {hasValues ? "." : "; this history records which values were read, not the values themselves."}
      </p>
      {decision.indicators && decision.indicators.length > 0 && (
        <>
          <h3>Indicators it read</h3>
          <ul data-testid="indicators">
            {decision.indicators.map((i, n) => (
              <li key={n}>
                <code>{i.name}{i.params ? `(${i.params})` : ""}</code>{i.input ? ` of ${i.input}` : ""}{i.line ? ` · ${i.line}` : ""}
                {i.index ? ` [${i.index}]` : ""} = <strong>{num(i.value, 4)}</strong>
              </li>
            ))}
          </ul>
        </>
      )}
      {decision.note && (
        <>
          <h3>The agent's note</h3>
          <pre class="output" tabIndex={0}>{pretty(decision.note)}</pre>
        </>
      )}
      <h3>What it did</h3>
      {decision.actions.length === 0 ? <p class="empty">No order: it held.</p> : (
        <ul data-testid="orders">
          {decision.actions.map((o) => (
            <li key={o.seq}>
              <strong>{o.side}</strong> {o.size} {o.symbol} · {o.order_type ?? "order"}
              {o.price != null ? ` filled at ${usd(o.price)}` : ""} · {o.status ?? ""}
            </li>
          ))}
        </ul>
      )}
      <div class="cols">
        <Portfolio title="Portfolio before" value={decision.portfolio_value} cash={decision.cash} positions={decision.positions} />
        {next ? (
          <Portfolio title={`Portfolio after (decision ${next.decision_point})`} value={next.portfolio_value} cash={next.cash}
            positions={next.positions} change={next.portfolio_value - decision.portfolio_value} />
        ) : (
          <div><h3>Portfolio after</h3><p class="empty">{after.loading ? "Loading…" : "No later decision recorded yet."}</p></div>
        )}
      </div>
      <ErrorNotice error={after.error} />
    </article>
  );
}

function Portfolio(p: { title: string; value: number; cash: number; positions: Holding[]; change?: number }) {
  return (
    <div>
      <h3>{p.title}</h3>
      <p>
        Value {usd(p.value)} · cash {usd(p.cash)}
        {p.change !== undefined && <> · change <span class={p.change < 0 ? "neg" : "pos"}>{p.change >= 0 ? "+" : ""}{usd(p.change)}</span></>}
      </p>
      {p.positions.length ? (
        <ul>{p.positions.map((x) => <li key={x.symbol}>{x.symbol}: {x.size} @ {usd(x.price)}</li>)}</ul>
      ) : <p class="empty">No positions.</p>}
    </div>
  );
}
