resource "google_monitoring_notification_channel" "email" {
  display_name = "Farm operators"
  type         = "email"
  labels       = { email_address = var.alert_email }
}

# The ingester publishes every bar it receives: no publish on market-data for 10 minutes of
# market hours means it is disconnected or stuck (SPEC §8).
resource "google_monitoring_alert_policy" "ingester_silent" {
  display_name          = "Farm: ingester silent"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "no messages published to market-data"
    condition_absent {
      filter   = "resource.type = \"pubsub_topic\" AND resource.labels.topic_id = \"${google_pubsub_topic.topic["market-data"].name}\" AND metric.type = \"pubsub.googleapis.com/topic/send_message_operation_count\""
      duration = "600s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }
  documentation {
    content = "Check the ingester pod: `kubectl -n farm logs statefulset/ingester` and its /readyz."
  }
}

# Functions are Cloud Run services: alert when more than 5% of requests fail with 5xx.
resource "google_monitoring_alert_policy" "function_errors" {
  display_name          = "Farm: function error rate"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "5xx ratio above 5% over 5 minutes"
    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = starts_with(\"farm-\") AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      denominator_filter = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = starts_with(\"farm-\") AND metric.type = \"run.googleapis.com/request_count\""
      comparison         = "COMPARISON_GT"
      threshold_value    = 0.05
      duration           = "300s"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }
}

# Anything in a dead-letter subscription is an event the platform failed 5 times to handle.
resource "google_monitoring_alert_policy" "dead_letter_backlog" {
  display_name          = "Farm: dead-letter backlog"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "undelivered messages in a dead-letter subscription"
    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = ends_with(\"-dead-letter-sub\") AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
  documentation {
    content = "Inspect with `gcloud pubsub subscriptions pull TOPIC-dead-letter-sub`; republish once fixed."
  }
}

# The FMEL recorder spills to local disk when the warehouse is unavailable (shared/fmel/recorder.py
# logs this exact text); repeated spills mean decisions are piling up on runtime disks.
resource "google_logging_metric" "fmel_spill" {
  name   = "farm-fmel-spill"
  filter = "resource.type=\"k8s_container\" AND (textPayload:\"FMEL warehouse unavailable: spilled\" OR jsonPayload.message:\"FMEL warehouse unavailable: spilled\")"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"
  }
}

resource "google_monitoring_alert_policy" "fmel_spill_growing" {
  display_name          = "Farm: FMEL spill growing"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  conditions {
    display_name = "FMEL spilled to disk repeatedly in 15 minutes"
    condition_threshold {
      filter          = "resource.type = \"k8s_container\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.fmel_spill.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 3
      duration        = "0s"
      aggregations {
        alignment_period   = "900s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }
}
