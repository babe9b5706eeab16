# Agent bundles (agents/{uid}/{agent_id}/bundle.zip) and reports (backtests/{run_id}/...) share
# one bucket, named as FARM_BUCKET defaults; function sources have their own; both log access.
resource "google_storage_bucket" "farm" {
  name                        = local.bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = { app = "farm" }

  versioning {
    enabled = true # a bundle overwritten by mistake can be recovered
  }
  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
  lifecycle_rule {
    condition {
      age            = var.report_retention_days
      matches_prefix = ["backtests/"]
    }
    action {
      type          = "SetStorageClass"
      storage_class = "COLDLINE"
    }
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }
}

resource "google_storage_bucket" "sources" {
  name                        = "${var.project}-farm-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = { app = "farm" }

  versioning {
    enabled = true
  }
  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }
  lifecycle_rule {
    condition {
      num_newer_versions = 10
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_storage_bucket" "access_logs" {
  #checkov:skip=CKV_GCP_62:this is the access-log bucket itself; logging it would recurse
  name                        = "${var.project}-farm-access-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels                      = { app = "farm" }

  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      age = 365
    }
    action {
      type = "Delete"
    }
  }
}

# The first deploy needs a source archive; later ones come from Cloud Build (cloudbuild.yaml).
data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/.."
  output_path = "${path.module}/.build/source.zip"
  excludes    = [".git", ".venv", ".venv-checkov", ".venv-bqemulator", ".farm", "terraform", "tests", "bench", "docs"]
}

resource "google_storage_bucket_object" "source" {
  name   = var.function_source_object
  bucket = google_storage_bucket.sources.name
  source = data.archive_file.source.output_path
}
