"""Document collections (SPEC §11). Every document has owner_uid, created_at, updated_at."""

AGENTS = "agents"
BACKTESTS = "backtests"
SESSIONS = "sessions"
USERS = "users"
RECONCILIATIONS = "reconciliations"

COLLECTIONS: tuple[str, ...] = (AGENTS, BACKTESTS, SESSIONS, USERS, RECONCILIATIONS)
