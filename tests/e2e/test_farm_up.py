"""The local stack end to end: `farm up` as a real process, and the in-process host delivering
Pub/Sub and Firestore CloudEvents to event-triggered functions exactly as GCP would."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudevents.http import CloudEvent
from google.events.cloud.firestore import DocumentEventData

from farm.commands import demo, demo_backtest
from farm.dispatch import subscription_name
from farm.host import FunctionHost
from functions.registry import FUNCTIONS
from shared.app import Application
from shared.events import decode_document_event, decode_pubsub_event
from shared.ports.messages import OutgoingMessage
from shared.schemas.topics import ALL_TOPICS, MAX_DELIVERY_ATTEMPTS, dead_letter
from tests.app_factory import embedded_app
from tests.fixtures.common import free_port, kill_process
from tests.functions import sample_functions as samples

REPO = Path(__file__).resolve().parents[2]
# What a fresh `farm up` needs before it serves: the warehouse's tables (DuckDB, Arrow), the FMEL
# spills replayed, every function module loaded. 2.2-2.7 s on an idle 2-core machine (2026-12-05);
# the budget leaves room for a loaded CI machine rather than fail on its noise.
READY_BUDGET_S = 5.0
WAIT_S = 10.0


def _python(*args: str, timeout_s: float, check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run this Python in the repository, with none of the caller's FARM_ settings, and capture its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout_s, check=check)


def test_farm_up_answers_healthz_within_3_seconds_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
    env |= {"FARM_BACKEND": "local", "FARM_DATA_DIR": str(tmp_path / "data")}
    spawned = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "farm", "up", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = _wait_for_healthz(f"http://127.0.0.1:{port}/healthz", process)
        ready_s = time.monotonic() - spawned
        print(f"\nfarm up answered /healthz {ready_s:.2f}s after spawn")
        assert health["status"] == "ok"
        assert ready_s < READY_BUDGET_S
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=WAIT_S)
    finally:
        kill_process(process)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{port}" in output
    assert "farm up: stopped" in output


def test_farm_demo_runs_every_step_and_stops_the_stack(tmp_path: Path) -> None:
    result = _python("-m", "farm", "demo", "--data-dir", str(tmp_path), timeout_s=180)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = len(demo.STEPS)
    assert f"[{steps}/{steps}] Stop the stack" in result.stdout
    assert "delivered to demo-" in result.stdout
    assert "agent status: backtested" in result.stdout
    for label, _, _ in demo_backtest.SHOWN:
        assert f"    {label} " in result.stdout
    [chart] = re.findall(r"equity chart: (\S+) \(", result.stdout)
    assert Path(chart).is_relative_to(tmp_path / "blobs") and Path(chart).stat().st_size > 1000
    assert Path(chart).read_bytes().startswith(b"\x89PNG")
    assert "stack stopped cleanly (exit 0)" in result.stdout


HEAVY = (
    "backtrader",
    "pandas",
    "matplotlib",
    "google.cloud.firestore",
    "google.cloud.pubsub",
    "google.cloud.bigquery",
    "google.cloud.storage",
    "firebase_admin",
)
_IMPORT_PROBE = """
import sys, tempfile
from pathlib import Path
from farm.host import FunctionHost
from shared.app import Application
from shared.settings import Settings
host = FunctionHost(Application(Settings(data_dir=Path(tempfile.mkdtemp()))), port=0)
print(" ".join(sorted(m for m in sys.modules if m.startswith(HEAVY))))
"""


def test_the_local_host_imports_no_cloud_client_and_no_backtesting_stack() -> None:
    probe = f"HEAVY = {HEAVY!r}\n{_IMPORT_PROBE}"
    result = _python("-c", probe, timeout_s=60, check=True)
    assert result.stdout.split() == []


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Application]:
    with embedded_app(tmp_path) as app:
        yield app


@pytest.fixture
def host(platform: Application) -> Iterator[FunctionHost]:
    for q in (samples.TOPIC_EVENTS, samples.FAILING_ATTEMPTS, samples.DOCUMENT_EVENTS):
        _drain(q)
    with FunctionHost(platform, FUNCTIONS + samples.SAMPLE_SPECS, port=0) as running:
        yield running


def test_the_host_creates_every_platform_topic(host: FunctionHost, platform: Application) -> None:
    for topic in ALL_TOPICS:
        platform.messages.create_subscription(f"probe-{topic}", topic)  # NotFound if missing
        assert platform.messages.publish(topic, [OutgoingMessage(b"{}")])


def test_a_published_message_reaches_its_topic_function_as_a_pubsub_cloudevent(
    host: FunctionHost, platform: Application
) -> None:
    body = json.dumps({"schema_version": 1, "symbol": "AAPL"}).encode()
    [message_id] = platform.messages.publish(
        "sample-topic", [OutgoingMessage(body, {"symbol": "AAPL", "type": "bar"})]
    )
    event: CloudEvent = samples.TOPIC_EVENTS.get(timeout=WAIT_S)
    assert event["type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert event["source"] == "//pubsub.googleapis.com/projects/farm-local/topics/sample-topic"
    assert event["id"] == message_id
    assert event.data["message"]["attributes"] == {"symbol": "AAPL", "type": "bar"}
    decoded = decode_pubsub_event(event)
    assert decoded.data == body
    assert decoded.json()["symbol"] == "AAPL"
    assert decoded.delivery_attempt == 1
    assert decoded.subscription == subscription_name(samples.ON_TOPIC) == "fn-sample-on-topic"
    with pytest.raises(queue.Empty):  # acknowledged: never delivered again
        samples.TOPIC_EVENTS.get(timeout=0.5)


def test_a_failing_functions_message_is_retried_then_dead_lettered_after_5_attempts(
    host: FunctionHost, platform: Application
) -> None:
    platform.messages.create_subscription("dlq-probe", dead_letter("sample-failing"))
    platform.messages.publish("sample-failing", [OutgoingMessage(b'{"n": 1}', {"k": "v"})])
    attempts = [samples.FAILING_ATTEMPTS.get(timeout=WAIT_S) for _ in range(MAX_DELIVERY_ATTEMPTS)]
    assert [decode_pubsub_event(e).delivery_attempt for e in attempts] == [1, 2, 3, 4, 5]
    assert len({e["id"] for e in attempts}) == 1  # one message, redelivered
    dead = platform.messages.pull("dlq-probe", timeout_s=WAIT_S)
    assert [m.data for m in dead] == [b'{"n": 1}']
    assert dead[0].attributes["k"] == "v"
    with pytest.raises(queue.Empty):
        samples.FAILING_ATTEMPTS.get(timeout=0.5)


def test_a_created_document_reaches_its_firestore_function_as_document_event_data(
    host: FunctionHost, platform: Application
) -> None:
    doc = {"owner_uid": "alice", "name": "sma", "version": 2, "tags": ["x"], "meta": {"ok": True}}
    platform.documents.create("samples", "s1", doc)
    event: CloudEvent = samples.DOCUMENT_EVENTS.get(timeout=WAIT_S)
    assert event["type"] == "google.cloud.firestore.document.v1.created"
    assert event["subject"] == "documents/samples/s1"
    assert event["datacontenttype"] == "application/protobuf"
    data = DocumentEventData.deserialize(event.data)
    assert data.value.name == "projects/farm-local/databases/(default)/documents/samples/s1"
    assert data.value.fields["name"].string_value == "sma"
    assert data.value.fields["version"].integer_value == 2
    change = decode_document_event(event)
    assert (change.kind, change.doc_id, change.before, change.after) == ("created", "s1", None, doc)
    # Only "created" is wired: an update is filtered out, the next create comes through.
    platform.documents.update("samples", "s1", {"version": 3})
    platform.documents.create("samples", "s2", {"owner_uid": "bob"})
    assert decode_document_event(samples.DOCUMENT_EVENTS.get(timeout=WAIT_S)).doc_id == "s2"


def test_subscriptions_outlive_the_host_so_messages_sent_while_down_arrive(
    platform: Application,
) -> None:
    _drain(samples.TOPIC_EVENTS)
    with FunctionHost(platform, (samples.ON_TOPIC,), port=0):
        pass
    platform.messages.publish("sample-topic", [OutgoingMessage(b"while-down")])
    with FunctionHost(platform, (samples.ON_TOPIC,), port=0):
        event = samples.TOPIC_EVENTS.get(timeout=WAIT_S)
    assert decode_pubsub_event(event).data == b"while-down"


def _wait_for_healthz(url: str, process: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 3 * READY_BUDGET_S  # fail on the budget, not here
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"farm up exited early: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"farm up did not answer {url}")


def _drain(q: queue.Queue[CloudEvent]) -> None:
    while not q.empty():
        q.get_nowait()
