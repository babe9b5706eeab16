"""BigQuery warehouse: the real client, created lazily, errors translated to shared.errors."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
from google.cloud import bigquery

from shared.adapters.gcp.errors import BIGQUERY
from shared.adapters.local.warehouse_arrow import Batch, to_arrow
from shared.errors import InvalidInputError, TransientError
from shared.schemas import warehouse as schema
from shared.sql.ddl import bigquery_schema
from shared.sql.dialect import check_params, to_duckdb
from shared.sql.rows import prepare_rows

if TYPE_CHECKING:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import Credentials

log = logging.getLogger(__name__)
_DAY_MS = 24 * 60 * 60 * 1000


class BigQueryWarehouse:
    """The warehouse port on BigQuery: day-partitioned, clustered tables from the schema."""

    def __init__(
        self,
        project: str,
        location: str = "US",
        *,
        credentials: Credentials | None = None,
        client_options: ClientOptions | None = None,
    ) -> None:
        self.project = project
        self.location = location
        self._credentials = credentials
        self._client_options = client_options
        self._client: bigquery.Client | None = None

    @property
    def client(self) -> bigquery.Client:
        """The BigQuery client, created on first use (never at import time)."""
        if self._client is None:
            self._client = bigquery.Client(
                project=self.project,
                location=self.location,
                credentials=self._credentials,
                client_options=self._client_options,
            )
        return self._client

    def close(self) -> None:
        """Close the client's HTTP session (it reopens on next use)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def ensure_tables(self) -> None:
        """Create missing datasets and tables with partitioning, clustering and expiration."""
        with BIGQUERY.translated("ensure_tables"):
            for dataset in schema.DATASETS:
                ref = bigquery.Dataset(f"{self.project}.{dataset}")
                ref.location = self.location
                self.client.create_dataset(ref, exists_ok=True)
            for spec in schema.TABLES:
                self.client.create_table(self.table_definition(spec), exists_ok=True)

    def table_definition(self, spec: schema.Table) -> bigquery.Table:
        """The `bigquery.Table` that `ensure_tables` creates for `spec`."""
        table = bigquery.Table(
            f"{self.project}.{spec.ref}",
            schema=[bigquery.SchemaField.from_api_repr(f) for f in bigquery_schema(spec)],
        )
        table.description = spec.description or None
        if spec.partition_field:
            expiration = spec.partition_expiration_days
            table.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY,
                field=spec.partition_field,
                expiration_ms=expiration * _DAY_MS if expiration else None,
            )
        if spec.clustering:
            table.clustering_fields = list(spec.clustering)
        return table

    def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Stream `rows` into `table` (live rows); per-row errors become InvalidInputError."""
        spec = _spec(table)
        prepared = prepare_rows(spec, rows)
        if not prepared:
            return
        with BIGQUERY.translated(f"insert into {table}"):
            errors = self.client.insert_rows_json(f"{self.project}.{spec.ref}", prepared)
        if errors:
            reasons = {e.get("reason") for err in errors for e in err.get("errors", [])}
            message = f"BigQuery rejected {len(errors)} row(s) of {table}: {errors[:3]}"
            # "stopped" rows were fine but dropped with a bad neighbour; a retry of the batch
            # would be refused again, so only pure backend failures count as transient.
            if reasons and reasons <= {"backendError", "internalError", "timeout"}:
                raise TransientError(message, details=errors)
            raise InvalidInputError(message, details=errors)

    def insert_batch(self, table: str, batch: Batch, *, timeout_s: float = 600.0) -> None:
        """Load a finished batch (rows, columns or an Arrow table) with one Parquet load job.

        Load jobs cost nothing and have no streaming quota; the rows become visible when the job
        is done, which this waits for. Live rows keep `insert_rows` (streaming, low latency).
        """
        spec = _spec(table)
        data = to_arrow(spec, batch)  # the same validation and messages as the local warehouse
        if not data.num_rows:
            return
        buffer = io.BytesIO()
        pq.write_table(data, buffer, compression="snappy")
        buffer.seek(0)
        with BIGQUERY.translated(f"load into {table}"):
            job = self.client.load_table_from_file(
                buffer, f"{self.project}.{spec.ref}", job_config=load_job_config(),
                location=self.location, rewind=True,
            )
            job.result(timeout=timeout_s)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a parameterised query; TIMESTAMP comes back as UTC datetime, RECORD as dict."""
        values = dict(params or {})
        check_params(to_duckdb(sql), values)
        config = bigquery.QueryJobConfig(query_parameters=query_parameters(values))
        with BIGQUERY.translated("query"):
            result = self.client.query(sql, job_config=config, location=self.location).result()
            return [dict(row.items()) for row in result]


def load_job_config() -> bigquery.LoadJobConfig:
    """Append Parquet to an existing table; lists map to REPEATED columns, not list.element."""
    options = bigquery.ParquetOptions()
    options.enable_list_inference = True
    return bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
        parquet_options=options,
    )


def _spec(table: str) -> schema.Table:
    try:
        return schema.table(table)
    except KeyError as exc:
        raise InvalidInputError(str(exc.args[0])) from None


def query_parameters(params: Mapping[str, Any]) -> list[Any]:
    """BigQuery parameters typed from Python values (lists become ARRAY parameters)."""
    out: list[Any] = []
    for name, value in params.items():
        if isinstance(value, (list, tuple)):
            types = {_bq_type(name, v) for v in value if v is not None}
            if len(types) > 1:
                raise InvalidInputError(f"query parameter @{name} mixes types {sorted(types)}")
            if not types:
                raise InvalidInputError(f"query parameter @{name}: cannot type an empty list")
            element = types.pop()
            out.append(bigquery.ArrayQueryParameter(name, element, [_bq_value(v) for v in value]))
        else:
            type_ = "STRING" if value is None else _bq_type(name, value)
            out.append(bigquery.ScalarQueryParameter(name, type_, _bq_value(value)))
    return out


# First match wins: bool before int, datetime before date (each is a subclass of the next).
_BQ_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (str, "STRING"), (datetime, "TIMESTAMP"), (date, "DATE"),
)


def _bq_type(name: str, value: Any) -> str:
    for python_type, bq_type in _BQ_TYPES:
        if isinstance(value, python_type):
            return bq_type
    raise InvalidInputError(f"query parameter @{name} has unsupported type {type(value).__name__}")


def _bq_value(value: Any) -> Any:
    # Naive datetimes mean UTC on both warehouses.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
