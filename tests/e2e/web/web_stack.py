"""Helpers for the website's tests: the built site, a real `farm up` process, Debian's chromium.

The browser tests drive Debian's chromium through Playwright (`executable_path`: Playwright's
own browser download cannot work offline) against `python -m farm up`, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fixtures.common import free_port

REPO = Path(__file__).resolve().parents[3]
WEB = REPO / "web"
DIST = WEB / "dist"
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"
BUILD_TIMEOUT_S = 300
UP_TIMEOUT_S = 30
# What the website tests' terminal summary reports (prints inside tests are captured by pytest).
REPORT: dict[str, Any] = {"artifacts": None, "axe": {}, "notes": []}


def ensure_site_built() -> Path:
    """web/dist, built by scripts/build-web.sh when missing (make test builds it first)."""
    if not (DIST / "index.html").is_file() or not AXE.is_file():
        subprocess.run(["bash", str(REPO / "scripts" / "build-web.sh")], cwd=REPO, check=True,
                       timeout=BUILD_TIMEOUT_S)
    return DIST


def chromium_path() -> str | None:
    """Debian's chromium (scripts/install-browser.sh installs it), or None."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def artifacts_dir() -> Path:
    """Where screenshots and axe results go: $WEB_ARTIFACTS_DIR, else a fresh temp directory."""
    chosen = os.environ.get("WEB_ARTIFACTS_DIR")
    path = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="farm-web-artifacts-"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class FarmUp:
    """A running `farm up`: its URL, data directory and process."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    log: Path

    def stop(self) -> int:
        """SIGTERM, wait for the clean exit; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def farm_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This environment without FARM_* variables, plus the local backend rooted at `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
    return env | {"FARM_BACKEND": "local", "FARM_DATA_DIR": str(data_dir), **settings}


@contextmanager
def farm_up(data_dir: Path, *, args: tuple[str, ...] = (), **settings: str) -> Iterator[FarmUp]:
    """Start `python -m farm up` on a free port; stop it (SIGTERM) afterwards."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = data_dir.parent / f"farm-up-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "farm", "up", "--port", str(port), *args],
            cwd=REPO, env=farm_env(data_dir, **settings), stdout=out, stderr=subprocess.STDOUT, text=True,
        )
    up = FarmUp(f"http://127.0.0.1:{port}", data_dir, process, log)
    try:
        wait_healthy(up)
        yield up
    finally:
        up.stop()


def wait_healthy(up: FarmUp) -> None:
    """Block until /healthz answers; the process output when it died or timed out."""
    deadline = time.monotonic() + UP_TIMEOUT_S
    while time.monotonic() < deadline:
        if up.process.poll() is not None:
            raise RuntimeError(f"farm up exited with {up.process.returncode}:\n{up.output()}")
        try:
            with urllib.request.urlopen(up.url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"farm up did not answer /healthz in {UP_TIMEOUT_S}s:\n{up.output()}")


def http(method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None,
         ) -> tuple[int, dict[str, str], bytes]:
    """One request; (status, headers, body) whatever the status."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
