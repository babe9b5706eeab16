"""Fixtures of the website's browser tests: the built site, Debian's chromium, a real `farm up`.

Screenshots and axe-core results go to one directory per run, printed at the start
($WEB_ARTIFACTS_DIR to choose it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.web.web_stack import AXE, REPORT, artifacts_dir, chromium_path, ensure_site_built

SERIOUS = ("serious", "critical")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are and what axe-core found, whether or not output was captured."""
    if REPORT["artifacts"] is None:
        return
    terminalreporter.section("website: screenshots and axe-core")
    terminalreporter.write_line(f"screenshots and axe.json in {REPORT['artifacts']}")
    for page, violations in REPORT["axe"].items():
        found = ", ".join(f"{v['id']} ({v['impact']}, {v['nodes']} nodes)" for v in violations) or "none"
        terminalreporter.write_line(f"axe-core on {page}: violations: {found}")
    for note in REPORT["notes"]:
        terminalreporter.write_line(note)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = artifacts_dir()
    REPORT["artifacts"] = path
    print(f"\nwebsite test artifacts (screenshots, axe results): {path}")
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium driven by Playwright; skipped only when chromium is missing."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed and scripts/install-browser.sh could not install it "
                    "(apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")
    ensure_site_built()
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open pages in fresh contexts (own storage); every one closed after the test."""
    contexts: list[Any] = []

    def open_page(width: int = 1280, height: int = 900) -> Any:
        # bypass_csp: axe-core is injected as an inline script, which the site's CSP forbids.
        context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True,
                                      accept_downloads=True)
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: print(f"  page error: {exc}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def axe_results(artifacts: Path) -> Iterator[dict[str, Any]]:
    """Every page's axe-core violations, written to axe.json at the end of the run."""
    results: dict[str, Any] = {}
    yield results
    (artifacts / "axe.json").write_text(json.dumps(results, indent=1))


@pytest.fixture
def check_a11y(axe_results: dict[str, Any]) -> Callable[[Any, str], list[dict[str, Any]]]:
    """Run axe-core (from web/node_modules) on the page; print and return its violations."""

    def run(page: Any, name: str) -> list[dict[str, Any]]:
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        axe_results[name] = REPORT["axe"][name] = violations
        summary = ", ".join(f"{v['id']} ({v['impact']}, {v['nodes']})" for v in violations) or "none"
        print(f"  axe-core on {name}: violations: {summary}")
        return [v for v in violations if v["impact"] in SERIOUS]

    return run
