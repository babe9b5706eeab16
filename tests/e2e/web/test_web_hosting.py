"""Firebase Hosting of the website: `farm functions --firebase-json` serves web/dist, keeps a
rewrite per HTTP function ahead of the site's own fallback, and names a build that exists."""

from __future__ import annotations

import json

import pytest

from farm.cli import main as farm_main
from farm.commands.functions import firebase_config
from functions.registry import FUNCTIONS, HttpTrigger
from tests.e2e.web.web_stack import REPO, ensure_site_built


def test_hosting_serves_the_built_site_with_every_function_rewrite_before_its_fallback() -> None:
    hosting = firebase_config(FUNCTIONS, region="europe-west1")["hosting"]
    rewrites = hosting["rewrites"]
    assert hosting["public"] == "web/dist"
    assert rewrites[-1] == {"source": "**", "destination": "/index.html"}
    served = {r["function"]["functionId"] for r in rewrites[:-1]}
    assert served == {s.name for s in FUNCTIONS if isinstance(s.trigger, HttpTrigger)}
    assert all("destination" not in r for r in rewrites[:-1])
    assert (REPO / hosting["public"]).resolve() == ensure_site_built().resolve()
    assert (REPO / hosting["public"] / "index.html").is_file()
    cache = {h["source"]: h["headers"][0]["value"] for h in hosting["headers"]}
    assert "immutable" in cache["/assets/**"] and cache["/index.html"] == "no-cache"


def test_farm_functions_prints_the_hosting_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert farm_main(["functions", "--firebase-json", "--region", "us-east1"]) == 0
    hosting = json.loads(capsys.readouterr().out)["hosting"]
    assert hosting["public"] == "web/dist" and hosting["predeploy"] == ["bash scripts/build-web.sh"]
