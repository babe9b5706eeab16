# Every Cloud Function Gen2 of functions/registry.py (generated/functions.json): one resource
# block, one instance per function. Terraform owns the configuration; Cloud Build redeploys the
# code with `farm functions --deploy-commands`, generated from the same registry, hence
# ignore_changes on the source.
resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions
  name     = each.key
  location = var.region
  labels   = { app = "farm" }

  build_config {
    runtime     = "python311"
    entry_point = each.value.entry_point # main.py re-exports every registry entry point
    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory               = each.value.memory
    available_cpu                  = each.value.cpu # null: the memory tier's default
    timeout_seconds                = each.value.timeout_s
    min_instance_count             = each.value.min_instances
    max_instance_count             = each.value.max_instances
    service_account_email          = local.sa["functions"].email
    vpc_connector                  = google_vpc_access_connector.functions.id
    vpc_connector_egress_settings  = "PRIVATE_RANGES_ONLY" # Redis and the GKE control plane via the connector; Google APIs direct
    ingress_settings               = each.value.trigger.kind == "http" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    environment_variables          = local.function_env

    secret_environment_variables {
      key        = "FARM_REDIS_URL"
      project_id = var.project
      secret     = google_secret_manager_secret.redis_url.secret_id
      version    = "latest"
    }

    dynamic "secret_environment_variables" {
      for_each = toset(each.value.secret_envs)
      content {
        key        = secret_environment_variables.value
        project_id = var.project
        secret     = google_secret_manager_secret.alpaca[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  dynamic "event_trigger" {
    for_each = each.value.trigger.kind == "pubsub" ? [each.value.trigger] : []
    content {
      trigger_region        = var.region
      event_type            = event_trigger.value.event_type
      pubsub_topic          = google_pubsub_topic.topic[event_trigger.value.topic].id
      retry_policy          = "RETRY_POLICY_RETRY" # handlers raise only for transient errors
      service_account_email = local.sa["invoker"].email
    }
  }

  dynamic "event_trigger" {
    for_each = each.value.trigger.kind == "firestore" ? [each.value.trigger] : []
    content {
      trigger_region        = var.region
      event_type            = event_trigger.value.event_type
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = local.sa["invoker"].email
      event_filters {
        attribute = "database"
        value     = google_firestore_database.default.name
      }
      event_filters {
        attribute = "document"
        value     = event_trigger.value.document
        operator  = "match-path-pattern"
      }
    }
  }

  lifecycle {
    ignore_changes = [build_config[0].source, build_config[0].docker_repository]
  }
  depends_on = [google_project_iam_member.workload, google_secret_manager_secret_iam_member.broker_keys_functions]
}

# Public HTTP functions accept unauthenticated invocations: the website's users carry Firebase
# ID tokens, which the function itself verifies (SPEC §4, §13).
resource "google_cloud_run_service_iam_member" "public" {
  #checkov:skip=CKV_GCP_102:the public API is called from browsers; every route but the leaderboard verifies a Firebase ID token in the function
  for_each = { for name, f in local.functions : name => f if f.trigger.kind == "http" && f.public }
  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Event-triggered functions are invoked by Eventarc as the invoker account, nothing else.
resource "google_cloud_run_service_iam_member" "eventarc" {
  for_each = { for name, f in local.functions : name => f if f.trigger.kind != "http" }
  location = var.region
  service  = google_cloudfunctions2_function.function[each.key].name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${local.sa["invoker"].email}"
}
