# Alpaca keys live only in Secret Manager. The ingester and runtimes read the trading keys from
# the Kubernetes Secret `alpaca-credentials` (cloudbuild.yaml copies them there); functions that
# open broker accounts get the Broker API keys as secret environment variables. Values are added
# by an operator (docs/deploy.md), never by terraform, so they never enter the state file.
locals {
  secret_env_names = concat(local.secret_envs.trading_keys, local.secret_envs.broker_keys)
}

resource "google_secret_manager_secret" "alpaca" {
  for_each  = toset(local.secret_env_names)
  secret_id = var.alpaca_secret_ids[each.key]
  labels    = { app = "farm", env-name = lower(replace(each.key, "_", "-")) }
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

# The Redis URL carries Memorystore's AUTH string, so it is a secret too.
resource "google_secret_manager_secret" "redis_url" {
  secret_id = "farm-redis-url"
  labels    = { app = "farm" }
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_version" "redis_url" {
  secret      = google_secret_manager_secret.redis_url.id
  secret_data = "redis://:${google_redis_instance.cache.auth_string}@${google_redis_instance.cache.host}:${google_redis_instance.cache.port}/0"
}
