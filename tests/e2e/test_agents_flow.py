"""The agents flow against `farm up` as a real process: token -> submit -> stored -> a
backtest-requests message -> list/get -> another user gets 404 -> delete -> 404."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from shared.adapters.local.documents import SqliteDocumentStore
from shared.adapters.local.messages import EmbeddedMessageBus
from shared.schemas.messages import RunBacktest
from shared.schemas.topics import BACKTEST_REQUESTS
from tests.fixtures.common import AFTER_STORED, free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "sma_crossover.py"
WAIT_S = 20.0

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("shared.adapters.local.warehouse") is None,
    reason="`farm up` needs the DuckDB warehouse adapter, which is not in the tree yet",
)


@pytest.fixture
def farm_up(tmp_path: Path, redis_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
    env |= {"FARM_BACKEND": "local", "FARM_DATA_DIR": str(tmp_path / "data"),
            "FARM_REDIS_URL": redis_url}
    # The test subscription exists before anything is submitted, so it sees the request.
    bus = EmbeddedMessageBus(tmp_path / "data" / "messages.sqlite3")
    bus.create_topic(BACKTEST_REQUESTS)
    bus.create_subscription("e2e-watch", BACKTEST_REQUESTS)
    bus.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "farm", "up", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/healthz", process)
        yield url, env
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        assert process.returncode == 0, output


def farm_token(env: dict[str, str], user: str) -> str:
    result = subprocess.run([sys.executable, "-m", "farm", "token", "--user", user], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=WAIT_S, check=True)
    return result.stdout.strip()


def test_a_user_submits_sees_and_deletes_an_agent_that_another_user_cannot_see(
    farm_up: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, env = farm_up
    alice = {"Authorization": f"Bearer {farm_token(env, 'alice')}"}
    bob = {"Authorization": farm_token(env, "bob")}  # a raw token works too
    with EXAMPLE.open("rb") as source:
        created = requests.post(url + "/api/agents", headers=alice, timeout=WAIT_S,
                                files={"file": ("sma_crossover.py", source, "text/x-python")},
                                data={"name": "SMA crossover", "tags": "sma,example"})
    assert created.status_code == 201, created.text
    agent_id = created.json()["agent_id"]

    data = tmp_path / "data"
    documents = SqliteDocumentStore(data / "documents.sqlite3")
    bus = EmbeddedMessageBus(data / "messages.sqlite3")
    try:
        doc = documents.get("agents", agent_id)
        assert doc is not None and doc["status"] in AFTER_STORED and doc["owner_uid"] == "alice"
        run = _pull_run(bus, agent_id)
        assert (run.owner_uid, run.cash, run.commission) == ("alice", 25_000.0, 0.0)
        assert documents.get("backtests", run.run_id)["status"] == "queued"
    finally:
        documents.close()
        bus.close()

    listed = requests.get(url + "/api/agents", headers=alice, timeout=WAIT_S).json()
    assert [a["agent_id"] for a in listed["agents"]] == [agent_id]
    shown = requests.get(f"{url}/api/agents/{agent_id}", headers=alice, timeout=WAIT_S).json()
    assert shown["name"] == "SMA crossover" and shown["validation"]["ok"] is True

    for method in ("GET", "DELETE"):
        response = requests.request(method, f"{url}/api/agents/{agent_id}", headers=bob,
                                    timeout=WAIT_S)
        assert response.status_code == 404
    assert requests.get(url + "/api/agents", headers=bob, timeout=WAIT_S).json()["agents"] == []

    deleted = requests.delete(f"{url}/api/agents/{agent_id}", headers=alice, timeout=WAIT_S)
    assert deleted.status_code == 204
    gone = requests.get(f"{url}/api/agents/{agent_id}", headers=alice, timeout=WAIT_S)
    assert gone.status_code == 404
    assert json.loads(gone.content)["error"]["code"] == "not_found"


def _pull_run(bus: EmbeddedMessageBus, agent_id: str) -> RunBacktest:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        for message in bus.pull("e2e-watch", timeout_s=0.5):
            bus.ack("e2e-watch", [message.ack_id])
            run = RunBacktest.decode(message.data)
            if run.agent_id == agent_id:
                return run
    raise AssertionError(f"no backtest request for {agent_id} within {WAIT_S}s")


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"farm up exited with {process.returncode}: {process.stdout.read()}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise TimeoutError(f"farm up did not answer {url} within {WAIT_S}s")
