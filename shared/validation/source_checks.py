"""Check one Python source file: decoding, then parsing and one walk over its syntax tree."""

from __future__ import annotations

import gc
import io
import threading
import tokenize
from collections.abc import Iterator
from contextlib import contextmanager

from shared.validation.ast_rules import SourceContext
from shared.validation.parallel import check_in_pieces, pieces_for
from shared.validation.report import Code, Finding
from shared.validation.source_text import CheckedSource, check_text

__all__ = ["CheckedSource", "SourceContext", "check_source", "decode_source", "gc_paused"]

_gc_lock = threading.Lock()
_gc_holders = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector: a big tree is acyclic garbage-free, and GC passes triple parse time."""
    global _gc_holders  # noqa: PLW0603 - the collector is process-wide, so is the count of its holders
    with _gc_lock:
        if _gc_holders == 0:
            was_enabled = gc.isenabled()
            gc.disable()
        else:
            was_enabled = False
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if was_enabled:
                gc.enable()


def decode_source(path: str, raw: bytes) -> tuple[str | None, list[Finding]]:
    """Decode `raw` as UTF-8 source; return the text (None if unusable) and every finding."""
    findings: list[Finding] = []
    nul = raw.find(b"\0")
    if nul >= 0:
        line, col = _position(raw, nul)
        findings.append(Finding(Code.NULL_BYTE, "source contains a null byte", path, line, col))
    text: str | None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(raw, exc.start)
        findings.append(
            Finding(Code.NOT_UTF8, f"source is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                    path, line, col)
        )
        text = None
    findings.extend(_encoding_declaration(path, raw))
    if findings:
        return None, findings
    assert text is not None
    return text.removeprefix("\ufeff"), findings


def check_source(path: str, raw: bytes, context: SourceContext) -> CheckedSource:
    """Decode, parse and walk one file, reporting every finding.

    A large file is checked in pieces on several cores when it can be (see `parallel`); the
    outcome is the same as checking it whole.
    """
    text, findings = decode_source(path, raw)
    if text is None:
        return CheckedSource(findings, None)
    pieces = pieces_for(text)
    checked = check_in_pieces(path, text, context, pieces) if pieces > 1 else None
    if checked is None:
        checked, _tree = check_text(path, text, context)
    return CheckedSource(findings + checked.findings, checked.statements, checked.facts)


def _encoding_declaration(path: str, raw: bytes) -> list[Finding]:
    # Python honours a PEP 263 cookie when it imports bytes, so `# coding: utf-7` would make the
    # interpreter run different code from the text checked here.
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as exc:
        return [Finding(Code.BAD_ENCODING_DECLARATION, f"bad encoding declaration: {exc}", path, 1, 1)]
    if encoding not in ("utf-8", "utf-8-sig"):
        message = f"source declares encoding {encoding!r}; only UTF-8 is accepted"
        return [Finding(Code.BAD_ENCODING_DECLARATION, message, path, 1, 1)]
    return []


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, offset - line_start + 1
