# Topics of SPEC §11 (generated/topics.json), each with its dead-letter topic. Subscriptions that
# feed functions are created by Eventarc with the functions (functions.tf); their dead-letter
# policy is set after each deploy by cloudbuild.yaml (Eventarc does not expose it). Runtimes
# create one subscription per topic per agent at start (runtime/feeds.py).
resource "google_pubsub_topic" "topic" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption is the platform's choice; no customer-managed key requirement
  for_each                   = local.topics
  name                       = each.key
  message_retention_duration = "86400s" # a day of replay for runtimes that restart
  labels                     = { app = "farm" }
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption is the platform's choice; no customer-managed key requirement
  for_each   = local.topics
  name       = each.value.dead_letter
  labels     = { app = "farm", dead-letter-of = each.key }
  depends_on = [google_project_service.apis]
}

# Holds dead-lettered messages for inspection and replay; the dead-letter backlog alert watches it.
resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.topics
  name                       = "${each.value.dead_letter}-sub"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
  expiration_policy {
    ttl = "" # never expires for lack of pulls
  }
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }
  labels = { app = "farm" }
}

# The Pub/Sub service agent forwards undeliverable messages: it publishes to the dead-letter
# topics and acknowledges on the source subscriptions (Eventarc's and the runtimes', whose names
# are only known at run time, hence project scope for the subscriber role).
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics
  topic    = google_pubsub_topic.dead_letter[each.key].name
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_agent
}

resource "google_project_iam_member" "pubsub_agent_subscriber" {
  project = var.project
  role    = "roles/pubsub.subscriber"
  member  = local.pubsub_agent
}
