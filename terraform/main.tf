# The Farm on one Google Cloud project. Names of functions, tables, topics, indexes, secrets and
# Workload Identity accounts come from generated/*.json, written by `farm infra generate` from
# the code's registries (functions/registry.py, shared/schemas/, the Kubernetes manifests);
# `farm infra check` and tests/infra fail when they are stale. Do not hand-edit generated/.

terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.4"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}

data "google_project" "this" {}

locals {
  functions         = jsondecode(file("${path.module}/generated/functions.json"))
  tables            = jsondecode(file("${path.module}/generated/tables.json"))
  topic_config      = jsondecode(file("${path.module}/generated/topics.json"))
  topics            = local.topic_config.topics
  firestore_indexes = jsondecode(file("${path.module}/generated/firestore_indexes.json"))
  secret_envs       = jsondecode(file("${path.module}/generated/secrets.json"))
  workloads         = jsondecode(file("${path.module}/generated/workloads.json"))

  datasets     = toset([for t in local.tables : t.dataset])
  bucket       = coalesce(var.bucket, "${var.project}-farm") # Settings.blob_bucket's default
  image_prefix = "${var.region}-docker.pkg.dev/${var.project}/${google_artifact_registry_repository.farm.repository_id}"
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Every function gets the same platform settings (shared.settings reads FARM_*). The cluster is
  # in var.region, FARM_GKE_LOCATION's default.
  function_env = {
    FARM_BACKEND      = "gcp"
    FARM_GCP_PROJECT  = var.project
    FARM_GCP_REGION   = var.region
    FARM_BUCKET       = local.bucket
    FARM_CORS_ORIGINS = join(",", var.website_origins)
    FARM_GKE_CLUSTER  = google_container_cluster.farm.name
    FARM_GKE_ENDPOINT = "private" # through the VPC connector (authorised in gke.tf)
  }
}
