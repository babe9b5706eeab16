"""Read terraform/*.tf with python-hcl2 into plain dicts (quotes stripped) for the infra tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unquote(k): _clean(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return _unquote(value) if isinstance(value, str) else value


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


@cache
def model() -> dict[str, Any]:
    """All blocks of all .tf files: resources by type then name, locals, variables, data."""
    out: dict[str, Any] = {"resource": {}, "locals": {}, "variable": {}, "data": {}, "output": {}}
    for path in sorted(TERRAFORM.glob("*.tf")):
        parsed = _clean(hcl2.load(path.open()))
        for block in parsed.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    assert name not in out["resource"].setdefault(rtype, {}), f"duplicate {rtype}.{name}"
                    out["resource"][rtype][name] = body
        for block in parsed.get("locals", []):
            out["locals"].update(block)
        for kind in ("variable", "data", "output"):
            for block in parsed.get(kind, []):
                out[kind].update(block)
    return out


def resources(rtype: str) -> dict[str, dict[str, Any]]:
    """Resources of one type, by name (empty when none)."""
    return model()["resource"].get(rtype, {})


def text() -> str:
    """Every .tf file's text, for checks on expressions."""
    return "\n".join(p.read_text() for p in sorted(TERRAFORM.glob("*.tf")))
