# The runtime watch (functions/on_runtime_watch.py): every minute Cloud Scheduler publishes a tick
# to runtime-watch, whose function applies the restart budget to the GKE runtimes (the kubelet
# restarts a crashed runtime for ever; past three restarts its session and agent end failed and
# its StatefulSet is deleted). The tick carries nothing. Cloud Scheduler publishes as its service
# agent, which its service-agent role lets publish to the project's topics: no binding here.
resource "google_cloud_scheduler_job" "runtime_watch" {
  name             = "farm-runtime-watch"
  description      = "Apply the restart budget to paper-trading runtimes on GKE (shared/services/runtime_watch.py)."
  region           = var.region
  schedule         = "* * * * *"
  time_zone        = "Etc/UTC"
  attempt_deadline = "60s"

  pubsub_target {
    topic_name = google_pubsub_topic.topic["runtime-watch"].id
    data       = base64encode("{}")
  }

  retry_config {
    retry_count = 0 # the next tick comes in a minute
  }
  depends_on = [google_project_service.apis]
}
