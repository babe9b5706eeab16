"""The site built for Google Cloud signs in with Firebase Authentication, whose SDK is a chunk of
its own loaded only when someone signs in.

The same sources are built with a (dummy) Firebase web config and served by a real `farm up`;
the browser never leaves this machine: every request to another host is aborted in the browser
and recorded, which shows the SDK tried to reach Firebase's sign-in service.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.web.web_stack import WEB, ensure_site_built, farm_up

FIREBASE_ENV = {
    "VITE_FIREBASE_API_KEY": "test-api-key",
    "VITE_FIREBASE_AUTH_DOMAIN": "farm-test.firebaseapp.com",
    "VITE_FIREBASE_PROJECT_ID": "farm-test",
}


def _build_for_firebase(out: Path) -> Path:
    ensure_site_built()  # node_modules from the lockfile
    subprocess.run([str(WEB / "node_modules" / ".bin" / "vite"), "build", "--outDir", str(out), "--emptyOutDir"],
                   cwd=WEB, env=os.environ | FIREBASE_ENV, check=True, capture_output=True, timeout=300)
    return out


def test_a_firebase_build_loads_the_sdk_only_to_sign_in(tmp_path: Path, new_page: Callable[..., Any],
                                                        artifacts: Path) -> None:
    site = _build_for_firebase(tmp_path / "site")
    with farm_up(tmp_path / "data", args=("--no-market-data", "--site", str(site))) as up:
        page = new_page()
        scripts: list[str] = []
        left: list[str] = []

        def stay_local(route: Any) -> None:
            if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                left.append(route.request.url)
                route.abort()

        page.route("**/*", stay_local)
        page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
        page.goto(up.url + "/sign-in")
        page.get_by_role("button", name="Sign in with Google").wait_for()
        assert page.get_by_role("button", name="Sign in locally").count() == 0
        assert not [u for u in scripts if "/assets/firebase-" in u]  # not before it is needed
        page.get_by_label("Email").fill("alice@example.com")
        page.get_by_label("Password").fill("not-a-real-password")
        page.get_by_role("button", name="Sign in with email").click()
        refused = page.locator("[role=alert]")
        refused.wait_for()
        page.screenshot(path=str(artifacts / "11-firebase-sign-in-offline.png"), full_page=True)
        assert "network" in refused.inner_text().lower()
        assert [u for u in scripts if "/assets/firebase-" in u]
        assert any("identitytoolkit.googleapis.com" in u for u in left), left
