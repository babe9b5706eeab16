"""Checking a large source in pieces on worker processes gives exactly the in-process verdict."""

from __future__ import annotations

import ast
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from shared.validation import parallel, validate_submission
from shared.validation.ast_rules import SourceContext
from shared.validation.workers import WorkerPool

CORPUS = Path(__file__).parent / "corpus"
CORPUS_FILES = sorted(
    [*(CORPUS / "hostile").iterdir(), *(CORPUS / "ordinary").glob("*.py")], key=lambda p: p.name
)
CORPUS_FILES = [p for p in CORPUS_FILES if p.suffix in (".py", ".pysrc")]


def helpers(count: int, *, decorated: bool = False) -> str:
    """`count` small top-level functions (optionally decorated) and a class between them."""
    parts = ["import math\n\nimport backtrader as bt\n"]
    for i in range(count):
        decorator = "@staticmethod\n" if decorated and i % 3 == 0 else ""
        parts.append(f"\n\n{decorator}def helper_{i}(x, n={i}):\n    return math.sqrt(x * n) if x > 0 else -x\n")
        if i == count // 3:
            parts.append("\n\nclass Base(bt.Strategy):\n    pass\n")
    parts.append("\n\nclass Agent(Base):\n    def next(self):\n        pass\n")
    return "".join(parts)


def body_dump(source: str) -> list[str]:
    return [ast.dump(stmt, include_attributes=True) for stmt in ast.parse(source).body]


@pytest.fixture
def always_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every source, however small, through the worker path in two pieces."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)


@pytest.mark.parametrize("pieces", [2, 3, 4])
def test_pieces_parse_to_the_whole_files_statements_with_their_true_positions(pieces: int) -> None:
    source = helpers(60, decorated=True)
    parts = parallel.split_at_definitions(source, pieces)
    assert parts is not None and len(parts) == pieces
    assert [line for part in parts for line in body_dump(part)] == body_dump(source)


def test_a_cut_inside_a_string_makes_the_piece_fail_and_the_file_is_checked_whole(always_in_pieces: None) -> None:
    # Column-0 `def` lines inside a string: a cut there leaves an unterminated string behind it.
    source = "import os\nDOC = '''\n" + "def not_code():\n    import os\n" * 200 + "'''\n" + helpers(3)
    parts = parallel.split_at_definitions(source, 2)
    assert parts is not None
    with pytest.raises(SyntaxError):
        ast.parse(parts[0])
    assert parallel.check_in_pieces("agent.py", source, SourceContext(), 2) is None
    report = validate_submission(source.encode())
    assert [(f.code, f.line) for f in report.findings] == [("forbidden_import", 1)]


def test_the_parser_switch_keeps_a_file_whole() -> None:
    source = "from __future__ import barry_as_FLUFL\n" + helpers(20)
    assert parallel.split_at_definitions(source, 2) is None


def test_a_file_without_top_level_definitions_is_not_cut() -> None:
    assert parallel.split_at_definitions("x = 1\n" * 1000, 2) is None


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.stem)
def test_every_corpus_file_gets_the_same_report_in_pieces(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = path.read_bytes()
    whole = validate_submission(raw).to_dict()
    monkeypatch.setattr(parallel, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(parallel, "usable_cores", lambda: 2)
    assert validate_submission(raw).to_dict() == whole


def test_findings_in_every_piece_are_reported_at_their_lines(always_in_pieces: None) -> None:
    source = helpers(40).replace("def helper_5(x, n=5)", "def helper_5(x, n=5, f=eval)").replace(
        "def helper_35(x, n=35)", "def helper_35(x, n=35, g=().__class__)"
    )
    parts = parallel.split_at_definitions(source, 2)
    assert parts is not None and "helper_35" in parts[1] and "helper_5(" in parts[0]
    report = validate_submission(source.encode())
    lines = {line_no for line_no, text in enumerate(source.splitlines(), 1)
             if "helper_5(" in text or "helper_35(" in text}
    assert {f.line for f in report.findings} == lines
    assert {f.code for f in report.findings} == {"forbidden_name", "dunder_attribute"}


def test_the_agent_contract_spans_pieces(always_in_pieces: None) -> None:
    # `Base` is defined in the first piece, `Agent(Base)` in the last.
    source = helpers(60)
    assert validate_submission(source.encode()).ok
    broken = source.replace("class Base(bt.Strategy)", "class Base(object)")
    assert validate_submission(broken.encode()).codes == {"agent_not_strategy"}


def test_a_worker_killed_mid_parse_loses_nothing(always_in_pieces: None) -> None:
    pool = WorkerPool(2)
    source = helpers(40_000)  # ~4 MB: each piece takes about a second to parse
    parts = parallel.split_at_definitions(source, 2)
    assert parts is not None
    pool.check("agent.py", ["x = 1\n", "y = 2\n"], SourceContext())  # start both workers
    outcome: list[object] = []
    checker = threading.Thread(target=lambda: outcome.append(pool.check("agent.py", parts, SourceContext())))
    checker.start()
    time.sleep(0.3)
    victim = pool._workers[1]
    assert victim is not None
    os.kill(victim.pid, signal.SIGKILL)
    checker.join(timeout=30)
    assert outcome == [None]  # the caller checks in-process instead
    answers = pool.check("agent.py", ["import os\n", "x = 1\n"], SourceContext())  # restarted
    assert answers is not None and [f.code for f in answers[0].findings] == ["forbidden_import"]
    pool.close()


def test_concurrent_large_submissions_all_get_their_own_report(always_in_pieces: None) -> None:
    sources = [helpers(300) + f"\nimport os as os_{i}\n" * i for i in range(4)]
    reports: dict[int, set[str]] = {}

    def submit(i: int) -> None:
        reports[i] = {f"{f.code}:{f.line}" for f in validate_submission(sources[i].encode()).findings}

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    expected = {i: {f"{f.code}:{f.line}" for f in validate_submission(sources[i].encode()).findings} for i in range(4)}
    assert reports == expected
    assert [len(reports[i]) for i in range(4)] == [0, 1, 2, 3]


def test_usable_cores_honours_a_cgroup_cpu_quota(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quota = tmp_path / "cpu.max"
    monkeypatch.setattr(parallel, "_CGROUP_CPU_MAX", quota)
    quota.write_text("max 100000\n")
    assert parallel.usable_cores() == len(os.sched_getaffinity(0))
    quota.write_text("150000 100000\n")
    assert parallel.usable_cores() == 1
    monkeypatch.setattr(parallel, "PARALLEL_MIN_CHARS", 10)
    assert parallel.pieces_for("x" * 100) == 1
