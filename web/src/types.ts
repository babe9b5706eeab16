// The API's answers as the site reads them (see /api/openapi.json).
import type { ValidationReport } from "./api";

export interface HistoryEntry {
  from?: string | null;
  to: string;
  at: string;
  reason?: string;
}

export interface AgentSummary {
  agent_id: string;
  name: string;
  description?: string;
  tags?: string[];
  status: string;
  created_at: string;
  updated_at: string;
}

export interface LatestBacktest {
  run_id: string;
  status: string;
  finished_at?: string | null;
  metrics?: Record<string, number | null> | null;
  error?: string | null;
}

export interface Agent extends AgentSummary {
  code_hash: string;
  files?: string[];
  history: HistoryEntry[];
  validation: ValidationReport;
  latest_backtest?: LatestBacktest | null;
  paper_session?: string | null;
}

export interface Backtest {
  run_id: string;
  agent_id: string;
  status: "queued" | "running" | "succeeded" | "failed";
  request?: Record<string, unknown> | null;
  metrics?: Record<string, number | null> | null;
  error?: string | null;
  created_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  automatic?: boolean | null;
  equity_curve?: { timestamp: string; value: number }[] | null;
  drawdown?: { timestamp: string; drawdown: number }[] | null;
  trades?: Trade[] | null;
}

export interface Trade {
  symbol: string;
  size: number;
  entry_time: string;
  exit_time?: string | null;
  pnl?: number | null;
}

export interface Holding {
  symbol: string;
  size: number;
  price: number;
  value?: number;
}

export interface Fill {
  symbol: string;
  side: "buy" | "sell";
  size: number;
  price: number;
  commission: number;
  at: string;
  order_id: string;
}

export interface PaperSession {
  session_id: string;
  agent_id: string;
  state: string;
  symbols?: string[];
  timeframe?: string;
  account_id?: string;
  portfolio_value?: number | null;
  cash?: number | null;
  starting_value?: number | null;
  positions?: Holding[];
  recent_trades?: Fill[];
  trades?: number;
  decisions?: number;
  last_decision_point?: number;
  lost_decisions?: number;
  restarts?: number;
  heartbeat_at?: string | null;
  started_at?: string | null;
  stopped_at?: string | null;
  error?: string | null;
}

export interface BrokerAccount {
  account_id: string;
  funded: boolean;
  cash: number;
}

export interface LeaderboardEntry {
  rank: number;
  agent_id: string;
  agent_name: string;
  owner: string;
  as_of?: string | null;
  metrics: Record<string, number | null>;
  score: {
    psr?: number | null;
    z?: number | null;
    sharpe_per_observation?: number | null;
    observations?: number | null;
    eligible?: boolean;
    min_trades?: number;
    min_observations?: number;
  };
  // Not served today (see the website section of the README); drawn when a later API adds it.
  equity?: number[] | null;
}

export interface PendingEntry {
  agent_id: string;
  agent_name: string;
  owner: string;
  days?: number;
  trades?: number;
  not_ranked?: string;
}

export interface Leaderboard {
  mode: string;
  metric: string;
  period: string;
  source: string;
  as_of?: string;
  total: number;
  entries: LeaderboardEntry[];
  // Added by the fair-rankings work; each shown when present.
  evaluation?: { evaluation_id: string; symbols: string[]; start: string; end: string; timeframe: string;
    cash: number; commission: number } | null;
  data?: { synthetic?: boolean; note?: string; sources?: string[] } | null;
  min_track_record?: { days: number; trades: number } | null;
  pending?: PendingEntry[] | null;
}

export interface Read {
  seq: number;
  field: string;
  index: number;
  value?: number | null; // recorded by later FMEL versions
}

export interface IndicatorRead {
  name: string;
  params?: string | null;
  line?: string | null;
  input?: string | null;
  index?: number | null;
  value?: number | null;
}

export interface DataAccess {
  symbol: string;
  data_hash: string;
  fields: string[];
  reads: Read[];
}

export interface OrderAction {
  seq: number;
  side: string;
  symbol: string;
  size: number;
  price?: number | null;
  order_type?: string;
  order_id?: string;
  status?: string;
}

export interface Decision {
  decision_id: string;
  agent_id: string;
  session_id: string;
  mode: string;
  decision_point: number;
  bar_time: string;
  recorded_at?: string;
  stage: string;
  action: string;
  actions: OrderAction[];
  data_accessed: DataAccess[];
  access_count?: number;
  portfolio_value: number;
  cash: number;
  positions: Holding[];
  indicators?: IndicatorRead[] | null;
  note?: string | null; // JSON: the agent's own values (self.fmel.note)
}

export interface DecisionPage {
  decisions: Decision[];
  next_cursor: string | null;
}
