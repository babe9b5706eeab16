output "function_urls" {
  description = "Each HTTP function's URL (Firebase Hosting rewrites reach them by name)."
  value       = { for name, f in google_cloudfunctions2_function.function : name => f.service_config[0].uri if local.functions[name].trigger.kind == "http" }
}

output "image_prefix" {
  description = "Where cloudbuild.yaml pushes images (ingester, runtime, backtest-runner)."
  value       = local.image_prefix
}

output "gke_cluster" {
  value = google_container_cluster.farm.name
}

output "bucket" {
  value = google_storage_bucket.farm.name
}

output "deployer_service_account" {
  description = "Run the Cloud Build trigger as this account."
  value       = local.sa["deployer"].email
}
