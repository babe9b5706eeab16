"""Leaderboard: what is ranked (modes, metrics, periods), the ranking SQL and the luck-resistant score."""
