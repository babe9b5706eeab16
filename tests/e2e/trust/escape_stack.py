"""The sandbox-escape run: a host holding secrets, hostile agents stored straight into its stores
(as if the lint had been evaded), each backtested by the real job with the agent in bubblewrap.

`hostile_runs` stages the host (signing key, another user's bundle, credentials in the launching
process's environment, listeners on this machine), queues one run per `agents/escape_*.py`, runs
them all at once through the LocalJobLauncher (one more by hand, `python -m jobs.backtest` with
credentials in its own environment), watches for their marked processes while they run, and
gathers everything the host stored or logged about each run.
"""

from __future__ import annotations

import hashlib
import json
import os
import site
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.job_launcher import JobLimits, LocalJobLauncher
from shared.adapters.local.sandbox import SandboxLimits
from shared.app import Application
from shared.backtest.report import output_key
from shared.backtest.workspace import load_run
from shared.identity.local_keys import identity_dir, load_or_create_signing_key
from shared.market.synthetic import write_synthetic_market
from shared.schemas.collections import AGENTS
from shared.schemas.messages import BacktestCompleted
from shared.schemas.topics import BACKTEST_RESULTS
from shared.services.backtests import request_backtest
from tests.e2e.trust.trust_stack import agent_source, processes_with
from tests.unit.backtest.backtest_stack import (
    SMA_SOURCE,
    embedded_platform,
    seed_agent,
)

ROOT = Path(__file__).resolve().parents[3]
SITE_PACKAGES = Path(site.getsitepackages()[0])
MARKER = f"farm-escape-{os.getpid()}-{int(time.time())}"
WINDOW = {"symbols": ["AAA"], "start": "2023-01-01", "end": "2023-02-01"}
APCA_SECRET = f"apca-secret-{MARKER}"
CREDENTIALS_SECRET = f"gcp-service-account-{MARKER}"
VICTIM_SECRET = f"bob's strategy {MARKER}"
FILE_CAP = SandboxLimits().file_size_bytes
DISK_ATTEMPT_MIB, DISK_FILE_MIB = 512, 32
SLEEPER_BUDGET_S = 20.0
BY_HAND = "escape_snoop_host_env"


