"""The duplicate-detection hash: equal for copies that differ only in comments or formatting.

Python modules are hashed as their syntax tree without positions, comments, docstrings or any
other bare string statement (`ast.dump(..., include_attributes=False)`), so a re-indented,
re-quoted or re-commented copy of an agent hashes like the original. requirements.txt is hashed
as its sorted requirement lines without comments; documentation files are left out; other data
files count byte for byte. The digest is tagged with the Python version, whose AST it depends on.
"""

from __future__ import annotations

import ast
import hashlib
import sys
import warnings
from pathlib import PurePosixPath

from shared.validation import policy
from shared.validation.source_checks import gc_paused

_DOC_SUFFIXES = frozenset({".md", ".rst", ".txt"})
_DOC_STEMS = frozenset({"README", "LICENSE"})
_VERSION_TAG = f"ast-{sys.version_info.major}.{sys.version_info.minor}-v1".encode()
_BODY_FIELDS = ("body", "orelse", "finalbody")


def normalised_code_hash(files: dict[str, bytes]) -> str:
    """Hex sha256 over every code and data file's normalised content, in name order."""
    digest = hashlib.sha256(_VERSION_TAG)
    for name in sorted(files):
        content = _normalised(name, files[name])
        if content is None:
            continue
        encoded = name.encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def _normalised(name: str, content: bytes) -> bytes | None:
    path = PurePosixPath(name)
    if path.suffix == ".py":
        return normalised_source(content)
    if name == policy.REQUIREMENTS_FILE:
        lines = (line.split("#", 1)[0].strip() for line in content.decode("utf-8", "replace").splitlines())
        return "\n".join(sorted(line for line in lines if line)).encode()
    if path.suffix.lower() in _DOC_SUFFIXES or path.stem.upper() in _DOC_STEMS:
        return None  # documentation does not change what the agent does
    return content


def normalised_source(content: bytes) -> bytes:
    """The module's tree without positions and bare strings; the raw bytes if it does not parse."""
    with gc_paused():  # a syntax tree holds no cycles; collections would triple the time
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(content)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return b"raw:" + content
        _drop_bare_strings(tree)
        return ast.dump(tree, include_attributes=False).encode()


def _drop_bare_strings(tree: ast.Module) -> None:
    # Only statements hold statement lists, so walk statements, not every node.
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for field in _BODY_FIELDS:
            body = getattr(node, field, None)
            if type(body) is not list:
                continue
            if any(_bare_string(stmt) for stmt in body):
                body = [stmt for stmt in body if not _bare_string(stmt)]
                setattr(node, field, body)
            stack.extend(stmt for stmt in body if isinstance(stmt, ast.stmt))
        stack.extend(getattr(node, "handlers", ()))  # try: except bodies
        stack.extend(getattr(node, "cases", ()))  # match: case bodies


def _bare_string(stmt: ast.stmt) -> bool:
    # Docstrings and other string statements do nothing when the code runs.
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )
