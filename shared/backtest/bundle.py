"""The agent's code inside a backtest: unpack its bundle, import its `Agent`, blame its frames.

Only the sandboxed step calls `load_agent`: importing user code runs it.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

import backtrader as bt

from shared.errors import ValidationFailedError
from shared.validation import policy
from shared.validation.bundle import open_zip

MODULE_NAME = "farm_user_agent"


def extract_bundle(data: bytes, dest: Path) -> Path:
    """Unpack a stored bundle zip into `dest` (re-screened: traversal, bombs, symlinks)."""
    bundle, findings = open_zip(data)
    if bundle is None:
        reasons = "; ".join(f.message for f in findings) or "unreadable"
        raise ValidationFailedError(f"the agent bundle cannot be unpacked: {reasons}")
    dest.mkdir(parents=True, exist_ok=True)
    for name, content in bundle.files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return dest


def load_agent(bundle_dir: Path) -> type[bt.Strategy]:
    """Import the bundle's entry module and return its `Agent` strategy class."""
    entry = bundle_dir / policy.ENTRY_MODULE
    # The bundle's own helper modules import by plain name, so its folder goes on the path.
    sys.path.insert(0, str(bundle_dir))
    spec = importlib.util.spec_from_file_location(MODULE_NAME, entry)
    if spec is None or spec.loader is None:
        raise ValidationFailedError(f"cannot import {policy.ENTRY_MODULE} from the bundle")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    agent = getattr(module, policy.AGENT_CLASS, None)
    if not (isinstance(agent, type) and issubclass(agent, bt.Strategy)):
        raise ValidationFailedError(f"{policy.ENTRY_MODULE} defines no `{policy.AGENT_CLASS}(bt.Strategy)`")
    return agent


def user_traceback(exc: BaseException, bundle_dir: Path) -> str:
    """Format `exc` with only the frames of the agent's own files (paths relative to the bundle)."""
    root = str(bundle_dir.resolve())
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        path = str(Path(frame.filename).resolve())
        if path.startswith(root + "/"):
            frame.filename = path[len(root) + 1 :]
            frames.append(frame)
    lines = ["Traceback (most recent call last, agent code only):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)
