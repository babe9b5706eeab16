"""The function registry and what is generated from it: main.py, deploy commands, Hosting."""

from __future__ import annotations

import importlib
import json
import shlex

import pytest

import main
from farm.cli import main as farm_main
from farm.commands.functions import deploy_command, firebase_config, function_table
from functions.registry import (
    FUNCTIONS,
    FunctionSpec,
    HttpTrigger,
    TopicTrigger,
    by_name,
    check_unique,
)
from tests.functions.sample_functions import ECHO, ON_CREATED, ON_TOPIC, PAGE, SAMPLE_SPECS

HEALTHZ = by_name("farm-healthz")


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_every_registered_module_imports_and_exposes_its_entry_point(spec: FunctionSpec) -> None:
    module = importlib.import_module(spec.module)
    assert callable(getattr(module, spec.entry_point))


def test_main_py_exports_every_entry_point_for_gcloud_deploy() -> None:
    assert sorted(main.__all__) == sorted(s.entry_point for s in FUNCTIONS)
    for spec in FUNCTIONS:
        module = importlib.import_module(spec.module)
        assert getattr(main, spec.entry_point) is getattr(module, spec.entry_point)


def test_the_registry_starts_with_a_public_healthz() -> None:
    healthz = FUNCTIONS[0]
    assert (healthz.name, healthz.entry_point, healthz.public) == ("farm-healthz", "healthz", True)
    assert healthz.trigger == HttpTrigger("/healthz", ("GET",))
    assert by_name("farm-healthz") is healthz


def test_names_entry_points_and_paths_must_be_unique() -> None:
    check_unique(FUNCTIONS + SAMPLE_SPECS)
    clash = FunctionSpec("other", "m", "sample_echo", HttpTrigger("/other"))
    with pytest.raises(ValueError, match="entry point"):
        check_unique((ECHO, clash))
    same_path = FunctionSpec("other", "m", "other", HttpTrigger(ECHO.trigger.path))
    with pytest.raises(ValueError, match="HTTP path"):
        check_unique((ECHO, same_path))


def test_bad_triggers_are_rejected_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="start with '/'"):
        HttpTrigger("healthz")
    with pytest.raises(ValueError, match="methods"):
        HttpTrigger("/x", ("FETCH",))
    with pytest.raises(KeyError, match="known"):
        by_name("farm-nope")


def test_an_http_deploy_command_is_gen2_from_the_repo_root() -> None:
    argv = deploy_command(FUNCTIONS[0], project="acme", region="europe-west1")
    assert argv[:5] == ["gcloud", "functions", "deploy", "farm-healthz", "--gen2"]
    expected = {
        "--runtime=python311",
        "--source=.",
        "--entry-point=healthz",
        "--region=europe-west1",
        "--trigger-http",
        "--allow-unauthenticated",
        "--memory=256Mi",
        "--timeout=60s",
        "--max-instances=20",
    }
    assert expected <= set(argv)
    assert not any(arg.startswith("--cpu") for arg in argv)  # the memory tier's default
    private = deploy_command(ECHO, project="acme", region="r")
    assert "--no-allow-unauthenticated" in private


def test_the_submission_function_gets_the_cores_validation_splits_large_sources_over() -> None:
    argv = deploy_command(by_name("farm-agents"), project="acme", region="r")
    assert {"--memory=1Gi", "--cpu=2"} <= set(argv)


def test_event_deploy_commands_name_their_topic_or_document_filters() -> None:
    topic = deploy_command(ON_TOPIC, project="acme", region="r")
    assert "--trigger-topic=sample-topic" in topic and "--retry" in topic
    document = deploy_command(ON_CREATED, project="acme", region="r")
    assert "--trigger-event-filters=type=google.cloud.firestore.document.v1.created" in document
    assert "--trigger-event-filters=database=(default)" in document
    assert "--trigger-event-filters-path-pattern=document=samples/{doc_id}" in document
    assert "--trigger-http" not in topic + document


def test_firebase_rewrites_cover_every_http_function_with_wildcards_for_parameters() -> None:
    config = firebase_config((HEALTHZ, *SAMPLE_SPECS), region="r")
    rewrites = {r["source"]: r["function"]["functionId"]
                for r in config["hosting"]["rewrites"] if "function" in r}
    assert rewrites == {
        "/healthz": "farm-healthz",
        "/api/samples/*": "sample-echo",
        "/api/pages/*": "sample-page",
        "/api/fail/*": "sample-fail",
        "/api/result/*": "sample-result",
    }
    assert config["hosting"]["rewrites"][0]["source"] == "/healthz"  # literal paths first


def test_the_function_table_lists_every_function_with_its_trigger() -> None:
    table = function_table((HEALTHZ, PAGE, ON_TOPIC, ON_CREATED)).splitlines()
    assert table[0].split() == ["NAME", "TRIGGER", "ROUTE", "/", "SOURCE", "ENTRY", "POINT"]
    assert table[1].split()[:4] == ["farm-healthz", "http", "GET", "/healthz"]
    assert table[3].split()[:3] == ["sample-on-topic", "pubsub", "sample-topic"]
    assert table[4].split()[:4] == ["sample-on-created", "firestore", "samples", "created"]


def test_farm_functions_prints_runnable_commands_and_valid_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["functions", "--deploy-commands", "--project", "acme", "--region", "us-central1"]
    assert farm_main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(FUNCTIONS)
    expected = deploy_command(FUNCTIONS[0], project="acme", region="us-central1")
    assert shlex.split(lines[0]) == expected
    assert farm_main(["functions", "--firebase-json"]) == 0
    assert "rewrites" in json.loads(capsys.readouterr().out)["hosting"]
    assert farm_main(["functions"]) == 0
    assert "farm-healthz" in capsys.readouterr().out


def test_topic_triggers_describe_themselves() -> None:
    assert FunctionSpec("n", "m", "e", TopicTrigger("t")).describe_trigger() == ("pubsub", "t")
