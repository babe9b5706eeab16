"""Long-lived helper processes that parse and walk pieces of a large source for `parallel`.

Each worker is a `python` running `main()` below: a loop reading a request (path, text,
context) from stdin and writing its `CheckedSource` to stdout, length-prefixed pickles both
ways. Plain subprocesses rather than `multiprocessing`: nothing of the caller (a web server with
threads, whatever its main module is) is forked or re-imported. A worker frees each tree after
it has answered, and only while idle, so that cost is off the request's path.

A pool is used by one caller at a time; a second caller meanwhile gets `None` and checks in its
own process, as it does when a worker dies, times out or cannot start. Workers are started on
first use and exit when their stdin closes (the caller exited or closed the pool).
"""

from __future__ import annotations

import ast
import gc
import logging
import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from shared.validation.ast_rules import SourceContext
from shared.validation.source_text import CheckedSource, check_text

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
# Checking 10 MB (the upload limit) whole takes ~3 s; a worker silent for this long is stuck.
ANSWER_TIMEOUT_S = 30.0
_FREE_BATCH = 64  # top-level statements freed between two looks for a waiting request
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


class WorkerPool:
    """`size` worker processes, started on first use, each checking one piece per request."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._workers: list[subprocess.Popen[bytes] | None] = [None] * size
        self._busy = threading.Lock()

    def check(
        self, path: str, pieces: list[str], context: SourceContext, candidates: frozenset[str] | None = None
    ) -> list[CheckedSource] | None:
        """Check each piece in its own worker; None when the pool is busy or a worker failed."""
        if len(pieces) > self.size or not self._busy.acquire(blocking=False):
            return None
        try:
            workers = [self._worker(i) for i in range(len(pieces))]
            for worker, piece in zip(workers, pieces, strict=True):
                _send(worker, (path, piece, context, candidates))
            deadline = time.monotonic() + ANSWER_TIMEOUT_S
            return [_receive(worker, deadline) for worker in workers]
        except (OSError, EOFError, TimeoutError, pickle.UnpicklingError) as exc:
            log.warning("validation workers failed, checking in-process instead: %s", exc)
            self._discard()
            return None
        finally:
            self._busy.release()

    def close(self) -> None:
        """Stop every worker (they exit when their stdin closes)."""
        with self._busy:
            self._discard()

    def _worker(self, index: int) -> subprocess.Popen[bytes]:
        worker = self._workers[index]
        if worker is None or worker.poll() is not None:
            worker = self._workers[index] = _start_worker()
        return worker

    def _discard(self) -> None:
        for i, worker in enumerate(self._workers):
            if worker is not None:
                worker.kill()
                worker.wait()
                for stream in (worker.stdin, worker.stdout):
                    if stream is not None:
                        stream.close()
            self._workers[i] = None


def _start_worker() -> subprocess.Popen[bytes]:
    # The project must import in the worker however the caller was started (an installed
    # package, a Cloud Functions source directory, a test run).
    paths = [str(_PROJECT_ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    return subprocess.Popen(
        [sys.executable, "-c", "from shared.validation.workers import main; main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        close_fds=True,
    )


def _send(worker: subprocess.Popen[bytes], request: Any) -> None:
    assert worker.stdin is not None
    _write_frame(worker.stdin, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))


def _receive(worker: subprocess.Popen[bytes], deadline: float) -> CheckedSource:
    assert worker.stdout is not None
    fd = worker.stdout.fileno()
    (length,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size, deadline))
    answer = pickle.loads(_read_exactly(fd, length, deadline))
    if not isinstance(answer, CheckedSource):
        raise pickle.UnpicklingError(f"a worker answered {type(answer).__name__}")
    return answer


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks, missing = [], size
    while missing:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError(f"no answer from a validation worker within {ANSWER_TIMEOUT_S:.0f} s")
        chunk = os.read(fd, min(missing, 1 << 20))
        if not chunk:
            raise EOFError("a validation worker exited")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _write_frame(stream: Any, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _read_frame(stream: Any) -> bytes | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    return stream.read(_HEADER.unpack(header)[0])


def serve(requests: Any, answers: Any) -> None:
    """The worker loop: answer each request until `requests` ends."""
    gc.disable()  # syntax trees hold no cycles; the collector runs when the worker is idle
    unfreed: list[ast.stmt] = []  # statements of answered requests, freed while idle
    while True:
        _free_while_idle(unfreed, requests)
        frame = _read_frame(requests)
        if frame is None:
            return
        path, text, context, candidates = pickle.loads(frame)
        checked, tree = check_text(path, text, context, candidates)
        _write_frame(answers, pickle.dumps(checked, protocol=pickle.HIGHEST_PROTOCOL))
        if tree is not None:
            unfreed.extend(tree.body)
            tree.body = []


def _free_while_idle(unfreed: list[ast.stmt], requests: Any) -> None:
    # Freeing a 100k-node tree takes ~30 ms. Done a few statements at a time, and only while no
    # request waits, so a request sent right after the last answer does not wait for it.
    if not unfreed:
        return
    while unfreed:
        if select.select([requests], [], [], 0)[0]:
            return
        del unfreed[-_FREE_BATCH:]
    gc.collect()


def main() -> None:
    # Keep the answer channel to ourselves: anything else that writes to stdout goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)