class Listeners:
    """A TCP listener on all addresses, a UDP echo and an abstract Unix socket, each counting."""

    def __init__(self) -> None:
        self.contacts: list[str] = []
        self.tcp = socket.create_server(("0.0.0.0", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_name = f"\0{MARKER}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_name)
        self.unix.listen()
        for target in (self._accept(self.tcp, "tcp"), self._accept(self.unix, "unix"), self._echo):
            threading.Thread(target=target, daemon=True).start()

    def _accept(self, server: socket.socket, kind: str) -> Any:
        def serve() -> None:
            while True:
                try:
                    conn, peer = server.accept()
                except OSError:
                    return  # closed
                self.contacts.append(f"{kind} from {peer!r}")
                conn.close()

        return serve

    def _echo(self) -> None:
        while True:
            try:
                data, peer = self.udp.recvfrom(100)
            except OSError:
                return
            self.contacts.append(f"udp {data!r} from {peer!r}")
            self.udp.sendto(data, peer)

    def close(self) -> None:
        for server in (self.tcp, self.udp, self.unix):
            server.close()


@dataclass
class Run:
    """One hostile agent's backtest as the host saw it."""

    name: str
    run_id: str
    event: BacktestCompleted | None = None
    output: str = ""
    texts: list[str] = field(default_factory=list)  # everything stored or logged about the run


@dataclass
class Escapes:
    """The stores and files after every hostile run has ended."""

    data: Path
    runs: dict[str, Run]
    listeners: Listeners
    secrets: dict[str, str]
    before: dict[str, str]  # file -> sha256 before the runs
    after: dict[str, str]
    victim_doc: tuple[Any, Any]  # before, after
    left: list[str]  # marked processes still alive after the jobs
    seen: set[str]  # kinds of marked processes seen alive while the jobs ran


@dataclass
class Host:
    """What the host holds before any hostile run: the files and secrets they aim at."""

    data: Path
    platform: Application
    key_file: Path
    credentials: Path
    victim_bundle: Path
    listeners: Listeners
    secrets: dict[str, str]
    targets: list[Path]  # files that must not change (the live stores change: checked by content)


def _host(tmp_path_factory: pytest.TempPathFactory) -> Host:
    data = tmp_path_factory.mktemp("farm").resolve()
    platform = embedded_platform(data)
    start, end = (datetime.fromisoformat(WINDOW[k]).replace(tzinfo=UTC) for k in ("start", "end"))
    write_synthetic_market(platform.warehouse, WINDOW["symbols"], start, end)
    platform.messages.create_subscription("results", BACKTEST_RESULTS)
    load_or_create_signing_key(data)
    key_file = identity_dir(data) / "signing-key.pem"
    credentials = tmp_path_factory.mktemp("credentials") / "service-account.json"
    credentials.write_text(json.dumps({"private_key": CREDENTIALS_SECRET}))
    victim = seed_agent(platform, "victim", SMA_SOURCE + f"\n# {VICTIM_SECRET}\n", owner="bob")
    victim_bundle = data / "blobs" / victim["bundle_key"]
    secrets = {
        "signing key": _key_body(key_file),
        "victim bundle": VICTIM_SECRET,
        "APCA": APCA_SECRET,
        "credentials file": CREDENTIALS_SECRET,
    }
    targets = [
        victim_bundle,
        key_file,
        ROOT / "shared" / "__init__.py",
        ROOT / "jobs" / "backtest" / "__main__.py",
        SITE_PACKAGES / "backtrader" / "__init__.py",
    ]
    return Host(data, platform, key_file, credentials, victim_bundle, Listeners(), secrets, targets)


def _configs(host: Host) -> dict[str, dict[str, Any]]:
    """Each escape agent's CONFIG: what it aims at, by the host's own paths and ports."""
    data, listeners = host.data, host.listeners
    tcp_port = listeners.tcp.getsockname()[1]
    return {
        "escape_snoop": {
            "paths": [
                str(host.key_file),
                str(host.victim_bundle),
                str(data / "documents.sqlite3"),
                str(host.credentials),
                str(ROOT / ".farm" / "identity" / "signing-key.pem"),
                "/etc/shadow",
                "/root/.bash_history",
            ],
            "dirs": [str(data), str(data / "blobs" / "agents"), "/", "/proc", str(ROOT)],
        },
        "escape_writer": {
            "marker": MARKER,
            "files": [str(t) for t in host.targets]
            + [str(data / "documents.sqlite3"), "/opt/farm/src/shared/__init__.py"],
            "dirs": [
                str(data),
                str(host.victim_bundle.parent),
                str(ROOT),
                str(ROOT / "shared"),
                "/opt/farm/src/shared",
                str(SITE_PACKAGES),
                "/tmp",
            ],
            "removals": [str(host.victim_bundle), str(data / "documents.sqlite3")],
        },
        "escape_network": {
            "marker": MARKER,
            "unix": [listeners.unix_name],
            "udp": [("127.0.0.1", listeners.udp.getsockname()[1])],
            "tcp": [("127.0.0.1", tcp_port), (_outward_ip(), tcp_port), ("1.1.1.1", 53)]
            + [("127.0.0.1", port) for port in _listening_ports()],
        },
        "escape_linger": {"marker": MARKER},
        "escape_forkbomb": {"marker": MARKER, "attempts": 400},
        "escape_disk": {
            "huge_mib": 2 * FILE_CAP >> 20,
            "files": DISK_ATTEMPT_MIB // DISK_FILE_MIB,
            "file_mib": DISK_FILE_MIB,
        },
        "escape_printer": {"mib": 300},
        "escape_sleeper": {"marker": MARKER},
    }


@contextmanager
def hostile_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Escapes]:
    """Run every escape agent through the real job; yield what the host saw, then clean up."""
    host = _host(tmp_path_factory)
    platform, data = host.platform, host.data
    configs = _configs(host)
    runs = {
        name: _queue(platform, name, agent_source(name, **config))
        for name, config in configs.items()
    }
    # The snoop once more, by a job that does hold credentials in its own environment.
    runs[BY_HAND] = _queue(
        platform, BY_HAND, agent_source("escape_snoop", **configs["escape_snoop"])
    )
    before = {str(t): _sha(t) for t in host.targets}
    victim_before = platform.documents.get(AGENTS, "victim")
    launcher = LocalJobLauncher(platform.messages, data, limits=JobLimits(budget_s=150))
    short = LocalJobLauncher(platform.messages, data, limits=JobLimits(budget_s=SLEEPER_BUDGET_S))
    credentials_env = {
        "APCA_API_SECRET_KEY": APCA_SECRET,
        "GOOGLE_APPLICATION_CREDENTIALS": str(host.credentials),
    }
    jobs: dict[str, tuple[LocalJobLauncher, str]] = {}
    with pytest.MonkeyPatch.context() as env:
        for name, value in credentials_env.items():
            env.setenv(name, value)  # the launching process holds them: the jobs must not
        for name, run in runs.items():
            if name != BY_HAND:
                chosen = short if name == "escape_sleeper" else launcher
                jobs[name] = chosen, chosen.launch(load_run(platform.documents, run.run_id)).job_id
    log_path = data / "by-hand.log"
    with open(log_path, "wb") as log:
        by_hand = subprocess.Popen(
            [sys.executable, "-m", "jobs.backtest", "--run-id", runs[BY_HAND].run_id],
            cwd=ROOT,
            env=launcher.child_env() | credentials_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        seen = _watch_markers(
            lambda: (
                by_hand.poll() is None
                or any(owner.status(job) == "running" for owner, job in jobs.values())
            )
        )
        by_hand.wait(10)
        left = _wait_gone(MARKER)
        _collect(platform, data, runs, by_hand_log=log_path.read_text(errors="replace"))
        yield Escapes(
            data,
            runs,
            host.listeners,
            host.secrets,
            before,
            {str(t): _sha(t) for t in host.targets},
            (victim_before, platform.documents.get(AGENTS, "victim")),
            left,
            seen,
        )
    finally:
        by_hand.kill()
        launcher.close()
        short.close()
        host.listeners.close()
        platform.close()


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc}"


def _listening_ports() -> list[int]:
    """Every TCP port something listens on here (Redis, `farm up`...): the agent tries them all."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)[:40]


def _outward_ip() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # no packet sent: only picks the outward interface
            return sock.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def _key_body(key_file: Path) -> str:
    lines = [
        line for line in key_file.read_text().splitlines() if line and not line.startswith("-----")
    ]
    return "".join(lines)[:64]  # the private key's own bytes, as a reader would find them


def _queue(platform: Application, name: str, source: str) -> Run:
    agent_id = name.replace("_", "-")
    seed_agent(platform, agent_id, source)  # stored as if validation had passed
    run_id = request_backtest(
        "alice", agent_id, WINDOW, documents=platform.documents, messages=platform.messages
    )["run_id"]
    return Run(name, run_id)


def _watch_markers(running: Callable[[], bool], timeout_s: float = 240.0) -> set[str]:
    """While `running()`, note which marked processes are alive (proof the attempts happened)."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while running() and time.monotonic() < deadline:
        for line in processes_with(MARKER):
            command = line.split(": ", 1)[1]
            seen.add(command.split()[0].removeprefix(MARKER).lstrip("-") or "fork")
        time.sleep(0.2)
    assert not running(), f"the hostile jobs still run after {timeout_s}s"
    return seen


def _wait_gone(marker: str, timeout_s: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _collect(platform: Application, data: Path, runs: dict[str, Run], *, by_hand_log: str) -> None:
    events = {}
    while batch := platform.messages.pull("results", max_messages=50):
        events |= {e.run_id: e for e in (BacktestCompleted.decode(m.data) for m in batch)}
    rows = platform.warehouse.query("SELECT * FROM fmel.decisions", {})
    run_rows = platform.warehouse.query("SELECT * FROM analytics.backtest_runs", {})
    for run in runs.values():
        run.event = events.get(run.run_id)
        key = output_key(run.run_id)
        run.output = (
            platform.blobs.get(key).decode(errors="replace") if platform.blobs.exists(key) else ""
        )
        log = data / "jobs" / f"{run.run_id}.log"
        run.texts = [
            run.output,
            json.dumps(run.event.__dict__ if run.event else None, default=str),
            json.dumps([r for r in rows if r["session_id"] == run.run_id], default=str),
            json.dumps([r for r in run_rows if r["run_id"] == run.run_id], default=str),
            log.read_text(errors="replace") if log.exists() else "",
        ]
        report = f"backtests/{run.run_id}/report.json"
        if platform.blobs.exists(report):
            run.texts.append(platform.blobs.get(report).decode(errors="replace"))
    runs[BY_HAND].texts.append(by_hand_log)
