// An agent, backtest or session status as a labelled badge (colour is never the only cue).
const TONE: Record<string, string> = {
  backtested: "good", succeeded: "good", trading: "good", stored: "info",
  submitted: "info", validating: "busy", backtesting: "busy", deploying: "busy", queued: "busy",
  running: "busy", stopping: "busy", rejected: "bad", backtest_failed: "bad", failed: "bad",
  stopped: "neutral", paused: "neutral", interrupted: "warn",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge ${TONE[status] ?? "neutral"}`} data-status={status}>
      {status.replace(/_/g, " ")}
    </span>
  );
}
