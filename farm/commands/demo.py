"""`farm demo`: the platform end to end on this machine, step by step.

Starts the local stack (`farm up`) in a subprocess on a free port with its own data
directory, waits for /healthz, shows the functions, publishes a message and shows it
delivered, submits the example agent, shows its automatic backtest (metrics, chart), paper
trades it, shows the leaderboard and explains decisions, then stops the stack.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NAME = "demo"
EXAMPLE_AGENT = Path(__file__).resolve().parents[2] / "examples" / "sma_crossover.py"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass
class DemoContext:
    """What the steps share: the stack's address, process and data directory."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The stack's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def get_json(self, path: str) -> Any:
        """GET `path` on the stack and parse the JSON answer."""
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.loads(response.read())


Step = tuple[str, Callable[[DemoContext], None]]


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the `demo` subcommand to the farm command line."""
    parser = subparsers.add_parser(NAME, help="run the platform end to end", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a new temp dir")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run every step in order; the stack is stopped even when a step fails."""
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="farm-demo-"))
    ctx = DemoContext(data_dir=data_dir, port=_free_port())
    ctx.notes["temporary_data_dir"] = args.data_dir is None
    try:
        for number, (title, step) in enumerate(STEPS, start=1):
            print(f"\n[{number}/{len(STEPS)}] {title}", flush=True)
            step(ctx)
    finally:
        _terminate(ctx)
        if args.data_dir is None:  # a directory we made up: leave nothing behind
            shutil.rmtree(data_dir, ignore_errors=True)
    print("\ndemo finished", flush=True)
    return 0


def start_stack(ctx: DemoContext) -> None:
    """Spawn `farm up` and wait until /healthz answers."""
    env = {**os.environ, "FARM_BACKEND": "local", "FARM_DATA_DIR": str(ctx.data_dir)}
    started = time.monotonic()
    ctx.process = subprocess.Popen(
        [sys.executable, "-m", "farm", "up", "--port", str(ctx.port)], env=env
    )
    deadline = started + READY_TIMEOUT_S
    while True:
        if ctx.process.poll() is not None:
            raise RuntimeError(f"farm up exited with {ctx.process.returncode}")
        try:
            health = ctx.get_json("/healthz")
            break
        except OSError as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"farm up not answering on {ctx.url} after {READY_TIMEOUT_S}s") from exc
            time.sleep(0.05)
    print(f"  stack up at {ctx.url} in {time.monotonic() - started:.2f}s: {health}")


def show_functions(ctx: DemoContext) -> None:
    """Print the functions the stack serves."""
    from farm.commands.functions import function_table
    from functions.registry import FUNCTIONS

    print("  " + function_table(FUNCTIONS).replace("\n", "\n  "))


def publish_and_receive(ctx: DemoContext) -> None:
    """Publish on a topic the stack created and receive it from a new subscription."""
    from shared.app import Application
    from shared.ports.messages import OutgoingMessage
    from shared.schemas.topics import MARKET_DATA
    from shared.settings import Settings

    # The stack's own data directory; only the bus is ever built (parts are built on first use).
    app = Application(Settings(backend="local", data_dir=ctx.data_dir))
    bus = app.messages
    subscription = f"demo-{os.getpid()}"
    bus.create_subscription(subscription, MARKET_DATA)
    try:
        body = json.dumps({"schema_version": 1, "symbol": "DEMO", "close": 101.5}).encode()
        [message_id] = bus.publish(MARKET_DATA, [OutgoingMessage(body, {"symbol": "DEMO"})])
        print(f"  published message {message_id} on {MARKET_DATA}")
        received = bus.pull(subscription, timeout_s=5.0)
        if not received:
            raise RuntimeError("the message was not delivered within 5 s")
        bus.ack(subscription, [m.ack_id for m in received])
        msg = received[0]
        print(
            f"  delivered to {subscription}: id={msg.message_id} attributes="
            f"{dict(msg.attributes)} data={msg.data.decode()}"
        )
    finally:
        bus.delete_subscription(subscription)
        app.close()


def submit_example_agent(ctx: DemoContext) -> None:
    """Mint a token for alice, submit examples/sma_crossover.py, and show its document."""
    import requests

    token = subprocess.run(
        [sys.executable, "-m", "farm", "token", "--user", "alice"],
        env={**os.environ, "FARM_BACKEND": "local", "FARM_DATA_DIR": str(ctx.data_dir)},
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    print(f"  farm token --user alice -> {token[:24]}...")
    with EXAMPLE_AGENT.open("rb") as source:
        response = requests.post(
            ctx.url + "/api/agents", headers=headers, timeout=30,
            files={"file": (EXAMPLE_AGENT.name, source, "text/x-python")},
            data={"name": "SMA crossover", "tags": "sma,example"},
        )
    if response.status_code != 201:
        raise RuntimeError(f"submission failed: {response.status_code} {response.text}")
    agent_id = response.json()["agent_id"]
    ctx.notes["agent_id"], ctx.notes["token"] = agent_id, token
    print(f"  POST /api/agents -> 201 {response.json()}")
    agent = requests.get(f"{ctx.url}/api/agents/{agent_id}", headers=headers, timeout=10).json()
    shown = {k: agent[k] for k in ("agent_id", "name", "tags", "status", "created_at")}
    print(f"  GET /api/agents/{agent_id} -> {json.dumps(shown)}")
    print(f"  history: {' -> '.join(h['to'] for h in agent['history'])}; "
          f"validation ok={agent['validation']['ok']} files={agent['validation']['files']}")


def stop_stack(ctx: DemoContext) -> None:
    """Stop the stack with SIGTERM and check it exits cleanly."""
    code = _terminate(ctx)
    if code != 0:
        raise RuntimeError(f"farm up exited with {code} on SIGTERM")
    print("  stack stopped cleanly (exit 0)")


from farm.commands.demo_backtest import show_backtest
from farm.commands.demo_leaderboard import show_leaderboard_and_explain
from farm.commands.demo_paper import paper_trade_example

STEPS: list[Step] = [
    ("Start the local stack", start_stack),
    ("Functions it serves", show_functions),
    ("Publish a message and see it delivered", publish_and_receive),
    ("Submit the example agent and show its document", submit_example_agent),
    ("Its automatic backtest: metrics and chart", show_backtest),
    ("Paper-trade it on the replayed market", paper_trade_example),
    ("Leaderboard, and a few decisions explained", show_leaderboard_and_explain),
    ("Stop the stack", stop_stack),
]


def _terminate(ctx: DemoContext) -> int | None:
    process, ctx.process = ctx.process, None
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
