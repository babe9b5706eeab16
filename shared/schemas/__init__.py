"""The platform's data contracts, in one place (SPEC §11): warehouse tables, topics, collections."""
