"""What a function deployment uploads is enough to load every function.

`gcloud functions deploy --source=.` uploads the repository minus `.gcloudignore`; terraform zips
it minus its `archive_file` excludes. Either way functions-framework then imports `main.py`, which
imports every registry module, so a helper package (functions/edge, functions/openapi_document)
or a shared module that the upload leaves out, or an import of a folder it excludes (farm/,
runtime/, ingester/), fails only at deploy time. Here each upload is rebuilt from the tracked
files and `main` imported from it in a fresh interpreter.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [path for path in out.stdout.splitlines() if (ROOT / path).is_file()]


def _gcloud_upload() -> set[str]:
    ignored = subprocess.run(
        ["git", "ls-files", "--cached", "--ignored", "--exclude-from=.gcloudignore"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    return set(_tracked()) - set(ignored)


def _terraform_upload() -> set[str]:
    storage = (ROOT / "terraform" / "storage.tf").read_text()
    block = re.search(r'data "archive_file" "source" \{(.*?)\n\}', storage, re.DOTALL)
    assert block, "terraform/storage.tf has no archive_file.source"
    excludes_line = re.search(r"excludes\s*=\s*\[(.*?)\]", block.group(1), re.DOTALL)
    assert excludes_line, "archive_file.source has no excludes"
    excludes = re.findall(r'"([^"]+)"', excludes_line.group(1))
    return {p for p in _tracked() if not any(p == e or p.startswith(e + "/") for e in excludes)}


@pytest.mark.parametrize("upload", [_gcloud_upload, _terraform_upload], ids=["gcloud", "terraform"])
def test_the_uploaded_source_loads_every_function_entry_point(
    upload: Callable[[], set[str]], tmp_path: Path
) -> None:
    files = upload()
    assert "main.py" in files
    assert {"functions/edge/__init__.py", "functions/openapi_document/__init__.py"} <= files
    for path in files:
        if path.endswith(".py") or path == "requirements.txt" or path.startswith("jobs/"):
            target = tmp_path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / path, target)
    check = (
        # This venv installs the repository in editable mode: its finder would fill any gap in
        # the upload from the working tree, so it goes first.
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in str(f.__module__)];"
        "import main; from functions.registry import FUNCTIONS;"
        "missing = [s.entry_point for s in FUNCTIONS if not callable(getattr(main, s.entry_point, None))];"
        "outside = sorted({m.split('.')[0] for m in sys.modules} & {'farm', 'runtime', 'ingester', 'tests'});"
        "print(len(FUNCTIONS), missing, outside)"
    )
    result = subprocess.run([sys.executable, "-c", check], check=False, cwd=tmp_path, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    count, missing, outside = result.stdout.strip().split(" ", 2)
    assert int(count) > 40 and missing == "[]" and outside == "[]", result.stdout
