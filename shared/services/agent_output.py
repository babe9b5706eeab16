"""The agent's own output (its `print`s and logging) for its owner, size-capped.

The seam: whatever runs the agent stores its captured output as the blob
`backtests/{run_id}/output.txt` (a backtest) or `sessions/{session_id}/output.txt` (a paper
session). Until a runner writes those, the local stack's process logs stand in for them:
`<data_dir>/jobs/<run_id>.log` and `<data_dir>/runtimes/<session_id>.log`, which also hold the
platform's own log lines around the agent's. Only the last MAX_OUTPUT_BYTES are returned.
The output is untrusted text: it is returned as data, never interpreted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.domain.unit_of_work import read_only
from shared.errors import NotFoundError
from shared.ports.blobs import BlobStore
from shared.ports.documents import DocumentStore
from shared.schemas.collections import SESSIONS
from shared.services.backtest_views import owned_run

MAX_OUTPUT_BYTES = 64 * 1024


def run_output_key(run_id: str) -> str:
    """Where a backtest's captured agent output is stored."""
    return f"backtests/{run_id}/output.txt"


def session_output_key(session_id: str) -> str:
    """Where a paper session's captured agent output is stored."""
    return f"sessions/{session_id}/output.txt"


def backtest_output(
    owner_uid: str, run_id: str, *, documents: DocumentStore, blobs: BlobStore, data_dir: Path | None = None
) -> dict[str, Any]:
    """The output of one of the caller's backtests (the last MAX_OUTPUT_BYTES)."""
    doc = owned_run(documents, owner_uid, run_id)
    local = data_dir / "jobs" / f"{run_id}.log" if data_dir is not None else None
    found = _read(blobs, run_output_key(run_id), local)
    return {"run_id": run_id, "agent_id": doc.get("agent_id"), "status": doc.get("status"), **found}


def session_output(
    owner_uid: str, agent_id: str, *, documents: DocumentStore, blobs: BlobStore, data_dir: Path | None = None
) -> dict[str, Any]:
    """The output of the caller's agent's latest paper session (the last MAX_OUTPUT_BYTES)."""
    session_id = read_only(documents).agents.owned(agent_id, owner_uid).paper_session
    session = documents.get(SESSIONS, session_id) if session_id else None
    if session_id is None or session is None:
        raise NotFoundError(f"agent {agent_id} has no paper-trading session")
    local = data_dir / "runtimes" / f"{session_id}.log" if data_dir is not None else None
    found = _read(blobs, session_output_key(session_id), local)
    return {"session_id": session_id, "agent_id": agent_id, "state": session.get("state"), **found}


def _read(blobs: BlobStore, key: str, local: Path | None) -> dict[str, Any]:
    if blobs.exists(key):
        raw, source = blobs.get(key), "agent output"
    elif local is not None and local.is_file():
        raw, source = _tail(local), "process log (agent output with the platform's log lines)"
    else:
        raw, source = b"", "none yet"
    size = len(raw)
    if local is not None and source.startswith("process") and local.is_file():
        size = local.stat().st_size
    text = raw[-MAX_OUTPUT_BYTES:].decode("utf-8", errors="replace")
    return {"source": source, "text": text, "bytes": size, "truncated": size > MAX_OUTPUT_BYTES,
            "max_bytes": MAX_OUTPUT_BYTES}


def _tail(path: Path) -> bytes:
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - MAX_OUTPUT_BYTES))
        return handle.read()
