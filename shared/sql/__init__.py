"""One SQL text for every warehouse: BigQuery dialect in, DuckDB out; DDL from the schema."""
