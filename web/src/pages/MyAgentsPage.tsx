// My agents: upload, the list with live statuses, delete.
import { useState } from "preact/hooks";
import { api } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { StatusBadge } from "../components/StatusBadge";
import { Uploader } from "../components/Uploader";
import { when } from "../format";
import { useInterval, useLoad, useTitle } from "../hooks";
import type { AgentSummary } from "../types";

export const BUSY = new Set(["submitted", "validating", "stored", "backtesting", "deploying", "stopping"]);

interface AgentPage {
  agents: AgentSummary[];
  next_page_token: string | null;
}

export function MyAgentsPage() {
  useTitle("My agents");
  const [pages, setPages] = useState<string[]>([""]);
  const list = useLoad(async (signal) => {
    // Every page loaded so far, so a refresh keeps "More" results on screen.
    const agents: AgentSummary[] = [];
    let token: string | null = null;
    for (const p of pages) {
      const page: AgentPage = await api<AgentPage>("/api/agents", { query: { limit: 50, page_token: p || undefined }, signal });
      agents.push(...page.agents);
      token = page.next_page_token;
    }
    return { agents, next: token };
  }, [pages]);
  const [deleteError, setDeleteError] = useState<unknown>(null);
  const [justSubmitted, setJustSubmitted] = useState<string | null>(null);
  const busy = (list.data?.agents ?? []).some((a) => BUSY.has(a.status));
  useInterval(() => list.reload(), 1500, busy);

  const remove = async (a: AgentSummary) => {
    if (!confirm(`Delete ${a.name}? Its runtime stops; its decision history stays readable.`)) return;
    setDeleteError(null);
    try {
      await api(`/api/agents/${a.agent_id}`, { method: "DELETE" });
      list.reload();
    } catch (e) {
      setDeleteError(e);
    }
  };

  return (
    <section>
      <h1>My agents</h1>
      <Uploader
        onStart={() => setJustSubmitted(null)}
        onSubmitted={(id) => {
          setJustSubmitted(id);
          list.reload();
        }}
      />
      {justSubmitted && (
        <div class="notice ok" role="status">
          Submitted and validated: <a href={`/agents/${justSubmitted}`}>open the agent</a> to follow its backtest.
        </div>
      )}
      <h2>Your agents</h2>
      <ErrorNotice error={list.error} onRetry={list.reload} />
      <ErrorNotice error={deleteError} />
      {list.data && list.data.agents.length === 0 && <p class="empty">You have no agents yet: upload one above.</p>}
      {list.data && list.data.agents.length > 0 && (
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Your agents">
          <table data-testid="agents">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Submitted</th>
                <th scope="col">Updated</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {list.data.agents.map((a) => (
                <tr key={a.agent_id} data-agent={a.agent_id}>
                  <td><a href={`/agents/${a.agent_id}`}>{a.name}</a></td>
                  <td><StatusBadge status={a.status} /></td>
                  <td>{when(a.created_at)}</td>
                  <td>{when(a.updated_at)}</td>
                  <td>
                    <button type="button" class="danger small" onClick={() => remove(a)} aria-label={`Delete ${a.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data?.next && (
        <button type="button" class="secondary" onClick={() => setPages([...pages, list.data!.next!])}>More agents</button>
      )}
    </section>
  );
}
