import json

import pytest

from shared.errors import InvalidInputError
from shared.schemas.messages import BacktestCompleted, PortfolioSnapshotted, RunBacktest
from shared.schemas.topics import TOPICS


def _run(**overrides):
    fields = {"run_id": "r1", "agent_id": "a1", "owner_uid": "u1", "symbols": ["AAPL"], "start": "2024-01-01",
              "end": "2025-01-01"}
    return RunBacktest(**(fields | overrides))


def test_a_command_round_trips_through_json_with_its_schema_version():
    message = _run()
    assert json.loads(message.encode())["schema_version"] == 1
    assert RunBacktest.decode(message.encode()) == message


def test_every_message_names_a_platform_topic():
    for cls in (RunBacktest, BacktestCompleted, PortfolioSnapshotted):
        assert cls.TOPIC in TOPICS


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\xff\xfe", "not JSON"),
        (b"[1,2]", "JSON object"),
        (b'{"run_id":"r"}', "schema_version"),
        (json.dumps({"schema_version": 2}).encode(), "schema_version"),
        (_run().encode().replace(b'"run_id"', b'"evil":1,"run_id"'), "unknown field"),
        (json.dumps({"schema_version": 1, "run_id": "r"}).encode(), "missing"),
        (_run(symbols=[]).encode(), "symbols"),
        (_run(start="2025-01-01", end="2024-01-01").encode(), "start must be before end"),
        (_run(cash=-5).encode(), "cash"),
    ],
)
def test_a_malformed_message_is_a_permanent_input_error(data, reason):
    with pytest.raises(InvalidInputError, match=reason):
        RunBacktest.decode(data)
