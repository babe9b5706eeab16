"""The reconciliation job: replay a paper session, diff the decisions, store the report."""
