"""The ranking SQL: one parameterised BigQuery query per mode, every metric ranked at once.

Both queries produce the same columns, one row per ranked agent, with a position per metric
(`rank_score`, `rank_sharpe`, ...) and `rank` for the metric asked for in `@metric`. Parameters:
`@since`/`@as_of` (TIMESTAMP, the period), `@min_trades`/`@min_observations` (eligibility for the
score), `@metric`, `@limit` (rows with rank <= limit) and `@agent_id` ('' for every agent); the
backtest query also takes the standard evaluation (`@std_start`, `@std_end` DATE,
`@std_timeframe`), the paper query the return bucket (`@bucket_s`) and the minimum track record
(`@min_days`, `@min_paper_trades`).

Backtests: only an agent's standard evaluation ranks (its automatic run, `{agent_id}-auto`, over
the recorded window), never a run its owner chose. Paper: returns are taken per bucket (the last
value of each day by default) and annualised by the buckets in a year, never by the seconds
between snapshots; an agent ranks once its session spans `@min_days` and made
`@min_paper_trades` trades (`PAPER_PENDING` lists the others with what they still need).
A deleted agent (`analytics.agent_deletions`) is on no board.

Identical code ranks once: agents whose latest runs share a `code_hash` keep only the agent that
first produced a successful run with it (ties: the smaller agent id), so copying a strategy
never earns a second place and never displaces the original.
"""

from __future__ import annotations

from shared.leaderboard.scoring import Mode

# Shared tail: eligibility, the PSR z statistic, one position per metric, the asked-for rank.
_RANKED = """
scored AS (
  SELECT
    *,
    CASE WHEN sharpe_per_obs IS NOT NULL AND observations >= 2
      THEN sharpe_per_obs * SQRT(observations - 1) / SQRT(1 + 0.5 * sharpe_per_obs * sharpe_per_obs)
    END AS psr_z,
    (COALESCE(trades, 0) >= @min_trades AND COALESCE(observations, 0) >= @min_observations) AS eligible
  FROM unique_code
),
ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY eligible DESC, psr_z DESC NULLS LAST, agent_id) AS rank_score,
    ROW_NUMBER() OVER (ORDER BY sharpe DESC NULLS LAST, agent_id) AS rank_sharpe,
    ROW_NUMBER() OVER (ORDER BY total_return DESC NULLS LAST, agent_id) AS rank_return,
    ROW_NUMBER() OVER (ORDER BY max_drawdown ASC NULLS LAST, agent_id) AS rank_drawdown,
    ROW_NUMBER() OVER (ORDER BY win_rate DESC NULLS LAST, agent_id) AS rank_win_rate
  FROM scored
),
answer AS (
  SELECT
    agent_id, user_id, agent_name, as_of, total_return, sharpe, max_drawdown, win_rate, trades,
    observations, sharpe_per_obs, psr_z, eligible,
    rank_score, rank_sharpe, rank_return, rank_drawdown, rank_win_rate,
    CASE @metric
      WHEN 'sharpe' THEN rank_sharpe
      WHEN 'return' THEN rank_return
      WHEN 'drawdown' THEN rank_drawdown
      WHEN 'win_rate' THEN rank_win_rate
      ELSE rank_score
    END AS rank
  FROM ranked
)
SELECT * FROM answer
WHERE rank <= @limit AND (@agent_id = '' OR agent_id = @agent_id)
ORDER BY rank
"""

BACKTEST_RANKING = """
WITH succeeded AS (
  SELECT * FROM analytics.backtest_runs
  WHERE status = 'succeeded' AND run_id = CONCAT(agent_id, '-auto')
    AND start_date = @std_start AND end_date = @std_end AND timeframe = @std_timeframe
    AND agent_id NOT IN (SELECT agent_id FROM analytics.agent_deletions)
),
first_success AS (
  SELECT agent_id, MIN(finished_at) AS first_finished FROM succeeded GROUP BY agent_id
),
latest AS (
  SELECT r.*, f.first_finished
  FROM succeeded AS r JOIN first_success AS f ON f.agent_id = r.agent_id
  WHERE r.finished_at >= @since AND r.finished_at <= @as_of
  QUALIFY ROW_NUMBER() OVER (PARTITION BY r.agent_id ORDER BY r.finished_at DESC, r.run_id DESC) = 1
),
unique_code AS (
  SELECT
    agent_id, user_id, agent_name, finished_at AS as_of, total_return, sharpe, max_drawdown,
    win_rate, trades, bars - 1 AS observations,
    sharpe / SQRT(CASE timeframe WHEN '1Min' THEN 98280.0 WHEN '1Hour' THEN 1638.0 ELSE 252.0 END)
      AS sharpe_per_obs
  FROM latest
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY COALESCE(code_hash, agent_id) ORDER BY first_finished, agent_id) = 1
),
""" + _RANKED

