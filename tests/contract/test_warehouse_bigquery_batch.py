"""BigQuery's batch path: a finished batch is one Parquet load job, never streaming inserts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from shared.schemas.warehouse import DATASETS

pytestmark = pytest.mark.emulator
T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def bq(bigquery_emulator) -> Iterator[object]:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    from shared.adapters.gcp.bigquery import BigQueryWarehouse

    wh = BigQueryWarehouse(bigquery_emulator.project, credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=bigquery_emulator.endpoint))
    wh.ensure_tables()
    yield wh
    for dataset in DATASETS:
        wh.client.delete_dataset(f"{bigquery_emulator.project}.{dataset}", delete_contents=True,
                                 not_found_ok=True)


def test_a_finished_batch_is_loaded_by_one_parquet_load_job(bq, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_streaming(*args: object, **kwargs: object) -> None:
        raise AssertionError("a batch must not use streaming inserts")

    monkeypatch.setattr(bq.client, "insert_rows_json", no_streaming)
    loads_before = sum(1 for job in bq.client.list_jobs() if job.job_type == "load")
    rows = [{"symbol": "AAPL", "timeframe": "1Min", "timestamp": T0 + timedelta(minutes=i), "open": 1.0,
             "high": 2.0, "low": 0.5, "close": 1.5, "volume": 10.0, "source": "synthetic",
             "data_hash": f"h{i}"} for i in range(2_000)]
    bq.insert_batch("market_data.bars", rows)
    loads = [job for job in bq.client.list_jobs() if job.job_type == "load"]
    assert len(loads) == loads_before + 1
    config = loads[0].to_api_repr()["configuration"]["load"]
    assert config["sourceFormat"] == "PARQUET" and config["writeDisposition"] == "WRITE_APPEND"
    assert bq.query("SELECT COUNT(*) AS n, MAX(timestamp) AS t FROM market_data.bars") == [
        {"n": 2_000, "t": T0 + timedelta(minutes=1_999)}]
