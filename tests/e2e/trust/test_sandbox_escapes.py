"""Sandbox escapes: hostile agents stored straight into the stores (as if the lint had been evaded),
each backtested by the real job (`python -m jobs.backtest`, via the LocalJobLauncher) with the
agent in the real bubblewrap sandbox.

Every agent prints what each attempt got; the assertions are made from the host's side: the
files it aimed at are unchanged, the listeners this test opens got nothing, no marked process is
left, and no secret appears in any result, error, output, log or decision of any run.
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.local.job_launcher import JobLimits, LocalJobLauncher
from shared.adapters.local.sandbox import SandboxLimits
from shared.backtest.report import output_key
from shared.backtest.workspace import load_run
from shared.bootstrap import Platform
from shared.harness.output import DEFAULT_OUTPUT_CAP
from shared.identity.local_keys import identity_dir, load_or_create_signing_key
from shared.market.synthetic import write_synthetic_market
from shared.schemas.collections import AGENTS
from shared.schemas.messages import BacktestCompleted
from shared.schemas.topics import BACKTEST_RESULTS
from shared.services.backtests import request_backtest
from tests.e2e.trust.trust_stack import agent_source, processes_with
from tests.unit.backtest.backtest_stack import (
    SMA_SOURCE,
    close_platform,
    embedded_platform,
    seed_agent,
)

ROOT = Path(__file__).resolve().parents[3]
MARKER = f"farm-escape-{os.getpid()}-{int(time.time())}"
WINDOW = {"symbols": ["AAA"], "start": "2023-01-01", "end": "2023-02-01"}
APCA_SECRET = f"apca-secret-{MARKER}"
CREDENTIALS_SECRET = f"gcp-service-account-{MARKER}"
VICTIM_SECRET = f"bob's strategy {MARKER}"
FILE_CAP = SandboxLimits().file_size_bytes
DISK_ATTEMPT_MIB, DISK_FILE_MIB = 512, 32
SLEEPER_BUDGET_S = 20.0
WORKSPACE_BUG = (
    "sandbox gap: nothing caps the workspace as a whole (SandboxLimits has a per-file "
    "RLIMIT_FSIZE and a 64 MiB /tmp, but /workspace is a plain bind of a host folder): "
    f"an agent writes {DISK_ATTEMPT_MIB} MiB and more in files under RLIMIT_FSIZE, until "
    "the host's disk is full"
)


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


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc}"


def _listening_ports() -> list[int]:
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


@pytest.fixture(scope="module")
def escapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Escapes]:
    data = tmp_path_factory.mktemp("farm").resolve()
    platform = embedded_platform(data)
    write_synthetic_market(
        platform.warehouse,
        WINDOW["symbols"],
        datetime(2023, 1, 1, tzinfo=UTC),
        datetime(2023, 2, 1, tzinfo=UTC),
    )
    platform.messages.create_subscription("results", BACKTEST_RESULTS)
    load_or_create_signing_key(data)
    key_file = identity_dir(data) / "signing-key.pem"
    credentials = tmp_path_factory.mktemp("credentials") / "service-account.json"
    credentials.write_text(json.dumps({"private_key": CREDENTIALS_SECRET}))
    victim = seed_agent(platform, "victim", SMA_SOURCE + f"\n# {VICTIM_SECRET}\n", owner="bob")
    victim_bundle = data / "blobs" / victim["bundle_key"]
    listeners = Listeners()
    secrets = {
        "signing key": _key_body(key_file),
        "victim bundle": VICTIM_SECRET,
        "APCA": APCA_SECRET,
        "credentials file": CREDENTIALS_SECRET,
    }
    site_packages = Path(site.getsitepackages()[0])
    # Files that must not change (the live stores change by design: checked through their contents).
    targets = [
        victim_bundle,
        key_file,
        ROOT / "shared" / "__init__.py",
        ROOT / "jobs" / "backtest" / "__main__.py",
        site_packages / "backtrader" / "__init__.py",
    ]
    configs = {
        "escape_snoop": {
            "paths": [
                str(key_file),
                str(victim_bundle),
                str(data / "documents.sqlite3"),
                str(credentials),
                str(ROOT / ".farm" / "identity" / "signing-key.pem"),
                "/etc/shadow",
                "/root/.bash_history",
            ],
            "dirs": [str(data), str(data / "blobs" / "agents"), "/", "/proc", str(ROOT)],
        },
        "escape_writer": {
            "marker": MARKER,
            "files": [str(t) for t in targets]
            + [str(data / "documents.sqlite3"), "/opt/farm/src/shared/__init__.py"],
            "dirs": [
                str(data),
                str(victim_bundle.parent),
                str(ROOT),
                str(ROOT / "shared"),
                "/opt/farm/src/shared",
                str(site_packages),
                "/tmp",
            ],
            "removals": [str(victim_bundle), str(data / "documents.sqlite3")],
        },
        "escape_network": {
            "marker": MARKER,
            "unix": [listeners.unix_name],
            "udp": [("127.0.0.1", listeners.udp.getsockname()[1])],
            "tcp": [
                ("127.0.0.1", listeners.tcp.getsockname()[1]),
                (_outward_ip(), listeners.tcp.getsockname()[1]),
                ("1.1.1.1", 53),
            ]
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
    runs = {
        name: _queue(platform, name, agent_source(name, **config))
        for name, config in configs.items()
    }
    # The same snoop once more, run by hand by a host that does hold credentials in its environment.
    runs["escape_snoop_host_env"] = _queue(
        platform, "escape_snoop_host_env", agent_source("escape_snoop", **configs["escape_snoop"])
    )
    before = {str(t): _sha(t) for t in targets}
    victim_before = platform.documents.get(AGENTS, "victim")
    launcher = LocalJobLauncher(platform.messages, data, limits=JobLimits(budget_s=150))
    short = LocalJobLauncher(platform.messages, data, limits=JobLimits(budget_s=SLEEPER_BUDGET_S))
    credentials_env = {
        "APCA_API_SECRET_KEY": APCA_SECRET,
        "GOOGLE_APPLICATION_CREDENTIALS": str(credentials),
    }
    with pytest.MonkeyPatch.context() as env:
        for name, value in credentials_env.items():
            env.setenv(name, value)  # the launching process holds them: the job must not
        jobs = {
            name: (short if name == "escape_sleeper" else launcher)
            .launch(load_run(platform.documents, run.run_id))
            .job_id
            for name, run in runs.items()
            if name != "escape_snoop_host_env"
        }
    by_hand_log = data / "by-hand.log"
    with open(by_hand_log, "wb") as log:
        by_hand = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jobs.backtest",
                "--run-id",
                runs["escape_snoop_host_env"].run_id,
            ],
            cwd=ROOT,
            env=launcher.child_env() | credentials_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        seen = _watch_markers(
            lambda: (
                by_hand.poll() is None
                or any(
                    (short if name == "escape_sleeper" else launcher).status(job) == "running"
                    for name, job in jobs.items()
                )
            )
        )
        by_hand.wait(10)
        left = _wait_gone(MARKER)
        _collect(platform, data, runs, by_hand_log=by_hand_log.read_text(errors="replace"))
        yield Escapes(
            data,
            runs,
            listeners,
            secrets,
            before,
            {str(t): _sha(t) for t in targets},
            (victim_before, platform.documents.get(AGENTS, "victim")),
            left,
            seen,
        )
    finally:
        by_hand.kill()
        launcher.close()
        short.close()
        listeners.close()
        close_platform(platform)


def _key_body(key_file: Path) -> str:
    lines = [
        line for line in key_file.read_text().splitlines() if line and not line.startswith("-----")
    ]
    return "".join(lines)[:64]  # the private key's own bytes, as a reader would find them


def _queue(platform: Platform, name: str, source: str) -> Run:
    agent_id = name.replace("_", "-")
    seed_agent(platform, agent_id, source)  # stored as if validation had passed
    run_id = request_backtest(
        "alice", agent_id, WINDOW, documents=platform.documents, messages=platform.messages
    )["run_id"]
    return Run(name, run_id)


def _watch_markers(running: Any, timeout_s: float = 240.0) -> set[str]:
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


def _collect(platform: Platform, data: Path, runs: dict[str, Run], *, by_hand_log: str) -> None:
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
    runs["escape_snoop_host_env"].texts.append(by_hand_log)


def test_every_hostile_run_ended_with_a_published_result(escapes: Escapes) -> None:
    for run in escapes.runs.values():
        assert run.event is not None and run.event.status in ("succeeded", "failed"), run.name
    for name in (
        "escape_writer",
        "escape_network",
        "escape_linger",
        "escape_forkbomb",
        "escape_disk",
        "escape_printer",
    ):  # a blocked attempt is no failure of the run
        assert escapes.runs[name].event.status == "succeeded", (
            name,
            escapes.runs[name].event.error,
        )


@pytest.mark.parametrize("name", ["escape_snoop", "escape_snoop_host_env"])
def test_no_secret_reaches_any_result_error_output_log_or_decision(
    escapes: Escapes, name: str
) -> None:
    snoop = escapes.runs[name]
    assert "snoop done" in snoop.output  # every attempt was made...
    assert snoop.event.status == "failed" and "loot:" in snoop.event.error  # ...and handed back
    assert "processes visible: ['1']" in snoop.output  # its own PID namespace, nothing else
    for run in escapes.runs.values():
        for label, secret in escapes.secrets.items():
            leaked = [i for i, text in enumerate(run.texts) if secret in text]
            assert not leaked, f"{label} leaked into {run.name} ({leaked})"
    assert "APCA_" not in snoop.output and "GOOGLE_" not in snoop.output


def test_nothing_is_written_outside_the_workspace(escapes: Escapes) -> None:
    writer = escapes.runs["escape_writer"]
    assert (
        "writer done" in writer.output and "create in /tmp: DONE" in writer.output
    )  # its own /tmp only
    assert escapes.after == escapes.before
    assert (
        escapes.victim_doc[1] == escapes.victim_doc[0]
    )  # the document store is intact and unchanged
    marked = [
        p
        for folder in (
            escapes.data,
            ROOT,
            ROOT / "shared",
            Path(site.getsitepackages()[0]),
            Path("/tmp"),
        )
        for p in folder.glob(f"{MARKER}*")
    ]
    assert marked == []
    assert not list(escapes.data.rglob(f"*{MARKER}*"))
    tracked = (
        subprocess.run(
            ["git", "ls-files", "-z", "shared", "jobs", "functions", "farm"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    touched = [name for name in tracked if name and MARKER.encode() in _bytes(ROOT / name)]
    assert touched == []


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_no_connection_reaches_a_listener_on_this_machine_or_beyond(escapes: Escapes) -> None:
    output = escapes.runs["escape_network"].output
    assert "network done" in output
    assert "CONNECTED" not in output
    assert escapes.listeners.contacts == []


def test_no_process_outlives_its_run(escapes: Escapes) -> None:
    assert "lingerers alive at the end of the run: 2" in escapes.runs["escape_linger"].output
    assert {
        "daemon",
        "session",
        "sleeper",
        "fork",
    } <= escapes.seen  # they did run, on this machine...
    assert escapes.left == []  # ...and none is left


def test_an_agent_that_never_answers_is_stopped_by_the_budget_with_everything_it_started(
    escapes: Escapes,
) -> None:
    sleeper = escapes.runs["escape_sleeper"]
    assert (
        sleeper.event.status == "failed"
        and f"time budget of {SLEEPER_BUDGET_S:g}s" in sleeper.event.error
    )
    assert escapes.left == []  # its marked child included


def test_a_fork_bomb_stops_at_the_process_cap(escapes: Escapes) -> None:
    output = escapes.runs["escape_forkbomb"].output
    forked = int(output.split("forked ", 1)[1].split(" ", 1)[0])
    assert 0 < forked < SandboxLimits().processes and "Resource temporarily unavailable" in output


def test_a_file_stops_at_the_size_limit_and_tmp_at_its_size(escapes: Escapes) -> None:
    output = escapes.runs["escape_disk"].output
    assert f"single file: {FILE_CAP} bytes, stopped by OSError(27, 'File too large')" in output
    tmp = int(output.split("tmp total: ", 1)[1].split(" ", 1)[0])
    assert tmp <= SandboxLimits().tmp_bytes and "No space left on device" in output


@pytest.mark.xfail(strict=True, reason=WORKSPACE_BUG)
def test_the_workspace_as_a_whole_is_capped(escapes: Escapes) -> None:
    output = escapes.runs["escape_disk"].output
    total = int(output.split("workspace total: ", 1)[1].split(" ", 1)[0])
    assert total < DISK_ATTEMPT_MIB << 20


def test_a_300_mb_print_is_capped_and_the_stored_output_says_so(escapes: Escapes) -> None:
    printer = escapes.runs["escape_printer"]
    assert printer.event.status == "succeeded"
    assert len(printer.output.encode()) <= DEFAULT_OUTPUT_CAP + 200
    assert "[output cap of" in printer.output and "more bytes dropped]" in printer.output