# Paper: the agent's latest session inside the period, its snapshots inside the period.
# Redelivered snapshots (same session and timestamp) count once.
_PAPER_TRACKED = """
WITH snaps AS (
  SELECT session_id, agent_id, user_id, timestamp, portfolio_value, starting_value, trades
  FROM analytics.paper_snapshots
  WHERE timestamp >= @since AND timestamp <= @as_of
    AND agent_id NOT IN (SELECT agent_id FROM analytics.agent_deletions)
  QUALIFY ROW_NUMBER() OVER (PARTITION BY session_id, timestamp ORDER BY portfolio_value) = 1
),
latest_session AS (
  SELECT agent_id, session_id FROM snaps
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY agent_id ORDER BY timestamp DESC, session_id DESC) = 1
),
session_snaps AS (
  SELECT s.* FROM snaps AS s JOIN latest_session AS l ON l.session_id = s.session_id
),
buckets AS (
  SELECT session_id, agent_id, DIV(UNIX_SECONDS(timestamp), @bucket_s) AS bucket, portfolio_value
  FROM session_snaps
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY session_id, DIV(UNIX_SECONDS(timestamp), @bucket_s) ORDER BY timestamp DESC) = 1
),
bucket_returns AS (
  SELECT agent_id, portfolio_value / NULLIF(LAG(portfolio_value) OVER (
    PARTITION BY session_id ORDER BY bucket), 0) - 1 AS ret
  FROM buckets
),
returns AS (
  SELECT
    agent_id, COUNT(ret) AS observations,
    CASE WHEN STDDEV_SAMP(ret) > 1e-12 THEN AVG(ret) / STDDEV_SAMP(ret) END AS sharpe_per_obs,
    SUM(CASE WHEN ret > 0 THEN 1 ELSE 0 END)
      / NULLIF(SUM(CASE WHEN ret <> 0 THEN 1 ELSE 0 END), 0) AS win_rate
  FROM bucket_returns
  GROUP BY agent_id
),
series AS (
  SELECT
    s.agent_id, s.user_id, s.timestamp, s.portfolio_value, s.starting_value, s.trades,
    MAX(s.portfolio_value) OVER (
      PARTITION BY s.session_id ORDER BY s.timestamp
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS peak,
    FIRST_VALUE(s.portfolio_value) OVER (
      PARTITION BY s.session_id ORDER BY s.timestamp DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_value
  FROM session_snaps AS s
),
sessions AS (
  SELECT
    agent_id, MAX(user_id) AS user_id, MAX(timestamp) AS as_of, MIN(timestamp) AS first_seen,
    MAX(last_value) / NULLIF(MAX(starting_value), 0) - 1 AS total_return,
    MAX(CASE WHEN COALESCE(starting_value, 0) > peak THEN 1 - portfolio_value / starting_value
             WHEN peak > 0 THEN 1 - portfolio_value / peak ELSE 0 END) AS max_drawdown,
    MAX(trades) AS trades,
    TIMESTAMP_DIFF(MAX(timestamp), MIN(timestamp), SECOND) / 86400.0 AS days
  FROM series
  GROUP BY agent_id
),
meta AS (
  SELECT agent_id, agent_name, code_hash FROM analytics.backtest_runs
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY agent_id ORDER BY finished_at DESC, run_id DESC) = 1
),
tracked AS (
  SELECT
    s.*, m.agent_name, m.code_hash, r.observations, r.sharpe_per_obs, r.win_rate,
    (s.days >= @min_days AND COALESCE(s.trades, 0) >= @min_paper_trades) AS ready
  FROM sessions AS s
  LEFT JOIN returns AS r ON r.agent_id = s.agent_id
  LEFT JOIN meta AS m ON m.agent_id = s.agent_id
)"""

PAPER_RANKING = _PAPER_TRACKED + """,
unique_code AS (
  SELECT
    agent_id, user_id, agent_name, as_of, total_return,
    sharpe_per_obs * SQRT(31557600.0 / @bucket_s) AS sharpe,
    max_drawdown, win_rate, trades, observations, sharpe_per_obs
  FROM tracked
  WHERE ready
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY COALESCE(code_hash, agent_id) ORDER BY first_seen, agent_id) = 1
),
""" + _RANKED

# Agents trading on paper whose track record is still too short to rank, longest first.
PAPER_PENDING = _PAPER_TRACKED + """
SELECT agent_id, user_id, agent_name, as_of, days, trades FROM tracked
WHERE NOT ready AND (@agent_id = '' OR agent_id = @agent_id)
ORDER BY days DESC, agent_id
LIMIT @limit
"""

RANKING_SQL: dict[Mode, str] = {"backtest": BACKTEST_RANKING, "paper": PAPER_RANKING}
