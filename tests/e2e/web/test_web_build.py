"""The built website: a JavaScript budget, nothing loaded from another origin, a lockfile.

Reads web/dist as `make web` (scripts/build-web.sh: `npm ci` from the lockfile, then
`tsc --noEmit && vite build`) leaves it.
"""

from __future__ import annotations

import gzip
import json
import re

from tests.e2e.web.web_stack import WEB, ensure_site_built

BUDGET_GZIP_BYTES = 250 * 1024  # every script the site can load, gzipped
FIRST_LOAD_GZIP_BYTES = 60 * 1024  # what the leaderboard needs before it can show anything


def _gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9))


def test_the_javascript_stays_within_its_budget_and_charts_and_firebase_load_on_demand() -> None:
    dist = ensure_site_built()
    scripts = {p.name: _gzipped(p.read_bytes()) for p in (dist / "assets").glob("*.js")}
    index = (dist / "index.html").read_text()
    entry = re.findall(r'src="/assets/([^"]+\.js)"', index)
    preloaded = re.findall(r'href="/assets/([^"]+\.js)"', index)
    first_load = sum(scripts[name] for name in entry + preloaded)
    total = sum(scripts.values())
    print("\nweb/dist scripts, gzipped bytes:", json.dumps(scripts, indent=1),
          f"\nfirst load {first_load} B, all scripts {total} B (budget {BUDGET_GZIP_BYTES} B)")
    assert total <= BUDGET_GZIP_BYTES
    assert len(entry) == 1 and first_load <= FIRST_LOAD_GZIP_BYTES
    lazy = {name.split("-")[0] for name in scripts} - {entry[0].split("-")[0]}
    assert {"charts", "firebase"} <= lazy  # their own chunks, never in the first load


def test_the_site_loads_nothing_from_another_origin() -> None:
    dist = ensure_site_built()
    index = (dist / "index.html").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', index)
    for path in (dist / "assets").iterdir():
        text = path.read_text(errors="replace")
        # No script, stylesheet or font fetched from a CDN (links in comments and licences aside).
        assert not re.search(r"""import\(\s*["']https?://|@import\s+url\(["']?https?://""", text), path.name
        assert "fonts.googleapis.com" not in text and "unpkg.com" not in text and "jsdelivr" not in text


def test_dependencies_are_pinned_by_a_committed_lockfile() -> None:
    package = json.loads((WEB / "package.json").read_text())
    lock = json.loads((WEB / "package-lock.json").read_text())
    wanted = {**package["dependencies"], **package["devDependencies"]}
    assert "lightweight-charts" in wanted and "vite" in wanted and "axe-core" in wanted
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
