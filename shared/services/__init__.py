"""Use cases: each takes the ports it needs as arguments and raises `shared.errors` types."""
