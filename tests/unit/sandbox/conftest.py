"""A real bubblewrap sandbox over a project-like tree with a data dir full of secrets.

The tests skip, with bubblewrap's own reason, only where no sandbox can start (bwrap missing,
user namespaces disabled); `scripts/install-system-deps.sh` installs bubblewrap.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.adapters.local.sandbox import (
    PROJECT_ROOT,
    BubblewrapSandbox,
    SandboxConfig,
)
from shared.errors import SandboxUnavailableError
from tests.unit.sandbox.probes import PROBE_PACKAGE, Project


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("project")
    source = root / "shared"
    source.mkdir()
    (source / "__init__.py").write_text('"""the platform"""\n')
    data = root / ".farm"
    (data / "keys").mkdir(parents=True)
    (data / "bundles" / "alice").mkdir(parents=True)
    key = data / "keys" / "signing.key"
    key.write_text("-----BEGIN PRIVATE KEY----- not for agents")
    bundle = data / "bundles" / "alice" / "bundle.zip"
    bundle.write_bytes(b"PK alice's strategy")
    return Project(root, source, data, key, bundle)


@pytest.fixture(scope="session")
def sandbox(project: Project) -> BubblewrapSandbox:
    box = BubblewrapSandbox(SandboxConfig(packages=(project.source, PROBE_PACKAGE),
                                          hidden=(project.data, PROJECT_ROOT / ".farm")))
    try:
        box.check()
    except SandboxUnavailableError as exc:
        pytest.skip(f"no bubblewrap sandbox on this machine: {exc.message}")
    return box


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path
