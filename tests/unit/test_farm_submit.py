"""`farm submit` against the real agents API: the local function host on a free port.

The host serves the registry's functions over HTTP on embedded stores (tests/functions/
agents_stack), tokens are minted and verified with the same local key, and the command posts
real multipart bodies; the agent documents it creates are read back from the store.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from farm import cli
from farm.host import FunctionHost
from shared.app import Application
from shared.schemas.collections import AGENTS
from tests.fixtures.common import AFTER_STORED
from tests.functions.agents_stack import Tokens, agent_source, local_platform, running_host

ROOT = Path(__file__).resolve().parents[2]
BAD_AGENT = (
    "import os\nimport backtrader as bt\n\n\nclass Agent(bt.Strategy):\n    def next(self):\n        eval('1')\n"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[FunctionHost, Application, Path]]:
    data_dir = tmp_path_factory.mktemp("farm-submit")
    platform = local_platform(data_dir, redis_url, ("requests=1000/60", "submissions=1000/60"))
    with running_host(platform) as host:
        yield host, platform, data_dir


@pytest.fixture
def host(stack: tuple[FunctionHost, Application, Path], monkeypatch: pytest.MonkeyPatch) -> FunctionHost:
    # The command mints tokens with the key under FARM_DATA_DIR: the host's own.
    for name in [k for k in os.environ if k.startswith("FARM_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FARM_DATA_DIR", str(stack[2]))
    return stack[0]


@pytest.fixture
def platform(stack: tuple[FunctionHost, Application, Path]) -> Application:
    return stack[1]


def new_user() -> str:
    return f"user-{uuid.uuid4().hex[:10]}"


def agent_file(tmp_path: Path, source: str | None = None, name: str = "sma_cross.py") -> Path:
    path = tmp_path / name
    path.write_text(source if source is not None else agent_source(int(uuid.uuid4().int % 10**9)))
    return path


def submitted_id(out: str) -> str:
    line = out.strip().splitlines()[-1]
    assert line.startswith("agent ") and line.endswith(": stored"), out
    return line.split()[1].rstrip(":")


def test_a_py_file_is_stored_with_its_name_description_and_tags_for_the_minted_user(
    host: FunctionHost, platform: Application, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = new_user()
    args = ["submit", str(agent_file(tmp_path)), "--name", "Golden cross", "--description", "50/200 SMA",
            "--tags", "momentum,daily", "--user", user, "--url", host.url]

    assert cli.main(args) == 0

    agent = platform.documents.get(AGENTS, submitted_id(capsys.readouterr().out))
    assert agent["owner_uid"] == user and agent["status"] in AFTER_STORED
    assert (agent["name"], agent["description"], agent["tags"]) == ("Golden cross", "50/200 SMA", ["momentum", "daily"])


def test_a_zip_bundle_with_a_requirements_file_is_stored_and_named_after_the_file(
    host: FunctionHost, platform: Application, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = tmp_path / "mean_revert.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("agent.py", "import scipy\nfrom helpers import WINDOW\n" + agent_source(7))
        archive.writestr("helpers.py", "WINDOW = 20\n")
    bundle.write_bytes(buffer.getvalue())
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("scipy==1.16.2\n")

    code = cli.main(["submit", str(bundle), "--requirements", str(requirements), "--user", new_user(),
                     "--url", host.url])

    assert code == 0
    agent = platform.documents.get(AGENTS, submitted_id(capsys.readouterr().out))
    assert agent["name"] == "mean_revert"
    assert {"agent.py", "helpers.py", "requirements.txt"} <= set(agent["files"])


def test_the_token_comes_from_farm_token_when_no_user_is_given(
    host: FunctionHost, platform: Application, stack: tuple[FunctionHost, Application, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = new_user()
    monkeypatch.setenv("FARM_TOKEN", Tokens(stack[2])(user))

    assert cli.main(["submit", str(agent_file(tmp_path)), "--url", host.url]) == 0

    assert platform.documents.get(AGENTS, submitted_id(capsys.readouterr().out))["owner_uid"] == user


def test_a_rejected_agent_lists_every_finding_as_file_line_col_code_message_and_exits_1(
    host: FunctionHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = agent_file(tmp_path, BAD_AGENT, name="bad.py")

    assert cli.main(["submit", str(path), "--user", new_user(), "--url", host.url]) == 1

    err = capsys.readouterr().err
    assert "farm submit: bad.py rejected: agent failed validation with 2 errors" in err
    lines = [line.strip() for line in err.splitlines()[1:]]
    assert lines[0].startswith("agent.py:1:1 forbidden_import ") and "'os'" in lines[0]
    assert lines[1].startswith("agent.py:7:9 forbidden_name ") and "eval" in lines[1]


def test_the_same_code_twice_is_a_conflict_with_exit_code_2(
    host: FunctionHost, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, user = agent_file(tmp_path), new_user()
    assert cli.main(["submit", str(path), "--user", user, "--url", host.url]) == 0

    assert cli.main(["submit", str(path), "--user", user, "--url", host.url]) == 2
    assert "farm submit: 409 conflict:" in capsys.readouterr().err


def test_a_bad_token_is_refused_with_exit_code_2(
    host: FunctionHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FARM_TOKEN", "not-a-token")

    assert cli.main(["submit", str(agent_file(tmp_path)), "--url", host.url]) == 2
    assert "farm submit: 401 unauthenticated:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}", "--user", "u"], "does not exist or is not a file"),
        (["{txt}", "--user", "u"], "an agent is a .py file or a .zip bundle, not '.txt'"),
        (["{py}", "--user", "u", "--requirements", "{missing}"], "requirements file"),
        (["{py}"], "give --user alice (local stack) or set FARM_TOKEN"),
        (["{py}", "--user", "u", "--url", "http://127.0.0.1:1"], "is `farm up` running?"),
    ],
    ids=["missing file", "wrong suffix", "missing requirements", "no token", "unreachable API"],
)
def test_bad_input_and_an_unreachable_api_exit_2_with_a_clear_message(
    host: FunctionHost, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    paths = {"missing": str(tmp_path / "nope.py"), "txt": str(agent_file(tmp_path, "x", "notes.txt")),
             "py": str(agent_file(tmp_path))}

    assert cli.main(["submit", *(a.format(**paths) for a in args)]) == 2
    assert message in capsys.readouterr().err


def test_the_farm_command_submits_from_a_shell_with_farm_token_set(
    host: FunctionHost, platform: Application, stack: tuple[FunctionHost, Application, Path], tmp_path: Path
) -> None:
    user = new_user()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FARM_")}
    env |= {"FARM_DATA_DIR": str(stack[2]), "FARM_TOKEN": Tokens(stack[2])(user)}

    done = subprocess.run([sys.executable, "-m", "farm", "submit", str(agent_file(tmp_path)), "--url", host.url],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert platform.documents.get(AGENTS, submitted_id(done.stdout))["owner_uid"] == user
