"""Check a large source on several cores: split it between top-level definitions, check each
piece in its own process, merge the findings.

CPython parses about 4 MB/s on one core, so a 1 MB agent costs ~250 ms to parse before any rule
runs; no in-process trick changes that. Top-level statements parse independently, though, so
the file is cut at lines that start a `def`, `class`, `async def` or decorator at column 0.

Why the cut cannot change the verdict: a piece that ends inside an unfinished construct (an open
bracket or string, a backslash continuation, a decorator, a block header) is a syntax error on
its own, and then the whole text is checked in-process instead. When every piece parses, each
ended on a complete statement, and the next piece starts with a token that cannot continue one
(unlike `else`, `except` or `finally`), so the whole file's statements are exactly the pieces'
statements in order. Each piece is padded with the newlines before it so line numbers stay true;
columns are untouched because pieces start at the start of a line. The one parser switch a file
can flip for itself, `from __future__ import barry_as_FLUFL`, keeps the file whole.

The pieces go to long-lived worker processes (`workers`), one per usable core. A worker that
dies or stalls, or a pool already busy with another file, means the text is checked in-process:
slower, never different.
"""

from __future__ import annotations

import atexit
import os
import re
import threading
from pathlib import Path

from shared.validation.ast_rules import SourceContext
from shared.validation.facts import SourceFacts, import_candidates
from shared.validation.source_text import CheckedSource
from shared.validation.workers import WorkerPool

# Below this, a second process costs more than the parse it saves (~250 ms per MB parsed).
PARALLEL_MIN_CHARS = 256_000
MAX_PIECES = 4
_DEFINITION = re.compile(r"^(?:def |class |async def |@)", re.MULTILINE)
_PARSER_SWITCH = "barry_as_FLUFL"
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")

_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = _CGROUP_CPU_MAX.read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota visible: the affinity stands
    return cores


def pieces_for(text: str) -> int:
    """How many pieces to check `text` in: 1 (in-process) unless it is large and cores are free."""
    if len(text) < PARALLEL_MIN_CHARS:
        return 1
    return min(usable_cores(), MAX_PIECES)


def split_at_definitions(text: str, pieces: int) -> list[str] | None:
    """Cut `text` into up to `pieces` line-number-preserving pieces; None when it cannot be cut."""
    if pieces < 2 or _PARSER_SWITCH in text:
        return None
    starts = [0]
    for k in range(1, pieces):
        found = _DEFINITION.search(text, max(starts[-1] + 1, len(text) * k // pieces))
        if found is None:
            break
        starts.append(_with_decorators(text, found.start(), starts[-1]))
    if len(starts) < 2:
        return None
    ends = [*starts[1:], len(text)]
    return ["\n" * text.count("\n", 0, start) + text[start:end] for start, end in zip(starts, ends, strict=True)]


def _with_decorators(text: str, start: int, floor: int) -> int:
    # Move a cut that landed on `def`/`class` above the one-line decorators right before it,
    # which belong to the same statement (a piece ending in a decorator would not parse).
    while start > floor:
        previous = text.rfind("\n", 0, start - 1) + 1
        if previous <= floor or not text.startswith("@", previous):
            break
        start = previous
    return start


def check_in_pieces(path: str, text: str, context: SourceContext, pieces: int) -> CheckedSource | None:
    """Check `text` split over `pieces` worker processes; None when it must be checked whole."""
    parts = split_at_definitions(text, pieces)
    if parts is None:
        return None
    candidates = import_candidates(text)  # every piece records chains on the whole file's imports
    results = _shared_pool(len(parts)).check(path, parts, context, candidates)
    if results is None or not all(result.parsed for result in results):
        return None  # a busy or failed pool, or a cut that needed the whole file: check it whole
    facts = SourceFacts()
    for result in results:
        assert result.facts is not None  # every piece parsed
        facts.extend(result.facts)
    if not facts.bound_names <= candidates:
        return None  # an import the text scan missed: the whole-file check walks again
    findings = [finding for result in results for finding in result.findings]
    statements = [stmt for result in results for stmt in result.statements or ()]
    return CheckedSource(findings, statements, facts)


def _shared_pool(size: int) -> WorkerPool:
    global _pool  # noqa: PLW0603 - one pool of worker processes per process, grown on demand
    with _pool_lock:
        if _pool is None or _pool.size < size:
            if _pool is not None:
                _pool.close()
            _pool = WorkerPool(size)
            atexit.register(_pool.close)
        return _pool
