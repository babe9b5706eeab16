from pathlib import Path

import pytest

from shared.errors import SettingsError
from shared.settings import Settings


def test_defaults_to_the_embedded_backend_under_dot_farm():
    settings = Settings.from_env({})
    assert settings.backend == "local"
    assert settings.data_dir == Path(".farm")


def test_reads_typed_values_from_farm_variables():
    settings = Settings.from_env(
        {"FARM_DATA_DIR": "/tmp/x", "FARM_PORT": "9000", "FARM_CORS_ORIGINS": "https://a, https://b"}
    )
    assert settings.data_dir == Path("/tmp/x")
    assert settings.port == 9000
    assert settings.cors_origins == ("https://a", "https://b")


def test_rejects_an_unknown_farm_variable_by_name():
    with pytest.raises(SettingsError, match="FARM_BAKEND"):
        Settings.from_env({"FARM_BAKEND": "gcp"})


def test_ignores_variables_without_the_prefix():
    assert Settings.from_env({"HOME": "/root", "PUBSUB_EMULATOR_HOST": "x"}).backend == "local"


def test_gcp_backend_names_the_missing_project_setting():
    with pytest.raises(SettingsError, match="FARM_GCP_PROJECT"):
        Settings.from_env({"FARM_BACKEND": "gcp"})


def test_rejects_an_unknown_backend():
    with pytest.raises(SettingsError, match="FARM_BACKEND"):
        Settings.from_env({"FARM_BACKEND": "azure"})


def test_malformed_number_names_the_variable():
    with pytest.raises(SettingsError, match="FARM_PORT"):
        Settings.from_env({"FARM_PORT": "eighty"})


def test_settings_are_frozen():
    settings = Settings.from_env({})
    with pytest.raises(AttributeError):
        settings.backend = "gcp"  # type: ignore[misc]


def test_the_gke_cluster_is_in_the_region_unless_a_location_is_given():
    settings = Settings.from_env(
        {"FARM_GCP_PROJECT": "p", "FARM_GCP_REGION": "europe-west1", "FARM_GKE_CLUSTER": "farm"}
    )
    assert (settings.gke_cluster, settings.gke_cluster_location) == ("farm", "europe-west1")
    zonal = Settings.from_env({"FARM_GCP_PROJECT": "p", "FARM_GKE_CLUSTER": "farm", "FARM_GKE_LOCATION": "us-east1-b"})
    assert zonal.gke_cluster_location == "us-east1-b"
    assert Settings.from_env({}).gke_cluster is None  # unset: in-cluster config or the kubeconfig


def test_a_gke_cluster_needs_the_project_it_is_in():
    with pytest.raises(SettingsError, match="FARM_GCP_PROJECT is required when FARM_GKE_CLUSTER"):
        Settings.from_env({"FARM_GKE_CLUSTER": "farm"})
